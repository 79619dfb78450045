"""The two QR codes of the printed e-invoice proof, as the Ministry of Finance specifies them
(財政部「電子發票證明聯一維及二維條碼規格說明」, v1.8).

The left code starts with 77 fixed characters:

=====================  ====  ==========================================================
invoice number          10   two letters and eight digits
invoice date             7   ROC year (3), month, day, in Asia/Taipei
random code              4
sales amount             8   without tax, hexadecimal, zero-padded
total amount             8   tax included, hexadecimal, zero-padded
buyer UBN                8   ``00000000`` for a consumer
seller UBN               8
verification            24   AES-128-CBC of number + random code, base64 (below)
=====================  ====  ==========================================================

then ``:``-separated: the seller's own 10 characters (``**********`` when unused), the count
of items written in the two codes, the invoice's item count, the encoding of what follows
(``1``: UTF-8), and per item ``name:quantity:unit price``. Items that do not fit in the left
code continue in the right one, which starts with ``**``; items that fit in neither are left
out (the specification's rule: write as many as the two codes hold).

The verification field is encrypted with the seller's QR key: MOF's ``genKey`` tool turns the
seed the seller registered on the e-invoice platform into 16 bytes it prints as 32 hex
digits; the IV is the one fixed in MOF's QREncrypter.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dingdan.domain.invoicing.documents import EInvoice, tax_split
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE as TAIPEI

QR_IV = base64.b64decode("Dt8lyToo17X/XkXaQvihuA==")
CONSUMER_UBN = "00000000"
SELLER_AREA = "*" * 10
UTF8 = "1"
# Bytes one code may hold: small enough to scan at about 2.5 cm on thermal paper.
MAX_BYTES = 200
HEADER_LENGTH = 77


class QrKeyError(ValueError):
    """The seller's QR key is not 16 bytes (32 hex digits, or base64)."""


def parse_key(key: str) -> bytes:
    """The AES key: 32 hex digits as MOF's genKey prints it, or the same 16 bytes in base64."""
    text = key.strip()
    if len(text) == 32:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise QrKeyError("the QR key must be 32 hex digits or base64 of 16 bytes") from exc
    if len(raw) != 16:
        raise QrKeyError("the QR key must be 16 bytes")
    return raw


def encrypt(plain: str, key: bytes) -> str:
    """AES-128-CBC with MOF's fixed IV, PKCS7, base64."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(QR_IV)).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode("ascii")


def verification(number: str, random_code: str, key: bytes) -> str:
    """The 24-character verification field: number (10) + random code (4), encrypted."""
    return encrypt(number + random_code, key)


def roc_date(at: datetime) -> str:
    """YYYMMDD in the ROC calendar (year - 1911), the day in Asia/Taipei."""
    local = at.astimezone(TAIPEI)
    return f"{local.year - 1911:03d}{local.month:02d}{local.day:02d}"


def hex8(amount: Decimal) -> str:
    value = int(amount)
    if value < 0 or value > 0xFFFFFFFF:
        raise ValueError("an amount of the QR code must fit in eight hexadecimal digits")
    return f"{value:08x}"


def _plain(value: Decimal) -> str:
    """A quantity or price in decimal, without a needless fraction or exponent."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _item(name: str, quantity: Decimal, price: Decimal) -> str:
    clean = name.replace(":", " ").replace("\n", " ").strip() or "-"
    return f"{clean}:{_plain(quantity)}:{_plain(price)}"


@dataclass(frozen=True)
class QrPair:
    left: str
    right: str
    items_written: int


def header(invoice: EInvoice, key: bytes) -> str:
    """The 77 fixed characters of the left code."""
    sales, _ = tax_split(invoice.total, b2b=True, tax_type=invoice.tax_type)
    seller = invoice.seller.ubn or ""
    if len(seller) != 8:
        raise ValueError("the seller's UBN must be eight digits")
    text = "".join(
        (
            invoice.number,
            roc_date(invoice.issued_at),
            invoice.random_code,
            hex8(sales),
            hex8(invoice.total),
            invoice.buyer.ubn or CONSUMER_UBN,
            seller,
            verification(invoice.number, invoice.random_code, key),
        )
    )
    if len(text) != HEADER_LENGTH:
        raise ValueError("the QR code's fixed part must be 77 characters")
    return text


def qr_pair(invoice: EInvoice, key: bytes, max_bytes: int = MAX_BYTES) -> QrPair:
    """Both codes' text, items filled left first, then right, each code within
    ``max_bytes`` of UTF-8."""
    items = [_item(ln.description, ln.quantity, ln.unit_price) for ln in invoice.lines]
    fixed = header(invoice, key)
    left_items: list[str] = []
    right_items: list[str] = []

    def left_text(count: int) -> str:
        head = f"{fixed}:{SELLER_AREA}:{count}:{len(items)}:{UTF8}:"
        return head + "".join(f"{i}:" for i in left_items)

    def right_text() -> str:
        return "**" + ":".join(right_items)

    # Counts are decimal and may grow a digit; measure with the largest possible count.
    widest = len(items)
    for item in items:
        if not right_items and _fits(left_text(widest) + item + ":", max_bytes):
            left_items.append(item)
        elif _fits(right_text() + (":" if right_items else "") + item, max_bytes):
            right_items.append(item)
        else:
            break
    written = len(left_items) + len(right_items)
    return QrPair(left_text(written), right_text(), written)


def _fits(text: str, max_bytes: int) -> bool:
    return len(text.encode("utf-8")) <= max_bytes
