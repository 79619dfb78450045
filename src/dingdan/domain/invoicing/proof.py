"""What the printed e-invoice proof (電子發票證明聯) says, as plain values.

The proof is 5.7 cm wide (thermal paper): the seller's name, 「電子發票證明聯」, the period
(``115年11-12月``, ROC year and the two months), the number as ``AB-12345678``, the date and
time, the random code, the total, the seller's UBN (and the buyer's for B2B, with 「格式
25」), the one-dimensional barcode, and the two QR codes (``qr.py``).

The barcode is Code 39 of 19 characters: the period as ROC year (3) and the period's even
(closing) month (2), the invoice number (10) and the random code (4), e.g.
``11412AB123456781234`` for an invoice of 114年11-12月.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dingdan.domain.invoicing import qr
from dingdan.domain.invoicing.documents import EInvoice, Line, tax_split
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE as TAIPEI

TITLE = "電子發票證明聯"
B2B_FORMAT = "25"  # 格式代號 of a B2B proof printed by a cash register (三聯式)
_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")
_RANDOM = re.compile(r"[0-9]{4}")


@dataclass(frozen=True)
class Period:
    """A two-month period in the ROC calendar: year, first (odd) and last (even) month."""

    roc_year: int
    first_month: int
    last_month: int

    @property
    def label(self) -> str:
        return f"{self.roc_year}年{self.first_month:02d}-{self.last_month:02d}月"

    @property
    def code(self) -> str:
        """YYYMM with the period's closing month, as the barcode writes it."""
        return f"{self.roc_year:03d}{self.last_month:02d}"


def period_of(at: datetime) -> Period:
    local = at.astimezone(TAIPEI)
    first = local.month if local.month % 2 else local.month - 1
    return Period(local.year - 1911, first, first + 1)


def formatted_number(number: str) -> str:
    """``AB12345678`` as printed: ``AB-12345678``."""
    return f"{number[:2]}-{number[2:]}"


def barcode_text(invoice: EInvoice) -> str:
    """The Code 39 content: period code + number + random code (19 characters)."""
    if not _NUMBER.fullmatch(invoice.number) or not _RANDOM.fullmatch(invoice.random_code):
        raise ValueError("an e-invoice number is two capital letters and eight digits")
    return period_of(invoice.issued_at).code + invoice.number + invoice.random_code


@dataclass(frozen=True)
class Proof:
    seller_name: str
    title: str
    period: str
    number: str  # AB-12345678
    issued_at: str  # YYYY-MM-DD HH:MM:SS in Asia/Taipei
    random_code: str
    total: Decimal
    seller_ubn: str
    buyer_ubn: str | None  # B2B only
    buyer_name: str | None
    b2b_format: str | None  # "25" on a B2B proof
    sales: Decimal  # without tax (B2B shows it; B2C: the total)
    tax: Decimal
    barcode: str
    qr_left: str
    qr_right: str
    lines: tuple[Line, ...]


def build(invoice: EInvoice, qr_key: bytes) -> Proof:
    """The proof of an issued e-invoice; ``qr_key`` is the seller's QR AES key."""
    pair = qr.qr_pair(invoice, qr_key)
    sales, tax = tax_split(invoice.total, b2b=invoice.is_b2b, tax_type=invoice.tax_type)
    local = invoice.issued_at.astimezone(TAIPEI)
    return Proof(
        seller_name=invoice.seller.name,
        title=TITLE,
        period=period_of(invoice.issued_at).label,
        number=formatted_number(invoice.number),
        issued_at=local.strftime("%Y-%m-%d %H:%M:%S"),
        random_code=invoice.random_code,
        total=invoice.total,
        seller_ubn=invoice.seller.ubn or "",
        buyer_ubn=invoice.buyer.ubn if invoice.is_b2b else None,
        buyer_name=invoice.buyer.name if invoice.is_b2b else None,
        b2b_format=B2B_FORMAT if invoice.is_b2b else None,
        sales=sales,
        tax=tax,
        barcode=barcode_text(invoice),
        qr_left=pair.left,
        qr_right=pair.right,
        lines=invoice.lines,
    )
