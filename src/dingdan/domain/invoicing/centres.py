"""The one interface every e-invoice value-added centre (加值中心) adapter offers.

A centre takes the invoice's documents (``documents.py``) and answers whether it took them.
Adapters (ECPay B2C e-invoice 2.0, Amego, a local Turnkey export) live in the services layer,
because they talk over HTTP; the invoicing service calls them after its transaction has
committed, from the worker, and records each answer. An answer that is ``retryable`` (the
centre was down, timed out or answered a transient error) leaves the invoice's
``upload_status`` pending for the next round; one that is not is a refusal a person must see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dingdan.domain.invoicing.documents import Allowance, AllowanceVoid, EInvoice, InvoiceVoid


@dataclass(frozen=True)
class CentreAnswer:
    ok: bool
    code: str | None = None  # the centre's own result code (ECPay RtnCode, Amego code)
    message: str | None = None
    retryable: bool = False
    # A centre that assigns numbers itself (ECPay) answers with its number and random code.
    invoice_number: str | None = None
    random_code: str | None = None
    issued_at: datetime | None = None  # when the centre issued it, as it says (aware)


class Centre(Protocol):
    """What the invoicing service needs of a centre. Each call is idempotent by document
    number (a repeated issue of the same number is answered as done, not issued twice)."""

    name: str
    assigns_numbers: bool

    def issue(self, invoice: EInvoice) -> CentreAnswer: ...

    def void(self, void: InvoiceVoid) -> CentreAnswer: ...

    def allowance(self, allowance: Allowance) -> CentreAnswer: ...

    def void_allowance(self, void: AllowanceVoid) -> CentreAnswer: ...
