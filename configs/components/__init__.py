"""Example data space components of this deployment, named by `PATH` in `configs/dataspace/*.toml`."""
