"""A sent purchase order to its supplier: the PO as a document in the supplier's language
(en, zh-Hant, zh-Hans), queued as a PDF for the worker (services/shared/documents.py), and
an e-mail to the supplier's address with that PDF attached (a reference to the document:
the sender waits until the worker has rendered it).

``on_sent`` is the outbox consumer of ``purchase_order.sent`` (subscribed in
services/jobs/worker.py). It runs after the commit that sent the PO, at least once: the
e-mail is keyed by the event's id (one message per event), and the PDF is queued only while
the PO has none pending or ready (a run again attaches the same one).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from sqlalchemy import Connection

from dingdan.db.engine import Database
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import NotFound
from dingdan.services.messaging import notifications, outbound
from dingdan.services.messaging import shop as shop_settings
from dingdan.services.messaging.shapes import ComposedMessage
from dingdan.services.purchasing import purchase_orders, suppliers
from dingdan.services.purchasing.shapes import (
    PurchaseOrderView,
    SupplierProductView,
    SupplierView,
)
from dingdan.services.shared import documents
from dingdan.services.shared.common import Actor

KIND = "purchase_order"
WORKER = Actor("system:worker", Role.ADMIN)


def N_(text: str) -> str:  # noqa: N802 - the extractor's keyword: marked, translated later
    return text


WORDS = {
    "title": N_("Purchase order %(number)s"),
    "from": N_("From"),
    "to": N_("To"),
    "deliver_to": N_("Deliver to"),
    "expected": N_("Expected by"),
    "terms": N_("Payment terms"),
    "sku": N_("SKU"),
    "supplier_sku": N_("Your SKU"),
    "quantity": N_("Quantity"),
    "unit_cost": N_("Unit price"),
    "amount": N_("Amount"),
    "total": N_("Total"),
    "notes": N_("Notes"),
    "intro": N_("Please supply the goods below and confirm the delivery date."),
    "subject": N_("Purchase order %(number)s from %(shop)s"),
}

CSS = """
body { font-family: "Noto Sans CJK TC", "Noto Sans CJK SC", "Noto Sans", sans-serif;
       font-size: 11pt; color: #111; margin: 0; }
@page { size: A4; margin: 18mm; }
h1 { font-size: 18pt; margin: 0 0 8pt; }
table { border-collapse: collapse; width: 100%; margin-top: 10pt; }
th, td { border-bottom: 1px solid #bbb; padding: 4pt 6pt; text-align: left; }
td.num, th.num { text-align: right; }
.parties { display: flex; gap: 24pt; }
.parties div { flex: 1; }
.muted { color: #555; }
"""


def _language(code: str | None) -> str:
    """Supplier languages (zh-Hant) as the catalogs name them (zh_Hant)."""
    return (code or "en").replace("-", "_")


def render(
    po: PurchaseOrderView,
    supplier: SupplierView,
    shop: dict[str, str],
    products: Sequence[SupplierProductView] = (),
) -> ComposedMessage:
    """The subject, plain text and HTML document of ``po`` in the supplier's language;
    ``products``: what the supplier supplies (their SKUs beside ours)."""
    tr = notifications.translator(_language(supplier.get("language")))
    links = {ln["sku"]: ln for ln in products}
    cur = po["currency"]
    title = tr(WORDS["title"]) % {"number": po["number"]}
    rows, text_rows = [], []
    for ln in po["lines"]:
        amount = _amount(ln["unit_cost"], ln["quantity"])
        link = links.get(ln["sku"])
        their = (link["supplier_sku"] if link else None) or ""
        rows.append(
            f"<tr><td>{escape(ln['sku'])}</td><td>{escape(their)}</td>"
            f"<td class=num>{ln['quantity']}</td><td class=num>{ln['unit_cost']}</td>"
            f"<td class=num>{amount}</td></tr>"
        )
        text_rows.append(f"{ln['sku']}  {their}  × {ln['quantity']}  @ {ln['unit_cost']} {cur}")
    head = [
        f"<th>{tr(WORDS['sku'])}</th><th>{tr(WORDS['supplier_sku'])}</th>",
        f"<th class=num>{tr(WORDS['quantity'])}</th><th class=num>{tr(WORDS['unit_cost'])} ({cur})",
        f"</th><th class=num>{tr(WORDS['amount'])} ({cur})</th>",
    ]
    details = [
        (tr(WORDS["deliver_to"]), po["location"]),
        (tr(WORDS["expected"]), po.get("expected_date") or "—"),
        (tr(WORDS["terms"]), supplier.get("payment_terms") or "—"),
    ]
    notes = po["notes"]
    lang = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"}.get(_language(supplier.get("language")))
    html = (
        f'<!doctype html><html lang="{lang or "en"}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<div class="parties"><div><strong>{tr(WORDS["from"])}</strong><br>'
        f"{escape(shop.get('name', ''))}<br>{escape(shop.get('address', ''))}<br>"
        f"{escape(shop.get('email', ''))} {escape(shop.get('phone', ''))}</div>"
        f"<div><strong>{tr(WORDS['to'])}</strong><br>{escape(supplier['name'])}<br>"
        f"{escape(supplier.get('contact') or '')}<br>"
        f"{escape(supplier.get('email') or '')}</div></div>"
        f"<p>{tr(WORDS['intro'])}</p>"
        + "".join(f"<p><span class=muted>{k}:</span> {escape(str(v))}</p>" for k, v in details)
        + f"<table><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"<tfoot><tr><th colspan=4>{tr(WORDS['total'])}</th>"
        f"<th class=num>{po['total']} {cur}</th></tr></tfoot></table>"
        + (f"<p><strong>{tr(WORDS['notes'])}:</strong> {escape(notes)}</p>" if notes else "")
        + "</body></html>"
    )
    text = "\n".join(
        [title, "", tr(WORDS["intro"]), ""]
        + [f"{k}: {v}" for k, v in details]
        + [""]
        + text_rows
        + ["", f"{tr(WORDS['total'])}: {po['total']} {cur}"]
    )
    subject = tr(WORDS["subject"]) % {"number": po["number"], "shop": shop.get("name", "")}
    return {"subject": subject, "text": text, "html": html}


def _amount(unit_cost: str, quantity: int) -> str:
    from decimal import Decimal

    value = Decimal(unit_cost) * quantity
    return f"{value:f}"


def on_sent(db: Database, event: Any) -> None:
    """The outbox consumer: ``event`` has ``id`` and ``payload`` {"id", "number"}."""
    ref = str((event.payload or {}).get("id") or "")
    try:
        po = purchase_orders.get_purchase_order(db, ref)
        supplier = suppliers.get_supplier(db, po["supplier"])
    except NotFound:
        return  # nothing to send about
    products = suppliers.supplier_products(db, po["supplier"])["items"]
    shop = db.read(shop_settings.load)
    body = render(po, supplier, shop, products)
    pdf = documents.current_pdf_id(db, KIND, po["number"])
    if pdf is None:
        made = documents.request_pdf(
            db, WORKER, KIND, po["number"], f"{po['number']}.pdf", body["html"], []
        )
        pdf = int(made["id"])
    email = supplier.get("email")
    if not email:
        return

    def work(conn: Connection) -> None:
        values = outbound.message_values(
            f"event:{event.id}",
            KIND,
            {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"}.get(
                _language(supplier.get("language")), "en"
            ),
            email,
            None,
            body,
        )
        outbound.insert_with_attachments(conn, values, [pdf])

    db.write(work)
