"""What the seller tells planning: the shop's own promotions (known peaks the forecasts lift
demand on, domain/purchasing/calendar.py) and the ABC/XYZ thresholds (services/purchasing/
abc.py).

A promotion is a name, a first and a last day (both included, at most a year apart) and the
uplift the seller expects (1.5: half as much demand again), or none: then the uplift the
forecasts learned from the shop's past promotions is used. The thresholds are ``a`` and
``b`` (shares of revenue, 0 < a <= b <= 1) and ``x`` and ``y`` (coefficients of variation,
0 < x <= y <= 100). Every change is audited; a refused one changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.forecast_tables import PromotionEvent
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.purchasing import calendar
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.text import check_clean
from dingdan.services.purchasing import abc
from dingdan.services.purchasing.shapes import (
    AbcLimits,
    PromotionColumns,
    PromotionCommand,
    Promotions,
    PromotionView,
    ThresholdsCommand,
)
from dingdan.services.shared.common import Actor, audit, iso

MAX_NAME = 200
MAX_DAYS = 366
MAX_PROMOTIONS = 500


def _view(r: Any) -> PromotionView:
    return {
        "id": str(r.id),
        "name": r.name,
        "starts_on": r.starts_on.isoformat(),
        "ends_on": r.ends_on.isoformat(),
        "expected_uplift": r.expected_uplift,
        "created_by": r.created_by,
        "created_at": iso(r.created_at),
    }


def list_promotions(db: Database) -> Promotions:
    """Every promotion, latest first (a shop has tens a year, not thousands)."""
    rows = db.read(
        lambda conn: conn.execute(
            select(PromotionEvent).order_by(
                PromotionEvent.starts_on.desc(), PromotionEvent.id.desc()
            )
        ).all()
    )
    return {"items": [_view(r) for r in rows]}


def _day(value: Any, field: str, errors: FieldErrors) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        errors.add(field, "required" if value in (None, "") else "not_a_date")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(field, "not_a_date")
        return None


def _number(value: Any, top: float) -> float | None:
    """A number above 0 and at most ``top``: a JSON number, or the decimal text a form
    sends (the page reads it with the shared form parsing first); None when it is not."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 < number <= top else None


def _uplift(value: Any, errors: FieldErrors) -> float | None:
    if value is None:
        return None
    number = _number(value, calendar.MAX_UPLIFT)
    if number is None:
        errors.add("expected_uplift", "out_of_range", min="0", max=calendar.MAX_UPLIFT)
    return number


def check_promotion(data: PromotionCommand) -> PromotionColumns:
    """The promotion's columns, or ValidationFailed naming every bad field."""
    errors = FieldErrors()
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        errors.add("name", "text_length", max=MAX_NAME)
    else:
        check_clean(name, "name", errors)
    starts = _day(data.get("starts_on"), "starts_on", errors)
    ends = _day(data.get("ends_on"), "ends_on", errors)
    if starts is not None and ends is not None:
        if ends < starts:
            errors.add("ends_on", "before_start")
        elif (ends - starts).days + 1 > MAX_DAYS:
            errors.add("ends_on", "range_too_long", days=MAX_DAYS)
    uplift = _uplift(data.get("expected_uplift"), errors)
    errors.raise_if_any()
    assert isinstance(name, str) and starts is not None and ends is not None
    return {"name": name.strip(), "starts_on": starts, "ends_on": ends, "expected_uplift": uplift}


def create_promotion(db: Database, actor: Actor, data: PromotionCommand) -> PromotionView:
    values = check_promotion(data)

    def work(conn: Connection) -> PromotionView:
        count = conn.execute(select(func.count()).select_from(PromotionEvent)).scalar_one()
        if count >= MAX_PROMOTIONS:
            raise_too_many()
        new = conn.execute(
            insert(PromotionEvent)
            .values(**values, created_by=actor.name, created_at=utcnow())
            .returning(PromotionEvent.id)
        ).scalar_one()
        row = conn.execute(select(PromotionEvent).where(PromotionEvent.id == new)).one()
        view = _view(row)
        audit(conn, actor, "create", "promotion", view["id"], after=view)
        return view

    return db.write(work)


def raise_too_many() -> None:
    errors = FieldErrors()
    errors.add("name", "too_many_items", max=MAX_PROMOTIONS)
    errors.raise_if_any(f"At most {MAX_PROMOTIONS} promotions are kept: delete old ones first.")


def delete_promotion(db: Database, actor: Actor, promotion_id: str) -> None:
    pid = row_id(promotion_id)

    def work(conn: Connection) -> None:
        row = conn.execute(select(PromotionEvent).where(PromotionEvent.id == pid)).first()
        if row is None:
            raise NotFound(detail=f"No promotion {promotion_id!r}.")
        conn.execute(delete(PromotionEvent).where(PromotionEvent.id == pid))
        audit(conn, actor, "delete", "promotion", str(pid), before=_view(row))

    db.write(work)


# ---- ABC / XYZ thresholds ------------------------------------------------------------------

_BOUNDS = {"a": 1, "b": 1, "x": 100, "y": 100}


def _plain(thresholds: AbcLimits) -> dict[str, float]:
    return {
        "a": float(thresholds["a"]),
        "b": float(thresholds["b"]),
        "x": float(thresholds["x"]),
        "y": float(thresholds["y"]),
    }


def get_abc_thresholds(db: Database) -> dict[str, float]:
    return _plain(db.read(abc.thresholds))


def check_thresholds(data: ThresholdsCommand) -> dict[str, float]:
    """All four thresholds, each a number in its range, ``b`` not below ``a`` nor ``y``
    below ``x``."""
    errors = FieldErrors()
    given: Mapping[str, object] = data
    found: dict[str, float] = {}
    for key, top in _BOUNDS.items():
        value = given.get(key)
        number = None if value is None else _number(value, top)
        if value is None:
            errors.add(key, "required")
        elif number is None:
            errors.add(key, "out_of_range", min="0", max=top)
        else:
            found[key] = number
    for low, high in (("a", "b"), ("x", "y")):
        if (
            low in found
            and high in found
            and Fraction(str(found[high])) < Fraction(str(found[low]))
        ):
            errors.add(high, "below_other_threshold", other=low, value=found[low])
    errors.raise_if_any()
    return found


def put_abc_thresholds(db: Database, actor: Actor, data: ThresholdsCommand) -> dict[str, float]:
    values = check_thresholds(data)

    def work(conn: Connection) -> dict[str, float]:
        before = _plain(abc.thresholds(conn))
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(
            key=abc.SETTING_KEY, value=values, updated_at=utcnow()
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": values, "updated_at": utcnow()}
            )
        )
        after = _plain(abc.thresholds(conn))
        audit(conn, actor, "update", "setting", abc.SETTING_KEY, before=before, after=after)
        return after

    return db.write(work)
