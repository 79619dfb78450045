"""Invoice endpoints."""
