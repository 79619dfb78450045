"""Customers as the seller sees them (pure): the BG/NBD and Gamma-Gamma customer-value
models, RFM segments, and products bought together (association rules over baskets)."""
