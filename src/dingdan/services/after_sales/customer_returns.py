"""Return requests from customers, on their order's tracking page (no sign-in: the
unguessable tracking token is the key), with optional photos that only staff can see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.return_tables import Return, ReturnPhoto
from dingdan.domain.access.roles import Role
from dingdan.domain.after_sales import returns as rules
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.numbers import row_id
from dingdan.services.after_sales import return_policy, return_queries, returns
from dingdan.services.after_sales.shapes import (
    CustomerReturns,
    CustomerReturnSummary,
    CustomerReturnView,
    PhotoView,
    ReturnRequest,
)
from dingdan.services.orders.events import event
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor, iso

MAX_PHOTOS = 5
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def _order_number(db: Database, token: str) -> str:
    number = db.read(
        lambda conn: conn.execute(
            select(Order.number).where(Order.tracking_token == token)
        ).scalar()
    )
    if number is None or len(token) > 100:
        raise NotFound(detail="No order has this tracking link.")
    return str(number)


def _checked(photos: list[tuple[str, bytes]]) -> list[tuple[str, bytes, str]]:
    if len(photos) > MAX_PHOTOS:
        errors = FieldErrors()
        errors.add("photos", "too_many_photos", max=MAX_PHOTOS)
        errors.raise_if_any()
    return [
        (name, data, uploads.check_file(name, data, f"photos[{i}]", PHOTO_TYPES))
        for i, (name, data) in enumerate(photos)
    ]


def request_from_customer(
    db: Database, token: str, body: ReturnRequest, photos: list[tuple[str, bytes]] | None = None
) -> CustomerReturnView:
    """The customer's request, under the same policy as staff's (no override possible)."""
    number = _order_number(db, token)
    checked = _checked(photos or [])
    customer = Actor(f"customer:{number}", Role.VIEWER)
    body = {"lines": body.get("lines"), "note": body.get("note")}
    if body["note"] is None:
        del body["note"]
    ret = returns.request_return(db, customer, number, body)
    if checked:
        stored = [
            (name, data, kind, *uploads.store(f"returns/{ret['id']}", data, kind))
            for name, data, kind in checked
        ]
        db.write(lambda conn: _attach(conn, customer, int(ret["id"]), stored))
    return {**ret, "photos": photos_of(db, ret["id"])}


def for_customer(db: Database, token: str) -> CustomerReturns:
    """What the tracking page shows of returns: the order's return requests and where each
    stands (so that a customer who reloads sees the request, not an empty form), and the
    return window: its days, and the date it closes once everything was delivered."""

    def work(conn: Connection) -> CustomerReturns:
        order_id = conn.execute(select(Order.id).where(Order.tracking_token == token)).scalar()
        if order_id is None or len(token) > 100:
            raise NotFound(detail="No order has this tracking link.")
        policy = return_policy.load(conn)
        delivered = list(
            conn.execute(
                select(Shipment.delivered_at).where(Shipment.order_id == order_id)
            ).scalars()
        )
        closes = rules.window_closes(delivered, policy.window_days)
        listed: list[CustomerReturnSummary] = [
            {
                "id": r["id"],
                "status": r["status"],
                "created_at": r["created_at"],
                "lines": [
                    {"sku": ln["sku"], "quantity": ln["quantity"], "reason": ln["reason"]}
                    for ln in r["lines"]
                ],
                "refund": r["refund"]["amount"] if r["refund"] else None,
                "currency": r["currency"],
            }
            for r in return_queries.returns_of_order(conn, order_id)
        ]
        return {
            "returns": listed,
            "window_days": policy.window_days,
            "window_closes": iso(closes),
        }

    return db.read(work)


def _attach(conn: Connection, actor: Actor, return_id: int, stored: list[tuple[Any, ...]]) -> None:
    conn.execute(
        insert(ReturnPhoto),
        [
            {
                "return_id": return_id,
                "filename": Path(name).name[:255] or "photo",
                "content_type": kind,
                "size_bytes": len(data),
                "sha256": digest,
                "storage_path": path,
                "uploaded_by": actor.name,
            }
            for name, data, kind, digest, path in stored
        ],
    )
    order_id = conn.execute(select(Return.order_id).where(Return.id == return_id)).scalar_one()
    event(
        conn,
        order_id,
        "return_photos",
        actor.name,
        f"{len(stored)} photo(s) attached to return {return_id}",
        {"return_id": str(return_id), "count": len(stored)},
    )


def photos_of(db: Database, return_id: str) -> list[PhotoView]:
    rid = row_id(return_id)

    def work(conn: Connection) -> list[Any]:
        if conn.execute(select(Return.id).where(Return.id == rid)).first() is None:
            raise NotFound(detail=f"No return {return_id!r}.")
        return list(
            conn.execute(
                select(ReturnPhoto).where(ReturnPhoto.return_id == rid).order_by(ReturnPhoto.id)
            ).all()
        )

    rows = db.read(work)
    return [
        {
            "id": str(p.id),
            "filename": p.filename,
            "content_type": p.content_type,
            "size_bytes": p.size_bytes,
            "sha256": p.sha256,
            "uploaded_by": p.uploaded_by,
            "created_at": iso(p.created_at),
        }
        for p in rows
    ]


def photo_file(db: Database, return_id: str, photo_id: str) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of one photo, for staff."""
    rid = row_id(return_id)
    pid = row_id(photo_id)
    row = db.read(
        lambda conn: conn.execute(
            select(ReturnPhoto).where(ReturnPhoto.id == pid, ReturnPhoto.return_id == rid)
        ).first()
    )
    if row is None:
        raise NotFound(detail=f"Return {return_id} has no photo {photo_id!r}.")
    data = uploads.read(row.storage_path, row.sha256)
    return data, row.content_type, uploads.download_name(row.filename, row.content_type)
