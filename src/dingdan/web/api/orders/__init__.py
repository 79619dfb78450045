"""Orders: capture, edits, queries, events, customers, search, allocation and backorders.

This package: the context's HTTP API routes.
"""
