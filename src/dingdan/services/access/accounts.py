"""API tokens and back-office users. Token secrets are shown once and stored only hashed."""

from __future__ import annotations

import hashlib
import secrets
import time
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pwdlib import PasswordHash
from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import ApiToken, User
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, Unauthorized
from dingdan.domain.shared.numbers import whole_or_none
from dingdan.domain.shared.text import check_clean, check_text
from dingdan.services.access import permissions
from dingdan.services.access.shapes import TokenView, UserView
from dingdan.services.shared.common import Actor, audit, iso

_hasher = PasswordHash.recommended()
TOKEN_PREFIX = "ddk_"
MIN_PASSWORD = 10


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_role(role: Any, errors: FieldErrors) -> None:
    if role not in {r.value for r in Role}:
        errors.add("role", "not_one_of", choices=", ".join(Role))


def token_view(t: Any) -> TokenView:
    return {
        "id": str(t.id),
        "name": t.name,
        "role": t.role,
        "prefix": t.prefix,
        "created_by": t.created_by,
        "created_at": iso(t.created_at),
        "revoked_at": iso(t.revoked_at),
    }


def create_token(db: Database, actor: Actor, name: Any, role: Any) -> tuple[str, TokenView]:
    """A new token: returns the secret (shown once) and its stored view."""
    errors = FieldErrors()
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.add("name", "required_text", max=100)
    else:
        check_clean(name, "name", errors)
    _check_role(role, errors)
    errors.raise_if_any()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)

    def work(conn: Connection) -> TokenView:
        result = conn.execute(
            insert(ApiToken)
            .values(
                name=name.strip(),
                role=role,
                token_hash=_hash_token(secret),
                prefix=secret[:12],
                created_by=actor.name,
            )
            .returning(ApiToken.id)
        )
        tid = result.scalar_one()
        view = token_view(conn.execute(select(ApiToken).where(ApiToken.id == tid)).one())
        audit(conn, actor, "create", "api_token", str(tid), after=view)
        return view

    return secret, db.write(work)


def list_tokens(db: Database) -> list[TokenView]:
    return db.read(
        lambda conn: [token_view(t) for t in conn.execute(select(ApiToken).order_by(ApiToken.id))]
    )


def revoke_token(db: Database, actor: Actor, token_id: str) -> TokenView:
    def work(conn: Connection) -> TokenView:
        tid = whole_or_none(token_id) or -1
        row = conn.execute(select(ApiToken).where(ApiToken.id == tid)).first()
        if row is None:
            raise NotFound(detail=f"No API token with id {token_id!r}.")
        if row.revoked_at is None:
            conn.execute(update(ApiToken).where(ApiToken.id == tid).values(revoked_at=utcnow()))
            audit(conn, actor, "revoke", "api_token", token_id)
        return token_view(conn.execute(select(ApiToken).where(ApiToken.id == tid)).one())

    view = db.write(work)
    _token_cache.clear()
    return view


# token hash -> (actor, monotonic expiry): saves a query on every API request. A revocation
# clears this process's entry at once and other processes' within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[Actor, float]] = {}
permissions.ON_CHANGE.append(_token_cache.clear)  # the actors carry their permissions


def authenticate_token(db: Database, secret: str) -> Actor:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthorized(detail="The API token is not valid.")
    digest = _hash_token(secret)
    cached = _token_cache.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    actor = _lookup_token(db, digest)
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[digest] = (actor, time.monotonic() + TOKEN_CACHE_SECONDS)
    return actor


def cached_actor(secret: str) -> Actor | None:
    """The actor of a token this process accepted within TOKEN_CACHE_SECONDS, or None:
    memory only (no I/O), so an async caller may use it without a thread-pool hop."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    cached = _token_cache.get(_hash_token(secret))
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    return None


def _lookup_token(db: Database, digest: str) -> Actor:
    row = db.read(
        lambda conn: conn.execute(
            select(ApiToken.name, ApiToken.role, ApiToken.prefix, ApiToken.revoked_at).where(
                ApiToken.token_hash == digest
            )
        ).first()
    )
    if row is None or row.revoked_at is not None:
        raise Unauthorized(detail="The API token is not valid.")
    return permissions.actor(db, f"token:{row.name}", row.role)


def user_view(u: Any) -> UserView:
    return {
        "id": str(u.id),
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "active": u.active,
        "language": u.language,
        "created_at": iso(u.created_at),
    }


def email_key(email: Any) -> str:
    """An address as users are told apart and found: NFKC (a full-width look-alike of an
    address is that address), then case folding, surrounding blanks dropped."""
    return unicodedata.normalize("NFKC", str(email or "")).strip().casefold()


def _normal_email(email: Any, errors: FieldErrors) -> str | None:
    try:
        return email_key(validate_email(email_key(email), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        errors.add("email", "invalid_email", reason=str(exc))
        return None


def check_password(password: Any, field: str, errors: FieldErrors) -> None:
    """At least MIN_PASSWORD characters, at most 1000, and not only blanks."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 1000:
        errors.add(field, "password_too_short", min=MIN_PASSWORD)
    elif not password.strip():
        errors.add(field, "password_blank")


def create_user(
    db: Database, actor: Actor, *, email: Any, role: Any, password: Any, name: Any = None
) -> UserView:
    errors = FieldErrors()
    normal = _normal_email(email, errors)
    _check_role(role, errors)
    check_password(password, "password", errors)
    name = check_text(name, "name", errors, max_length=200)
    errors.raise_if_any()
    hashed = _hasher.hash(password)

    def work(conn: Connection) -> UserView:
        if conn.execute(select(User.id).where(User.email == normal)).first():
            raise Conflict(detail=f"A user with email {normal} already exists.")
        uid = conn.execute(
            insert(User)
            .values(email=normal, role=role, password_hash=hashed, name=name)
            .returning(User.id)
        ).scalar_one()
        view = user_view(conn.execute(select(User).where(User.id == uid)).one())
        audit(conn, actor, "create", "user", normal or "", after=view)
        return view

    return db.write(work)


def list_users(db: Database) -> list[UserView]:
    return db.read(
        lambda conn: [user_view(u) for u in conn.execute(select(User).order_by(User.email))]
    )
