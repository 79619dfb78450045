"""Pick, pack, ship and deliver; carriers and packing slips.

This package: the context's rules without a database.
"""
