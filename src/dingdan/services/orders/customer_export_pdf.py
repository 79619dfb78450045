"""The customer's copy of their personal data as a readable PDF (issue 26, part 5): the
same content as the JSON export (customer_rights.export_customer), laid out on A4 with
Noto CJK by WeasyPrint, rendered on request (one customer's data is a few pages) and, like
the JSON export, in the audit trail (``export`` of ``customer:<id>``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from dingdan.db.engine import Database
from dingdan.services.orders.customer_rights import export_customer
from dingdan.services.orders.shapes import CustomerExportView
from dingdan.services.shared import shop
from dingdan.services.shared.common import Actor
from dingdan.services.shared.documents import html_to_pdf

_ADDRESS_PARTS = ("name", "phone", "line1", "line2", "city", "region", "postal_code", "country")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("dingdan.services.orders", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["address"] = _address
    return env


def _address(a: Any) -> str:
    if not isinstance(a, dict):
        return "—"
    return ", ".join(str(a[k]) for k in _ADDRESS_PARTS if a.get(k)) or "—"


def export_html(data: CustomerExportView, shop_name: str) -> str:
    return _env().get_template("customer_export.html").render(c=data, shop_name=shop_name)


def export_pdf(db: Database, actor: Actor, customer_id: str) -> tuple[bytes, str]:
    """The PDF and its file name; 404 for an unknown customer."""
    data = export_customer(db, actor, customer_id)
    name = db.read(shop.load).get("name") or ""
    return html_to_pdf(export_html(data, name)), f"customer-{data['customer']['id']}.pdf"
