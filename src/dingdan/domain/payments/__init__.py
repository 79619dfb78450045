"""Payments: the rules of the payment services, pure (signatures, amounts, answers)."""
