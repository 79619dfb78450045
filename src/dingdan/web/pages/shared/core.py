"""What every back-office page shares: the signed-in user, CSRF, language, templates, and
turning errors into pages (never a 500, never problem+json for a person)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block

from dingdan.domain.access.roles import Action, Role
from dingdan.domain.shared.errors import DomainError, Forbidden, NotFound
from dingdan.services.access import permissions, sign_in
from dingdan.services.access.shapes import SessionView
from dingdan.services.fulfilment.shapes import CarrierView
from dingdan.services.shared.common import Actor
from dingdan.web import i18n
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared import messages

HERE = Path(__file__).parents[1]  # web/pages: templates/ and static/
CSRF_HEADER = "x-csrf-token"

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
    trim_blocks=True,
    lstrip_blocks=True,
)


class SignInRequired(Exception):  # noqa: N818 - a signal to redirect
    pass


class CsrfFailed(Exception):  # noqa: N818
    pass


@dataclass
class Kept:
    """A refused form shown again (``kept(form_id)`` in templates): ``error`` is
    ``Page.form_error`` (each field's message for the macros ``field_error``/``invalid``
    beside it), ``values`` what was typed. Not refused: no error, every value its default."""

    error: dict[str, Any] | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.error is not None

    def value(self, name: str, default: Any = "") -> Any:
        """What was typed into ``name`` when the form was refused, else ``default``."""
        if self.error is None:
            return default
        typed = self.values.get(name)
        return "" if typed is None else typed


NOT_KEPT = Kept()


@dataclass
class Page:
    """One request's view of the back office: who, in which language, with what helpers."""

    request: Request
    language: str
    user: SessionView | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    forms: dict[str, Kept] = field(default_factory=dict)  # refused forms, by form id
    # A context's own words for its errors (disputes name their fields their own way).
    describe_with: Callable[[DomainError], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self._ = i18n.gettext_for(self.language)  # for templates: Markup, values escaped
        self.gettext = i18n.text_for(self.language)  # for Python: plain text
        self.fmt = i18n.Formatter(self.language)

    @property
    def actor(self) -> Actor:
        assert self.user is not None
        db = self.request.app.state.db
        return permissions.actor(db, f"user:{self.user['email']}", Role(self.user["role"]))

    @cached_property
    def carrier_directory(self) -> dict[str, CarrierView]:
        """The seller's carriers by code, read once per request and only when a page names
        a carrier (their own carriers and renamed defaults are named as the settings say)."""
        return messages.carrier_directory(self.request.app.state.db)

    def carrier_name(self, code: str | None) -> str:
        return messages.carrier_name(self.language, code, self.carrier_directory)

    def carrier_url(self, code: str | None, number: str | None) -> str | None:
        return messages.carrier_url(code, number, self.carrier_directory)

    def carriers(self) -> list[tuple[str, str]]:
        """The active carriers for a drop-down, named in the reader's language."""
        return messages.carriers(self.carrier_directory, self.language)

    def may(self, action: Action | str) -> bool:
        return self.user is not None and self.actor.may(Action(action))

    def require(self, action: Action) -> Actor:
        if not self.may(action):
            raise Forbidden(detail=f"The role may not {action.value}.")
        return self.actor

    def flash(self, message: str, kind: str = "ok") -> None:
        # Assigned, not appended in place: the session notices only assignments.
        shown = list(self.request.session.get("flash") or [])[-4:]
        self.request.session["flash"] = [*shown, [kind, str(message)]]

    def error(self, exc: DomainError) -> dict[str, Any]:
        if self.describe_with is not None:
            return self.describe_with(exc)
        return messages.describe(self.gettext, exc, self.language)

    def form_error(self, exc: DomainError) -> dict[str, Any]:
        """A refusal for a form shown again: the general message and each field's message in
        the reader's language (``by_field``, for the macro ``field_error`` beside the field;
        fields the form does not show stay in ``fields`` for the box at its top)."""
        d = self.error(exc)
        by_field: dict[str, str] = {}
        for e in exc.errors:  # a field refused twice (a file empty and unnamed) says both
            said = messages.field_message(self.gettext, e, self.language)
            by_field[e.field] = f"{by_field[e.field]}; {said}" if e.field in by_field else said
        d["by_field"] = by_field
        # The same with each field's name, so that the top of the form lists only those it
        # does not show beside a field (the macro ``refusal``).
        d["named"] = [
            (e.field, label, message)
            for e, (label, message) in zip(exc.errors, d["fields"], strict=False)
        ]
        return d

    def keep(
        self,
        form_id: str,
        exc: DomainError,
        typed: Mapping[str, Any],
        rename: Callable[[str], str] | None = None,
    ) -> None:
        """Keep the refused form ``form_id`` for the page rendered next in this request:
        its error beside its fields (the service's field names turned into the form's by
        ``rename``) and what was ``typed``."""
        error = self.form_error(exc)
        if rename is not None:  # two names of the service may be one field of the form
            by_field: dict[str, str] = {}
            for name, said in error["by_field"].items():
                shown = rename(name)
                by_field[shown] = f"{by_field[shown]}; {said}" if shown in by_field else said
            error["by_field"] = by_field
            error["named"] = [(rename(n), label, msg) for n, label, msg in error["named"]]
        self.forms[form_id] = Kept(error, dict(typed))

    def kept(self, form_id: str) -> Kept:
        return self.forms.get(form_id, NOT_KEPT)

    def attempt(
        self,
        work: Callable[[], Any],
        *,
        done: str | Callable[[Any], str] | None,
        back: str,
        form_id: str,
        typed: Mapping[str, Any],
        again: Callable[[int], Response],
        rename: Callable[[str], str] | None = None,
        then: Callable[[Any], str] | None = None,
        whole_form: bool = False,
    ) -> Response:
        """Run ``work`` (one use case) for the form ``form_id`` and answer as every form of
        the back office does. Done: ``done`` flashed (or ``done(result)``), see ``back`` (or
        ``then(result)``, ``result`` what ``work`` returned). Refused for its fields: the
        page again (``again(status)``, 422), each message beside its field in the reader's
        language and what was ``typed`` kept (``kept(form_id)`` in the template; ``rename``
        turns the service's field names into the form's). Refused for a rule of the thing
        acted on (a transition, a conflict, a value that names nothing): the message at the
        top of ``back``, in the reader's language; with ``whole_form`` (a form that creates
        something: a taken code is about what was typed), the page again with the message
        at the top of the form."""
        try:
            result = work()
        except DomainError as exc:
            if isinstance(exc, Forbidden):
                raise
            if exc.errors or whole_form:
                self.keep(form_id, exc, typed, rename)
                return again(status_of(exc))
            self.flash_error(exc)
            return self.redirect(back)
        if done is not None:
            self.flash(done if isinstance(done, str) else done(result))
        return self.redirect(back if then is None else then(result))

    def flash_error(self, exc: DomainError) -> None:
        d = self.error(exc)
        parts = [d["message"]] + [f"{lbl}: {msg}" for lbl, msg in d["fields"]]
        if d["detail"]:
            parts.append(d["detail"])
        self.flash(" ".join(parts), "error")

    def context(self, **values: Any) -> dict[str, Any]:
        s = self.request.session
        return {
            "request": self.request,
            "user": self.user,
            "page": self,
            "lang": self.language,
            "html_lang": i18n.HTML_LANG[self.language],
            "languages": i18n.NAMES,
            "csrf": csrf_token(self.request),
            "flashes": s.pop("flash", []),
            "_": self._,
            "gettext": self._,
            "ngettext": i18n.ngettext_for(self.language),
            "fmt": self.fmt,
            "label": lambda v: messages.label(self.gettext, v),
            "actor_name": lambda v: messages.actor_label(self.gettext, v),
            "field_name": lambda v: messages.field_label(self.gettext, str(v)),
            "value_words": lambda v: messages.value_words(self.gettext, v),
            "carrier_name": self.carrier_name,
            "carrier_url": self.carrier_url,
            "now_iso": datetime.now(UTC).isoformat(),
            "may": self.may,
            "kept": self.kept,
            "A": Action,
            **self.extra,
            **values,
        }

    def render(
        self, template: str, status: int = 200, block: str | None = None, **values: Any
    ) -> HTMLResponse:
        ctx = self.context(**values)
        if block is not None:
            # A block rendered alone skips the template's top, where the macros are
            # imported ("m"): import them into the block's context the same way.
            ctx.setdefault("m", env.get_template("_macros.html").make_module(ctx))
            html = render_block(env, template, block, ctx)
        else:
            html = env.get_template(template).render(ctx)
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str) -> Response:
        return see_other(self.request, url)


def see_other(request: Request, url: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def language_of(request: Request, user: SessionView | None) -> str:
    if user and user.get("language") in i18n.LANGUAGES:
        return str(user["language"])
    chosen = request.session.get("lang")
    if chosen in i18n.LANGUAGES:
        return str(chosen)
    return i18n.from_accept_language(request.headers.get("accept-language"))


def now_of(request: Request) -> datetime:
    """The time for this request: ``app.state.clock`` when set (tests move it), else now."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def client_address(request: Request) -> str:
    """The client's address: the peer's, or what a configured proxy forwarded
    (``DINGDAN_FORWARDED_ALLOW_IPS``; see app.py)."""
    return request.client.host if request.client else "unknown"


def session_user(request: Request) -> SessionView | None:
    """The signed-in user: the session must exist on the server and not have expired
    (services/access/sign_in.py); the cookie only names it."""
    s = request.session
    return sign_in.session_user(
        request.app.state.db, s.get("sid"), s.get("stamp"), now=now_of(request)
    )


def start_session(request: Request, user: SessionView) -> None:
    """A new server-side session for ``user`` (the one this browser had is ended) with a new
    CSRF token: a token planted in the browser before sign-in is worth nothing after it.
    Blocking: call it from a thread."""
    db = request.app.state.db
    sign_in.end_session(db, request.session.get("sid"))
    token = sign_in.start_session(db, user["id"], now=now_of(request))
    request.session.clear()
    request.session.update(sid=token, stamp=user["stamp"], csrf=secrets.token_urlsafe(32))


def end_session(request: Request) -> None:
    """Sign-out: the session ends on the server too. Blocking: call it from a thread."""
    sign_in.end_session(request.app.state.db, request.session.get("sid"))
    request.session.clear()


def anonymous(request: Request) -> Page:
    return Page(request, language_of(request, None))


def signed_in(request: Request) -> Page:
    user = session_user(request)
    if user is None:
        raise SignInRequired()
    return Page(request, language_of(request, user), user)


async def posted(request: Request) -> dict[str, Any]:
    """The form of a POST, after its CSRF token (field or header) matched the session's."""
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise CsrfFailed()
    if not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            if key in out:
                out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
            else:
                out[key] = value
    return out


Anon = Annotated[Page, Depends(anonymous)]
User = Annotated[Page, Depends(signed_in)]
Form = Annotated[dict[str, Any], Depends(posted)]


def _error_page(request: Request, status: int, exc: DomainError | None, title: str) -> Response:
    user = None
    try:
        user = session_user(request)
    except DomainError:
        user = None
    page = Page(request, language_of(request, user), user)
    return page.render(
        "error.html", status=status, title=title, error=page.error(exc) if exc else None
    )


class PageRoute(APIRoute):
    """Routes of the back office: errors become pages in the reader's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SignInRequired:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                url = "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
                return see_other(request, url)
            except CsrfFailed:
                return _error_page(request, 403, None, "csrf")
            except RequestValidationError:
                return _error_page(request, 422, None, "invalid")
            except NotFound as exc:
                return _error_page(request, 404, exc, "not_found")
            except Forbidden as exc:
                return _error_page(request, 403, exc, "forbidden")
            except DomainError as exc:
                return _error_page(request, status_of(exc), exc, "error")

        return handler


def line_fields(rows: list[Any]) -> Callable[[str], str]:
    """A service's name of a line's field (``lines[j].quantity``) → the form's
    (``quantity-<rows[j]>``: the form's row ``rows[j]`` became the body's line ``j``; a row may
    be a tuple, e.g. ``(row, "damaged")`` → ``damaged-<row>``). Other names stay."""

    def rename(name: str) -> str:
        found = re.fullmatch(r"lines\[(\d+)\]\.(\w+)", name)
        if found is None or int(found[1]) >= len(rows):
            return name
        row = rows[int(found[1])]
        if isinstance(row, tuple):
            return f"{row[1]}-{row[0]}"
        return f"{found[2]}-{row}"

    return rename


def form_text(form: dict[str, Any], name: str, max_len: int = 1000) -> str | None:
    value = form.get(name)
    if isinstance(value, list):
        value = value[-1]
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:max_len]


def safe_next(value: Any, default: str = "/") -> str:
    """Only a path on this site (no scheme, no host, no backslash tricks)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 for c in value):
        return default
    return value[:500]
