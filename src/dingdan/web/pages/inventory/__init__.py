"""Stock: levels, the movement ledger, locations.

This package: the context's back-office pages.
"""
