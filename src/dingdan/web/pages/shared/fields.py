"""Numbers from the back office's forms, read one way on every page (``domain/shared/numbers``):
full-width digits are digits, ``²``, ``inf`` and ``nan`` are not, every number has a bound,
and amounts may be typed with thousands separators (``1,320``)."""

from __future__ import annotations

from typing import Any

from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.numbers import MAX_INT, MAX_QUANTITY, plain_decimal, read_whole
from dingdan.web.pages.shared.core import form_text

__all__ = ["MAX_INT", "MAX_QUANTITY", "form_amount", "form_whole"]


def form_whole(
    form: dict[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    field: str | None = None,
    minimum: int = 0,
    maximum: int = MAX_QUANTITY,
    blank: int | None = None,
) -> int | None:
    """The whole number in the form's field ``name``, reported under ``field`` (the service's
    name of it; ``name`` by default) when it is not one; blank gives ``blank``."""
    return read_whole(
        form_text(form, name, 60),
        field or name,
        errors,
        minimum=minimum,
        maximum=maximum,
        blank=blank,
    )


def form_amount(form: dict[str, Any], name: str) -> str | None:
    """The amount typed into ``name`` as the decimal string the services read (``1,320`` is
    ``1320``; full-width digits are read as digits); blank is None. The service checks it."""
    return plain_decimal(form_text(form, name, 60))
