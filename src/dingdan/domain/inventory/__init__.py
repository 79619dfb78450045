"""Stock: levels, the movement ledger, locations.

This package: the context's rules without a database.
"""
