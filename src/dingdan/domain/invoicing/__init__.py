"""Invoices: what they say, Taiwan e-invoice rules and messages (pure)."""
