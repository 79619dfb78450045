"""Purchasing, replenishment and forecast endpoints."""
