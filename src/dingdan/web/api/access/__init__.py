"""Who may do what: API tokens, users, sign-in, the audit trail.

This package: the context's HTTP API routes.
"""
