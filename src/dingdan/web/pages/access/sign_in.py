"""Sign-in, sign-out, language, and the signed-in person's own account."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.services.access import sign_in
from dingdan.web import i18n
from dingdan.web.pages.shared.core import (
    Anon,
    Form,
    Page,
    PageRoute,
    User,
    anonymous,
    client_address,
    end_session,
    form_text,
    now_of,
    safe_next,
    session_user,
    start_session,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/login")
def login_form(request: Request, page: Anon, next: str = "/") -> Response:
    if session_user(request) is not None:
        return page.redirect(safe_next(next))
    return page.render("access/login.html", next=safe_next(next), email="", message=None)


@router.post("/login")
async def login(request: Request, form: Form) -> Response:
    page = anonymous(request)
    email = form_text(form, "email", 254) or ""
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    result = await run_in_threadpool(
        sign_in.sign_in,
        request.app.state.db,
        email,
        password,
        client_address(request),
        now_of(request),
    )
    if result.user is None:
        if result.locked_until is not None:
            wait = (result.locked_until - now_of(request)).total_seconds()
            minutes = max(1, math.ceil(wait / 60))
            message = page.gettext(
                "Too many failed attempts. Try again in %(minutes)s minutes.", minutes=minutes
            )
        else:
            message = page.gettext("The email or password is not right.")
        return page.render(
            "access/login.html", next=safe_next(form.get("next")), email=email, message=message
        )
    await run_in_threadpool(start_session, request, result.user)
    return page.redirect(safe_next(form.get("next")))


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    end_session(request)
    return anonymous(request).redirect("/login")


@router.post("/language")
def choose_language(request: Request, form: Form) -> Response:
    language = form.get("language")
    page = anonymous(request)
    if language in i18n.LANGUAGES:
        user = session_user(request)
        if user is None:
            request.session["lang"] = language
        else:
            signed = Page(request, str(language), user)
            sign_in.set_language(request.app.state.db, signed.actor, user["id"], language)
    return page.redirect(safe_next(form.get("next")))


@router.get("/account")
def account(page: User) -> Response:
    return page.render("access/account.html", error=None)


@router.post("/account/password")
def change_password(request: Request, page: User, form: Form) -> Response:
    assert page.user is not None
    user_id = page.user["id"]

    def work() -> None:
        db = request.app.state.db
        current, new = form.get("current_password"), form.get("new_password")
        # A new session first: it clears the old one, and the flash goes in the new one.
        start_session(request, sign_in.change_password(db, page.actor, user_id, current, new))

    return page.attempt(
        work,
        done=page.gettext("Your password is changed."),
        back="/account",
        form_id="password",
        typed={},  # a password is never sent back into a form
        again=lambda status: page.render("access/account.html", status=status, error=None),
        whole_form=True,
    )
