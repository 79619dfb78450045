"""What every context uses: money, errors, contact data, uploads, documents.

This package: the context's rules without a database.
"""
