"""The catalogue as channels and staff know it (issue 21, part 9): styles whose variants are
SKUs with their own barcode, price and stock; refusals that create nothing; sales rolled up
from variants to their style; channel listings as the channel stock's SKU subset with the
channel's SKU as an alias; product photos resized, upright, served and refused; the product
export carrying styles and options back through the import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from dingdan.db.style_tables import ProductPhoto, ProductStyle
from dingdan.db.tables import Product
from dingdan.services.catalog import imports, photos, styles
from dingdan.services.catalog import products as catalog
from dingdan.services.integrations import inbound
from dingdan.services.jobs import worker
from tests.builders import ADMIN, Shop, lines, order_body, post_order

SHOP = Shop(
    products={"MUG-001": "680.00", "TEE-OLD": {"price": "300.00", "barcode": "4710000000099"}},
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"MUG-001": 5}},
)
stocked = SHOP.fixture()

TEE = {
    "code": "TEE",
    "name": "棉質T恤",
    "options": ["尺寸", "顏色"],
    "brand": "Formosa",
    "price": "390.00",
    "currency": "TWD",
    "variants": [
        {"sku": "TEE-M-RED", "options": {"尺寸": "M", "顏色": "紅"}, "barcode": "4710000000105"},
        {"sku": "TEE-L-RED", "options": {"尺寸": "L", "顏色": "紅"}, "price": "420.00"},
        {"sku": "TEE-OLD", "options": {"尺寸": "S", "顏色": "紅"}},  # an existing SKU
    ],
}


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.fixture
def tee(stocked: Any, api: Any) -> dict[str, Any]:
    r = api.post("/api/v1/styles", json=TEE)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _count(db: Any, table: Any) -> int:
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar()))


def test_a_style_has_variants_each_a_sku_with_its_own_barcode_price_and_stock(
    tee: dict[str, Any], api: Any
) -> None:
    assert [(v["sku"], v["options"], v["price"], v["barcode"]) for v in tee["variants"]] == [
        ("TEE-M-RED", {"尺寸": "M", "顏色": "紅"}, "390.00", "4710000000105"),
        ("TEE-L-RED", {"尺寸": "L", "顏色": "紅"}, "420.00", None),
        ("TEE-OLD", {"尺寸": "S", "顏色": "紅"}, "300.00", "4710000000099"),
    ]
    r = api.post("/api/v1/inventory/receipts", json={
        "location": "KHH", "lines": [{"sku": "TEE-L-RED", "quantity": 4}]})  # fmt: skip
    assert r.status_code == 201, r.text
    style = api.get("/api/v1/styles/TEE").json()
    assert {v["sku"]: (v["available"], v["locations"]) for v in style["variants"]} == {
        "TEE-M-RED": (0, {}), "TEE-L-RED": (4, {"KHH": 4}), "TEE-OLD": (0, {}),
    }  # fmt: skip
    product = api.get("/api/v1/products/TEE-M-RED").json()
    assert (product["style"], product["style_name"], product["options"], product["brand"]) == (
        "TEE", "棉質T恤", {"尺寸": "M", "顏色": "紅"}, "Formosa",
    )  # fmt: skip
    assert product["name"] == "棉質T恤 M / 紅"
    assert api.get("/api/v1/products/MUG-001").json()["style"] is None, "a simple product"
    listed = api.get("/api/v1/products", params={"style": "TEE"}).json()["items"]
    assert [p["sku"] for p in listed] == ["TEE-L-RED", "TEE-M-RED", "TEE-OLD"]
    # The category and brand of the style are its variants'; the lists offer them.
    r = api.patch("/api/v1/styles/TEE", json={"category": "上衣"})
    assert r.status_code == 200, r.text
    assert api.get("/api/v1/products/TEE-OLD").json()["category"] == "上衣"
    assert api.get("/api/v1/categories").json() == {"items": ["上衣"]}
    assert api.get("/api/v1/brands").json() == {"items": ["Formosa"]}
    by_brand = api.get("/api/v1/products", params={"brand": "Formosa"}).json()["items"]
    assert len(by_brand) == 3
    # More values: the new combination is one more SKU, at the end.
    r = api.post("/api/v1/styles/TEE/variants", json={"variants": [
        {"sku": "TEE-M-BLU", "options": {"尺寸": "M", "顏色": "藍"}}],
        "price": "390.00", "currency": "TWD"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [v["sku"] for v in r.json()["variants"]][-1] == "TEE-M-BLU"
    # A variant leaves the style and stays a product of its own.
    r = api.request("DELETE", "/api/v1/styles/TEE/variants/TEE-OLD")
    assert r.status_code == 200 and "TEE-OLD" not in {v["sku"] for v in r.json()["variants"]}
    assert api.get("/api/v1/products/TEE-OLD").json()["style"] is None


@pytest.mark.parametrize(
    ("variants", "field", "code"),
    [
        (  # the same values as another variant (M and full-width Ｍ are one)
            [{"sku": "A-1", "options": {"尺寸": "M", "顏色": "紅"}},
             {"sku": "A-2", "options": {"尺寸": "Ｍ", "顏色": "紅"}}],
            "variants[1].options", "duplicate_combination",
        ),
        ([{"sku": "A-1", "options": {"尺寸": "M"}}], "variants[0].options.顏色", "required_text"),
        (
            [{"sku": "A-1", "options": {"尺寸": "M", "顏色": "紅", "材質": "棉"}}],
            "variants[0].options.材質", "unknown_option",
        ),
        ([{"sku": "A 1", "options": {"尺寸": "M", "顏色": "紅"}}],
         "variants[0].sku", "invalid_sku"),
        ([{"sku": "A-1", "options": {"尺寸": "M", "顏色": "紅"}, "price": "1.005"}],
         "variants[0].price", "too_many_decimals"),
    ],
)  # fmt: skip
def test_a_refused_style_names_the_field_and_creates_nothing(
    stocked: Any, api: Any, variants: Any, field: str, code: str
) -> None:
    body = {**TEE, "code": "BAD", "variants": variants}
    r = api.post("/api/v1/styles", json=body)
    assert r.status_code == 422, r.text
    assert (field, code) in {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert _count(api.db, ProductStyle) == 0
    assert _count(api.db, Product) == 2


def test_a_sku_is_a_variant_of_one_style_and_a_style_code_is_not_a_sku(
    tee: dict[str, Any], api: Any
) -> None:
    other = {**TEE, "code": "TEE2", "variants": [
        {"sku": "TEE-M-RED", "options": {"尺寸": "M", "顏色": "紅"}}]}  # fmt: skip
    r = api.post("/api/v1/styles", json=other)
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "in_another_style"
    r = api.post("/api/v1/styles", json={**TEE, "code": "MUG-001", "variants": []})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code"
    assert api.post("/api/v1/styles", json={**TEE, "variants": []}).status_code == 409
    r = api.post("/api/v1/styles", json={**TEE, "code": "X", "options": ["尺寸", "尺寸"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "options[1]"
    assert _count(api.db, ProductStyle) == 1


def test_sales_by_style_roll_the_variants_up_to_their_style(tee: dict[str, Any], api: Any) -> None:
    api.post("/api/v1/inventory/receipts", json={"location": "TPE", "lines": [
        {"sku": "TEE-M-RED", "quantity": 5}, {"sku": "TEE-L-RED", "quantity": 5}]})  # fmt: skip
    post_order(api, order_body(lines(("TEE-M-RED", 2), ("TEE-L-RED", 1))))
    post_order(api, order_body(lines(("TEE-L-RED", 1), ("MUG-001", 1))))
    worker.drain(api.db)
    r = api.get("/api/v1/reports/sales", params={"group_by": "style"})
    assert r.status_code == 200, r.text
    items = [(i["key"], i["label"], i["units"], i["revenue"]) for i in r.json()["items"]]
    assert items == [
        ("TEE", "棉質T恤", 4, "1620.00"),  # 2 × 390 + 2 × 420
        ("MUG-001", "Product MUG-001", 1, "680.00"),  # a product of no style is its own
    ]
    by_sku = api.get("/api/v1/reports/sales", params={"group_by": "product"}).json()["items"]
    assert {i["key"] for i in by_sku} == {"TEE-M-RED", "TEE-L-RED", "MUG-001"}


def test_a_channel_listing_is_its_stock_subset_and_its_sku_an_alias(
    tee: dict[str, Any], api: Any
) -> None:
    api.post("/api/v1/inventory/receipts", json={"location": "TPE", "lines": [
        {"sku": "TEE-M-RED", "quantity": 5}]})  # fmt: skip
    r = api.request(
        "PUT", "/api/v1/channels/marketplace/listings/TEE-L-RED", json={"listed": False}
    )
    assert r.status_code == 200, r.text
    r = api.request(
        "PUT",
        "/api/v1/channels/marketplace/listings/TEE-M-RED",
        json={"listed": True, "channel_sku": "SHP-889-M-R"},
    )
    assert r.json() == {"channel": "marketplace", "sku": "TEE-M-RED", "listed": True,
                        "channel_skus": ["SHP-889-M-R"]}  # fmt: skip
    stock = api.get("/api/v1/channels/marketplace/stock").json()["items"]
    skus = {i["sku"]: i["may_sell"] for i in stock}
    assert "TEE-L-RED" not in skus and skus["TEE-M-RED"] == 5 and "MUG-001" in skus
    assert api.get("/api/v1/channels/web/stock").json()["items"][0]["sku"] == "MUG-001"
    listing = api.get("/api/v1/styles/TEE/listings").json()
    market = next(c for c in listing["channels"] if c["channel"] == "marketplace")
    assert not market["every_sku"]
    assert [(v["sku"], v["listed"], v["channel_skus"]) for v in market["variants"]] == [
        ("TEE-M-RED", True, ["SHP-889-M-R"]),
        ("TEE-L-RED", False, []),
        ("TEE-OLD", True, []),
    ]
    # The inbound orders of the channel map its SKU to the variant through the alias.
    assert api.db.read(lambda c: inbound.alias_of(c, "marketplace", "SHP-889-M-R")) == "TEE-M-RED"
    bad = api.request("PUT", "/api/v1/channels/nope/listings/TEE-M-RED", json={"listed": True})
    assert bad.status_code == 404
    # One SKU's listings: the same, for that SKU alone.
    one = api.get("/api/v1/products/TEE-M-RED/listings").json()
    assert one["sku"] == "TEE-M-RED"
    market = next(c for c in one["channels"] if c["channel"] == "marketplace")
    assert not market["every_sku"]
    assert market["variants"] == [
        {"sku": "TEE-M-RED", "listed": True, "channel_skus": ["SHP-889-M-R"]}
    ]
    web = next(c for c in one["channels"] if c["channel"] == "web")
    assert web["every_sku"] and web["variants"][0]["listed"] is True
    assert api.get("/api/v1/products/NOPE/listings").status_code == 404


def test_the_product_export_carries_styles_and_options_back_through_the_import(
    tee: dict[str, Any], api: Any, tmp_path: Any
) -> None:
    def catalogue() -> list[dict[str, Any]]:
        items = catalog.list_products(api.db, limit=200).items
        return [{k: v for k, v in p.items() if k != "updated_at"} for p in items]

    before = catalogue()
    r = api.get("/api/v1/exports/products", params={"format": "csv"})
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    assert "TEE,棉質T恤,尺寸=M; 顏色=紅" in text
    path = tmp_path / "products.csv"
    path.write_bytes(r.content)
    styles.remove_variant(api.db, ADMIN, "TEE", "TEE-L-RED")
    styles.update_style(api.db, ADMIN, "TEE", {"name": "改名"})
    result = imports.import_products(api.db, ADMIN, imports.read_rows(path))
    assert not result.errors, result.errors
    assert catalogue() == before
    # A style's rows name its options; a second SKU with the same values is refused.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sku,name,price,currency,style,options\n"
        "NEW-1,x,1,TWD,TEE,尺寸=M\n"
        "NEW-2,x,1,TWD,TEE,尺寸=M; 顏色=紅\n"
        "NEW-3,x,1,TWD,,尺寸=M\n",
        encoding="utf-8",
    )
    result = imports.import_products(api.db, ADMIN, imports.read_rows(bad))
    assert [(e.row, e.code) for e in result.errors] == [
        (2, "not_one_per_option"), (3, "duplicate_combination"), (4, "required"),
    ]  # fmt: skip
    assert catalogue() == before


def _jpeg_turned(width: int, height: int) -> bytes:
    """A JPEG stored sideways with EXIF orientation 6 (shown turned 90° clockwise)."""
    img = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _upload(api: Any, url: str, data: bytes, name: str = "photo.jpg") -> Any:
    return api.post(url, files={"file": (name, data, "application/octet-stream")})


def test_a_photo_is_resized_turned_upright_served_and_shown_for_the_variants(
    tee: dict[str, Any], api: Any, client: Any
) -> None:
    r = _upload(api, "/api/v1/styles/TEE/photos", _jpeg_turned(2000, 1000))
    assert r.status_code == 201, r.text
    (photo,) = r.json()["items"]
    assert (photo["width"], photo["height"]) == (600, 1200), "upright, at most 1200 a side"
    served = client.get(photo["urls"]["thumb"])  # without signing in, as <img> loads it
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    with Image.open(io.BytesIO(served.content)) as img:
        assert img.size == (48, 96) and not img.getexif().get(0x0112)
    again = client.get(photo["urls"]["thumb"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    # A variant without its own photo shows its style's; one with its own shows that.
    png = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 255, 128)).save(png, format="PNG")
    r = _upload(api, "/api/v1/products/TEE-M-RED/photos", png.getvalue(), "blue.png")
    assert r.status_code == 201, r.text
    own = r.json()["items"][0]["urls"]["thumb"]
    thumbs = photos.thumbnails(api.db, ["TEE-M-RED", "TEE-L-RED", "MUG-001"])
    assert thumbs == {"TEE-M-RED": own, "TEE-L-RED": photo["urls"]["thumb"]}
    gone = api.request("DELETE", f"/api/v1/product-photos/{photo['id']}")
    assert gone.status_code == 200 and gone.json()["items"] == []
    assert client.get(photo["urls"]["thumb"]).status_code == 404


def test_a_photo_that_is_not_an_image_or_a_decompression_bomb_is_refused(
    stocked: Any, api: Any
) -> None:
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, format="PNG")  # 50 M pixels in a few KB
    cases = [
        (b"<html>hello</html>", "wrong_file_type"),
        (bomb.getvalue(), "image_too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not_an_image"),
        (b"", "empty_file"),
    ]
    for data, code in cases:
        r = _upload(api, "/api/v1/products/MUG-001/photos", data)
        assert r.status_code == 422, (code, r.text)
        assert r.json()["errors"][0]["code"] == code
    assert _count(api.db, ProductPhoto) == 0
    assert _upload(api, "/api/v1/products/NOPE/photos", _jpeg_turned(10, 10)).status_code == 404


def _files_on_disk(items: list[dict[str, Any]], db: Any) -> dict[str, bool]:
    """Each stored file of these photos → whether it is on disk."""
    from dingdan.services.shared import uploads

    keys = [p["key"] for p in items]
    rows = db.read(
        lambda c: list(c.execute(select(ProductPhoto.files).where(ProductPhoto.key.in_(keys))))
    )
    paths = {e["path"] for (files,) in rows for e in files.values()}
    return {p: (uploads.upload_dir() / p).exists() for p in paths}


def test_a_removed_photo_takes_its_files_unless_another_photo_names_them(
    tee: dict[str, Any], api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dingdan.services.shared import uploads

    db = api.db
    picture = _jpeg_turned(900, 600)
    shared = _upload(api, "/api/v1/products/TEE-M-RED/photos", picture).json()["items"][0]
    again = _upload(api, "/api/v1/styles/TEE/photos", picture).json()["items"][0]
    other = _upload(api, "/api/v1/products/MUG-001/photos", _jpeg_turned(1600, 1300)).json()
    files = _files_on_disk([shared], db)
    assert len(files) == 3 and all(files.values())
    mug = _files_on_disk(other["items"], db)
    # The same picture on the style still names the files: they stay.
    assert api.request("DELETE", f"/api/v1/product-photos/{shared['id']}").status_code == 200
    assert all((uploads.upload_dir() / p).exists() for p in files)
    # A removal rolled back keeps its row and its files.
    real_audit = photos.audit

    def failing(*args: Any, **kwargs: Any) -> None:
        real_audit(*args, **kwargs)
        raise RuntimeError("the transaction fails after the delete")

    monkeypatch.setattr(photos, "audit", failing)
    with pytest.raises(RuntimeError):
        photos.delete_photo(db, ADMIN, again["id"])
    monkeypatch.setattr(photos, "audit", real_audit)
    assert len(photos.photos_of(db, style="TEE")) == 1
    assert all((uploads.upload_dir() / p).exists() for p in files)
    # The last photo naming them gone, so are they; a file already missing is no error.
    medium = next(p for p in files if (uploads.upload_dir() / p).stat().st_size > 2000)
    (uploads.upload_dir() / medium).unlink()
    assert api.request("DELETE", f"/api/v1/product-photos/{again['id']}").status_code == 200
    assert not any((uploads.upload_dir() / p).exists() for p in files)
    assert all(_files_on_disk(other["items"], db).values()) and len(mug) == 3


def test_an_upload_writes_its_files_again_when_a_removal_took_them_before_its_commit(
    tee: dict[str, Any], api: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A removal of the same picture elsewhere that ran between this upload's writing its
    files and committing its row saw no row naming them and took them."""
    from dingdan.services.shared import uploads

    real_audit = photos.audit

    def removal_meanwhile(conn: Any, *args: Any, **kwargs: Any) -> None:
        real_audit(conn, *args, **kwargs)
        for path in (uploads.upload_dir() / photos.PHOTO_DIR).glob("*.jpg"):
            path.unlink()

    monkeypatch.setattr(photos, "audit", removal_meanwhile)
    items = photos.add_photo(api.db, ADMIN, "a.jpg", _jpeg_turned(800, 800), sku="MUG-001")
    assert all(_files_on_disk(items, api.db).values())
    assert client.get(items[0]["urls"]["large"]).status_code == 200
