"""Settings: locations and stage time limits (manage_settings), users (manage_users)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action, Role
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.domain.shared.numbers import read_whole
from dingdan.services.access import accounts, sign_in
from dingdan.services.inventory import locations
from dingdan.services.inventory.shapes import LocationCommand
from dingdan.services.reports import dashboard
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import MAX_INT, form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _settings_page(page: Page, status: int = 200, **kw: Any) -> Response:
    db = page.request.app.state.db
    return page.render(
        "settings.html",
        status=status,
        locations=locations.list_locations(db, limit=200).items,
        limits=dashboard.stage_limits(db),
        stages=dashboard.STAGES,
        roles=[r.value for r in Role],
        **kw,
    )


@router.get("/settings")
def settings(page: User) -> Response:
    if not (page.may(Action.MANAGE_SETTINGS) or page.may(Action.MANAGE_USERS)):
        page.require(Action.MANAGE_SETTINGS)
    return _settings_page(page)


@router.post("/settings/locations")
def create_location(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    data: LocationCommand = {
        "code": form_text(form, "code", 300),
        "name": form_text(form, "name", 300),
        "country": form_text(form, "country", 300),
        "city": form_text(form, "city", 300),
        "line1": form_text(form, "line1", 300),
        "regions": region_codes(form),
    }

    def work() -> None:
        errors = FieldErrors()
        data["priority"] = form_whole(
            form, "priority", errors, minimum=-MAX_INT, maximum=MAX_INT, blank=0
        )
        errors.raise_if_any()
        locations.create_location(request.app.state.db, actor, data)

    return page.attempt(
        work,
        done=page.gettext("Location %(code)s created.", code=data["code"]),
        back="/settings",
        form_id="location",
        typed=_typed(form),
        again=lambda status: _settings_page(page, status),
        whole_form=True,
        rename=_region_field,
    )


def region_codes(form: dict[str, Any]) -> list[str]:
    """The form's ``regions``: codes separated by commas, blanks or 、 (TW-TPE, TW-NWT)."""
    text = form_text(form, "regions", 2000) or ""
    return [c for c in re.split(r"[\s,，、;]+", text) if c]


def _region_field(name: str) -> str:
    """The service's ``regions[2]`` is the form's one ``regions`` field."""
    return "regions" if name.startswith("regions[") else name


@router.post("/settings/locations/{code}/regions")
def location_regions(request: Request, code: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return page.attempt(
        lambda: locations.update_location(
            request.app.state.db, page.actor, code, {"regions": region_codes(form)}
        ),
        done=page.gettext("Regions of %(code)s saved.", code=code),
        back="/settings",
        form_id=f"regions-{code}",
        typed=_typed(form),
        again=lambda status: _settings_page(page, status),
        rename=_region_field,
    )


def _typed(form: dict[str, Any]) -> dict[str, Any]:
    """What a form sent, to show it again: never its token, never a password."""
    return {k: v for k, v in form.items() if k != "csrf_token" and "password" not in k}


@router.post("/settings/locations/{code}")
def toggle_location(request: Request, code: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    active = form.get("active") == "1"
    return page.attempt(
        lambda: locations.update_location(
            request.app.state.db, page.actor, code, {"active": active}
        ),
        done=None,
        back="/settings",
        form_id=f"location-{code}",
        typed=_typed(form),
        again=lambda status: _settings_page(page, status),
    )


@router.post("/settings/stage-limits")
def stage_limits(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    data: dict[str, Any] = {}
    for stage in dashboard.STAGES:
        # Whole hours, 1 to 8760, as the form says; anything else reaches the service as
        # text, which it refuses with the field's message.
        text = form_text(form, f"{stage}_hours", 10) or ""
        hours: Any = read_whole(text, f"{stage}_hours", FieldErrors(), minimum=1, maximum=8760)
        data[stage] = {"hours": hours, "owner": form_text(form, f"{stage}_owner", 30)}
    return page.attempt(
        lambda: dashboard.set_stage_limits(request.app.state.db, actor, data),
        done=page.gettext("Time limits saved."),
        back="/settings",
        form_id="limits",
        typed=_typed(form),
        again=lambda status: _settings_page(page, status),
        rename=lambda name: name.replace(".", "_"),  # packed.hours → the form's packed_hours
        whole_form=True,
    )


def _users_page(page: Page, status: int = 200, **kw: Any) -> Response:
    users = accounts.list_users(page.request.app.state.db)
    return page.render(
        "access/users.html", status=status, users=users, **{"error": None, "v": {}, **kw}
    )


@router.get("/settings/users")
def users(page: User) -> Response:
    page.require(Action.MANAGE_USERS)
    return _users_page(page)


@router.post("/settings/users")
def create_user(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_USERS)
    return page.attempt(
        lambda: accounts.create_user(
            request.app.state.db,
            actor,
            email=form_text(form, "email", 254) or "",
            role=form_text(form, "role", 30),
            password=form.get("password") if isinstance(form.get("password"), str) else "",
            name=form_text(form, "name", 200),
        ),
        done=page.gettext("User created."),
        back="/settings/users",
        form_id="new-user",
        typed=_typed(form),
        again=lambda status: _users_page(page, status),
        whole_form=True,
    )


@router.post("/settings/users/{user_id}")
def update_user(request: Request, user_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_USERS)
    db = request.app.state.db
    what = form.get("do")

    def work() -> None:
        if what == "role":
            sign_in.set_role(db, actor, user_id, form_text(form, "role", 30))
        elif what in ("activate", "deactivate"):
            sign_in.set_active(db, actor, user_id, what == "activate")
        elif what == "password":
            sign_in.reset_password(db, actor, user_id, form.get("new_password"))
        else:
            raise ValidationFailed.on("do", "unknown_value")

    # Each row's forms are one form here: a refusal is said beside the field it is about.
    return page.attempt(
        work,
        done=page.gettext("User updated."),
        back="/settings/users",
        form_id=f"user-{user_id}",
        typed=_typed(form),
        again=lambda status: _users_page(page, status),
    )
