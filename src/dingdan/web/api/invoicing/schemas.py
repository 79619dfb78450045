"""Request and answer bodies of the invoicing endpoints (shape only; services check the
rules)."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import View
from dingdan.web.api.shared.schemas import Strict


class InvoicingSettingsIn(Strict):
    seller_name: str = Field(max_length=200)
    seller_ubn: str | None = Field(default=None, max_length=20, description="統一編號 (2023 rule)")
    seller_address: str | None = Field(default=None, max_length=300)
    seller_phone: str | None = Field(default=None, max_length=40)
    seller_email: str | None = Field(default=None, max_length=254)
    einvoice: bool
    issue_on: str = Field(default="payment", max_length=20, description="payment or shipment")
    void_closing_day: int = Field(
        default=15,
        ge=-1_000_000,
        le=1_000_000,
        description="voids are taken until this day (1-28) of the month after the period",
    )


class InvoicingSettings(View):
    seller_name: str
    seller_ubn: str | None
    seller_address: str | None
    seller_phone: str | None
    seller_email: str | None
    einvoice: bool
    issue_on: str
    void_closing_day: int
    configured: bool = Field(description="false until the settings are saved: no invoice yet")


class TrackIn(Strict):
    period: str = Field(max_length=7, description="first month of the period, e.g. 2026-11")
    prefix: str = Field(max_length=2, description="two capital letters")
    start: str = Field(max_length=8, description="eight digits ending in 00 or 50")
    end: str = Field(max_length=8, description="eight digits ending in 49 or 99")


class TrackImportIn(Strict):
    csv: str = Field(
        max_length=200_000,
        description="the tax platform's assignment file (字軌配號) as CSV text: a header naming "
        "the period (期別: 11511, 115/11 or 2026-11), prefix (字軌), start (起號) and end (迄號)",
    )


class Track(View):
    id: str
    period: str
    prefix: str
    start: str
    end: str
    next: str | None = Field(description="the next number to use (null: used up)")
    used: int
    remaining: int
    created_at: str | None


class TrackList(View):
    items: list[Track]


class BlankRun(View):
    prefix: str
    start: str = Field(description="the first number never issued, 8 digits")
    end: str
    count: int


class BlankNumbers(View):
    period: str
    items: list[BlankRun]
    total: int
    numbered_by: str | None = Field(
        None,
        description="the centre that assigned the period's numbers (ecpay, amego, ezpay): it "
        "reports their blanks, so none are listed here",
    )


class Invoice(View):
    number: str | None = Field(description="null while pending")
    random_code: str | None
    status: str = Field(description="pending, issued or void")
    type: str = Field(description="b2c or b2b")
    einvoice: bool
    period: str | None
    issued_at: str | None
    voided_at: str | None
    currency: str
    total: str
    tax: str
    carrier_type: str | None
    carrier_id: str | None
    donation_code: str | None
    buyer_ubn: str | None
    buyer_name: str | None
    seller_ubn: str | None
    seller_name: str
    upload_status: str = Field(
        description="not_required, pending, pending_void (the void is left), uploaded or failed"
    )
    void_reason: str | None
    centre: str | None = Field(
        None, description="the value-added centre that assigned the number (ecpay, amego, ezpay)"
    )
    supplement_of: str | None = Field(
        None, description="the invoice this one adds to (an order raised after its void window)"
    )
    document: str = Field(
        "invoice", description="invoice, or receipt (收據: an order shipped to Hong Kong, no tax)"
    )


class InvoiceList(View):
    items: list[Invoice]


class InvoiceLine(View):
    sequence: int
    description: str
    quantity: int
    unit_price: str
    amount: str


class AllowanceOut(View):
    number: str
    amount: str
    tax: str
    status: str = Field(description="issued or void")
    reason: str | None
    issued_at: str | None
    upload_status: str = Field(
        description="not_required, pending, pending_void (its void is left), uploaded or failed"
    )
    upload_error: str | None = Field(None, description="what the centre said when it refused")
    voided_at: str | None = None
    void_reason: str | None = None


class AllowanceDetail(AllowanceOut):
    invoice_number: str


class AllowanceIn(Strict):
    amount: str = Field(max_length=40, description="tax included; whole NT$ on an e-invoice")
    reason: str = Field(min_length=1, max_length=200)


class AllowanceList(View):
    items: list[AllowanceOut]


class InvoiceDetail(Invoice):
    order_number: str
    lines: list[InvoiceLine]
    allowances: list[AllowanceOut]


class VoidIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


class FapiaoIn(Strict):
    """A mainland China order's fapiao request (发票): ``company`` with the unified social
    credit code (checked with its check character), or ``personal`` without one."""

    buyer_type: str | None = Field(default=None, max_length=20, description="company or personal")
    title: str | None = Field(default=None, max_length=200, description="抬头")
    tax_id: str | None = Field(default=None, max_length=40, description="统一社会信用代码")
    email: str | None = Field(default=None, max_length=254)


class FapiaoOut(View):
    buyer_type: str
    title: str
    tax_id: str | None
    email: str
