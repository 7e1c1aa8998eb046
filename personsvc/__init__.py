"""personsvc: versioned person records in Redis, served over HTTP by Tornado."""

__version__ = "0.1.0"
