"""The printed e-invoice proof's values: the period in ROC years, the number as printed, the
Code 39 content, and the two QR codes of MOF's specification (the verification field against
the published vector)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dingdan.domain.invoicing import proof, qr
from dingdan.domain.invoicing.documents import EInvoice, Line, Party
from tests.helpers import missing_shared_data, shared_external

VECTORS = shared_external() / "vectors/taiwan_einvoice.json"
KEY_HEX = "FE05F029154F6AA67A78B338ED2F6601"


def _qr_vector() -> dict[str, Any]:
    if not VECTORS.is_file():
        missing_shared_data(f"test vectors not found at {VECTORS}")
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    return next(v for v in data["vectors"] if v["id"] == "mof-qrcode-aes-1")


def invoice(**kw: Any) -> EInvoice:
    values: dict[str, Any] = dict(
        number="XF00001234",
        issued_at=datetime(2026, 11, 30, 17, 5, tzinfo=UTC),  # 2026-12-01 01:05 in Taipei
        random_code="9876",
        seller=Party("凍頂茶行", ubn="24634102"),
        buyer=Party("林小姐"),
        lines=(
            Line(1, "凍頂烏龍茶", Decimal(2), Decimal(350), Decimal(700)),
            Line(2, "運費", Decimal(1), Decimal(100), Decimal(100)),
        ),
        total=Decimal(800),
    )
    values.update(kw)
    return EInvoice(**values)


@pytest.mark.parametrize(
    ("at", "label", "code"),
    [
        (datetime(2026, 11, 30, 17, 5, tzinfo=UTC), "115年11-12月", "11512"),
        (datetime(2026, 11, 30, 15, 59, tzinfo=UTC), "115年11-12月", "11512"),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "116年01-02月", "11602"),  # new year, Taipei
        (datetime(2026, 4, 2, 3, 0, tzinfo=UTC), "115年03-04月", "11504"),
    ],
)
def test_the_period_is_two_months_in_roc_years_in_taipei(at, label, code):
    period = proof.period_of(at)
    assert (period.label, period.code) == (label, code)


def test_the_barcode_is_period_number_and_random_code_in_19_characters():
    text = proof.barcode_text(invoice())
    assert text == "11512XF000012349876" and len(text) == 19
    with pytest.raises(ValueError):
        proof.barcode_text(invoice(number="X1234"))


def test_the_verification_field_is_the_published_vector():
    v = _qr_vector()
    key = qr.parse_key(v["inputs"]["aes_key_hex"])
    assert base64.b64decode(v["inputs"]["iv_base64"]) == qr.QR_IV
    plain = v["inputs"]["plaintext"]
    assert qr.verification(plain[:10], plain[10:], key) == v["expected"]["base64"]
    # The same 16 bytes given in base64 are the same key.
    assert qr.parse_key(base64.b64encode(key).decode()) == key
    with pytest.raises(qr.QrKeyError):
        qr.parse_key("not a key")


def test_the_left_qr_starts_with_the_77_fixed_characters():
    v = _qr_vector()
    key = qr.parse_key(KEY_HEX)
    pair = qr.qr_pair(invoice(), key)
    head = pair.left[:77]
    assert head[:10] == "XF00001234"
    assert head[10:17] == "1151201"  # ROC date in Taipei
    assert head[17:21] == "9876"
    assert head[21:29] == f"{762:08x}"  # without tax: 800 - round(800 * 5 / 105)
    assert head[29:37] == f"{800:08x}"
    assert head[37:45] == "00000000"  # a consumer
    assert head[45:53] == "24634102"
    assert head[53:77] == v["expected"]["base64"]
    assert pair.left[77:] == ":**********:2:2:1:凍頂烏龍茶:2:350:運費:1:100:"
    assert pair.right == "**"


def test_a_b2b_qr_carries_the_buyer_ubn():
    b2b = invoice(buyer=Party("茶葉股份有限公司", ubn="12345675"))
    assert qr.qr_pair(b2b, qr.parse_key(KEY_HEX)).left[37:45] == "12345675"


def test_items_that_do_not_fit_left_continue_right_and_the_rest_is_left_out():
    lines = tuple(
        Line(i, f"商品第{i}號:特價", Decimal(1), Decimal(10 * i), Decimal(10 * i))
        for i in range(1, 21)
    )
    pair = qr.qr_pair(invoice(lines=lines, total=Decimal(2100)), qr.parse_key(KEY_HEX))
    assert len(pair.left.encode()) <= qr.MAX_BYTES and len(pair.right.encode()) <= qr.MAX_BYTES
    assert pair.right.startswith("**商品第")
    assert 2 < pair.items_written < 20
    fields = pair.left[77:].split(":")
    assert fields[1:5] == ["**********", str(pair.items_written), "20", "1"]
    left_items = (len(fields) - 6) // 3
    right_items = len(pair.right[2:].split(":")) // 3
    assert left_items + right_items == pair.items_written
    assert "商品第1號 特價:1:10" in pair.left  # a ':' in a name would split it: replaced


def test_the_proof_values():
    p = proof.build(invoice(buyer=Party("茶葉股份有限公司", ubn="12345675")), qr.parse_key(KEY_HEX))
    assert (p.title, p.period, p.number, p.random_code) == (
        "電子發票證明聯",
        "115年11-12月",
        "XF-00001234",
        "9876",
    )
    assert p.issued_at == "2026-12-01 01:05:00"
    assert (p.buyer_ubn, p.b2b_format, p.sales, p.tax) == ("12345675", "25", 762, 38)
    consumer = proof.build(invoice(), qr.parse_key(KEY_HEX))
    assert consumer.buyer_ubn is None and consumer.b2b_format is None
