"""Reports and the dashboard: read everything, write only their own settings.

This package: the context's back-office pages.
"""
