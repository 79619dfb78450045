"""Styles in the back office (issue 21, part 9): a style made from its option values (the
combinations shown with their SKUs, editable), refused beside the SKU typed twice with
everything kept; its page with a grid of variants and their stock per location; the channel
listings saved; a photo uploaded on a product's page and shown as a thumbnail in order
entry's search, on the pick list and on the pack screen; the product list's filters."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from dingdan.services.catalog import channel_stock, photos, styles
from dingdan.services.payments import transactions
from tests.builders import ADMIN, receive

FORM = {
    "code": "TEE",
    "name": "棉質T恤",
    "price": "390",
    "currency": "TWD",
    "brand": "Formosa",
    "opt-name-0": "尺寸",
    "opt-values-0": "M, L",
    "opt-name-1": "顏色",
    "opt-values-1": "紅、藍",
}


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


def test_a_style_is_made_from_its_option_values_and_shows_its_variants_stock(
    shop: Any, browser: Any, db: Any
) -> None:
    del shop
    b = browser("manager")
    r = b.post("/styles/new", {**FORM, "step": "grid"})
    assert r.status_code == 200
    grid = dict(re.findall(r'name="(var-sku-\d)"[^>]*value="([^"]*)"', r.text))
    assert grid == {"var-sku-0": "TEE-01", "var-sku-1": "TEE-02", "var-sku-2": "TEE-03",
                    "var-sku-3": "TEE-04"}, "values of no ASCII letter: numbered"  # fmt: skip
    typed = {"var-sku-0": "TEE-M-R", "var-sku-1": "TEE-M-R", "var-sku-2": "TEE-L-R",
             "var-sku-3": "TEE-L-B", "var-price-3": "420"}  # fmt: skip
    r = b.post("/styles/new", {**FORM, **typed})
    assert r.status_code == 422
    assert 'id="var-sku-1-error"' in r.text and 'value="TEE-L-B"' in r.text
    assert styles.list_styles(db).items == []
    r = b.post("/styles/new", {**FORM, **typed, "var-sku-1": "TEE-M-B"})
    assert r.status_code == 303 and r.headers["location"] == "/styles/TEE"
    receive(db, "TXG", {"TEE-L-B": 3})
    page = b.get("/styles/TEE").text
    assert "棉質T恤" in page and "TXG" in page
    row = re.search(r"TEE-L-B</a>.*?</tr>", page, re.S)
    assert row and ">L<" in row.group(0) and ">藍<" in row.group(0) and "420" in row.group(0)
    assert '<strong class="">3</strong>' in row.group(0)
    # More values: the new combinations are added with their suggested SKUs.
    r = b.post("/styles/TEE/variants", {"opt-values-0": "XL", "price": "450", "currency": "TWD"})
    assert r.status_code == 303, r.text
    assert len(styles.get_style(db, "TEE")["variants"]) == 6
    # The marketplace sells the red ones only, with its own SKU for one.
    skus = [v["sku"] for v in styles.get_style(db, "TEE")["variants"]]
    listed = [s for s in skus if s.endswith("-R")]
    r = b.post("/styles/TEE/listings/marketplace", {"listed": listed, "channel-sku-0": "SHP-1"})
    assert r.status_code == 303, r.text
    rule = channel_stock.get_rule(db, "marketplace")["skus"]
    assert set(skus) - set(rule) == set(skus) - set(listed)
    assert "SHP-1" in b.get("/styles/TEE").text
    # The product list filters by brand; a variant names its style.
    listing = b.get("/products", params={"brand": "Formosa"}).text
    assert "TEE-M-R" in listing and "TEA-001" not in listing and "/styles/TEE" in listing


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 120, 60)).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_uploaded_on_the_product_page_shows_where_it_helps_a_picker(
    shop: Any, browser: Any, db: Any
) -> None:
    order = shop["order"]
    b = browser("manager")
    r = b.client.post(
        "/products/TEA-001/photos",
        data={"csrf_token": b.csrf},
        files={"file": ("tea.png", _png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    thumb = photos.thumbnails(db, ["TEA-001"])["TEA-001"]
    assert thumb in b.get("/products/TEA-001").text.replace("medium", "thumb")
    assert thumb in b.get("/products").text
    assert thumb in b.get("/orders/new/products", params={"q": "烏龍"}).text
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    w = browser("warehouse")
    assert thumb in w.get("/warehouse", params={"location": "TPE"}).text
    assert thumb in w.get(f"/warehouse/pack/{order['number']}", params={"location": "TPE"}).text
    assert b.client.get(thumb).status_code == 200
    r = b.client.post(
        "/products/TEA-001/photos",
        data={"csrf_token": b.csrf},
        files={"file": ("notes.txt", b"plain text", "text/plain")},
        follow_redirects=True,
    )
    assert "must be a JPEG, PNG or WebP file" in r.text
    assert len(photos.photos_of(db, sku="TEA-001")) == 1


def test_a_simple_products_channel_listings_are_shown_and_saved_on_its_page(
    shop: Any, browser: Any, db: Any
) -> None:
    from dingdan.services.catalog import listings
    from dingdan.services.integrations import inbound

    del shop
    # An alias made from the inbound queue (a marketplace's SKU mapped) is a listing too.
    inbound.set_alias(db, ADMIN, "marketplace", "SHP-OLD-9", "TEA-001")
    b = browser("manager")
    page = b.get("/products/TEA-001").text
    section = page[page.index('id="listings"') :]
    assert "SHP-OLD-9" in section and 'name="listed" value="marketplace"' in section
    channels = [c["channel"] for c in listings.sku_listings(db, "TEA-001")]
    n = channels.index("marketplace")
    assert len(channels) > 1
    keep = [c for c in channels if c != "marketplace"]
    # A channel SKU with a control character is refused beside it; nothing changes.
    r = b.post("/products/TEA-001/listings", {"listed": keep, f"channel-sku-{n}": "SHP\x07"})
    assert r.status_code == 422, r.text[-2000:]
    assert f'id="channel-sku-{n}-error"' in r.text
    assert channel_stock.get_rule(db, "marketplace")["skus"] is None
    r = b.post("/products/TEA-001/listings", {"listed": keep, f"channel-sku-{n}": "SHP-TEA-1"})
    assert r.status_code == 303 and r.headers["location"] == "/products/TEA-001#listings"
    assert "TEA-001" not in channel_stock.get_rule(db, "marketplace")["skus"]
    assert "MUG-001" in channel_stock.get_rule(db, "marketplace")["skus"]
    (shown,) = [c for c in listings.sku_listings(db, "TEA-001") if c["channel"] == "marketplace"]
    assert shown["variants"] == [
        {"sku": "TEA-001", "listed": False, "channel_skus": ["SHP-OLD-9", "SHP-TEA-1"]}
    ]
    page = b.get("/products/TEA-001").text
    assert re.search(r'name="listed" value="marketplace" id="listed-marketplace" *aria', page)
    assert 'value="SHP-TEA-1"' in page
    # A variant's listings are on its style's page.
    styles.create_style(
        db, ADMIN, {"code": "CUP", "name": "杯", "options": ["色"], "price": "100",
                    "currency": "TWD", "variants": [{"sku": "CUP-W", "options": {"色": "白"}}]},
    )  # fmt: skip
    variant = b.get("/products/CUP-W").text
    assert 'href="/styles/CUP#listings"' in variant and 'name="listed"' not in variant
    # Only a role that manages settings saves them.
    assert browser("warehouse").post("/products/TEA-001/listings", {}).status_code == 403
