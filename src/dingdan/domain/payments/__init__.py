"""Payments: the rules of the payment services Dingdan talks to (no I/O)."""
