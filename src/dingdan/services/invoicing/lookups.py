"""The centre's mobile barcode and donation code lookups, for the orders context's
``invoice_lookup`` (wired by ``bootstrap.wire``): the centre ``DINGDAN_EINVOICE_CENTRE``
names, asked with ``DINGDAN_EINVOICE_LOOKUP_TIMEOUT``, each exchange kept in its log."""

from __future__ import annotations

import logging

from dingdan.config import get_settings
from dingdan.db.engine import Database
from dingdan.domain.invoicing import carrier_formats
from dingdan.services.invoicing.centres import centre_from_settings, look_up

log = logging.getLogger("dingdan.invoicing")


def exists(db: Database, kind: str, code: str) -> bool | None:
    """Whether the centre knows ``code`` (``kind`` mobile or donation): True, False, or None
    when there is no centre, it could not be asked, or it did not answer clearly."""
    settings = get_settings()
    if kind == "mobile" and not carrier_formats.is_mobile_barcode(code):
        return None
    if kind == "donation" and not carrier_formats.is_love_code(code):
        return None
    try:
        centre = centre_from_settings(db, settings)
        if centre is None:
            return None
        # A buyer waits for this: the short timeout, not the uploads' one.
        centre.timeout = settings.einvoice_lookup_timeout  # type: ignore[attr-defined]
        found = look_up(centre, kind, code)
    except Exception as exc:  # noqa: BLE001 - a lookup never holds an order up
        log.warning("e-invoice %s lookup failed: %s", kind, exc)
        return None
    return found if isinstance(found, bool) else None
