"""What an e-invoice says, as plain values.

The MIG 4.0 messages (F0401, F0501, G0401, G0501), the value-added centres' requests (ECPay,
Amego) and the printed proof (電子發票證明聯) are all built from these values, never from
database rows: the services turn an issued invoice into an ``EInvoice`` and hand it on.

Amounts are whole NT$ (``Decimal`` with no fraction). Line amounts and ``total`` include the
tax, as Taiwan's shops price; ``tax_split`` gives the tax-excluded sales amount and the tax
the way the specification rounds them (B2B shows the tax apart, B2C folds it in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

TAX_RATE = Decimal("0.05")  # 營業稅, the general rate
B2C_BUYER_UBN = "0000000000"  # what MIG writes for a buyer without a business number

CarrierType = Literal["mobile", "certificate", "member"]
TaxType = Literal["taxable", "zero_rated", "exempt"]


@dataclass(frozen=True)
class Party:
    """A seller or a buyer. ``ubn`` is None for a consumer buyer."""

    name: str
    ubn: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Line:
    """One line, amounts tax included; ``sequence`` counts from 1."""

    sequence: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    unit: str | None = None


@dataclass(frozen=True)
class EInvoice:
    """An issued e-invoice (F0401's content)."""

    number: str  # two capital letters and eight digits, e.g. AB10000000
    issued_at: datetime  # aware; periods and dates are read in Asia/Taipei
    random_code: str  # four digits
    seller: Party  # ubn required
    buyer: Party  # ubn set: B2B
    lines: tuple[Line, ...]
    total: Decimal  # tax included, whole NT$
    tax_type: TaxType = "taxable"
    carrier_type: CarrierType | None = None
    carrier_id: str | None = None
    donation_code: str | None = None  # 愛心碼
    buyer_remark: str | None = None

    @property
    def is_b2b(self) -> bool:
        return bool(self.buyer.ubn)

    @property
    def printed(self) -> bool:
        """PrintMark: a B2B invoice, or a B2C one with neither carrier nor donation."""
        return self.is_b2b or (self.carrier_type is None and self.donation_code is None)


@dataclass(frozen=True)
class InvoiceVoid:
    """A void of an issued invoice (F0501)."""

    number: str
    issued_at: datetime  # the invoice's
    voided_at: datetime
    reason: str
    seller_ubn: str
    buyer_ubn: str | None


@dataclass(frozen=True)
class Allowance:
    """An allowance (折讓, G0401) against one invoice; amounts tax included."""

    number: str  # the allowance's own number (seller's series)
    issued_at: datetime
    invoice_number: str
    invoice_issued_at: datetime
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    total: Decimal  # tax included
    tax_type: TaxType = "taxable"


@dataclass(frozen=True)
class AllowanceVoid:
    """A void of an allowance (G0501)."""

    number: str
    issued_at: datetime  # the allowance's
    voided_at: datetime
    reason: str
    seller_ubn: str
    buyer_ubn: str | None
    # The invoice the allowance is against: not in G0501, but a centre that is asked
    # whether it holds the void already (Amego's invoice_query) is asked by it.
    invoice_number: str | None = None


def whole(amount: Decimal) -> Decimal:
    """NT$ amounts are whole: round half up."""
    return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def tax_split(
    total: Decimal, *, b2b: bool, tax_type: TaxType = "taxable"
) -> tuple[Decimal, Decimal]:
    """(sales amount, tax) for a tax-included ``total``.

    B2B: tax = round(total / 1.05 * 0.05) half up, sales = total - tax (so they add up). B2C:
    the tax stays inside the sales amount and the tax field is 0. Zero-rated and exempt sales
    carry no tax.
    """
    total = whole(total)
    if not b2b or tax_type != "taxable":
        return total, Decimal(0)
    tax = whole(total * TAX_RATE / (1 + TAX_RATE))
    return total - tax, tax
