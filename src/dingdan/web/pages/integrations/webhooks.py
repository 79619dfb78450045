"""Outgoing webhooks in the back office (admin, manager; under Settings): the endpoints,
adding one (its secret shown once), switching one off and on, rotating its secret, and
each endpoint's deliveries with every attempt, and replay.

A new or rotated secret is shown in the answer to the POST that made it, never stored in
the session or shown again: the page is rendered there, not redirected.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.integrations import deliveries, webhooks
from dingdan.services.integrations.shapes import NewEndpoint
from dingdan.services.shared.outbox_events import EVENT_TYPES
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/settings/webhooks"


def _events(form: dict[str, Any]) -> list[str]:
    chosen = form.get("events") or []
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    return [webhooks.ALL] if webhooks.ALL in chosen else chosen


def _list_page(page: Page, status: int = 200, **kw: Any) -> Response:
    return page.render(
        "integrations/webhooks.html",
        status=status,
        endpoints=webhooks.list_endpoints(page.request.app.state.db)["items"],
        event_types=list(EVENT_TYPES),
        **{"error": None, "v": {}, "secret": None, **kw},
    )


@router.get(BASE)
def webhooks_page(page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _list_page(page)


@router.post(BASE)
def create_webhook(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    data: NewEndpoint = {
        "url": form_text(form, "url", 2100),
        "events": _events(form),
        "description": form_text(form, "description", 600),
    }
    try:
        made = webhooks.create_endpoint(request.app.state.db, actor, data)
    except DomainError as exc:
        v = {**form, "events": data["events"]}
        return _list_page(page, status_of(exc), error=page.form_error(exc), v=v)
    return _list_page(page, 201, secret=made)


@router.post(BASE + "/{endpoint_id}")
def change_webhook(request: Request, endpoint_id: str, page: User, form: Form) -> Response:
    """``do``: enable, disable, rotate (the new secret shown here, once) or delete."""
    actor = page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    what = form.get("do")
    try:
        if what == "rotate":
            return _list_page(page, secret=webhooks.rotate_secret(db, actor, endpoint_id))
        if what == "delete":
            webhooks.delete_endpoint(db, actor, endpoint_id)
            page.flash(page.gettext("The webhook endpoint is deleted."))
            return page.redirect(BASE)
        status = {"enable": "active", "disable": "disabled"}.get(str(what), str(what))
        webhooks.update_endpoint(db, actor, endpoint_id, {"status": status})
        page.flash(page.gettext("The webhook endpoint is saved."))
    except NotFound:
        raise
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect(BASE)


@router.get(BASE + "/{endpoint_id}")
def deliveries_page(request: Request, endpoint_id: str, page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    endpoint = webhooks.get_endpoint(db, endpoint_id)
    status = request.query_params.get("status") or None
    try:
        result = deliveries.list_deliveries(
            db, endpoint_id, status, 30, request.query_params.get("cursor")
        )
    except DomainError as exc:
        page.flash_error(exc)
        status, result = None, deliveries.list_deliveries(db, endpoint_id, None, 30)
    base = f"{BASE}/{endpoint['id']}" + (f"?status={status}" if status else "")
    return page.render(
        "integrations/webhook_deliveries.html",
        endpoint=endpoint,
        result=result,
        attempts=deliveries.attempts_of(db, [int(d["id"]) for d in result.items]),
        shown_status=status,
        statuses=deliveries.STATUSES,
        base=base,
    )


@router.post(BASE + "/{endpoint_id}/deliveries/{delivery_id}/replay")
def replay_delivery(
    request: Request, endpoint_id: str, delivery_id: str, page: User, form: Form
) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    try:
        deliveries.replay(request.app.state.db, actor, endpoint_id, delivery_id)
        page.flash(page.gettext("Delivery %(id)s will be sent again.", id=delivery_id))
    except NotFound:
        raise
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect(f"{BASE}/{endpoint_id}")
