"""Who may do what: API tokens, users, sign-in, the audit trail.

This package: the context's back-office pages.
"""
