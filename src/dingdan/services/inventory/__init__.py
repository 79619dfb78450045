"""Stock: levels, the movement ledger, locations.

This package: the context's use cases.
"""
