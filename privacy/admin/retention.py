"""Admin pages: retention."""
