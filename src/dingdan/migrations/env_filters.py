"""What autogenerate comparisons leave out: what migrations make by hand for one database,
which the models cannot describe for both: indexes whose names end in ``_trgm``
(PostgreSQL's pg_trgm), ``_grams`` (migration 0011) or ``_expr`` (expressions on JSON
columns, migration 0041), and SQLite's full-text table
``orders_search`` with the shadow tables FTS5 keeps for it (``orders_search_data``,
``_idx``, ``_config``, ...) and the grams table beside it (``orders_search_grams``,
0011)."""

from __future__ import annotations

_FTS_TABLE = "orders_search"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    name = name or ""
    if type_ == "index" and reflected and name.endswith(("_trgm", "_grams", "_expr")):
        return False
    if type_ == "table" and reflected and compare_to is None:
        return not (name == _FTS_TABLE or name.startswith(_FTS_TABLE + "_"))
    return True
