"""The A4 invoice as a PDF: its HTML is made when the invoice is issued (or voided) and
queued as a ``documents`` row in the same transaction; the worker renders it with
WeasyPrint and Noto CJK (services/shared/documents.py), outside any transaction. Every
download is in the audit trail."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import Connection, insert, select

from dingdan.db.document_tables import Document
from dingdan.db.engine import Database
from dingdan.db.invoice_tables import Allowance, InvoiceLine
from dingdan.db.order_tables import Order
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.invoicing.shapes import SettingsView
from dingdan.services.shared import documents
from dingdan.services.shared.common import Actor, audit

KIND = "invoice"
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENV.from_string(
    """<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>{{ title }} {{ inv.number }}</title>
<style>
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif; font-size: 10pt;
  color: #111; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
.void { color: #b00; font-weight: bold; font-size: 14pt; }
.parties { display: flex; justify-content: space-between; margin: 6mm 0; }
.parties div { width: 48%; }
table { width: 100%; border-collapse: collapse; }
th, td { border-bottom: 1px solid #ccc; padding: 2mm 1mm; text-align: left; }
td.n, th.n { text-align: right; }
.totals td { border: none; }
dl { margin: 0; } dt { color: #555; font-size: 8.5pt; } dd { margin: 0 0 2mm; }
</style></head>
<body>
<h1>{{ title }}</h1>
{% if inv.status == "void" %}<p class="void">已作廢 VOID — {{ inv.void_reason }}</p>{% endif %}
<dl>
<dt>{% if receipt %}收據號碼 Receipt number{% else %}發票號碼 Invoice number{% endif %}</dt>
<dd>{{ inv.number }}</dd>
{% if inv.random_code %}<dt>隨機碼 Random code</dt><dd>{{ inv.random_code }}</dd>{% endif %}
<dt>開立日期 Issued</dt><dd>{{ issued }}</dd>
<dt>訂單 Order</dt><dd>{{ order_number }}</dd>
</dl>
<div class="parties">
<div><dt>賣方 Seller</dt><dd>{{ inv.seller_name }}<br>
{% if inv.seller_ubn %}統一編號 {{ inv.seller_ubn }}<br>{% endif %}
{% for x in seller_lines %}{{ x }}<br>{% endfor %}</dd></div>
<div><dt>買方 Buyer</dt><dd>{{ inv.buyer_name or "" }}<br>
{% if inv.buyer_ubn %}統一編號 {{ inv.buyer_ubn }}<br>{% endif %}
{% if inv.carrier_id %}載具 {{ inv.carrier_id }}<br>{% endif %}
{% if inv.donation_code %}捐贈碼 {{ inv.donation_code }}<br>{% endif %}</dd></div>
</div>
<table>
<thead><tr><th>#</th><th>品名 Description</th><th class="n">數量 Qty</th>
<th class="n">單價 Unit price</th><th class="n">金額 Amount</th></tr></thead>
<tbody>
{% for ln in lines %}<tr><td>{{ ln.sequence }}</td><td>{{ ln.description }}</td>
<td class="n">{{ ln.quantity }}</td><td class="n">{{ ln.unit_price }}</td>
<td class="n">{{ ln.amount }}</td></tr>{% endfor %}
</tbody>
<tbody class="totals">
{% if inv.type == "b2b" and not receipt %}<tr><td colspan="4" class="n">銷售額 Sales</td>
<td class="n">{{ sales }}</td></tr>
<tr><td colspan="4" class="n">營業稅 Tax</td><td class="n">{{ tax }}</td></tr>{% endif %}
<tr><td colspan="4" class="n"><b>總計 Total ({{ inv.currency }})</b></td>
<td class="n"><b>{{ total }}</b></td></tr>
</tbody></table>
{% if allowances %}<h2>折讓 Allowances</h2><table>
{% for a in allowances %}<tr><td>{{ a.number }}</td><td>{{ a.reason or "" }}</td>
<td class="n">{{ a.amount }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>"""
)


def invoice_html(conn: Connection, inv: Any, settings: SettingsView) -> str:
    cur = inv.currency
    lines = conn.execute(
        select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.sequence)
    ).all()
    allowances = conn.execute(
        select(Allowance).where(Allowance.invoice_id == inv.id).order_by(Allowance.id)
    ).all()
    order_number = conn.execute(select(Order.number).where(Order.id == inv.order_id)).scalar_one()
    issued = inv.issued_at.astimezone(SELLER_TIMEZONE).strftime("%Y-%m-%d %H:%M")
    seller_lines = [
        settings.get(k)
        for k in ("seller_address", "seller_phone", "seller_email")
        if settings.get(k)
    ]
    receipt = (inv.number or "").startswith("RCT-")
    title = "收據 Receipt" if receipt else "發票 Invoice"
    return _TEMPLATE.render(
        title="電子發票 E-invoice" if inv.einvoice else title,
        receipt=receipt,
        inv=inv,
        issued=issued,
        order_number=order_number,
        seller_lines=seller_lines,
        lines=[
            {
                "sequence": ln.sequence,
                "description": ln.description,
                "quantity": ln.quantity,
                "unit_price": format_amount(ln.unit_price_minor, cur),
                "amount": format_amount(ln.amount_minor, cur),
            }
            for ln in lines
        ],
        sales=format_amount(inv.total_minor - inv.tax_minor, cur),
        tax=format_amount(inv.tax_minor, cur),
        total=format_amount(inv.total_minor, cur),
        allowances=[
            {"number": a.number, "reason": a.reason, "amount": format_amount(a.amount_minor, cur)}
            for a in allowances
        ],
    )


def queue(conn: Connection, inv: Any, settings: SettingsView, actor: str) -> None:
    """The invoice's PDF, for the worker to render (a voided invoice's again, marked void)."""
    order_number = conn.execute(select(Order.number).where(Order.id == inv.order_id)).scalar_one()
    conn.execute(
        insert(Document).values(
            kind=KIND,
            subject=inv.number,
            status="pending",
            attempts=0,
            html=invoice_html(conn, inv, settings),
            filename=f"invoice-{inv.number}.pdf",
            requested_by=actor,
            order_numbers=[order_number],
        )
    )


def download(db: Database, actor: Actor, number: str) -> tuple[bytes, str]:
    """The latest rendered PDF of the invoice (NotFound until the worker has made it); the
    download is audited."""
    doc = documents.latest_pdf(db, KIND, number)
    db.write(lambda conn: audit(conn, actor, "download", "invoice", number))
    return doc["data"], str(doc["filename"])
