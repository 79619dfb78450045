"""Staff notifications (issue 20): who is told what, in the app and by email.

A producer (the outbox consumer ``on_event`` here: new orders, return requests, disputes
opened; the worker's periodic scans in
services/jobs/staff_alerts.py) calls ``notify(conn, kind, key, params, link)``: one row per
user who wants ``kind`` in the app or by email, insert-if-absent on (user, ``key``), so a
producer run twice (the outbox gives each event at least once, the scans find the same late
order every round) adds nothing. Whoever wants it by email gets a row in the customer
messages' queue (``messages``, no order, the user's address as recipient) written in the same
transaction, keyed by the notification's id: services/messaging/sending.py sends it.

Rows keep the kind and its parameters, never a text: the text is rendered in the reader's
language when shown (``render``), from the back office's catalogs (the ``.po`` files).

Who wants what when they chose nothing (``DEFAULTS``): each kind goes in the app to the roles
whose work it is, admins get every kind in the app, and by email only managers (every kind
but new orders, which would be a mail per order). A user's own choice (``/account``) wins.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from gettext import NullTranslations
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

import dingdan
from dingdan.config import get_settings
from dingdan.db.engine import Database
from dingdan.db.notification_tables import Notification, NotificationPreference
from dingdan.db.tables import User
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.messaging import outbound
from dingdan.services.messaging.shapes import ComposedMessage, NotificationView, PreferenceView


def N_(text: str) -> str:  # noqa: N802 - the extractor's keyword: marked, translated later
    return text


# Each kind: its title and text (msgids of the back office's catalogs, with %(params)s).
KINDS: dict[str, tuple[str, str]] = {
    "new_order": (N_("New order %(number)s"), N_("Order %(number)s was placed.")),
    "stuck_order": (
        N_("Order %(number)s is late at %(stage)s"),
        N_("Order %(number)s has waited at %(stage)s longer than its limit of %(hours)s hours."),
    ),
    "low_stock": (
        N_("Low stock: %(sku)s"),
        N_("%(sku)s at %(location)s has %(available)s available (threshold %(threshold)s)."),
    ),
    "reorder_point": (
        N_("Time to reorder: %(sku)s"),
        N_(
            "%(sku)s at %(location)s: %(available)s available and %(on_order)s on order, at "
            "or below its reorder point of %(reorder_point)s. Suggested order: %(quantity)s."
        ),
    ),
    "backorder_waiting": (
        N_("Backorder waiting: %(number)s"),
        N_("Order %(number)s has waited for backordered stock over %(days)s days."),
    ),
    "return_requested": (
        N_("Return requested on %(number)s"),
        N_("A return was requested on order %(number)s."),
    ),
    "dispute_opened": (
        N_("Dispute opened on %(number)s"),
        N_("A dispute was opened on order %(number)s."),
    ),
    "dispute_due": (
        N_("Dispute on %(number)s due %(due)s"),
        N_("The dispute on order %(number)s must be answered by %(due)s."),
    ),
    "webhook_failing": (
        N_("Webhook endpoint failing: %(url)s"),
        N_("The webhook endpoint %(url)s is failing: %(reason)s."),
    ),
    "inbound_attention": (
        N_("Channel order needs attention: %(channel)s %(external_id)s"),
        N_(
            "A delivery from %(channel)s (order %(external_id)s) could not become an order: "
            "%(reason)s."
        ),
    ),
    "einvoice_range_low": (
        N_("E-invoice numbers running out: %(prefix)s, %(period)s"),
        N_(
            "The e-invoice number range %(prefix)s for the period from %(period)s is 80%% "
            "used (%(remaining)s numbers left): get the next range and add it."
        ),
    ),
}
# The stages' names in texts (the dashboard's words).
STAGE_WORDS = {
    "payment": N_("payment"),
    "allocation": N_("allocation"),
    "picking": N_("picking"),
    "packing": N_("packing"),
    "shipping": N_("shipping"),
}
REASON_WORDS = {
    "disabled": N_("disabled"),
    "dead_deliveries": N_("deliveries given up"),
}

_ALL_ROLES = frozenset(Role)
# kind → roles that get it in the app when they chose nothing.
DEFAULTS: dict[str, frozenset[Role]] = {
    "new_order": frozenset({Role.MANAGER, Role.CUSTOMER_SERVICE}),
    # And the stage's owner role (settings, stage limits): see ``recipients(extra_roles=)``.
    "stuck_order": frozenset({Role.MANAGER}),
    "low_stock": frozenset({Role.MANAGER, Role.WAREHOUSE}),
    "reorder_point": frozenset({Role.MANAGER, Role.WAREHOUSE}),
    "backorder_waiting": frozenset({Role.MANAGER, Role.WAREHOUSE}),
    "return_requested": frozenset({Role.MANAGER, Role.CUSTOMER_SERVICE}),
    "dispute_opened": frozenset({Role.MANAGER, Role.FINANCE, Role.CUSTOMER_SERVICE}),
    "dispute_due": frozenset({Role.MANAGER, Role.FINANCE, Role.CUSTOMER_SERVICE}),
    "webhook_failing": frozenset({Role.MANAGER, Role.ADMIN}),
    "inbound_attention": frozenset({Role.MANAGER, Role.CUSTOMER_SERVICE}),
    "einvoice_range_low": frozenset({Role.MANAGER, Role.FINANCE}),
}
EMAIL_DEFAULT_OFF = frozenset({"new_order"})

# Outbox events that become a notification: topic → kind.
TOPICS = {
    "order.created": "new_order",
    "return.requested": "return_requested",
    "dispute.opened": "dispute_opened",
    "inbound.needs_attention": "inbound_attention",
    "einvoice.range_low": "einvoice_range_low",
}

CATALOG_DIR = Path(dingdan.__file__).parent / "translations"
LANGUAGES = ("zh_Hant", "zh_Hans", "en")
_MESSAGE_LOCALE = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}


def default_choice(role: str, kind: str, extra_roles: Iterable[str] = ()) -> tuple[bool, bool]:
    """(in app, by email) for a user of ``role`` who chose nothing for ``kind``."""
    roles = {r.value for r in DEFAULTS[kind]} | set(extra_roles)
    in_app = role in roles or role == Role.ADMIN.value
    email = role == Role.MANAGER.value and kind not in EMAIL_DEFAULT_OFF
    return in_app, email


# Rendering ----------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _translations(language: str) -> NullTranslations:
    po = CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "en"


def translator(language: str | None) -> Callable[[str], str]:
    return _translations(language_of(language)).gettext


def render(kind: str, params: Mapping[str, object], language: str | None) -> tuple[str, str]:
    """(title, text) of one notification in ``language`` (zh_Hant, zh_Hans, en), its
    ``params`` (the stored JSON) filling the kind's words."""
    _ = translator(language)
    values = {k: ("" if v is None else v) for k, v in (params or {}).items()}
    if "stage" in values:
        values["stage"] = _(STAGE_WORDS.get(str(values["stage"]), str(values["stage"])))
    if "reason" in values:
        values["reason"] = _(REASON_WORDS.get(str(values["reason"]), str(values["reason"])))
    title, text = KINDS.get(kind, ("%(kind)s", ""))
    values.setdefault("kind", kind)
    try:
        return _(title) % values, (_(text) % values if text else "")
    except (KeyError, ValueError, TypeError):
        return kind, ""


def kind_label(kind: str, language: str | None) -> str:
    _ = translator(language)
    return {
        "new_order": _(N_("New orders")),
        "stuck_order": _(N_("Orders late at a stage")),
        "low_stock": _(N_("Low stock")),
        "reorder_point": _(N_("SKUs to reorder")),
        "backorder_waiting": _(N_("Backorders waiting")),
        "return_requested": _(N_("Returns requested")),
        "dispute_opened": _(N_("Disputes opened")),
        "dispute_due": _(N_("Disputes coming due")),
        "webhook_failing": _(N_("Webhook endpoints failing")),
        "inbound_attention": _(N_("Channel orders needing attention")),
        "einvoice_range_low": _(N_("E-invoice number ranges running out")),
    }[kind]


# Writing ------------------------------------------------------------------------------------
def recipients(
    conn: Connection, kind: str, extra_roles: Iterable[str] = ()
) -> list[tuple[Any, bool, bool]]:
    """Every active user with (user row, in app, by email) who wants ``kind`` either way."""
    extra = tuple(extra_roles)
    users = conn.execute(
        select(User.id, User.email, User.role, User.language).where(User.active.is_(True))
    ).all()
    chosen = {
        int(p.user_id): (bool(p.in_app), bool(p.email))
        for p in conn.execute(
            select(NotificationPreference).where(NotificationPreference.kind == kind)
        )
    }
    out = []
    for u in users:
        in_app, email = chosen.get(int(u.id)) or default_choice(u.role, kind, extra)
        if in_app or email:
            out.append((u, in_app, email))
    return out


def _insert(conn: Connection, values: dict[str, Any]) -> int | None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(Notification.id)
    )
    found = conn.execute(stmt).scalar()
    return int(found) if found is not None else None


def notify(
    conn: Connection,
    kind: str,
    key: str,
    params: Mapping[str, object],
    link: str = "",
    extra_roles: Iterable[str] = (),
    audience: list[tuple[Any, bool, bool]] | None = None,
) -> int:
    """Tell every user who wants ``kind``, once per (user, ``key``); returns how many rows
    were new. A user who wants it only by email still gets the row (read at once), so that
    a second run knows it was told. ``audience``: ``recipients(conn, kind, extra_roles)``
    read once by a caller that tells many occurrences of one kind."""
    now = utcnow()
    new = 0
    if audience is None:
        audience = recipients(conn, kind, extra_roles)
    for user, in_app, email in audience:
        nid = _insert(
            conn,
            {
                "user_id": user.id,
                "kind": kind,
                "params": params,
                "link": link,
                "dedupe_key": key[:200],
                "created_at": now,
                "read_at": None if in_app else now,
            },
        )
        if nid is None:
            continue
        new += 1
        if email and user.email:
            _queue_email(conn, nid, kind, params, link, user)
    return new


def _queue_email(
    conn: Connection, nid: int, kind: str, params: Mapping[str, object], link: str, user: Any
) -> None:
    language = language_of(user.language)
    title, text = render(kind, params, language)
    url = f"{get_settings().public_base_url()}{link}" if link else ""
    body_text = f"{text}\n\n{url}\n" if url else f"{text}\n"
    link_html = f'<p><a href="{escape(url)}">{escape(url)}</a></p>' if url else ""
    body: ComposedMessage = {
        "subject": title,
        "text": body_text,
        "html": f"<p>{escape(text)}</p>{link_html}",
    }
    values = outbound.message_values(
        f"notification:{nid}",
        f"staff.{kind}"[:40],
        _MESSAGE_LOCALE[language],
        user.email,
        None,
        body,
    )
    outbound.insert_message(conn, values)


def on_event(db: Database, event: Any) -> None:
    """The outbox consumer (the worker subscribes it to ``TOPICS``), keyed by the event id."""
    kind = TOPICS.get(event.topic)
    payload = event.payload or {}
    if kind == "inbound_attention":  # a channel's delivery: no order yet
        said = {k: str(payload.get(k) or "") for k in ("channel", "external_id", "reason")}
        there = "/inbound?status=needs_attention"
        db.write(lambda conn: notify(conn, "inbound_attention", f"{kind}:{event.id}", said, there))
        return
    if kind == "einvoice_range_low":  # a number range, not an order
        said = {k: str(payload.get(k) or "") for k in ("prefix", "period", "remaining")}
        there = "/settings/invoicing"
        db.write(lambda conn: notify(conn, kind, f"{kind}:{event.id}", said, there))
        return
    number = payload.get("number")
    if kind is None or not number:
        return
    params: dict[str, Any] = {"number": number}
    link = f"/orders/{quote(str(number), safe='')}"
    if kind == "return_requested" and payload.get("return_id"):
        params["return_id"] = str(payload["return_id"])
        link = f"/returns/{quote(str(payload['return_id']), safe='')}"
    if kind == "dispute_opened" and payload.get("dispute_id"):
        params["dispute_id"] = str(payload["dispute_id"])
        link = f"/disputes/{quote(str(payload['dispute_id']), safe='')}"
    db.write(lambda conn: notify(conn, kind, f"{kind}:{event.id}", params, link))


# Reading ------------------------------------------------------------------------------------
def unread_count(db: Database, user_id: int) -> int:
    """One indexed count (ix_notifications_user_read)."""
    return int(
        db.read(
            lambda conn: conn.execute(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            ).scalar()
        )
        or 0
    )


def listing(
    db: Database, user_id: int, language: str | None, unread: bool = False, limit: int = 100
) -> list[NotificationView]:
    """The user's own notifications, newest first, rendered in ``language``."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = db.read(lambda conn: conn.execute(stmt).all())
    out: list[NotificationView] = []
    for r in rows:
        title, text = render(r.kind, r.params, language)
        out.append(
            {
                "id": int(r.id),
                "kind": r.kind,
                "title": title,
                "text": text,
                "params": r.params,
                "link": r.link,
                "created_at": r.created_at,
                "read": r.read_at is not None,
                "read_at": r.read_at,
            }
        )
    return out


def mark_read(
    db: Database, user_id: int, ids: Iterable[int] | None = None, everything: bool = False
) -> int:
    """Mark the user's own notifications read (``ids``, or all); returns how many changed."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if not everything:
        wanted = [int(i) for i in ids or ()]
        if not wanted:
            return 0
        stmt = stmt.where(Notification.id.in_(wanted))
    return db.write(lambda conn: conn.execute(stmt.values(read_at=utcnow())).rowcount)


def preferences(db: Database, user_id: int, role: str) -> list[PreferenceView]:
    """Each kind with the user's choice (or the default of the role): in_app, email."""

    def work(conn: Connection) -> dict[str, tuple[bool, bool]]:
        return {
            p.kind: (bool(p.in_app), bool(p.email))
            for p in conn.execute(
                select(NotificationPreference).where(NotificationPreference.user_id == user_id)
            )
        }

    chosen = db.read(work)
    out: list[PreferenceView] = []
    for kind in KINDS:
        in_app, email = chosen.get(kind) or default_choice(role, kind)
        out.append({"kind": kind, "in_app": in_app, "email": email, "chosen": kind in chosen})
    return out


def set_preferences(db: Database, user_id: int, choices: dict[str, dict[str, bool]]) -> None:
    """Store the user's choice for every kind in ``choices`` ({kind: {in_app, email}})."""
    unknown = [k for k in choices if k not in KINDS]
    if unknown:
        raise ValidationFailed.on("kind", "unknown_value")

    def work(conn: Connection) -> None:
        for kind, choice in choices.items():
            conn.execute(
                delete(NotificationPreference).where(
                    NotificationPreference.user_id == user_id,
                    NotificationPreference.kind == kind,
                )
            )
            conn.execute(
                insert(NotificationPreference).values(
                    user_id=user_id,
                    kind=kind,
                    in_app=bool(choice.get("in_app")),
                    email=bool(choice.get("email")),
                )
            )

    db.write(work)


def user_id_of(db: Database, actor_name: str) -> int | None:
    """The user an actor is ("user:<email>"), or None (an API token, the system)."""
    if not actor_name.startswith("user:"):
        return None
    email = actor_name.removeprefix("user:")
    found = db.read(lambda conn: conn.execute(select(User.id).where(User.email == email)).scalar())
    return int(found) if found is not None else None


def user_language(db: Database, user_id: int) -> str:
    found = db.read(
        lambda conn: conn.execute(select(User.language).where(User.id == user_id)).scalar()
    )
    return language_of(found)
