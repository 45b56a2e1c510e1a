"""The deltatwin pillar."""
