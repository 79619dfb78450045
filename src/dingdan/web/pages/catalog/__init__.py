"""Products, channels, tax rates, product and stock imports.

This package: the context's back-office pages.
"""
