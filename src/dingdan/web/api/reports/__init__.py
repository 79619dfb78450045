"""Reports and the dashboard: read everything, write only their own settings.

This package: the context's HTTP API routes.
"""
