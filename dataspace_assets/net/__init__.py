"""Network code the pillars share: the guarded HTTP client."""
