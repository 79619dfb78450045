"""Background work: the outbox, scheduled jobs, the worker loop.

This package: the context's use cases.
"""
