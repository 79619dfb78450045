"""Payments: the rules of the payment services Dingdan talks to, pure (signatures, amounts,
answers; no I/O)."""
