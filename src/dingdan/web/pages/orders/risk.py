"""Risk review: the orders held for review with their reasons, the customer's history and
similar orders; approve, cancel, or cancel and block in one step (``review_risk``); the
block list; Settings → Risk (``manage_settings``)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.orders import risk as rk
from dingdan.domain.shared.errors import Conflict
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import risk
from dingdan.services.orders.shapes import BlockCommand, RiskSettingsCommand, RuleCommand
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
REVIEW = Action.REVIEW_RISK
HERE = "/risk"
SETTINGS = "/settings/risk"


def _queue(page: Page, status: int = 200) -> Response:
    db = page.request.app.state.db
    return page.render(
        "orders/risk_review.html",
        status=status,
        queue=risk.review_queue(db),
        blocks=risk.list_blocks(db),
        kinds=rk.BLOCK_KINDS,
    )


@router.get(HERE)
def review(page: User) -> Response:
    page.require(REVIEW)
    return _queue(page)


@router.get(HERE + "/badge")
def badge(request: Request, page: User) -> Response:
    count = risk.held_count(request.app.state.db) if page.may(REVIEW) else 0
    return page.render("orders/risk_badge.html", count=count)


def _note(form: dict[str, Any], name: str, most: int) -> str | None:
    return (form_text(form, name, most) or "").strip() or None


@router.post(HERE + "/{number}/approve")
def approve(request: Request, number: str, page: User, form: Form) -> Response:
    actor = page.require(REVIEW)
    return page.attempt(
        lambda: risk.approve(request.app.state.db, actor, number, _note(form, "note", 1000)),
        done=page.gettext("Order %(number)s released: it can be picked now.", number=number),
        back=HERE,
        form_id=f"review-{number}",
        typed={},
        again=lambda status: _queue(page, status),
    )


@router.post(HERE + "/{number}/cancel")
def cancel(request: Request, number: str, page: User, form: Form) -> Response:
    """Cancels the order (the order's own cancel) and, when asked, puts its email, phone and
    address on the block list; an entry already listed is left as it is."""
    actor = page.require(REVIEW)
    page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    kinds = [k for k in rk.BLOCK_KINDS if form.get(f"block_{k}") == "1"]

    def work() -> None:
        order = shipments.cancel_order(db, actor, number, form_text(form, "reason", 500))
        address = order["shipping_address"] or {}
        values = {
            "email": (order.get("customer") or {}).get("email"),
            "phone": (order.get("customer") or {}).get("phone"),
            "address": " ".join(x for x in (address.get("line1"), address.get("line2")) if x),
        }
        for kind in kinds:
            if not values[kind]:
                continue
            with contextlib.suppress(Conflict):  # listed already
                risk.add_block(db, actor, {"kind": kind, "value": values[kind], "note": number})

    return page.attempt(
        work,
        done=page.gettext("Order %(number)s cancelled.", number=number),
        back=HERE,
        form_id=f"review-{number}",
        typed={},
        again=lambda status: _queue(page, status),
    )


@router.post(HERE + "/blocklist")
def add_block(request: Request, page: User, form: Form) -> Response:
    actor = page.require(REVIEW)
    body: BlockCommand = {
        "kind": form_text(form, "kind", 20),
        "value": form_text(form, "value", 300),
        "note": _note(form, "note", 500),
    }
    return page.attempt(
        lambda: risk.add_block(request.app.state.db, actor, body),
        done=page.gettext("Added to the block list."),
        back=HERE,
        form_id="block",
        typed={k: v or "" for k, v in body.items()},
        again=lambda status: _queue(page, status),
        whole_form=True,
    )


@router.post(HERE + "/blocklist/{block_id}/delete")
def remove_block(request: Request, block_id: str, page: User, form: Form) -> Response:
    actor = page.require(REVIEW)

    def work() -> None:
        if not re.fullmatch(r"[0-9]{1,9}", block_id):
            raise Conflict(detail="No such block-list entry.")
        risk.remove_block(request.app.state.db, actor, int(block_id))

    return page.attempt(
        work,
        done=page.gettext("Removed from the block list."),
        back=HERE,
        form_id="blocks",
        typed={},
        again=lambda status: _queue(page, status),
    )


# --- Settings → Risk ---------------------------------------------------------------------------


def _settings_page(page: Page, status: int = 200) -> Response:
    return page.render(
        "orders/risk_settings.html",
        status=status,
        cfg=risk.get_settings(page.request.app.state.db),
        rules=rk.RULES,
    )


@router.get(SETTINGS)
def settings(page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _settings_page(page)


def _number(form: dict[str, Any], name: str) -> Any:
    """A whole number as typed, or the text for the service to refuse beside the field."""
    text = (form_text(form, name, 20) or "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else text


@router.post(SETTINGS)
def save_settings(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    rules: dict[str, RuleCommand] = {}
    body: RiskSettingsCommand = {
        "enabled": form.get("enabled") == "1",
        "window_hours": _number(form, "window_hours"),
        "medium": _number(form, "medium"),
        "high": _number(form, "high"),
        "rules": rules,
    }
    for name in rk.RULES:
        rule: RuleCommand = {
            "points": _number(form, f"rules.{name}.points"),
            "enabled": form.get(f"rules.{name}.enabled") == "1",
        }
        if rk.DEFAULT_RULES[name][1] is not None:
            rule["limit"] = _number(form, f"rules.{name}.limit")
        rules[name] = rule
    typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}

    return page.attempt(
        lambda: risk.put_settings(request.app.state.db, actor, body),
        done=page.gettext("Risk settings saved."),
        back=SETTINGS,
        form_id="risk",
        typed=typed,
        again=lambda status: _settings_page(page, status),
        whole_form=True,
    )
