"""Admin pages: data_requests."""
