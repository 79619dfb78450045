"""Back-office sign-in with lockout, and the user changes a person or an admin makes.

Passwords are checked outside the write transaction (argon2 is slow on purpose); the
failure counter then moves with one conditional statement so that racing attempts all
count. After ``LOCK_AFTER`` failures in a row the account is locked, for a time that
doubles with every further failure (``LOCK_BASE`` up to ``LOCK_MAX``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Connection, func, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import User
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import whole_or_none
from dingdan.services.access.accounts import check_password, email_key, user_view
from dingdan.services.shared.common import Actor, audit

LANGUAGES = ("zh_Hant", "zh_Hans", "en")
LOCK_AFTER = 5
LOCK_BASE = timedelta(minutes=1)
LOCK_MAX = timedelta(hours=1)

_hasher = PasswordHash.recommended()
# Verified when the email is unknown, so that a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("dingdan-no-such-user")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: ``user`` when it succeeded, else ``locked_until`` if the
    account is locked (a wrong password and an unknown email look the same otherwise)."""

    user: dict[str, Any] | None
    locked_until: datetime | None = None


def lock_time(failures: int) -> timedelta | None:
    if failures < LOCK_AFTER:
        return None
    return min(LOCK_MAX, LOCK_BASE * 2 ** (failures - LOCK_AFTER))


def stamp(password_hash: str) -> str:
    """A short fingerprint of the password hash: a session signed with an older one (the
    password changed since) is no longer valid."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def session_view(u: Any) -> dict[str, Any]:
    return {**user_view(u), "stamp": stamp(u.password_hash)}


def _by_email(conn: Connection, email: str) -> Any:
    return conn.execute(select(User).where(User.email == email)).first()


def sign_in(db: Database, email: Any, password: Any, now: datetime | None = None) -> SignIn:
    now = now or utcnow()
    email = email_key(email)[:254]
    password = str(password or "")[:1000]
    row = db.read(lambda conn: _by_email(conn, email)) if email else None
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return SignIn(None, row.locked_until)
    ok = _hasher.verify(password, row.password_hash if row else _DUMMY_HASH)
    if row is None:
        return SignIn(None)
    if ok and row.active:
        return SignIn(db.write(lambda conn: _succeeded(conn, row.id)))
    return SignIn(None, db.write(lambda conn: _failed(conn, row.id, now)))


def _succeeded(conn: Connection, user_id: int) -> dict[str, Any]:
    conn.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))
    u = conn.execute(select(User).where(User.id == user_id)).one()
    audit(conn, Actor(f"user:{u.email}", Role(u.role)), "sign_in", "user", u.email)
    return session_view(u)


def _failed(conn: Connection, user_id: int, now: datetime) -> datetime | None:
    failures = conn.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins, User.email)
    ).one()
    until = None
    wait = lock_time(failures.failed_logins)
    if wait is not None:
        until = now + wait
        conn.execute(update(User).where(User.id == user_id).values(locked_until=until))
    audit(
        conn,
        Actor("anonymous", Role.VIEWER),
        "sign_in_failed",
        "user",
        failures.email,
        after={"failed_logins": failures.failed_logins, "locked": until is not None},
    )
    return until


def session_user(db: Database, user_id: Any, user_stamp: Any) -> dict[str, Any] | None:
    """The signed-in user of a session, or None when the account is gone, deactivated or
    its password changed since the session began."""
    if not isinstance(user_id, str) or not user_id.isdecimal() or len(user_id) > 18:
        return None
    row = db.read(lambda conn: conn.execute(select(User).where(User.id == int(user_id))).first())
    if row is None or not row.active or stamp(row.password_hash) != user_stamp:
        return None
    return session_view(row)


def _fetch(conn: Connection, user_id: str) -> Any:
    row = None
    if (uid := whole_or_none(user_id)) is not None:
        row = conn.execute(select(User).where(User.id == uid)).first()
    if row is None:
        raise NotFound(detail=f"No user with id {user_id!r}.")
    return row


def get_user(db: Database, user_id: str) -> dict[str, Any]:
    return db.read(lambda conn: user_view(_fetch(conn, user_id)))


def _check_password(new: Any) -> str:
    errors = FieldErrors()
    check_password(new, "new_password", errors)
    errors.raise_if_any()
    return str(new)


def change_password(
    db: Database, actor: Actor, user_id: str, current: Any, new: Any
) -> dict[str, Any]:
    """A person changes their own password; the current one is required."""
    new = _check_password(new)
    row = db.read(lambda conn: _fetch(conn, user_id))
    if not _hasher.verify(str(current or "")[:1000], row.password_hash):
        raise ValidationFailed.on("current_password", "wrong_password")
    return _store_password(db, actor, user_id, _hasher.hash(new))


def reset_password(db: Database, actor: Actor, user_id: str, new: Any) -> dict[str, Any]:
    """An admin sets a new password (and so ends the user's sessions and lockout)."""
    return _store_password(db, actor, user_id, _hasher.hash(_check_password(new)))


def _store_password(db: Database, actor: Actor, user_id: str, hashed: str) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        row = _fetch(conn, user_id)
        conn.execute(
            update(User)
            .where(User.id == row.id)
            .values(password_hash=hashed, failed_logins=0, locked_until=None)
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


def _update(db: Database, actor: Actor, user_id: str, values: dict[str, Any]) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
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


def set_role(db: Database, actor: Actor, user_id: str, role: Any) -> dict[str, Any]:
    if role not in {r.value for r in Role}:
        raise ValidationFailed.on("role", "unknown_role")
    return _update(db, actor, user_id, {"role": role})


def set_active(db: Database, actor: Actor, user_id: str, active: bool) -> dict[str, Any]:
    values: dict[str, Any] = {"active": bool(active)}
    if active:
        values.update(failed_logins=0, locked_until=None)
    return _update(db, actor, user_id, values)


def set_language(db: Database, actor: Actor, user_id: str, language: Any) -> dict[str, Any]:
    if language not in LANGUAGES:
        raise ValidationFailed.on("language", "not_one_of", choices=", ".join(LANGUAGES))
    return _update(db, actor, user_id, {"language": language})
