"""The shop as customer messages show it: moved to ``services.shared.shop`` (issue 21, part 8)
so that the tracking page and packing slips, below messaging, read the same settings. The
names stay here for messaging's own modules and pages."""

from __future__ import annotations

from dingdan.services.shared.shop import (
    DEFAULT_NAME,
    FIELDS,
    KEY,
    get_shop,
    load,
    put_shop,
)

__all__ = ["DEFAULT_NAME", "FIELDS", "KEY", "get_shop", "load", "put_shop"]
