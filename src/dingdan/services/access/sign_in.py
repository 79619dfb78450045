"""Back-office sign-in with throttling, server-side sessions, and the user changes a
person or an admin makes.

Throttling (docs/architecture.md, "Sessions and sign-in"): failed sign-ins are counted per
key, ``pair:<email>|<address>`` and ``addr:<address>``, in ``sign_in_throttle``, whether or
not the email belongs to an account. After a few failures a key must wait before trying
again, for a time that doubles with every further failure, up to a cap. Nothing is counted
per account alone: that is what let anyone lock the only admin out; from their own
address the admin is never slowed by someone else's failures. A throttled key is answered
before any password is verified, and otherwise a password is always verified (against a
dummy hash for an unknown email), so an unknown email and a real one get the same answer
in the same time.

Passwords are checked outside the write transaction (argon2 is slow on purpose); the
counters then move with one statement each so that racing attempts all count.

Sessions: ``start_session`` stores the SHA-256 of a random token with an absolute expiry;
the cookie carries the token. ``end_session`` deletes the row (sign-out), so a copied
cookie stops working with it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Session, SignInThrottle, User
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import whole_or_none
from dingdan.services.access.accounts import check_password, email_key, user_view
from dingdan.services.access.shapes import SessionView, UserView
from dingdan.services.shared.common import Actor, audit

LANGUAGES = ("zh_Hant", "zh_Hans", "en")
# An email at one address: free failures, then 1 minute doubling up to an hour.
PAIR_FREE = 5
PAIR_BASE = timedelta(minutes=1)
PAIR_MAX = timedelta(hours=1)
# One address, any emails (someone trying many accounts): more free failures (an office
# shares one address), then 10 seconds doubling up to 15 minutes.
ADDRESS_FREE = 20
ADDRESS_BASE = timedelta(seconds=10)
ADDRESS_MAX = timedelta(minutes=15)
# Counters untouched for this long are forgotten.
THROTTLE_MEMORY = timedelta(days=1)
# A session ends this long after sign-in, whatever its cookie says.
SESSION_LIFETIME = timedelta(hours=12)

_hasher = PasswordHash.recommended()
# Verified when the email is unknown, so that a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("dingdan-no-such-user")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: ``user`` when it succeeded, else ``locked_until`` when
    this email (or this address) must wait before trying again. The answer depends only on
    the email and address tried, never on whether the email has an account."""

    user: SessionView | None
    locked_until: datetime | None = None


def wait_after(failures: int, free: int, base: timedelta, cap: timedelta) -> timedelta | None:
    """How long a key waits after ``failures`` failures in a row (None: not at all)."""
    if failures < free:
        return None
    return min(cap, base * 2 ** min(failures - free, 32))


def _keys(email: str, address: str) -> dict[str, tuple[int, timedelta, timedelta]]:
    address = address[:100] or "unknown"
    return {
        f"pair:{email}|{address}": (PAIR_FREE, PAIR_BASE, PAIR_MAX),
        f"addr:{address}": (ADDRESS_FREE, ADDRESS_BASE, ADDRESS_MAX),
    }


def stamp(password_hash: str) -> str:
    """A short fingerprint of the password hash: a session signed with an older one (the
    password changed since) is no longer valid."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def session_view(u: Any) -> SessionView:
    return {**user_view(u), "stamp": stamp(u.password_hash)}


def _by_email(conn: Connection, email: str) -> Any:
    return conn.execute(select(User).where(User.email == email)).first()


def _blocked_until(conn: Connection, keys: list[str], now: datetime) -> datetime | None:
    until = conn.execute(
        select(func.max(SignInThrottle.blocked_until)).where(SignInThrottle.key.in_(keys))
    ).scalar_one()
    return until if until is not None and until > now else None


def sign_in(
    db: Database, email: Any, password: Any, address: str = "", now: datetime | None = None
) -> SignIn:
    """Check ``email`` and ``password`` tried from ``address`` (the client's address)."""
    now = now or utcnow()
    email = email_key(email)[:254]
    password = str(password or "")[:1000]
    keys = _keys(email, str(address or ""))

    def look(conn: Connection) -> tuple[datetime | None, Any]:
        return _blocked_until(conn, list(keys), now), _by_email(conn, email) if email else None

    blocked, row = db.read(look)
    if blocked is not None:
        return SignIn(None, blocked)
    ok = _hasher.verify(password, row.password_hash if row is not None else _DUMMY_HASH)
    if row is not None and ok and row.active:
        return SignIn(db.write(lambda conn: _succeeded(conn, row.id, keys)))
    return SignIn(None, db.write(lambda conn: _failed(conn, email, keys, now)))


def _succeeded(conn: Connection, user_id: int, keys: dict[str, Any]) -> SessionView:
    pair = next(k for k in keys if k.startswith("pair:"))
    conn.execute(delete(SignInThrottle).where(SignInThrottle.key == pair))
    u = conn.execute(select(User).where(User.id == user_id)).one()
    audit(conn, Actor(f"user:{u.email}", Role(u.role)), "sign_in", "user", u.email)
    return session_view(u)


def _count_failure(conn: Connection, key: str, now: datetime) -> int:
    """One more failure for ``key``, counted in one statement (racing attempts all count)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SignInThrottle).values(key=key, failures=1, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[SignInThrottle.key],
        set_={"failures": SignInThrottle.failures + 1, "updated_at": now},
    ).returning(SignInThrottle.failures)
    return int(conn.execute(stmt).scalar_one())


def _failed(
    conn: Connection, email: str, keys: dict[str, tuple[int, timedelta, timedelta]], now: datetime
) -> datetime | None:
    conn.execute(delete(SignInThrottle).where(SignInThrottle.updated_at < now - THROTTLE_MEMORY))
    latest = None
    for key, (free, base, cap) in keys.items():
        failures = _count_failure(conn, key, now)
        wait = wait_after(failures, free, base, cap)
        if wait is not None:
            until = now + wait
            conn.execute(
                update(SignInThrottle).where(SignInThrottle.key == key).values(blocked_until=until)
            )
            latest = until if latest is None else max(latest, until)
    # The same entry whether or not the email has an account (the audit log is for staff).
    audit(
        conn,
        Actor("anonymous", Role.VIEWER),
        "sign_in_failed",
        "user",
        email[:100],
        after={"throttled": latest is not None},
    )
    return latest


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, user_id: int | str, now: datetime | None = None) -> str:
    """A new session of ``user_id`` (a view's id, so a string); the token its cookie carries
    (stored only hashed)."""
    now = now or utcnow()
    uid = int(user_id)
    token = secrets.token_urlsafe(32)

    def work(conn: Connection) -> None:
        conn.execute(delete(Session).where(Session.user_id == uid, Session.expires_at <= now))
        conn.execute(
            insert(Session).values(
                id=_token_id(token),
                user_id=uid,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )

    db.write(work)
    return token


def end_session(db: Database, token: Any) -> None:
    """Sign-out: the session is gone on the server, whatever copies of its cookie exist."""
    if isinstance(token, str) and 0 < len(token) <= 100:
        db.write(lambda conn: conn.execute(delete(Session).where(Session.id == _token_id(token))))


def session_user(
    db: Database, token: Any, user_stamp: Any, now: datetime | None = None
) -> SessionView | None:
    """The signed-in user of a session, or None when the session was ended or has expired,
    or the account is gone, deactivated or its password changed since the session began."""
    if not isinstance(token, str) or not 0 < len(token) <= 100:
        return None
    now = now or utcnow()
    row = db.read(
        lambda conn: conn.execute(
            select(User, Session.expires_at)
            .join(Session, Session.user_id == User.id)
            .where(Session.id == _token_id(token))
        ).first()
    )
    if row is None or row.expires_at <= now:
        return None
    if not row.active or stamp(row.password_hash) != user_stamp:
        return None
    return session_view(row)


def _fetch(conn: Connection, user_id: str) -> Any:
    row = None
    if (uid := whole_or_none(user_id)) is not None:
        row = conn.execute(select(User).where(User.id == uid)).first()
    if row is None:
        raise NotFound(detail=f"No user with id {user_id!r}.")
    return row


def get_user(db: Database, user_id: str) -> UserView:
    return db.read(lambda conn: user_view(_fetch(conn, user_id)))


def _check_password(new: Any) -> str:
    errors = FieldErrors()
    check_password(new, "new_password", errors)
    errors.raise_if_any()
    return str(new)


def change_password(
    db: Database, actor: Actor, user_id: str, current: Any, new: Any
) -> SessionView:
    """A person changes their own password; the current one is required."""
    new = _check_password(new)
    row = db.read(lambda conn: _fetch(conn, user_id))
    if not _hasher.verify(str(current or "")[:1000], row.password_hash):
        raise ValidationFailed.on("current_password", "wrong_password")
    return _store_password(db, actor, user_id, _hasher.hash(new))


def reset_password(db: Database, actor: Actor, user_id: str, new: Any) -> SessionView:
    """An admin sets a new password (and so ends the user's sessions and lockout)."""
    return _store_password(db, actor, user_id, _hasher.hash(_check_password(new)))


def _store_password(db: Database, actor: Actor, user_id: str, hashed: str) -> SessionView:
    def work(conn: Connection) -> SessionView:
        row = _fetch(conn, user_id)
        conn.execute(
            update(User)
            .where(User.id == row.id)
            .values(password_hash=hashed, failed_logins=0, locked_until=None)
        )
        # An admin's reset also lets the person try again at once from anywhere.
        conn.execute(
            delete(SignInThrottle).where(
                SignInThrottle.key.startswith(f"pair:{row.email}|", autoescape=True)
            )
        )
        audit(conn, actor, "change_password", "user", row.email)
        return session_view(_fetch(conn, user_id))

    return db.write(work)


def _active_admins(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
        ).scalar_one()
    )


def _update(db: Database, actor: Actor, user_id: str, values: dict[str, Any]) -> UserView:
    def work(conn: Connection) -> UserView:
        row = _fetch(conn, user_id)
        before = user_view(row)
        conn.execute(update(User).where(User.id == row.id).values(**values))
        after = user_view(_fetch(conn, user_id))
        losing_admin = (
            before["role"] == "admin"
            and before["active"]
            and (after["role"] != "admin" or not after["active"])
        )
        if losing_admin and _active_admins(conn) == 0:
            raise Conflict(detail="At least one active admin must remain.")
        audit(conn, actor, "update", "user", row.email, before=before, after=after)
        return after

    return db.write(work)


def set_role(db: Database, actor: Actor, user_id: str, role: Any) -> UserView:
    if role not in {r.value for r in Role}:
        raise ValidationFailed.on("role", "unknown_role")
    return _update(db, actor, user_id, {"role": role})


def set_active(db: Database, actor: Actor, user_id: str, active: bool) -> UserView:
    values: dict[str, Any] = {"active": bool(active)}
    if active:
        values.update(failed_logins=0, locked_until=None)
    return _update(db, actor, user_id, values)


def set_language(db: Database, actor: Actor, user_id: str, language: Any) -> UserView:
    if language not in LANGUAGES:
        raise ValidationFailed.on("language", "not_one_of", choices=", ".join(LANGUAGES))
    return _update(db, actor, user_id, {"language": language})
