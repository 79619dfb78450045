"""The customer's satisfaction rating of a delivered order: 1 to 5 and an optional comment,
given once from the signed link of the delivered message (the tracking token alone opens
the tracking page; the rating link also carries an HMAC of it under the secret key, which
the delivered message and the tracking page (once delivered) hold: a guessed one cannot rate)."""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.message_tables import OrderRating
from dingdan.db.order_tables import Order
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound
from dingdan.domain.shared.text import check_clean
from dingdan.services.messaging.shapes import RatingCommand, RatingLink, RatingView
from dingdan.services.orders import tracking
from dingdan.services.shared.common import iso
from dingdan.services.shared.outbox_events import emit


def signature(tracking_token: str) -> str:
    return tracking.rating_signature(tracking_token)


def rating_url(base: str, tracking_token: str) -> str:
    return base + tracking.rating_path(tracking_token)


def _order(conn: Connection, token: str, sig: Any) -> Any:
    ok = isinstance(sig, str) and hmac.compare_digest(sig.encode(), signature(token).encode())
    order = conn.execute(select(Order).where(Order.tracking_token == token)).first() if ok else None
    if order is None:
        raise NotFound(detail="This rating link is not valid.")
    return order


def _view(row: Any) -> RatingView:
    return {"rating": row.rating, "comment": row.comment, "created_at": iso(row.created_at)}


def for_link(db: Database, token: str, sig: Any) -> RatingLink:
    """What the rating page shows: the order's number, language and any rating given."""

    def work(conn: Connection) -> RatingLink:
        order = _order(conn, token, sig)
        row = conn.execute(select(OrderRating).where(OrderRating.order_id == order.id)).first()
        return {
            "number": order.number,
            "locale": order.locale,
            "rated": _view(row) if row else None,
        }

    return db.read(work)


def rate(db: Database, token: str, sig: Any, body: RatingCommand) -> RatingView:
    """Record the rating once; a second is a Conflict (the first stands)."""
    errors = FieldErrors()
    score = body.get("rating")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        errors.add("rating", "not_one_of", choices="1, 2, 3, 4, 5")
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        errors.add("comment", "too_long", max=2000)
    else:
        check_clean(comment, "comment", errors, multiline=True)
    errors.raise_if_any()

    def work(conn: Connection) -> RatingView:
        order = _order(conn, token, sig)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(OrderRating).values(
            order_id=order.id, rating=score, comment=(comment or "").strip() or None
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["order_id"]).returning(OrderRating.id)
        if conn.execute(stmt).first() is None:
            raise Conflict(detail="This order was rated already.")
        emit(conn, "order.rated", {"number": order.number, "rating": score})
        row = conn.execute(select(OrderRating).where(OrderRating.order_id == order.id)).one()
        return _view(row)

    return db.write(work)


def rating_of(db: Database, number: str) -> RatingView | None:
    """The order's rating, for its page (None: not rated)."""
    row = db.read(
        lambda conn: conn.execute(
            select(OrderRating)
            .join(Order, Order.id == OrderRating.order_id)
            .where(Order.number == number)
        ).first()
    )
    return _view(row) if row else None
