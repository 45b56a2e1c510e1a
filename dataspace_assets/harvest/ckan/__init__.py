"""CKAN and DKAN packages: their schemas and their mapping to the catalogue model."""
