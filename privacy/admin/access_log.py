"""Admin pages: access_log."""
