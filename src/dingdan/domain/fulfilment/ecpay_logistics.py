"""ECPay logistics (綠界 物流整合) for convenience-store pickup, as ECPay publishes its API:
the store map (``/Express/map``), shipment creation (``/Express/Create``), the labels
(``/helper/printTradeDocument`` for B2C, one print page per brand for C2C), and the status
notices ECPay posts to our ``ServerReplyURL`` (and, for C2C, to ``LogisticsC2CReplyURL``
when a store changes). Every request and notice is signed with ``CheckMacValue`` (MD5,
``domain.shared.ecpay_mac``). Pure: builds and reads parameters, never sends them.

The four brands of the contract's ``delivery.brand`` and ECPay's ``LogisticsSubType`` for
each: B2C (the seller's parcels go to the brand's distribution centre in bulk) and C2C (店到店:
the seller drops each parcel at a store). Each brand is a carrier of ours (a code of
``domain.fulfilment.carriers``), so tracking, reports and messages treat it like any other.

Status codes (``RtnCode`` of a status notice) are ECPay's 貨態代碼; the ones we act on are
below, grouped by what they mean for the customer. Others are kept in the exchange log and
change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

SANDBOX_URL = "https://logistics-stage.ecpay.com.tw"
# ECPay's published logistics test shops (B2C and C2C have separate accounts).
SANDBOX_B2C = ("2000132", "5294y06JbISpM5x9", "v77hoKGq4kWxNNIS")
SANDBOX_C2C = ("2000933", "XBERn1YOvpM9nfZc", "h1ONHk4P4yqbl5LK")

BRANDS = ("7-ELEVEN", "FamilyMart", "Hi-Life", "OK")


@dataclass(frozen=True)
class Brand:
    name: str  # as the contract's delivery.brand
    carrier: str  # our carrier code
    b2c: str  # LogisticsSubType
    c2c: str
    c2c_print_path: str  # the C2C label page


_BRANDS: tuple[Brand, ...] = (
    Brand("7-ELEVEN", "seven_eleven", "UNIMART", "UNIMARTC2C", "/Express/PrintUniMartC2COrderInfo"),
    Brand("FamilyMart", "family_mart", "FAMI", "FAMIC2C", "/Express/PrintFAMIC2COrderInfo"),
    Brand("Hi-Life", "hi_life", "HILIFE", "HILIFEC2C", "/Express/PrintHILIFEC2COrderInfo"),
    Brand("OK", "ok_mart", "OKMART", "OKMARTC2C", "/Express/PrintOKMARTC2COrderInfo"),
)
_BY_NAME = {b.name: b for b in _BRANDS}
_BY_SUBTYPE = {sub: b for b in _BRANDS for sub in (b.b2c, b.c2c)}
CARRIERS = frozenset(b.carrier for b in _BRANDS)
B2C_PRINT_PATH = "/helper/printTradeDocument"
MAP_PATH = "/Express/map"
CREATE_PATH = "/Express/Create"

# What a status notice means (RtnCode → kind). Sources: ECPay's status-code table (貨態代碼)
# as integrations quote it; 7-ELEVEN's codes are 20xx, FamilyMart's, Hi-Life's and OK's 30xx
# (Hi-Life uses some of both).
SENT = "sent"  # at the distribution centre, or dropped at the sender's store (C2C)
ARRIVED = "arrived"  # at the pickup store
PICKED_UP = "picked_up"  # the customer took it (and paid, when collected)
NOT_PICKED_UP = "not_picked_up"  # not taken in time: goes back to the sender
STORE_CLOSED = "store_closed"  # the pickup store closed or changed: the customer chooses again
STATUS_KINDS: dict[str, str] = {
    **dict.fromkeys(("2030", "3024", "2068", "3032", "2001"), SENT),
    **dict.fromkeys(("2063", "2073", "3018"), ARRIVED),
    **dict.fromkeys(("2067", "3022"), PICKED_UP),
    **dict.fromkeys(("2074", "3020", *(str(c) for c in range(2078, 2094))), NOT_PICKED_UP),
    **dict.fromkeys(tuple(str(c) for c in range(2101, 2106)), STORE_CLOSED),
}
# LogisticsC2CReplyURL notices: StoreType 01 is the pickup store (02 the return store);
# Status 01 the store closed or moved (關轉店), 04 closed for a while (臨時關轉店).
STORE_CHANGE_CLOSED = ("01", "04")

_STORE_ID = re.compile(r"[0-9A-Za-z]{1,10}")
_TRADE_NO = re.compile(r"[0-9A-Za-z]{1,20}")
MAX_GOODS_AMOUNT = 20000  # ECPay's limit for a convenience-store parcel (NT$)


def brands() -> tuple[Brand, ...]:
    return _BRANDS


def brand(name: str) -> Brand | None:
    return _BY_NAME.get(name)


def brand_of_subtype(subtype: str) -> Brand | None:
    return _BY_SUBTYPE.get(subtype)


def subtype(name: str, c2c: bool) -> str:
    b = _BY_NAME[name]
    return b.c2c if c2c else b.b2c


@dataclass(frozen=True)
class Store:
    brand: str
    store_id: str
    store_name: str
    address: str | None

    def delivery(self) -> dict[str, Any]:
        """The contract's ``delivery`` object for this store."""
        out = {
            "type": "cvs_pickup",
            "brand": self.brand,
            "store_id": self.store_id,
            "store_name": self.store_name,
        }
        if self.address:
            out["address"] = self.address
        return out


def _text(value: Any, field: str, max_len: int, errors: FieldErrors, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(field, "required_text", max=max_len)
        return None
    if not isinstance(value, str) or len(value.strip()) > max_len:
        errors.add(field, "too_long", max=max_len)
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        errors.add(field, "control_characters")
        return None
    return value.strip()


def check_store(data: Mapping[str, Any]) -> Store:
    """A store typed by staff (or read from the map's reply): ``brand`` one of ``BRANDS``,
    ``store_id`` ECPay's store number, ``store_name``, ``address`` (optional)."""
    errors = FieldErrors()
    name = data.get("brand")
    if name not in _BY_NAME:
        errors.add("brand", "not_one_of", choices=", ".join(BRANDS))
    sid = data.get("store_id")
    if not isinstance(sid, str) or not _STORE_ID.fullmatch(sid.strip()):
        errors.add("store_id", "invalid_store_id")
    store_name = _text(data.get("store_name"), "store_name", 60, errors, True)
    address = _text(data.get("address"), "address", 200, errors, False)
    errors.raise_if_any()
    return Store(str(name), str(sid).strip(), str(store_name), address)


def store_from_map_reply(form: Mapping[str, Any]) -> Store:
    """The store the customer chose on ECPay's map: the reply's ``LogisticsSubType``,
    ``CVSStoreID``, ``CVSStoreName`` and ``CVSAddress``."""
    b = brand_of_subtype(str(form.get("LogisticsSubType") or ""))
    return check_store(
        {
            "brand": b.name if b else form.get("LogisticsSubType"),
            "store_id": form.get("CVSStoreID"),
            "store_name": form.get("CVSStoreName"),
            "address": form.get("CVSAddress"),
        }
    )


def map_params(
    merchant_id: str,
    brand_name: str,
    *,
    c2c: bool,
    collection: bool,
    reply_url: str,
    trade_no: str,
    extra: str = "",
    mobile: bool = False,
) -> dict[str, str]:
    """What the browser posts to ``/Express/map`` (the map is not signed)."""
    return {
        "MerchantID": merchant_id,
        "MerchantTradeNo": trade_no,
        "LogisticsType": "CVS",
        "LogisticsSubType": subtype(brand_name, c2c),
        "IsCollection": "Y" if collection else "N",
        "ServerReplyURL": reply_url,
        "ExtraData": extra,
        "Device": "1" if mobile else "0",
    }


def ecpay_time(at: datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in Taiwan's time, as ECPay writes dates."""
    return at.astimezone(SELLER_TIMEZONE).strftime("%Y/%m/%d %H:%M:%S")


def parse_ecpay_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        local = datetime.strptime(text.strip(), "%Y/%m/%d %H:%M:%S")
    except ValueError:
        return None
    return local.replace(tzinfo=SELLER_TIMEZONE).astimezone(UTC)


_NAME_BAD = re.compile(r"[0-9!-/:-@\[-`{-~]")


def person_name(name: str, max_len: int = 10) -> str:
    """A name as ECPay takes it (no digits or symbols, at most 10 characters; Chinese 2 to
    5, English 4 to 10): digits and symbols dropped, cut to the length."""
    cleaned = _NAME_BAD.sub("", name).strip()
    return cleaned[:max_len]


def cell_phone(phone: str | None) -> str:
    """A Taiwan mobile as ECPay takes it (``09`` and 8 digits) from ``+886912345678`` or
    ``0912-345-678``; empty when it is not one."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    if digits.startswith("886"):
        digits = "0" + digits[3:]
    return digits if re.fullmatch(r"09[0-9]{8}", digits) else ""


@dataclass(frozen=True)
class Parcel:
    """One convenience-store shipment to create."""

    trade_no: str  # MerchantTradeNo: ours, unique, at most 20 letters and digits
    brand: str
    store_id: str
    goods_amount: int  # NT$, whole dollars
    collection_amount: int  # 0: not collected on pickup
    goods_name: str
    receiver_name: str
    receiver_cell_phone: str
    receiver_email: str
    sender_name: str
    sender_cell_phone: str
    created_at: datetime


def create_params(
    merchant_id: str, parcel: Parcel, *, c2c: bool, reply_url: str, c2c_reply_url: str
) -> dict[str, str]:
    """``/Express/Create``'s parameters for ``parcel`` (without ``CheckMacValue``)."""
    collected = parcel.collection_amount > 0
    params = {
        "MerchantID": merchant_id,
        "MerchantTradeNo": parcel.trade_no,
        "MerchantTradeDate": ecpay_time(parcel.created_at),
        "LogisticsType": "CVS",
        "LogisticsSubType": subtype(parcel.brand, c2c),
        "GoodsAmount": str(parcel.goods_amount),
        "IsCollection": "Y" if collected else "N",
        "CollectionAmount": str(parcel.collection_amount) if collected else "0",
        "GoodsName": parcel.goods_name[:50],
        "SenderName": person_name(parcel.sender_name),
        "SenderCellPhone": parcel.sender_cell_phone,
        "ReceiverName": person_name(parcel.receiver_name),
        "ReceiverCellPhone": parcel.receiver_cell_phone,
        "ReceiverEmail": parcel.receiver_email[:50],
        "ReceiverStoreID": parcel.store_id,
        "ServerReplyURL": reply_url,
    }
    if c2c:
        params["LogisticsC2CReplyURL"] = c2c_reply_url
    return params


@dataclass(frozen=True)
class CreateAnswer:
    ok: bool
    fields: dict[str, str]
    message: str | None = None  # ECPay's refusal, for a person


def parse_answer(text: str) -> CreateAnswer:
    """``/Express/Create``'s answer: ``1|MerchantID=...&AllPayLogisticsID=...&...`` when
    the shipment is made, ``0|<message>`` when it is refused. Anything else: not ok, with
    the text as the message."""
    from urllib.parse import parse_qsl

    text = text.strip()
    code, sep, rest = text.partition("|")
    if sep and code == "1":
        fields = dict(parse_qsl(rest, keep_blank_values=True))
        if fields.get("AllPayLogisticsID"):
            return CreateAnswer(True, fields)
        return CreateAnswer(False, fields, "no AllPayLogisticsID in the answer")
    return CreateAnswer(False, {}, (rest if sep else text)[:500] or "empty answer")


def check_trade_no(value: str) -> bool:
    return bool(_TRADE_NO.fullmatch(value))


def status_kind(rtn_code: Any) -> str | None:
    return STATUS_KINDS.get(str(rtn_code).strip())


def tracking_status(kind: str) -> tuple[str, str | None] | None:
    """What a status kind is as a carrier tracking event (``domain.fulfilment.tracking``):
    (status, exception)."""
    return {
        SENT: ("in_transit", None),
        ARRIVED: ("out_for_delivery", None),
        PICKED_UP: ("delivered", None),
        NOT_PICKED_UP: ("exception", "returned_to_sender"),
        STORE_CLOSED: ("exception", "address_issue"),
    }.get(kind)


def print_request(
    merchant_id: str, subtype_name: str, logistics_id: str, payment_no: str, validation_no: str
) -> tuple[str, dict[str, str]]:
    """The label page for one shipment: (path, parameters without ``CheckMacValue``), posted
    by the browser. B2C through ``printTradeDocument``; C2C through the brand's print page
    (7-ELEVEN's also wants the validation number)."""
    b = _BY_SUBTYPE[subtype_name]
    if subtype_name == b.b2c:
        return B2C_PRINT_PATH, {"MerchantID": merchant_id, "AllPayLogisticsID": logistics_id}
    params = {
        "MerchantID": merchant_id,
        "AllPayLogisticsID": logistics_id,
        "CVSPaymentNo": payment_no,
    }
    if b.name == "7-ELEVEN":
        params["CVSValidationNo"] = validation_no
    return b.c2c_print_path, params
