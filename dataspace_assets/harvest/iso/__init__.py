"""ISO 19139 metadata records: our own mapping to the catalogue model (lxml XPath, no XSLT)."""
