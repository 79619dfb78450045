"""What every context uses: money, errors, contact data, uploads, documents.

This package: the context's back-office pages.
"""
