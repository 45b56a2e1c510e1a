"""DCAT reading: graph loading and format detection, paging, and the mapping of datasets, resources and services."""
