"""The customer's rating of a delivered order, from the link of the delivered message:
a click on a score opens this page with it chosen; the rating is recorded when posted (a
mail scanner that opens the link records nothing), once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.messaging import ratings
from dingdan.services.messaging.shapes import RatingCommand
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared.core import Anon, Form, Page, PageRoute, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_LANGUAGE = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans", "en": "en"}


def _show(
    request: Request, page: Page, token: str, sig: str | None, status: int = 200, **values: Any
) -> Response:
    try:
        data = ratings.for_link(request.app.state.db, token, sig)
    except NotFound:
        return page.render("messaging/rating.html", status=404, r=None)
    # The order's language, unless the reader chose one.
    if "lang" not in request.session:
        page = Page(request, _LANGUAGE.get(data["locale"], "en"))
    chosen = request.query_params.get("score")
    return page.render(
        "messaging/rating.html",
        status=status,
        r=data,
        token=token,
        sig=sig,
        chosen=int(chosen) if chosen in ("1", "2", "3", "4", "5") else None,
        **values,
    )


@router.get("/track/{token}/rating")
def rating_page(request: Request, token: str, page: Anon) -> Response:
    return _show(request, page, token[:64], request.query_params.get("sig"))


@router.post("/track/{token}/rating")
def rate(request: Request, token: str, page: Anon, form: Form) -> Response:
    sig = form_text(form, "sig", 64)
    score = form_text(form, "rating", 2)
    body: RatingCommand = {
        "rating": int(score) if score in ("1", "2", "3", "4", "5") else None,
        "comment": form_text(form, "comment", 2001),
    }
    try:
        ratings.rate(request.app.state.db, token[:64], sig, body)
    except NotFound:
        return page.render("messaging/rating.html", status=404, r=None)
    except DomainError as exc:
        return _show(request, page, token, sig, status=status_of(exc), error=page.form_error(exc))
    page.flash(page.gettext("Thank you for your rating."))
    return page.redirect(f"/track/{token}/rating?sig={sig}")
