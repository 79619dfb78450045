"""The logistics interface: a carrier that gives a new shipment its tracking number and label.

A shipment created without a tracking number asks the provider of its carrier, if any, for
one. A provider implements ``LogisticsProvider``:

* ``create_shipment(conn, request)`` runs inside the shipment's transaction, after the
  shipment row is written, and answers ``Assigned`` (the tracking number and where its label
  is printed) or None when it has nothing to give (the shipment then stays without a number,
  as before any provider existed). It raises a domain error (``Conflict``: numbers used up)
  to refuse the shipment; the transaction then rolls back whole, the number with it.
* A provider that must call a service outside the system (ECPay logistics) may not do so
  here (calls leave only after the commit): it writes its intent row and answers None, and
  records the number when the service answers, after the commit.

The providers: ``services/fulfilment/labels.py`` (T-cat and HCT, numbers from the seller's
pre-assigned ranges, printed labels). ``provider_for`` is the one place that maps a carrier
code to its provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection


@dataclass(frozen=True)
class ShipmentRequest:
    """What a provider knows of the shipment it numbers (rows read in its transaction)."""

    shipment_id: int
    carrier: str
    order: Any  # the orders row
    location: Any  # the ship-from locations row
    lines: list[dict[str, Any]]  # [{"sku", "quantity"}] in this shipment


@dataclass(frozen=True)
class Assigned:
    number: str  # the tracking number, already checked with the carrier's check
    label_url: str | None  # the printable label (a back-office page), None: the carrier's own


class LogisticsProvider(Protocol):
    @property
    def carrier(self) -> str: ...

    def create_shipment(self, conn: Connection, request: ShipmentRequest) -> Assigned | None: ...


def provider_for(carrier: str) -> LogisticsProvider | None:
    """The provider of ``carrier``'s shipments, or None (numbers typed by staff)."""
    from dingdan.services.fulfilment import labels  # labels implements this module's protocol

    return labels.provider(carrier)


def assign(conn: Connection, request: ShipmentRequest) -> Assigned | None:
    provider = provider_for(request.carrier)
    return None if provider is None else provider.create_shipment(conn, request)
