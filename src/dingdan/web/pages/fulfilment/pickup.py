"""The store's pickup counter: the orders waiting at a location, and the field where staff
scan or type the code the customer shows (a USB scanner types it and Enter)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import pickup, pickup_handover
from dingdan.services.inventory import locations
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/pickup"


def _page(page: Page, location: str | None, status: int = 200) -> Response:
    db = page.request.app.state.db
    locs = locations.list_locations(db, active=True, limit=200).items
    codes = [loc["code"] for loc in locs]
    code = location if location in codes else (codes[0] if codes else None)
    waiting = pickup.open_pickups(db, code) if code else []
    return page.render(
        "fulfilment/pickup.html", status=status, locations=locs, code=code, waiting=waiting
    )


@router.get(PATH)
def pickup_page(page: User, location: str | None = None) -> Response:
    page.require(Action.FULFIL)
    return _page(page, location)


@router.post(PATH)
def hand_over(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    location = form_text(form, "location", 32) or ""
    code = form_text(form, "code", 40) or ""
    back = f"{PATH}?location={quote(location, safe='')}"
    return page.attempt(
        lambda: pickup_handover.hand_over_by_code(request.app.state.db, actor, location, code),
        done=lambda done: page.gettext("Order %(number)s handed over.", number=done["order"]),
        back=back,
        form_id="pickup",
        typed={"code": code},
        again=lambda status: _page(page, location, status),
    )
