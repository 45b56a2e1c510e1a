"""The dataspace pillar."""
