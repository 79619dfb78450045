"""The order page's allocation panel: moving the units allocated at one location to another
before picking (services/orders/allocation_move.py), and the orders of the same customer to
the same address waiting at the same location, to ship together."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.services.orders import allocation_move, routing
from dingdan.services.orders.shapes import AllocationMove
from dingdan.web.pages.orders.order_pages import _act, _typed
from dingdan.web.pages.shared.core import Form, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def allocation_panel(db: Any, number: str) -> dict[str, Any]:
    """What the order page's allocation panel shows besides the order."""
    return {
        "together": routing.ship_together(db, number),
        "move_to": routing.active_location_codes(db),
    }


@router.post("/orders/{number}/allocation/move")
def move_allocation(request: Request, number: str, page: User, form: Form) -> Response:
    body: AllocationMove = {
        "from": form_text(form, "from", 32) or "",
        "to": form_text(form, "to", 32) or "",
    }
    return _act(
        page,
        number,
        Action.MOVE_ALLOCATIONS,
        lambda: allocation_move.move_allocation(request.app.state.db, page.actor, number, body),
        page.gettext("Allocation moved from %(from)s to %(to)s.", **body),
        "move",
        _typed(form, "from", "to"),
    )
