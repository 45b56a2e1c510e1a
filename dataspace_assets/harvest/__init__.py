"""The harvest pillar."""
