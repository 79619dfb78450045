"""Purchasing: suppliers, purchase orders, receiving, replenishment and forecasts."""
