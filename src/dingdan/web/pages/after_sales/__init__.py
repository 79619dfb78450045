"""Returns, exchanges, refunds for returns, disputes and their evidence.

This package: the context's back-office pages.
"""
