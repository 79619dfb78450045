"""Order lines priced below their product's price: who may set such a price, and the event
that records it with who set it (shared/CONTRACT.md, "Permissions")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import FieldError, Forbidden
from dingdan.domain.shared.money import format_amount
from dingdan.services.shared.common import Actor

KIND = "priced_below_list"  # the order event's kind


@dataclass(frozen=True)
class BelowList:
    """A line's price below its product's: the request's field, the SKU, both prices."""

    field: str
    sku: str
    price_minor: int
    currency: str
    list_minor: int
    list_currency: str

    def as_event(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "unit_price": format_amount(self.price_minor, self.currency),
            "list_price": format_amount(self.list_minor, self.list_currency),
            "list_currency": self.list_currency,
        }


def below_list(
    field: str, sku: str, price_minor: int, currency: str, list_minor: int, list_currency: str
) -> BelowList | None:
    """The line's price if it is below the product's price. A price in the product's own
    currency is compared with it; in another currency only a zero price of a product that
    has a price is known to be below it."""
    below = price_minor < list_minor if currency == list_currency else price_minor == 0
    if not below or list_minor <= 0:
        return None
    return BelowList(field, sku, price_minor, currency, list_minor, list_currency)


def require_pricing(actor: Actor, lines: list[BelowList]) -> None:
    """Prices below the product's need the ``pricing`` permission (admin and manager by
    default); without it the request is refused whole (403)."""
    if lines and not actor.may(Action.PRICING):
        raise Forbidden(
            detail="A price below the product's price needs the pricing permission.",
            errors=[
                FieldError.of(
                    ln.field,
                    "below_list_price",
                    list_price=format_amount(ln.list_minor, ln.list_currency),
                )
                for ln in lines
            ],
        )


def event(lines: list[BelowList]) -> tuple[str, str, Mapping[str, object]]:
    """The order event (kind, message, data) recording such prices; its actor is who set
    them."""
    told = ", ".join(
        f"{ln.sku} at {format_amount(ln.price_minor, ln.currency)}"
        f" (product price {format_amount(ln.list_minor, ln.list_currency)})"
        for ln in lines
    )
    return (
        KIND,
        f"Priced below the product's price: {told}",
        {"lines": [ln.as_event() for ln in lines]},
    )
