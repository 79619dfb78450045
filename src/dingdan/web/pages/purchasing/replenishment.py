"""Replenishment: the SKUs to reorder (per location), with their reorder point, what is on
order, the suggested quantity and the day each would run out; one button makes draft POs of
them, one per preferred supplier."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.inventory import locations
from dingdan.services.purchasing import replenishment
from dingdan.services.purchasing.shapes import DraftsCommand
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/replenishment")
def suggestions(request: Request, page: User, location: str | None = None) -> Response:
    return _page(page, location)


def _page(page: Page, location: str | None, status: int = 200) -> Response:
    db = page.request.app.state.db
    locs = locations.list_locations(db, active=True, limit=200).items
    location = location if location in {loc["code"] for loc in locs} else None
    try:
        items = replenishment.low_stock(db, location=location, limit=10_000)
    except DomainError as exc:
        page.flash_error(exc)
        items = []
    return page.render(
        "purchasing/replenishment.html",
        status=status,
        items=items,
        locations=locs,
        location=location,
    )


@router.post("/replenishment/drafts")
def create_drafts(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    location = form_text(form, "location", 32)
    body: DraftsCommand = {"location": location} if location else {}

    def done(made: dict[str, object]) -> str:
        count = len(made["items"])  # type: ignore[arg-type]
        text = page.gettext("%(count)s draft purchase orders made.", count=count)
        skipped = made["skipped"]
        if skipped:
            text += " " + page.gettext(
                "Without a preferred supplier: %(skus)s.",
                skus=", ".join(skipped),  # type: ignore[arg-type]
            )
        return str(text)

    return page.attempt(
        lambda: replenishment.create_drafts(request.app.state.db, actor, body),
        done=done,
        back="/purchase-orders?status=draft",
        form_id="drafts",
        typed={},
        again=lambda status: _page(page, location, status),
    )
