"""Payments, refunds, providers and store credit.

This package: the context's back-office pages.
"""
