"""The seller's time zone: days in filters, reports, imports and the back office begin at
its midnight, and a time written without an offset is read in it. One definition for every
layer (the names elsewhere are this one)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

SELLER_TIMEZONE = ZoneInfo("Asia/Taipei")
