"""Customers' ratings of delivered orders and the shop's replies; the customers likely to
buy again soon (BG/NBD), to contact; and products frequently bought together, a fragment
the order entry page asks for by URL (orders is a context below this one)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.services.reports import clv, customer_pages, recommendations
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _feedback(page: Page, unanswered: bool, status: int = 200) -> Response:
    db = page.request.app.state.db
    return page.render(
        "reports/customers_feedback.html",
        status=status,
        ratings=customer_pages.ratings(db, unanswered=unanswered),
        summary=customer_pages.rating_summary(db),
        unanswered=unanswered,
        may_write=page.may(Action.MANAGE_ORDERS),
    )


@router.get("/reports/feedback")
def feedback(request: Request, page: User, unanswered: str | None = None) -> Response:
    return _feedback(page, bool(unanswered))


@router.post("/reports/feedback/{rating_id}/reply")
def reply(request: Request, rating_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_ORDERS)
    text = form_text(form, "reply", 2001)
    return page.attempt(
        lambda: customer_pages.reply_to_rating(request.app.state.db, page.actor, rating_id, text),
        done=page.gettext("Reply saved."),
        back="/reports/feedback",
        form_id=f"reply-{rating_id}",
        typed={"reply": text or ""},
        again=lambda status: _feedback(page, False, status),
    )


@router.get("/reports/likely-to-buy")
def likely_to_buy(request: Request, page: User) -> Response:
    db = request.app.state.db
    items = clv.likely_to_buy(db, 100)
    if sees_masked(page.actor.role):
        items = [
            {**c, "email": mask_email(c["email"]), "phone": mask_phone(c["phone"])} for c in items
        ]
    model = clv.latest(db)
    return page.render("reports/customers_likely.html", items=items, model=model)


@router.get("/reports/bought-together")
def bought_together(
    request: Request, page: User, sku: list[str] = Query(default_factory=list, max_length=50)
) -> Response:
    """The fragment of the order entry page: products often bought with its lines'."""
    items = recommendations.bought_with(request.app.state.db, [s[:64] for s in sku], 5)
    return page.render("reports/customer_bought_together.html", items=items)
