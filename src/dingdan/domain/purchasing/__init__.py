"""Purchasing and planning: reorder points, ABC/XYZ, forecast arithmetic (pure)."""
