"""Admin pages: consent."""
