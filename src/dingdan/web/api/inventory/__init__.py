"""Stock: levels, the movement ledger, locations.

This package: the context's HTTP API routes.
"""
