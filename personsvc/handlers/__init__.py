"""HTTP request handlers."""
