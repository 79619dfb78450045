"""Bodies and answers of convenience-store pickup through ECPay logistics (shape only)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dingdan.domain.fulfilment.ecpay_logistics import BRANDS
from dingdan.web.api.orders.view_schemas import Shipment
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.schemas import StockLine, Strict

Brand = Literal[BRANDS]  # type: ignore[valid-type]


class StoreIn(Strict):
    brand: Brand
    store_id: str = Field(min_length=1, max_length=10, description="ECPay's store number")
    store_name: str = Field(min_length=1, max_length=60)
    address: str | None = Field(default=None, max_length=200)


class CvsDelivery(View):
    type: Literal["cvs_pickup"]
    brand: str
    store_id: str
    store_name: str
    address: str | None = None


class BrowserForm(View):
    """A form for the browser to post (ECPay's map or label page): ``url`` and its fields."""

    url: str
    fields: dict[str, str]


class CvsShipmentIn(Strict):
    location: str | None = Field(default=None, max_length=32)
    lines: list[StockLine] | None = Field(default=None, min_length=1, max_length=500)
    collect: bool = Field(
        default=True,
        description="a COD order: collect its balance on pickup (超商取貨付款); false: do not",
    )


class Parcel(View):
    trade_no: str = Field(description="MerchantTradeNo")
    brand: str
    logistics_sub_type: str
    store_id: str
    state: str = Field(description="pending, created, refused")
    logistics_id: str | None = Field(description="ECPay's AllPayLogisticsID")
    payment_no: str | None = Field(description="CVSPaymentNo, the shipment number")
    validation_no: str | None = Field(description="CVSValidationNo (7-ELEVEN C2C)")
    goods_amount: int = Field(description="NT$")
    collection_amount: int = Field(description="NT$ collected on pickup; 0: none")
    shipment_id: str | None
    last_code: str | None = Field(description="ECPay's latest RtnCode")
    last_message: str | None
    store_closed: bool = Field(description="the pickup store closed: the customer chooses again")


class CvsShipment(View):
    shipment: Shipment
    parcel: Parcel


class Exchange(View):
    id: str
    direction: str = Field(description="out: we asked ECPay; in: ECPay posted to us")
    operation: str
    trade_no: str | None
    url: str
    outcome: str
    http_status: int | None
    code: str | None
    error: str | None
    request_body: str
    response_body: str | None
    at: Timestamp
    answered_at: Timestamp | None


class Parcels(View):
    items: list[Parcel]
    exchanges: list[Exchange]
