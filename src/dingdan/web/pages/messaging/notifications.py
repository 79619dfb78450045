"""The signed-in user's notifications: the list (newest first, unread marked, mark all
read), the navigation's unread badge (loaded by htmx: one indexed count), and the choice of
what to be told and how (the /account page loads it by htmx; also a page of its own)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dingdan.services.messaging import notifications
from dingdan.web.pages.shared.core import Form, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _user_id(page: User) -> int:
    assert page.user is not None
    return int(page.user["id"])


@router.get("/notifications")
def notification_list(request: Request, page: User, unread: bool = False) -> Response:
    db = request.app.state.db
    rows = notifications.listing(db, _user_id(page), page.language, unread=unread)
    return page.render(
        "messaging/notifications.html",
        rows=rows,
        unread=unread,
        unread_total=notifications.unread_count(db, _user_id(page)),
    )


@router.get("/notifications/badge")
def notification_badge(request: Request, page: User) -> Response:
    count = notifications.unread_count(request.app.state.db, _user_id(page))
    return page.render("messaging/notification_badge.html", count=count)


@router.post("/notifications/read")
def notification_read(request: Request, page: User, form: Form) -> Response:
    db = request.app.state.db
    if form.get("all"):
        notifications.mark_read(db, _user_id(page), everything=True)
    else:
        raw = form.get("id")
        ok = isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 19
        ids = [int(str(raw))] if ok else []
        notifications.mark_read(db, _user_id(page), ids)
    nxt = form.get("next")
    if isinstance(nxt, str) and nxt.startswith("/") and not nxt.startswith("//"):
        return page.redirect(nxt)
    return page.redirect("/notifications")


def _preferences(request: Request, page: User) -> list[dict[str, object]]:
    assert page.user is not None
    rows = notifications.preferences(request.app.state.db, _user_id(page), page.user["role"])
    return [{**row, "label": notifications.kind_label(row["kind"], page.language)} for row in rows]


@router.get("/account/notifications")
def notification_preferences(request: Request, page: User) -> HTMLResponse:
    partial = bool(request.headers.get("hx-request"))
    return page.render(
        "messaging/notification_preferences.html",
        block="preferences" if partial else None,
        prefs=_preferences(request, page),
    )


@router.post("/account/notifications")
def save_notification_preferences(request: Request, page: User, form: Form) -> Response:
    choices = {
        kind: {"in_app": bool(form.get(f"in_app:{kind}")), "email": bool(form.get(f"email:{kind}"))}
        for kind in notifications.KINDS
    }
    notifications.set_preferences(request.app.state.db, _user_id(page), choices)
    page.flash(page.gettext("Notification choices saved."))
    return page.redirect("/account")
