"""The printed e-invoice proof as a PDF: the Chinese text is there (pdftotext), and the Code 39
barcode and both QR codes decode (the page rasterised with pdftoppm, read with zbarimg) to
exactly the specification's strings. Poppler and zbar come from Debian (.ci/run installs
them); under CI a missing tool fails the test rather than skipping it."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dingdan.config import Settings
from dingdan.domain.invoicing import proof, qr
from dingdan.domain.invoicing.documents import EInvoice, Line, Party
from dingdan.services.invoicing.proof import render_proof
from tests.helpers import under_ci

KEY_HEX = "FE05F029154F6AA67A78B338ED2F6601"
INVOICE = EInvoice(
    number="AB12345678",
    issued_at=datetime(2026, 11, 30, 17, 5, tzinfo=UTC),
    random_code="1234",
    seller=Party("凍頂茶行有限公司", ubn="24634102"),
    buyer=Party("林小姐"),
    lines=(
        Line(1, "凍頂烏龍茶", Decimal(2), Decimal(350), Decimal(700)),
        Line(2, "運費", Decimal(1), Decimal(100), Decimal(100)),
        Line(3, "茶具組", Decimal(1), Decimal(1200), Decimal(1200)),
    ),
    total=Decimal(2000),
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (Debian poppler-utils / zbar-tools)"
        if under_ci():
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(reason)
    return path


def _text(pdf: Path) -> str:
    return subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout


def _codes(pdf: Path, tmp_path: Path, crop_mm: tuple[int, int] | None = None) -> list[str]:
    """Every symbol zbarimg reads on the first page at 600 dpi (only the top left
    ``crop_mm`` width and height when given), as ``TYPE:text``."""
    prefix = tmp_path / "page"
    area: list[str] = []
    if crop_mm:
        px = [str(round(mm / 25.4 * 600)) for mm in crop_mm]
        area = ["-x", "0", "-y", "0", "-W", px[0], "-H", px[1]]
    subprocess.run(
        [
            _tool("pdftoppm"),
            "-r",
            "600",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            *area,
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    [image] = sorted(tmp_path.glob("page*.png"))
    out = subprocess.run([_tool("zbarimg"), "-q", str(image)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture
def thermal(tmp_path: Path) -> Path:
    pdf = tmp_path / "proof.pdf"
    pdf.write_bytes(render_proof(INVOICE, qr_key=qr.parse_key(KEY_HEX)))
    return pdf


def test_the_proof_pdf_holds_the_chinese_text(thermal):
    assert thermal.read_bytes().startswith(b"%PDF")
    text = _text(thermal)
    for expected in ("凍頂茶行有限公司", "電子發票證明聯", "115年11-12月", "AB-12345678"):
        assert expected in text
    assert "隨機碼 1234" in text and "總計 2,000" in text and "賣方 24634102" in text
    assert "2026-12-01 01:05:00" in text


def test_the_barcode_and_both_qr_codes_decode_to_the_specification_strings(thermal, tmp_path):
    key = qr.parse_key(KEY_HEX)
    expected = proof.build(INVOICE, key)
    codes = _codes(thermal, tmp_path)
    assert f"CODE-39:{expected.barcode}" in codes
    assert expected.barcode == "11512AB123456781234"
    assert f"QR-Code:{expected.qr_left}" in codes
    assert f"QR-Code:{expected.qr_right}" in codes
    assert len(codes) == 3


def test_a_b2b_proof_is_on_a4_with_the_tax_apart(tmp_path):
    b2b = replace(INVOICE, buyer=Party("茶葉股份有限公司", ubn="12345675"))
    settings = Settings(einvoice_qr_aes_key=KEY_HEX)  # the key from the settings
    pdf = tmp_path / "b2b.pdf"
    pdf.write_bytes(render_proof(b2b, settings))
    text = _text(pdf)
    assert "買方 12345675" in text and "格式 25" in text
    assert "銷售額合計" in text and "1,905" in text and "營業稅" in text and "95" in text
    assert "茶具組" in text
    size = subprocess.run(
        [_tool("pdfinfo"), str(pdf)], capture_output=True, check=True, text=True
    ).stdout
    assert "595.276 x 841.89 pts (A4)" in size or "A4" in size
    codes = _codes(pdf, tmp_path, crop_mm=(80, 120))
    assert any(c.startswith("QR-Code:AB1234567811512011234") for c in codes)


def test_a_proof_without_a_qr_key_is_refused():
    with pytest.raises(qr.QrKeyError):
        render_proof(INVOICE, Settings(einvoice_qr_aes_key=""))
