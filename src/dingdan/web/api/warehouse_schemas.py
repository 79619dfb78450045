"""Request bodies of the pick, pack and settings endpoints (shape only; services check the
rules)."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.schemas import Strict

OrderNumber = Field(min_length=1, max_length=40)
Code = Field(min_length=1, max_length=100, description="a SKU or a product barcode")


class PickIn(Strict):
    orders: list[str] = Field(min_length=1, max_length=200, description="order numbers")


class PackIn(Strict):
    location: str | None = Field(
        default=None,
        max_length=32,
        description="may be left out when one location holds the order's unshipped allocations",
    )
    scans: list[str] = Field(
        max_length=5000, description="every scanned unit, a SKU or a product barcode each"
    )


class ChannelIn(Strict):
    code: str = Field(min_length=1, max_length=32, description="lower case, e.g. shopee")
    name: str = Field(min_length=1, max_length=100)


class ChannelPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None


class CarrierIn(Strict):
    code: str = Field(min_length=1, max_length=50, description="lower case, e.g. kerry")
    name: str = Field(min_length=1, max_length=100)
    tracking_format: str | None = Field(
        default=None, max_length=50, description="tcat, s10, ups, fedex, dhl; null: generic"
    )
    tracking_url: str | None = Field(default=None, max_length=300, description="link with {number}")
    store_pickup: bool = False
    active: bool = True


class CarrierPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    tracking_format: str | None = Field(default=None, max_length=50)
    tracking_url: str | None = Field(default=None, max_length=300)
    store_pickup: bool | None = None
    active: bool | None = None


class TaxRateIn(Strict):
    rate: str = Field(
        max_length=10, description='percent as a decimal string, at most 4 decimals, e.g. "5.0"'
    )
    prices_include_tax: bool
