"""What autogenerate comparisons leave out: dialect-specific indexes made by hand in
migrations (names ending in ``_trgm``), which the models cannot describe for both databases."""

from __future__ import annotations


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "index" and reflected and (name or "").endswith("_trgm"))
