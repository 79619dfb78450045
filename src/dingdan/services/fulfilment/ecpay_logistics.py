"""Convenience-store pickup through ECPay logistics (綠界 物流整合).

- The store: chosen on ECPay's map (``map_form`` builds what the browser posts to
  ``/Express/map``; ECPay's page posts the choice back through the browser to
  ``/hooks/ecpay/logistics/map/{token}``, ``store_from_map``), or typed by staff
  (``set_store``); kept as the order's ``delivery``.
- The parcel (``ship``): checked and its intent written in one transaction (an
  ``ecpay_parcels`` row, ``pending``, its ``MerchantTradeNo`` fixed), then, after the commit,
  posted to ``/Express/Create`` with every request and answer kept
  (``ecpay_logistics_exchanges``), then the shipment recorded the way every shipment is
  (``shipments.create_shipment``: stock, timeline, ``order.shipped``) with the brand's carrier
  and ECPay's shipment number. A second call for the same order reuses the parcel: a
  ``pending`` one is asked again with the same ``MerchantTradeNo``, a ``created`` one not
  yet recorded as a shipment is recorded without asking ECPay again.
- The label (``label_form``): the print page ECPay serves, posted by the browser.
- Status notices: ``ecpay_notices`` (verified, kept, applied as tracking events; a closed
  store asks the customer to choose another).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import httpx
from sqlalchemy import Connection, func, insert, select, update

from dingdan.config import Settings
from dingdan.db.cvs_logistics_tables import EcpayLogisticsExchange, EcpayParcel
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.fulfilment import ecpay_logistics as ec
from dingdan.domain.shared import ecpay_mac
from dingdan.domain.shared.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    ProviderUnavailable,
    ValidationFailed,
)
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.text import storable
from dingdan.services.fulfilment import shipments
from dingdan.services.fulfilment.carriers import shipment_carrier
from dingdan.services.fulfilment.shapes import (
    BrowserForm,
    CvsCustomerView,
    CvsDeliveryView,
    CvsShipmentCommand,
    CvsShipmentView,
    CvsStaffView,
    ExchangeView,
    ParcelView,
    ShipmentCommand,
    StoreCommand,
)
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.shared import provider_keys, shop
from dingdan.services.shared.common import Actor, iso

log = logging.getLogger("dingdan.ecpay_logistics")
MAX_TEXT = 100_000
CARRIER_ACTOR = "carrier:ecpay"


@dataclass(frozen=True)
class Client:
    """Where ECPay logistics is and our account there (never shown: the keys)."""

    url: str
    merchant_id: str
    hash_key: str
    hash_iv: str
    c2c: bool
    public_url: str
    sender_name: str = ""
    sender_phone: str = ""
    timeout: float = 10.0

    def __repr__(self) -> str:
        return f"Client(url={self.url!r}, merchant_id={self.merchant_id!r}, c2c={self.c2c})"

    @classmethod
    def from_settings(cls, s: Settings, db: Database) -> Client:
        """The client of ``s``, with the account's keys as an admin stored them, else the
        environment's (services/shared/provider_keys.py: the one reader of them)."""
        keys = provider_keys.read_keys(db, "ecpay_logistics", s)
        return cls(
            url=s.ecpay_logistics_url.rstrip("/"),
            merchant_id=keys["merchant_id"],
            hash_key=keys["hash_key"],
            hash_iv=keys["hash_iv"],
            c2c=s.ecpay_logistics_c2c,
            public_url=s.public_base_url(),
            sender_name=s.ecpay_logistics_sender_name,
            sender_phone=s.ecpay_logistics_sender_phone,
            timeout=s.ecpay_logistics_timeout,
        )

    def signed(self, params: Mapping[str, str]) -> dict[str, str]:
        mac = ecpay_mac.check_mac_value(params, self.hash_key, self.hash_iv, "md5")
        return {**params, "CheckMacValue": mac}

    def verify(self, params: Mapping[str, object]) -> bool:
        return ecpay_mac.verify(params, self.hash_key, self.hash_iv, "md5")

    def base(self) -> str:
        """ECPay logistics' address; refused (409) when none is configured: nothing is ever
        sent to ECPay (its stage server either) unless the seller set
        ``DINGDAN_ECPAY_LOGISTICS_URL``."""
        if not self.url:
            raise Conflict(
                detail="ECPay logistics is not configured: set DINGDAN_ECPAY_LOGISTICS_URL "
                "(https://logistics-stage.ecpay.com.tw for its test shop)."
            )
        return self.url

    @property
    def status_url(self) -> str:
        return f"{self.public_url}/hooks/ecpay/logistics/status"

    @property
    def store_change_url(self) -> str:
        return f"{self.public_url}/hooks/ecpay/logistics/store-change"


# ---- the exchange log ----------------------------------------------------------------------


def _log_out(db: Database, operation: str, parcel: Any, url: str, body: str) -> int:
    values = {
        "direction": "out",
        "operation": operation,
        "trade_no": parcel.trade_no,
        "order_id": parcel.order_id,
        "url": url[:500],
        "request_body": body[:MAX_TEXT],
        "outcome": "pending",
        "at": utcnow(),
    }
    return int(
        db.write(
            lambda conn: conn.execute(
                insert(EcpayLogisticsExchange).values(**values).returning(EcpayLogisticsExchange.id)
            ).scalar_one()
        )
    )


def _finish(
    db: Database,
    exchange_id: int,
    outcome: str,
    status: int | None,
    body: str | None,
    code: str | None = None,
    error: str | None = None,
) -> None:
    values = {
        "outcome": outcome,
        "http_status": status,
        "response_body": None if body is None else body[:MAX_TEXT],
        "code": None if code is None else code[:20],
        "error": None if error is None else error[:1000],
        "answered_at": utcnow(),
    }
    db.write(
        lambda conn: conn.execute(
            update(EcpayLogisticsExchange)
            .where(EcpayLogisticsExchange.id == exchange_id)
            .values(**values)
        )
    )


def log_notice(
    conn: Connection,
    operation: str,
    form: Mapping[str, str],
    outcome: str,
    answer: str,
    parcel: Any = None,
    error: str | None = None,
) -> None:
    conn.execute(
        insert(EcpayLogisticsExchange).values(
            direction="in",
            operation=operation,
            trade_no=_trade_no_of(parcel, form),
            order_id=parcel.order_id if parcel is not None else None,
            url=operation,
            request_body=urlencode(dict(form))[:MAX_TEXT],
            outcome=outcome,
            response_body=answer,
            code=storable(str(form.get("RtnCode") or form.get("Status") or ""), 20) or None,
            error=None if error is None else storable(error, 1000),
            at=utcnow(),
            answered_at=utcnow(),
        )
    )


def _trade_no_of(parcel: Any, form: Mapping[str, str]) -> str | None:
    if parcel is not None:
        return str(parcel.trade_no)
    given = form.get("MerchantTradeNo")
    return storable(str(given), 20) if given else None


def exchanges_of(db: Database, number: str) -> list[ExchangeView]:
    """Every exchange about one order's parcels, oldest first."""

    def work(conn: Connection) -> list[Any]:
        order = fetch(conn, number)
        return list(
            conn.execute(
                select(EcpayLogisticsExchange)
                .where(EcpayLogisticsExchange.order_id == order.id)
                .order_by(EcpayLogisticsExchange.id)
            ).all()
        )

    return [
        {
            "id": str(x.id),
            "direction": x.direction,
            "operation": x.operation,
            "trade_no": x.trade_no,
            "url": x.url,
            "outcome": x.outcome,
            "http_status": x.http_status,
            "code": x.code,
            "error": x.error,
            "request_body": x.request_body,
            "response_body": x.response_body,
            "at": iso(x.at),
            "answered_at": iso(x.answered_at),
        }
        for x in db.read(work)
    ]


# ---- the store -----------------------------------------------------------------------------


def cvs_of(order: Any) -> CvsDeliveryView | None:
    """The order's convenience store (its ``delivery``, as ``_set_delivery`` stored it)."""
    d = order.delivery
    if isinstance(d, dict) and d.get("type") == "cvs_pickup":
        return cast(CvsDeliveryView, d)  # as the capture or a store's choice stored it
    return None


def _open_parcel(conn: Connection, order_id: int) -> Any:
    """The order's parcel at ECPay that is on its way (created, not closed by a store)."""
    return conn.execute(
        select(EcpayParcel)
        .where(
            EcpayParcel.order_id == order_id,
            EcpayParcel.state == "created",
            EcpayParcel.store_closed_at.is_(None),
        )
        .order_by(EcpayParcel.id.desc())
        .limit(1)
    ).first()


def _delivery(store: ec.Store) -> CvsDeliveryView:
    """The contract's ``delivery`` object for ``store`` (``ec.Store.delivery``)."""
    out: CvsDeliveryView = {
        "type": "cvs_pickup",
        "brand": store.brand,
        "store_id": store.store_id,
        "store_name": store.store_name,
    }
    if store.address:
        out["address"] = store.address
    return out


def _set_delivery(conn: Connection, actor: Actor, order: Any, store: ec.Store) -> CvsDeliveryView:
    if order.status != "open":
        raise InvalidTransition(detail=f"Order {order.number} is {order.status}.")
    if _open_parcel(conn, order.id) is not None:
        raise Conflict(
            detail=f"Order {order.number} is already on its way to a store; "
            "the store changes only when ECPay says it closed."
        )
    delivery = _delivery(store)
    conn.execute(update(Order).where(Order.id == order.id).values(delivery=delivery))
    conn.execute(
        update(EcpayParcel)
        .where(EcpayParcel.order_id == order.id, EcpayParcel.store_closed_at.is_not(None))
        .values(store_closed_at=None, store_id=store.store_id)
    )
    event(
        conn,
        order.id,
        "edited",
        actor.name,
        f"Pickup store: {store.brand} {store.store_id} {store.store_name}",
        {"delivery": delivery},
    )
    audit_order(conn, actor, "edit", order, delivery=delivery)
    return delivery


def set_store(db: Database, actor: Actor, number: str, data: StoreCommand) -> CvsDeliveryView:
    """Staff type the store (``brand``, ``store_id``, ``store_name``, ``address``)."""
    store = ec.check_store(data)
    return db.write(lambda conn: _set_delivery(conn, actor, fetch(conn, number, lock=True), store))  # type: ignore[no-any-return]


def _by_token(conn: Connection, token: str, *, lock: bool = False) -> Any:
    stmt = select(Order).where(Order.tracking_token == token)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first() if token else None
    if row is None:
        raise NotFound(detail="No such order.")
    return row


def store_from_map(db: Database, token: str, form: Mapping[str, object]) -> tuple[str, bool]:
    """The store ECPay's map posted back for the order of tracking ``token``: kept as its
    delivery. (number, whether staff asked: ``ExtraData`` ``staff``)."""
    store = ec.store_from_map_reply(form)
    staff = form.get("ExtraData") == "staff"

    def work(conn: Connection) -> tuple[str, bool]:
        order = _by_token(conn, token, lock=True)
        actor = Actor("ecpay:map" if staff else "customer", Role.VIEWER)
        _set_delivery(conn, actor, order, store)
        return order.number, staff

    return db.write(work)  # type: ignore[no-any-return]


def map_form(
    db: Database, client: Client, token: str, brand: Any, *, staff: bool, mobile: bool = False
) -> BrowserForm:
    """What the browser posts to ECPay's map for the order of tracking ``token``: ``brand``
    (or the order's chosen brand); the reply comes back to our map hook."""

    def work(conn: Connection) -> Any:
        return _by_token(conn, token)

    order = db.read(work)
    current = cvs_of(order)
    chosen = current.get("brand") if current is not None else None
    name = brand if isinstance(brand, str) and brand else chosen or "7-ELEVEN"
    if ec.brand(name) is None:
        raise ValidationFailed.on("brand", "not_one_of", choices=", ".join(ec.BRANDS))
    params = ec.map_params(
        client.merchant_id,
        name,
        c2c=client.c2c,
        collection=order.payment_method == "cod",
        reply_url=f"{client.public_url}/hooks/ecpay/logistics/map/{token}",
        trade_no=order.number[:20],
        extra="staff" if staff else "",
        mobile=mobile,
    )
    return {"url": client.base() + ec.MAP_PATH, "fields": params}


def token_of(db: Database, number: str) -> str:
    return db.read(lambda conn: fetch(conn, number).tracking_token)  # type: ignore[no-any-return]


# ---- the parcel ----------------------------------------------------------------------------


def _whole_twd(minor: int, currency: str) -> int:
    if currency != "TWD":
        raise ValidationFailed.on("currency", "cvs_needs_twd", currency=currency)
    return minor // 100 if minor % 100 == 0 else -(-minor // 100)


def _parcel_for(
    conn: Connection, actor: Actor, number: str, body: CvsShipmentCommand, c2c: bool
) -> Any:
    """The order's parcel to ask ECPay for: one not finished before, or a new intent. The
    order is checked as any shipment is (open, paid unless COD, not held, the location and
    lines) before ECPay is asked for anything, and the brand's carrier must be one staff can
    ship with."""
    order, location, _here, _qty = shipments.check_shippable(conn, number, body)
    store = cvs_of(order)
    if store is None:
        raise ValidationFailed.on("delivery", "no_cvs_store")
    brand = ec.brand(store["brand"])
    if brand is not None:
        shipment_carrier(conn, brand.carrier, None)
    unfinished = conn.execute(
        select(EcpayParcel)
        .where(
            EcpayParcel.order_id == order.id,
            EcpayParcel.shipment_id.is_(None),
            EcpayParcel.state != "refused",
        )
        .order_by(EcpayParcel.id)
        .limit(1)
    ).first()
    if unfinished is not None:
        return unfinished
    goods = _whole_twd(order.total_minor, order.currency)
    collect = 0
    if order.payment_method == "cod" and body.get("collect", True) is not False:
        collect = _whole_twd(max(order.total_minor - order.paid_minor, 0), order.currency)
    if not 1 <= goods <= ec.MAX_GOODS_AMOUNT:
        raise ValidationFailed.on("goods_amount", "cvs_amount_range", max=ec.MAX_GOODS_AMOUNT)
    count = conn.execute(
        select(func.count()).select_from(EcpayParcel).where(EcpayParcel.order_id == order.id)
    ).scalar_one()
    trade_no = f"{''.join(ch for ch in number if ch.isalnum())[:16]}C{count + 1}"[:20]
    pid = conn.execute(
        insert(EcpayParcel)
        .values(
            order_id=order.id,
            trade_no=trade_no,
            subtype=ec.subtype(store["brand"], c2c),
            brand=store["brand"],
            store_id=store["store_id"],
            goods_amount=goods,
            collection_amount=collect,
            location=location,
            state="pending",
            actor=actor.name,
        )
        .returning(EcpayParcel.id)
    ).scalar_one()
    return conn.execute(select(EcpayParcel).where(EcpayParcel.id == pid)).one()


def _parcel_params(conn: Connection, client: Client, parcel: Any) -> dict[str, str]:
    order = conn.execute(select(Order).where(Order.id == parcel.order_id)).one()
    address = order.shipping_address or {}
    customer = order.customer or {}
    the_shop = shop.load(conn)
    phone = ec.cell_phone(address.get("phone") or customer.get("phone"))
    if not phone:
        raise ValidationFailed.on("shipping_address.phone", "not_a_tw_mobile")
    sender_phone = ec.cell_phone(client.sender_phone or the_shop.get("phone"))
    if not sender_phone:
        raise ValidationFailed.on("sender_phone", "not_a_tw_mobile")
    sender = ec.person_name(client.sender_name or the_shop.get("name") or "")
    if not sender:
        raise ValidationFailed.on("sender_name", "required")
    parcel_in = ec.Parcel(
        trade_no=parcel.trade_no,
        brand=parcel.brand,
        store_id=parcel.store_id,
        goods_amount=parcel.goods_amount,
        collection_amount=parcel.collection_amount,
        goods_name=f"{the_shop.get('name') or 'Order'} {order.number}",
        receiver_name=str(address.get("name") or customer.get("name") or ""),
        receiver_cell_phone=phone,
        receiver_email=str(customer.get("email") or ""),
        sender_name=sender,
        sender_cell_phone=sender_phone,
        created_at=parcel.created_at,
    )
    params = ec.create_params(
        client.merchant_id,
        parcel_in,
        c2c=client.c2c,
        reply_url=client.status_url,
        c2c_reply_url=client.store_change_url,
    )
    return client.signed(params)


def _ask_ecpay(db: Database, client: Client, parcel: Any) -> Any:
    """Posts the parcel to ``/Express/Create`` (outside any transaction) and records what
    came back; the parcel row afterwards."""
    params = db.read(lambda conn: _parcel_params(conn, client, parcel))
    body = urlencode(params)
    url = client.base() + ec.CREATE_PATH
    exchange = _log_out(db, "create", parcel, url, body)
    try:
        with httpx.Client(timeout=client.timeout, follow_redirects=False) as http:
            response = http.post(
                url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
    except httpx.HTTPError as exc:
        _finish(db, exchange, "retry", None, None, error=f"{type(exc).__name__}: {exc}")
        raise ProviderUnavailable(detail="ECPay logistics did not answer; try again.") from None
    text = response.text
    if response.status_code >= 500 or response.status_code in (403, 408, 429):
        _finish(db, exchange, "retry", response.status_code, text, error="transient answer")
        raise ProviderUnavailable(detail=f"ECPay logistics answered HTTP {response.status_code}.")
    answer = ec.parse_answer(text)
    if answer.ok and not client.verify(answer.fields):
        _finish(db, exchange, "retry", response.status_code, text, error="CheckMacValue wrong")
        raise ProviderUnavailable(detail="ECPay's answer did not carry a valid CheckMacValue.")
    code = answer.fields.get("RtnCode")
    if not answer.ok:
        _finish(db, exchange, "refused", response.status_code, text, code, answer.message)
        # Only a parcel still waiting: one made meanwhile by a request running beside this
        # one (ECPay refuses its MerchantTradeNo the second time) stays made.
        refused = db.write(
            lambda conn: (
                conn.execute(
                    update(EcpayParcel)
                    .where(EcpayParcel.id == parcel.id, EcpayParcel.state == "pending")
                    .values(state="refused", last_message=(answer.message or "")[:200])
                ).rowcount
            )
        )
        now = db.read(lambda conn: _parcel(conn, parcel.id))
        if not refused and now.state == "created":
            return now
        raise ValidationFailed.on("ecpay", "ecpay_refused", answer=answer.message or "")
    _finish(db, exchange, "ok", response.status_code, text, code)
    f = answer.fields
    values = {
        "state": "created",
        "logistics_id": f["AllPayLogisticsID"][:20],
        "payment_no": (f.get("CVSPaymentNo") or None) and f["CVSPaymentNo"][:20],
        "validation_no": (f.get("CVSValidationNo") or None) and f["CVSValidationNo"][:10],
        "last_code": (code or "")[:10] or None,
        "last_message": (f.get("RtnMsg") or "")[:200] or None,
    }

    def save(conn: Connection) -> Any:
        conn.execute(update(EcpayParcel).where(EcpayParcel.id == parcel.id).values(**values))
        return conn.execute(select(EcpayParcel).where(EcpayParcel.id == parcel.id)).one()

    return db.write(save)


def tracking_number_of(parcel: Any) -> str:
    """The number the shipment carries: ECPay's shipment number (寄貨編號), else its own
    logistics id."""
    return str(parcel.payment_no or parcel.logistics_id)


def ship(
    db: Database, client: Client, actor: Actor, number: str, body: CvsShipmentCommand
) -> CvsShipmentView:
    """The order's parcel made at ECPay and recorded as a shipment (see the module)."""
    client.base()  # refused before anything is written when ECPay is not configured
    parcel = db.write(lambda conn: _parcel_for(conn, actor, number, body, client.c2c))
    if parcel.state == "pending":
        parcel = _ask_ecpay(db, client, parcel)
    brand = ec.brand(parcel.brand)
    assert brand is not None
    shipment_body: ShipmentCommand = {
        "carrier": brand.carrier,
        "tracking_number": tracking_number_of(parcel),
        "location": parcel.location,
    }
    lines = body.get("lines")
    if lines is not None:
        shipment_body["lines"] = lines

    def link(conn: Connection, shipment_id: int) -> None:
        # In the shipment's own transaction: a crash cannot leave a shipment whose parcel
        # still looks unfinished (and would be shipped a second time).
        conn.execute(
            update(EcpayParcel).where(EcpayParcel.id == parcel.id).values(shipment_id=shipment_id)
        )

    shipment = shipments.create_shipment(db, actor, number, shipment_body, within=link)
    return {"shipment": shipment, "parcel": parcel_view(db.read(lambda c: _parcel(c, parcel.id)))}


def _parcel(conn: Connection, pid: int) -> Any:
    return conn.execute(select(EcpayParcel).where(EcpayParcel.id == pid)).one()


def parcel_view(p: Any) -> ParcelView:
    return {
        "trade_no": p.trade_no,
        "brand": p.brand,
        "logistics_sub_type": p.subtype,
        "store_id": p.store_id,
        "state": p.state,
        "logistics_id": p.logistics_id,
        "payment_no": p.payment_no,
        "validation_no": p.validation_no,
        "goods_amount": p.goods_amount,
        "collection_amount": p.collection_amount,
        "shipment_id": None if p.shipment_id is None else str(p.shipment_id),
        "last_code": p.last_code,
        "last_message": p.last_message,
        "store_closed": p.store_closed_at is not None,
    }


def parcels_of(db: Database, number: str) -> list[ParcelView]:
    def work(conn: Connection) -> list[Any]:
        order = fetch(conn, number)
        return list(
            conn.execute(
                select(EcpayParcel).where(EcpayParcel.order_id == order.id).order_by(EcpayParcel.id)
            ).all()
        )

    return [parcel_view(p) for p in db.read(work)]


def label_form(db: Database, client: Client, shipment_id: str) -> BrowserForm:
    """What the browser posts to print the label of a shipment made through ECPay (B2C:
    ``printTradeDocument``; C2C: the brand's print page)."""
    sid = row_id(shipment_id)
    parcel = db.read(
        lambda conn: conn.execute(select(EcpayParcel).where(EcpayParcel.shipment_id == sid)).first()
    )
    if parcel is None or parcel.logistics_id is None:
        raise NotFound(detail=f"Shipment {shipment_id} was not made through ECPay.")
    path, params = ec.print_request(
        client.merchant_id,
        parcel.subtype,
        parcel.logistics_id,
        parcel.payment_no or "",
        parcel.validation_no or "",
    )
    return {"url": client.base() + path, "fields": client.signed(params)}


def customer_view(db: Database, token: str) -> CvsCustomerView | None:
    """What the tracking page shows of a store pickup: the store, whether its store closed
    (choose another), and whether the customer may choose (open, not on its way to a store
    that is open). None: the order is not a store pickup."""

    def work(conn: Connection) -> CvsCustomerView | None:
        row = conn.execute(select(Order).where(Order.tracking_token == token)).first()
        if row is None:
            return None
        closed = conn.execute(
            select(EcpayParcel.id).where(
                EcpayParcel.order_id == row.id, EcpayParcel.store_closed_at.is_not(None)
            )
        ).first()
        store = cvs_of(row)
        if store is None and closed is None:
            return None
        on_way = _open_parcel(conn, row.id) is not None
        return {
            "delivery": store,
            "store_closed": closed is not None,
            "may_choose": row.status == "open" and not on_way,
            "brands": ec.BRANDS,
        }

    return db.read(work)


def staff_view(db: Database, number: str) -> CvsStaffView:
    """The order's store pickup for its back-office page."""

    def work(conn: Connection) -> CvsStaffView:
        order = fetch(conn, number)
        closed = conn.execute(
            select(EcpayParcel.id).where(
                EcpayParcel.order_id == order.id, EcpayParcel.store_closed_at.is_not(None)
            )
        ).first()
        return {
            "number": order.number,
            "status": order.status,
            "payment_method": order.payment_method,
            "delivery": cvs_of(order),
            "store_closed": closed is not None,
            "on_its_way": _open_parcel(conn, order.id) is not None,
            "token": order.tracking_token,
            "parcels": [],
            "exchanges": [],
            "brands": ec.BRANDS,
        }

    view = db.read(work)
    view["parcels"] = parcels_of(db, number)
    view["exchanges"] = exchanges_of(db, number)
    return view
