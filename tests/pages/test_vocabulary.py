"""Every code a page shows is shown in words (issue 19, point 26): the registry of the
vocabularies pages show (``web/pages/shared/vocabulary.py``), each code labelled and the label
translated in both Chinese catalogs; the codes the source writes (order events, audit actions,
ledger reasons) all in the registry; and pages rendered in Traditional Chinese after the
actions staff take show none raw (``messages.UNLABELLED`` records any code shown without a
label), actors named as people read them and order numbers linked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import dingdan
from dingdan.services.access import audit_log
from dingdan.services.after_sales import disputes
from dingdan.services.fulfilment import shipments
from dingdan.services.inventory import stock
from dingdan.services.orders import edits
from dingdan.services.payments import transactions
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.vocabulary import ALL_CODES, VOCABULARIES
from tests.builders import ADMIN

SRC = Path(dingdan.__file__).parent
ZH = {"Accept-Language": "zh-TW"}


def _catalog(language: str) -> dict[str, str]:
    path = SRC / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f) if m.id}


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans"])
def test_every_code_of_every_vocabulary_has_a_translated_label(language):
    catalog = _catalog(language)
    unlabelled = sorted(ALL_CODES - messages.LABELS.keys())
    assert unlabelled == [], f"codes without a label: {unlabelled}"
    untranslated = sorted(c for c in ALL_CODES if not catalog.get(messages.LABELS[c]))
    assert untranslated == [], f"labels without a {language} translation: {untranslated}"
    actors = [t for t in messages.ACTOR_KINDS.values() if not catalog.get(t)]
    assert actors == []


def _written(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        found |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return found


def test_the_codes_the_source_writes_are_in_the_registry():
    events = _written(r'\bevent\(\s*conn,\s*[^,]+?,\s*"([a-z_]+)"')
    actions = _written(r'\baudit(?:_order)?\(\s*conn,\s*[^,()]+?,\s*"([a-z_]+)"')
    reasons = _written(r'\breason="([a-z_ ]+)",\s*reference=')
    assert {"note", "dispute_reassigned", "cancelled"} <= events  # the scan finds them
    assert {"ship", "edit", "cancel_line", "deliver", "import"} <= actions
    assert {"receipt", "shipment", "order edit"} <= reasons
    assert events - VOCABULARIES["order_event"] == set()
    assert actions - VOCABULARIES["audit_action"] == set()
    assert reasons - VOCABULARIES["stock_reason"] == set()


def test_pages_in_chinese_show_no_raw_code_and_link_order_numbers(shop, browser, db):
    number = shop["order"]["number"]
    edits.edit_order(db, ADMIN, number, {"lines": [{"sku": "TEA-001", "quantity": 3}]})
    order = edits.cancel_line(db, ADMIN, number, "TEA-001", {"reason": "缺貨", "quantity": 1})
    transactions.record_payment(db, ADMIN, number, {"amount": order["balance_due"]})
    adjustment = {"location": "TPE", "sku": "MUG-001", "delta": -1, "reason": "cycle_count"}
    stock.adjust(db, ADMIN, adjustment)
    shipped = shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})
    shipments.mark_delivered(db, ADMIN, shipped["id"])
    dispute = disputes.open_dispute(db, ADMIN, number, {"type": "late", "owner": "阿明"})
    disputes.reassign(db, ADMIN, dispute["id"], {"owner": "小美"})
    messages.UNLABELLED.clear()
    admin = browser("admin")
    pages = {
        path: admin.get(path, headers=ZH).text
        for path in (
            f"/orders/{number}",
            "/inventory/TEA-001",
            "/inventory/MUG-001",
            "/audit",
            "/products/TEA-001",
            "/settings/taxes",
        )
    }
    assert not messages.UNLABELLED, f"codes shown raw: {sorted(messages.UNLABELLED)}"
    text = "\n".join(re.sub(r"<[^>]+>", " ", html) for html in pages.values())
    for raw in ("cycle_count", "order edit", "dispute_reassigned", "cancel_line", "user:"):
        assert raw not in text, raw
    assert "盤點" in pages["/inventory/MUG-001"] and "爭議改派" in pages[f"/orders/{number}"]
    for path in ("/inventory/TEA-001", "/audit"):
        assert f'<a href="/orders/{number}">{number}</a>' in pages[path], path
    assert "零稅率" in admin.get("/products/TEA-001", headers=ZH).text
    assert audit_log.list_entries(db, action="cancel_line").items
