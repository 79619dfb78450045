"""Believable demo data: locations, products, stock, users and (when orders exist) orders."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import func, select

from dingdan.db.engine import Database
from dingdan.db.tables import Product
from dingdan.services.access import accounts
from dingdan.services.catalog import products
from dingdan.services.inventory import locations, stock
from dingdan.services.inventory.shapes import LocationCommand
from dingdan.services.shared.common import Actor

DEMO_PASSWORD = "dingdan-demo-2026"
DEMO_ADMIN = "admin@example.com"

LOCATIONS: list[LocationCommand] = [
    {
        "code": "TPE",
        "name": "台北倉 Taipei",
        "country": "TW",
        "priority": 0,
        "city": "台北市",
        "line1": "內湖區瑞光路 100 號",
        "postal_code": "114",
    },
    {
        "code": "TXG",
        "name": "台中倉 Taichung",
        "country": "TW",
        "priority": 1,
        "city": "台中市",
        "line1": "西屯區工業區一路 50 號",
        "postal_code": "407",
    },
    {
        "code": "HKG",
        "name": "香港倉 Hong Kong",
        "country": "HK",
        "priority": 2,
        "city": "香港",
        "line1": "葵涌貨櫃碼頭路 8 號",
    },
]

PRODUCTS: list[tuple[str, str, str, str, int, bool]] = [
    # sku, name, price, category, weight_grams, allow_backorder
    ("TEA-OOLONG-150", "凍頂烏龍茶 150g", "450.00", "茶葉 Tea", 180, False),
    ("TEA-BLACK-100", "日月潭紅玉紅茶 100g", "520.00", "茶葉 Tea", 130, False),
    ("TEA-GREEN-200", "三峽碧螺春 200g", "380.00", "茶葉 Tea", 230, True),
    ("CAKE-PINE-10", "土鳳梨酥 10 入", "420.00", "糕餅 Pastry", 550, False),
    ("CAKE-SUN-6", "台中太陽餅 6 入", "260.00", "糕餅 Pastry", 400, False),
    ("CAKE-NOUGAT-20", "牛軋糖 20 入", "300.00", "糕餅 Pastry", 320, True),
    ("MUG-CELADON", "青瓷馬克杯", "680.00", "器皿 Tableware", 420, False),
    ("POT-YIXING", "朱泥小壺 120ml", "2400.00", "器皿 Tableware", 300, False),
    ("TOWEL-COTTON", "台灣製純棉毛巾", "199.00", "生活 Living", 120, False),
    ("SOAP-CAMELLIA", "苦茶油手工皂", "180.00", "生活 Living", 110, False),
    ("BAG-CANVAS", "帆布托特包", "890.00", "生活 Living", 350, True),
    ("SAUCE-SHACHA", "沙茶醬 250g", "150.00", "食品 Food", 300, False),
]

STOCK = {
    "TPE": {
        "TEA-OOLONG-150": 120,
        "TEA-BLACK-100": 60,
        "CAKE-PINE-10": 200,
        "MUG-CELADON": 25,
        "POT-YIXING": 4,
        "TOWEL-COTTON": 300,
        "SOAP-CAMELLIA": 150,
        "SAUCE-SHACHA": 80,
    },
    "TXG": {
        "TEA-OOLONG-150": 40,
        "CAKE-SUN-6": 90,
        "CAKE-PINE-10": 50,
        "BAG-CANVAS": 12,
        "SOAP-CAMELLIA": 3,
    },
    "HKG": {"TEA-BLACK-100": 20, "MUG-CELADON": 6, "TOWEL-COTTON": 40},
}


def is_empty(db: Database) -> bool:
    return db.read(lambda c: c.execute(select(func.count()).select_from(Product)).scalar()) == 0


class SignIn(TypedDict):
    """What a person needs to sign in to the demo."""

    admin_email: str
    password: str
    token: str  # an admin API token


def load(db: Database, actor: Actor) -> SignIn:
    """Fill an empty database; returns what a person needs to sign in."""
    for loc in LOCATIONS:
        locations.create_location(db, actor, loc)
    for i, (sku, name, price, category, grams, backorder) in enumerate(PRODUCTS):
        products.create_product(
            db,
            actor,
            {
                "sku": sku,
                "name": name,
                "price": price,
                "currency": "TWD",
                "category": category,
                "weight_grams": grams,
                "allow_backorder": backorder,
                "low_stock_threshold": 10,
                "barcode": f"4710000{i + 1:06d}",
            },
        )
    for code, lines in STOCK.items():
        stock.receive(
            db,
            actor,
            {
                "location": code,
                "reference": "DEMO-PO-0001",
                "lines": [{"sku": sku, "quantity": q} for sku, q in lines.items()],
            },
        )
    users = [
        (DEMO_ADMIN, "admin", "示範管理員"),
        ("manager@example.com", "manager", "王經理"),
        ("cs@example.com", "customer_service", "客服 小林"),
        ("warehouse@example.com", "warehouse", "倉管 阿明"),
        ("finance@example.com", "finance", "財務 陳小姐"),
        ("viewer@example.com", "viewer", "訪客"),
        ("driver@example.com", "driver", "司機 阿德"),
    ]
    for email, role, name in users:
        accounts.create_user(db, actor, email=email, role=role, password=DEMO_PASSWORD, name=name)
    placed = _orders(db, actor)
    _after_sales(db, actor, placed)
    secret, _ = accounts.create_token(db, actor, "demo admin", "admin")
    return {"admin_email": DEMO_ADMIN, "password": DEMO_PASSWORD, "token": secret}


CUSTOMERS = [
    ("wang.xiaoming@example.com", "王小明", "0912345678", "TW", "台北市", "信義路五段7號", "110"),
    ("lin.meiling@example.com", "林美玲", "0928765432", "TW", "台中市", "台灣大道二段2號", "403"),
    ("chen.jiahao@example.com", "陳家豪", "0935111222", "TW", "高雄市", "中山一路 99 號", "800"),
    (
        "huang.yating@example.com",
        "黃雅婷",
        "0987654321",
        "TW",
        "新竹市",
        "光復路二段 101 號",
        "300",
    ),
    ("chan.taiman@example.com", "陳大文", "+852 6123 4567", "HK", "九龍", "彌敦道 188 號", None),
    ("zhang.wei@example.com", "张伟", "13800138000", "CN", "上海市", "南京东路 100 号", "200001"),
]
# (customer, channel, payment, lines, what happens next)
ORDER_PLAN: list[tuple[int, str, str, list[tuple[str, int]], str]] = [
    (0, "web", "bank_transfer", [("TEA-OOLONG-150", 2), ("CAKE-PINE-10", 1)], "pending"),
    (1, "app", "card", [("TEA-BLACK-100", 1)], "paid"),
    (2, "web", "card", [("MUG-CELADON", 2), ("TOWEL-COTTON", 4)], "shipped"),
    (3, "marketplace", "e_wallet", [("CAKE-PINE-10", 3)], "completed"),
    (4, "web", "card", [("TEA-BLACK-100", 2), ("TOWEL-COTTON", 1)], "completed"),
    (0, "phone", "cod", [("SAUCE-SHACHA", 6)], "shipped"),
    (1, "store", "cash", [("SOAP-CAMELLIA", 5)], "completed"),
    (2, "web", "bank_transfer", [("POT-YIXING", 1)], "cancelled"),
    (3, "web", "card", [("TEA-GREEN-200", 3)], "backordered"),
    (5, "email", "bank_transfer", [("CAKE-NOUGAT-20", 2), ("TEA-OOLONG-150", 1)], "partial"),
    (4, "app", "e_wallet", [("BAG-CANVAS", 1)], "refunded"),
    (2, "marketplace", "card", [("CAKE-SUN-6", 4), ("TEA-OOLONG-150", 1)], "paid"),
]


def _orders(db: Database, actor: Actor) -> dict[str, list[str]]:
    """Place the demo orders; their numbers by what happened to them."""
    from dingdan.services.fulfilment import shipments
    from dingdan.services.orders import capture
    from dingdan.services.payments import transactions

    placed: dict[str, list[str]] = {}

    for cust, channel, method, lines, outcome in ORDER_PLAN:
        email, name, phone, country, city, line1, postal = CUSTOMERS[cust]
        currency = "TWD"
        body: dict[str, object] = {
            "channel": channel,
            "currency": currency,
            "payment_method": method,
            "customer": {"email": email, "name": name, "phone": phone},
            "shipping_address": {
                "name": name,
                "line1": line1,
                "city": city,
                "postal_code": postal,
                "country": country,
                "phone": phone,
            },
            "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
            "shipping_price": "0" if country == "TW" else "150.00",
        }
        order, _ = capture.place_order(db, actor, body)
        number, total = order["number"], order["total"]
        placed.setdefault(outcome, []).append(number)
        if outcome in ("paid", "shipped", "completed", "refunded", "partial") and method != "cod":
            transactions.record_payment(db, actor, number, {"amount": total, "reference": "DEMO"})
        if outcome == "cancelled":
            shipments.cancel_order(db, actor, number, "客戶改變心意 / customer changed mind")
        if outcome in ("shipped", "completed", "refunded"):
            shipment = shipments.create_shipment(db, actor, number, {"carrier": "tcat"})
            if outcome != "shipped":
                shipments.mark_delivered(db, actor, shipment["id"])
        if outcome == "partial":
            first = order["allocations"][0]
            shipments.create_shipment(
                db,
                actor,
                number,
                {
                    "carrier": "hct",
                    "location": first["location"],
                    "lines": [{"sku": first["sku"], "quantity": first["quantity"]}],
                },
            )
        if outcome == "refunded":
            transactions.refund(
                db, actor, number, {"amount": total, "reason": "商品瑕疵 / defective"}
            )
    return placed


def _after_sales(db: Database, actor: Actor, placed: dict[str, list[str]]) -> None:
    """A seller's own carrier, a return received back into stock, and a dispute being
    worked on, so that those pages show something on a fresh demo."""
    from dingdan.services.after_sales import disputes, returns
    from dingdan.services.fulfilment import carriers, shipments

    carriers.create_carrier(
        db,
        actor,
        {
            "code": "city_courier",
            "name": "台北市區即日配",
            "tracking_url": "https://courier.example.com/track/{number}",
        },
    )
    shipped = placed["shipped"][0]
    shipments.create_shipment(
        db, actor, placed["paid"][0], {"carrier": "city_courier", "tracking_number": "CC2026001"}
    )
    completed = placed["completed"][0]
    rid = returns.request_return(
        db,
        actor,
        completed,
        {
            "lines": [{"sku": "CAKE-PINE-10", "quantity": 1, "reason": "damaged"}],
            "note": "外盒壓壞 / box crushed in transit",
        },
    )["id"]
    returns.approve_return(db, actor, rid)
    returns.receive_return(
        db,
        actor,
        rid,
        {
            "location": "TPE",
            "lines": [{"sku": "CAKE-PINE-10", "quantity": 1, "condition": "damaged"}],
        },
    )
    returns.request_return(
        db,
        actor,
        placed["completed"][1],
        {"lines": [{"sku": "TEA-BLACK-100", "quantity": 1, "reason": "changed_mind"}]},
    )
    dispute = disputes.open_dispute(
        db,
        actor,
        shipped,
        {
            "type": "late",
            "owner": "cs@example.com",
            "summary": "客戶說三天了還沒收到 / not arrived after 3 days",
        },
    )
    disputes.add_message(
        db,
        actor,
        dispute["id"],
        {"direction": "inbound", "body": "請問我的沙茶醬什麼時候會到？"},
    )
    disputes.transition(db, actor, dispute["id"], {"status": "investigating", "note": "已聯絡黑貓"})
