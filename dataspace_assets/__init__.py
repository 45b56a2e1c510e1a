"""dataspace: a Dagster code location for a digital-twin data space."""

__version__ = "0.1.0"
