"""Bulk actions on the order list (issue 21, part 6): which orders a selection names (ticked
on the page, or every order matching the list's filter, at most ``MAX_ORDERS``), running one
action order by order, and the order tags.

Each order's action is the single action's own use case, in its own transaction: an order
refused (not open, nothing due, shipped already) is reported with why and changes nothing,
the others go on; no order is ever half done. The caller checks the role's permission once,
as for the single action (a selection never widens what a role may do).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.channel_tables import OrderTag
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.domain.shared.errors import DomainError, ValidationFailed
from dingdan.domain.shared.text import has_control
from dingdan.services.orders import queries
from dingdan.services.orders.events import event
from dingdan.services.orders.shapes import OrderFilters
from dingdan.services.shared.common import Actor, audit
from dingdan.services.shared.view_types import OrderView

MAX_ORDERS = 500  # a selection, ticked or by filter, names at most this many orders
MAX_TAG = 40
PAGE = 200


# ---- the selection -----------------------------------------------------------------------


def check_numbers(numbers: Any, field: str = "orders") -> list[str]:
    """Order numbers as ticked: stripped, without repeats, in the order given, at least one,
    at most ``MAX_ORDERS``."""
    if isinstance(numbers, str):
        numbers = [numbers]
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise ValidationFailed.on(field, "not_order_numbers")
    out = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    if any(has_control(n) or len(n) > 40 for n in out):
        raise ValidationFailed.on(field, "not_order_numbers")
    if not out:
        raise ValidationFailed.on(field, "no_orders")
    if len(out) > MAX_ORDERS:
        raise ValidationFailed.on(field, "too_many_orders", max=MAX_ORDERS)
    return out


def _pages(db: Database, filters: OrderFilters, most: int) -> Iterable[list[str]]:
    cursor = None
    seen = 0
    while seen < most:
        page = queries.list_orders(db, **filters, limit=PAGE, cursor=cursor)
        numbers = [str(o["number"]) for o in page.items]
        seen += len(numbers)
        yield numbers
        cursor = page.next_cursor
        if not cursor:
            return


def matching(db: Database, filters: OrderFilters) -> list[str]:
    """Every order the list's ``filters`` (``queries.list_orders``'s) select, newest first;
    more than ``MAX_ORDERS`` is refused whole (narrow the filter), never cut short."""
    found = [n for page in _pages(db, filters, MAX_ORDERS + 1) for n in page]
    if len(found) > MAX_ORDERS:
        raise ValidationFailed.on("all", "too_many_orders", max=MAX_ORDERS)
    if not found:
        raise ValidationFailed.on("all", "no_orders")
    return found


def count_matching(db: Database, filters: OrderFilters) -> int:
    """How many orders the filter selects, counted up to ``MAX_ORDERS + 1`` (more than the
    bound is all a page needs to say)."""
    return sum(len(page) for page in _pages(db, filters, MAX_ORDERS + 1))


# ---- running an action -------------------------------------------------------------------


@dataclass
class Outcome:
    """One order's part of a bulk action: done (``result``, what the use case answered), or
    refused with the use case's own ``error``."""

    number: str
    result: Any = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(numbers: list[str], act: Callable[[str], Any]) -> list[Outcome]:
    """``act`` on each order in turn, each its own use case (its own transaction); a refusal
    is kept with the order and the next order goes on. Errors that are not refusals (the
    database gone) stop the run: what was done stays done, each order whole."""
    out = []
    for number in numbers:
        try:
            out.append(Outcome(number, result=act(number)))
        except DomainError as exc:
            if exc.code in ("service_unavailable", "forbidden"):
                raise
            out.append(Outcome(number, error=exc))
    return out


def payment_due(db: Database, number: str) -> tuple[OrderView, str]:
    """The order and its balance due; refused when nothing is due (paid, or cancelled)."""
    order = queries.get_order(db, number)
    if order["status"] == "cancelled":
        raise ValidationFailed.on("amount", "nothing_due")
    due = order["balance_due"]
    if not any(ch in "123456789" for ch in due):
        raise ValidationFailed.on("amount", "nothing_due")
    return order, due


# ---- tags --------------------------------------------------------------------------------


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag.strip():
        raise ValidationFailed.on("tag", "required_text", max=MAX_TAG)
    tag = " ".join(tag.split())
    if len(tag) > MAX_TAG:
        raise ValidationFailed.on("tag", "too_long", max=MAX_TAG)
    if has_control(tag):
        raise ValidationFailed.on("tag", "control_characters")
    return tag


def add_tag(db: Database, actor: Actor, number: str, tag: str) -> bool:
    """Tags the order (its own transaction, an event and an audit entry); False when it
    had the tag already (nothing written)."""
    tag = check_tag(tag)

    def work(conn: Connection) -> bool:
        order = queries.fetch(conn, number, lock=True)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        made = conn.execute(
            dialect.insert(OrderTag)
            .values(order_id=order.id, tag=tag)
            .on_conflict_do_nothing(index_elements=["order_id", "tag"])
            .returning(OrderTag.tag)
        ).first()
        if made is None:
            return False
        event(conn, order.id, "tagged", actor.name, tag, {"tag": tag})
        audit(conn, actor, "tag", "order", number, after={"tag": tag})
        return True

    return db.write(work)


def tags_of(db: Database, numbers: list[str]) -> dict[str, list[str]]:
    """Each order's tags, sorted; orders without a tag are left out."""
    if not numbers:
        return {}

    def work(conn: Connection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        rows = conn.execute(
            select(Order.number, OrderTag.tag)
            .join(OrderTag, OrderTag.order_id == Order.id)
            .where(Order.number.in_(numbers))
            .order_by(Order.number, OrderTag.tag)
        )
        for number, tag in rows:
            out.setdefault(number, []).append(tag)
        return out

    return db.read(work)


def views_of(db: Database, numbers: list[str]) -> list[OrderView]:
    """The orders' views in the order named (a number naming no order is left out), read
    ``PAGE`` orders per short read transaction."""

    def part_of(part: list[str]) -> Callable[[Connection], list[OrderView]]:
        def work(conn: Connection) -> list[OrderView]:
            rows = list(conn.execute(select(Order).where(Order.number.in_(part))))
            by_number = {v["number"]: v for v in queries.views(conn, rows)} if rows else {}
            return [by_number[n] for n in part if n in by_number]

        return work

    out: list[OrderView] = []
    for i in range(0, len(numbers), PAGE):
        out += db.read(part_of(numbers[i : i + PAGE]))
    return out
