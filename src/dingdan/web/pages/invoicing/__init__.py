"""Invoice pages."""
