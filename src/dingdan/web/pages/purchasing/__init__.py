"""Purchasing pages."""
