"""The e-invoice value-added centres over HTTP: ECPay B2C e-invoice 2.0, Amego and ezPay.

All implement ``domain.invoicing.centres.Centre``. What each answer means:

- the centre took it → ``CentreAnswer(ok=True)``, with the number and random code it
  assigned for an issue;
- no answer (refused connection, timeout, broken transfer), an HTTP 5xx, 403/408/429 (ECPay
  answers 403 when called too fast), or an answer that cannot be read → ``ok=False,
  retryable=True``: the invoice stays pending upload and the worker tries again;
- the centre's own refusal (ECPay ``RtnCode`` not 1 or ``TransCode`` not 1, Amego ``code``
  not 0, ezPay ``Status`` not ``SUCCESS`` but for its network/time-out codes, which are
  retried) → ``ok=False, retryable=False`` with the centre's code and message, for a person.

Every call is idempotent by document number. A document already taken (an ``ok`` exchange
of the same operation and number) is answered from the log without a request. An issue the
centre refuses is looked up by our key (ECPay ``GetIssue`` by ``RelateNumber``, Amego
``invoice_query`` by ``OrderId``, ezPay ``invoice_search`` by ``MerchantOrderNo``): when the
centre holds it (an earlier attempt that timed out after the centre took it), the answer is ok
with its number and random code.

For an issue, ``EInvoice.number`` is our key at the centre (ECPay's ``RelateNumber``,
Amego's ``OrderId``, ezPay's ``MerchantOrderNo``), since all assign the invoice number; void,
allowance and allowance void name the centre's invoice number.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from dingdan.config import Settings
from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.db.engine import Database
from dingdan.domain.invoicing import amego as am
from dingdan.domain.invoicing import carrier_formats
from dingdan.domain.invoicing import ecpay_einvoice as ec
from dingdan.domain.invoicing import ezpay_einvoice as ez
from dingdan.domain.invoicing.centres import Centre, CentreAnswer
from dingdan.domain.invoicing.documents import Allowance, AllowanceVoid, EInvoice, InvoiceVoid
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.invoicing.centre_exchanges import Exchanges, Sent
from dingdan.services.shared import provider_keys

Clock = Callable[[], float]
_FORM = "application/x-www-form-urlencoded"


def _retry(sent: Sent, exchanges: Exchanges, error: str | None = None) -> CentreAnswer:
    message = error or sent.error or f"HTTP {sent.status}"
    exchanges.finish(sent, "retry", error=message)
    return CentreAnswer(ok=False, code=None, message=message, retryable=True)


def _post(
    exchanges: Exchanges,
    operation: str,
    number: str,
    url: str,
    body: bytes,
    content_type: str,
    timeout: float,
) -> tuple[Sent, CentreAnswer | None]:
    """Post one request, kept in the exchange log; with what came back, the answer to give
    when no body did (to retry) or a status other than 200 did (refused), else None: the
    centre's adapter reads the body."""
    sent = exchanges.post(operation, number, url, body, {"Content-Type": content_type}, timeout)
    if sent.transient or sent.body is None:
        return sent, _retry(sent, exchanges)
    if sent.status != 200:
        exchanges.finish(sent, "refused", code=str(sent.status), error=f"HTTP {sent.status}")
        return sent, CentreAnswer(ok=False, code=str(sent.status), message=f"HTTP {sent.status}")
    return sent, None


# ---- ECPay ---------------------------------------------------------------------------------


class EcpayCentre:
    """ECPay B2C e-invoice 2.0 (綠界). ECPay assigns the numbers."""

    name = "ecpay"
    assigns_numbers = True

    def __init__(
        self,
        db: Database,
        *,
        url: str = ec.SANDBOX_URL,
        merchant_id: str = ec.SANDBOX_MERCHANT_ID,
        hash_key: str = ec.SANDBOX_HASH_KEY,
        hash_iv: str = ec.SANDBOX_HASH_IV,
        timeout: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        self.exchanges = Exchanges(db, self.name)
        self.url = url.rstrip("/")
        self.merchant_id = merchant_id
        self._key = hash_key
        self._iv = hash_iv
        self.timeout = timeout
        self.clock = clock

    def __repr__(self) -> str:  # never the keys
        return f"EcpayCentre(url={self.url!r}, merchant_id={self.merchant_id!r})"

    def request_body(self, data: dict[str, Any]) -> bytes:
        """The exact bytes posted for ``data`` now."""
        return ec.envelope(self.merchant_id, data, self._key, self._iv, int(self.clock()))

    def _call(self, operation: str, number: str, data: dict[str, Any]) -> tuple[Sent, Any]:
        """Post; (what was sent and came back, the opened Reply or a CentreAnswer to retry)."""
        url, body = self.url + ec.PATHS[operation], self.request_body(data)
        sent, failed = _post(
            self.exchanges, operation, number, url, body, "application/json", self.timeout
        )
        if failed is not None:
            return sent, failed
        assert sent.body is not None  # _post answers when no body came back
        try:
            reply = ec.open_reply(sent.body, self._key, self._iv)
        except ec.EcpayWireError as exc:
            return sent, _retry(sent, self.exchanges, f"unreadable answer: {exc}")
        return sent, reply

    def _settle(self, sent: Sent, reply: ec.Reply) -> CentreAnswer:
        """Record a readable answer as ok or refused; the answer it gives."""
        if reply.ok:
            self.exchanges.finish(sent, "ok", answer=reply.data, code=str(reply.rtn_code))
            return CentreAnswer(ok=True, code=str(reply.rtn_code), message=reply.rtn_msg)
        if reply.trans_code != ec.SUCCESS:
            code, message = f"TransCode {reply.trans_code}", reply.trans_msg
        else:
            code, message = str(reply.rtn_code), reply.rtn_msg
        self.exchanges.finish(sent, "refused", answer=reply.data, code=code, error=message)
        return CentreAnswer(ok=False, code=code, message=message)

    def _run(self, operation: str, number: str, data: dict[str, Any]) -> tuple[CentreAnswer, Any]:
        sent, reply = self._call(operation, number, data)
        if isinstance(reply, CentreAnswer):
            return reply, None
        return self._settle(sent, reply), reply.data

    # -- the Centre protocol

    def issue(self, invoice: EInvoice) -> CentreAnswer:
        done = self.exchanges.last_ok("issue", invoice.number)
        if done is not None:
            return _issued(
                done.get("InvoiceNo"),
                done.get("RandomNumber"),
                "already issued",
                done.get("InvoiceDate"),
            )
        answer, data = self._run("issue", invoice.number, ec.issue_data(self.merchant_id, invoice))
        if answer.ok:
            got = data or {}
            return _issued(
                got.get("InvoiceNo"),
                got.get("RandomNumber"),
                answer.message,
                got.get("InvoiceDate"),
            )
        if answer.retryable:
            return answer
        # Refused: perhaps because an earlier attempt was taken (a repeated RelateNumber).
        held, found = self._run(
            "get_issue", invoice.number, ec.get_issue_data(self.merchant_id, invoice.number)
        )
        if held.retryable:
            return held
        if held.ok and found and found.get("IIS_Number"):
            return _issued(
                found["IIS_Number"],
                found.get("IIS_Random_Number"),
                "already issued",
                found.get("IIS_Create_Date"),
            )
        return answer

    def void(self, void: InvoiceVoid) -> CentreAnswer:
        if self.exchanges.last_ok("void", void.number) is not None:
            return CentreAnswer(ok=True, code=str(ec.SUCCESS), message="already void")
        answer, _ = self._run("void", void.number, ec.void_data(self.merchant_id, void))
        if answer.ok or answer.retryable:
            return answer
        # Refused: perhaps because an earlier attempt was taken (already void).
        data = ec.get_issue_by_number_data(self.merchant_id, void.number, void.issued_at)
        held, found = self._run("get_issue", void.number, data)
        if held.retryable:
            return held
        if held.ok and str((found or {}).get("IIS_Invalid_Status")) == "1":
            return CentreAnswer(ok=True, code=str(ec.SUCCESS), message="already void")
        return answer

    def allowance(self, allowance: Allowance) -> CentreAnswer:
        done = self.exchanges.last_ok("allowance", allowance.number)
        if done is not None:
            return CentreAnswer(ok=True, code=str(ec.SUCCESS), message="already taken")
        answer, _ = self._run(
            "allowance", allowance.number, ec.allowance_data(self.merchant_id, allowance)
        )
        return answer

    def void_allowance(self, void: AllowanceVoid) -> CentreAnswer:
        if self.exchanges.last_ok("void_allowance", void.number) is not None:
            return CentreAnswer(ok=True, code=str(ec.SUCCESS), message="already void")
        taken = self.exchanges.last_ok("allowance", void.number) or {}
        centre_number = str(taken.get("IA_Allow_No") or "")
        invoice_number = str(taken.get("IA_Invoice_No") or "")
        if not centre_number:
            return CentreAnswer(
                ok=False, code="unknown_allowance", message="ECPay never took this allowance"
            )
        data = ec.void_allowance_data(self.merchant_id, void, invoice_number, centre_number)
        answer, _ = self._run("void_allowance", void.number, data)
        if answer.ok or answer.retryable:
            return answer
        # Refused: perhaps because an earlier attempt was taken (its answer lost).
        ask = ec.get_allowance_invalid_data(self.merchant_id, invoice_number, centre_number)
        held, found = self._run("get_allowance_invalid", void.number, ask)
        if held.retryable:
            return held
        if held.ok and str((found or {}).get("AI_Allow_No") or "") == centre_number:
            return CentreAnswer(ok=True, code=str(ec.SUCCESS), message="already void")
        return answer

    # -- lookups: True or False, None when ECPay could not be asked (format rules apply)

    def check_mobile_barcode(self, barcode: str) -> bool | None:
        return self._exists(
            "check_barcode", barcode, ec.check_barcode_data(self.merchant_id, barcode)
        )

    def check_love_code(self, love_code: str) -> bool | None:
        return self._exists(
            "check_love_code", love_code, ec.check_love_code_data(self.merchant_id, love_code)
        )

    def _exists(self, operation: str, value: str, data: dict[str, Any]) -> bool | None:
        answer, found = self._run(operation, value, data)
        if not answer.ok or found is None:
            return None
        said = str(found.get("IsExist") or "").upper()
        return {"Y": True, "N": False}.get(said)  # anything else: not a clear answer


def _issued(number: Any, random_code: Any, message: str | None, at: Any = None) -> CentreAnswer:
    return CentreAnswer(
        ok=True,
        code="1",
        message=message,
        invoice_number=str(number) if number else None,
        random_code=str(random_code) if random_code else None,
        issued_at=_when(at),
    )


def _when(at: Any) -> datetime | None:
    """The centre's issue time: ECPay's ``InvoiceDate`` (``2026-12-07 10:00:00``, Taiwan's
    time), Amego's ``invoice_time`` (Unix seconds); None when absent or unreadable."""
    if isinstance(at, int | float) and not isinstance(at, bool):
        return datetime.fromtimestamp(at, UTC)
    if isinstance(at, str):
        try:
            local = datetime.strptime(at.strip()[:19], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
        return local.replace(tzinfo=SELLER_TIMEZONE).astimezone(UTC)
    return None


# ---- Amego ---------------------------------------------------------------------------------


class AmegoCentre:
    """Amego (光貿). Amego assigns the numbers from the ranges registered there."""

    name = "amego"
    assigns_numbers = True

    def __init__(
        self,
        db: Database,
        *,
        url: str = am.URL,
        ubn: str = am.SANDBOX_UBN,
        app_key: str = am.SANDBOX_APP_KEY,
        timeout: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        self.exchanges = Exchanges(db, self.name)
        self.url = url.rstrip("/")
        self.ubn = ubn
        self._app_key = app_key
        self.timeout = timeout
        self.clock = clock

    def __repr__(self) -> str:  # never the key
        return f"AmegoCentre(url={self.url!r}, ubn={self.ubn!r})"

    def request_body(self, data: Any) -> bytes:
        return am.form_body(self.ubn, data, int(self.clock()), self._app_key)

    def _run(self, operation: str, number: str, data: Any) -> tuple[CentreAnswer, dict[str, Any]]:
        url, body = self.url + am.PATHS[operation], self.request_body(data)
        sent, failed = _post(self.exchanges, operation, number, url, body, _FORM, self.timeout)
        if failed is not None:
            return failed, {}
        assert sent.body is not None  # _post answers when no body came back
        try:
            reply = am.open_reply(sent.body)
        except ValueError as exc:
            return _retry(sent, self.exchanges, f"unreadable answer: {exc}"), {}
        code = am.code_of(reply)
        message = str(reply.get("msg") or "")
        if code == am.SUCCESS:
            self.exchanges.finish(sent, "ok", answer=reply, code=str(code))
            return CentreAnswer(ok=True, code=str(code), message=message), reply
        self.exchanges.finish(sent, "refused", answer=reply, code=str(code), error=message)
        return CentreAnswer(ok=False, code=str(code), message=message), reply

    def _held(self, number: str) -> tuple[CentreAnswer, dict[str, Any]]:
        """What Amego holds under our key (``invoice_query`` by order)."""
        answer, reply = self._run("query", number, am.query_data(number))
        found = reply.get("data") if answer.ok else None
        return answer, found if isinstance(found, dict) else {}

    def issue(self, invoice: EInvoice) -> CentreAnswer:
        done = self.exchanges.last_ok("issue", invoice.number)
        if done is not None:
            return _issued(
                done.get("invoice_number"),
                done.get("random_number"),
                "already issued",
                done.get("invoice_time"),
            )
        answer, reply = self._run("issue", invoice.number, am.issue_data(invoice))
        if answer.ok:
            return _issued(
                reply.get("invoice_number"),
                reply.get("random_number"),
                answer.message,
                reply.get("invoice_time"),
            )
        if answer.retryable:
            return answer
        held, found = self._held(invoice.number)
        if held.retryable:
            return held
        if found.get("invoice_number"):
            return _issued(found["invoice_number"], found.get("random_number"), "already issued")
        return answer

    def void(self, void: InvoiceVoid) -> CentreAnswer:
        if self.exchanges.last_ok("void", void.number) is not None:
            return CentreAnswer(ok=True, code=str(am.SUCCESS), message="already void")
        answer, _ = self._run("void", void.number, am.void_data(void))
        if answer.ok or answer.retryable:
            return answer
        held, reply = self._run("query", void.number, am.query_number_data(void.number))
        if held.retryable:
            return held
        found = reply.get("data") if held.ok else None
        if isinstance(found, dict) and found.get("invoice_type") in am.VOID_TYPES:
            return CentreAnswer(ok=True, code=str(am.SUCCESS), message="already void")
        return answer

    def allowance(self, allowance: Allowance) -> CentreAnswer:
        if self.exchanges.last_ok("allowance", allowance.number) is not None:
            return CentreAnswer(ok=True, code=str(am.SUCCESS), message="already taken")
        answer, _ = self._run("allowance", allowance.number, am.allowance_data(allowance))
        return answer

    def void_allowance(self, void: AllowanceVoid) -> CentreAnswer:
        if self.exchanges.last_ok("void_allowance", void.number) is not None:
            return CentreAnswer(ok=True, code=str(am.SUCCESS), message="already void")
        answer, _ = self._run("void_allowance", void.number, am.void_allowance_data(void))
        if answer.ok or answer.retryable or not void.invoice_number:
            return answer
        # Refused: perhaps because an earlier attempt was taken (its answer lost). The
        # invoice's query lists its allowances, D0501 once void.
        ask = am.query_number_data(void.invoice_number)
        held, reply = self._run("query", void.number, ask)
        if held.retryable:
            return held
        found = reply.get("data") if held.ok else None
        listed = found.get("allowance") if isinstance(found, dict) else None
        for entry in listed if isinstance(listed, list) else []:
            if (
                isinstance(entry, dict)
                and entry.get("allowance_number") == void.number
                and entry.get("invoice_type") in am.ALLOWANCE_VOID_TYPES
            ):
                return CentreAnswer(ok=True, code=str(am.SUCCESS), message="already void")
        return answer

    def check_mobile_barcode(self, barcode: str) -> bool | None:
        """Amego answers code 0 for a barcode that exists; None when it could not be asked."""
        answer, _ = self._run("check_barcode", barcode, am.check_barcode_data(barcode))
        if answer.retryable:
            return None
        return answer.ok

    def check_love_code(self, love_code: str) -> bool | None:
        return None  # Amego has no lookup: the format rule applies


# ---- ezPay ---------------------------------------------------------------------------------


class EzpayCentre:
    """ezPay (簡單行動支付). ezPay assigns the numbers from the ranges registered there."""

    name = "ezpay"
    assigns_numbers = True

    def __init__(
        self,
        db: Database,
        *,
        url: str = ez.TEST_URL,
        merchant_id: str,
        hash_key: str,
        hash_iv: str,
        timeout: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        if not (merchant_id and hash_key and hash_iv):
            raise ValueError(
                "ezPay needs its merchant id, HashKey and HashIV: set "
                "DINGDAN_EINVOICE_EZPAY_MERCHANT_ID, _HASH_KEY and _HASH_IV (ezPay publishes "
                "no test shop) or store them on Settings → Provider keys"
            )
        if len(hash_key) != 32 or len(hash_iv) != 16:
            raise ValueError("ezPay's HashKey must be 32 characters and its HashIV 16")
        self.exchanges = Exchanges(db, self.name)
        self.db = db
        self.url = url.rstrip("/")
        self.merchant_id = merchant_id
        self._key = hash_key
        self._iv = hash_iv
        self.timeout = timeout
        self.clock = clock

    def __repr__(self) -> str:  # never the keys
        return f"EzpayCentre(url={self.url!r}, merchant_id={self.merchant_id!r})"

    def now(self) -> int:
        return int(self.clock())

    def request_body(self, fields: dict[str, str]) -> bytes:
        return ez.form_body(self.merchant_id, fields, self._key, self._iv)

    def _run(
        self, operation: str, number: str, fields: dict[str, str]
    ) -> tuple[CentreAnswer, dict[str, Any]]:
        """Post; the answer and ezPay's Result (empty unless it answered SUCCESS)."""
        url, body = self.url + ez.ENDPOINTS[operation][0], self.request_body(fields)
        sent, failed = _post(self.exchanges, operation, number, url, body, _FORM, self.timeout)
        if failed is not None:
            return failed, {}
        assert sent.body is not None  # _post answers when no body came back
        try:
            reply = ez.open_reply(sent.body, self._key, self._iv)
        except ez.EzpayWireError as exc:
            return _retry(sent, self.exchanges, f"unreadable answer: {exc}"), {}
        if reply.ok:
            self.exchanges.finish(sent, "ok", answer=reply.result, code=reply.status)
            return CentreAnswer(ok=True, code=reply.status, message=reply.message), reply.result
        if reply.retryable:
            self.exchanges.finish(
                sent, "retry", answer=reply.result or None, code=reply.status, error=reply.message
            )
            return CentreAnswer(
                ok=False, code=reply.status, message=reply.message, retryable=True
            ), {}
        self.exchanges.finish(
            sent, "refused", answer=reply.result or None, code=reply.status, error=reply.message
        )
        return CentreAnswer(ok=False, code=reply.status, message=reply.message), {}

    @staticmethod
    def _unsendable(exc: ez.EzpayWireError) -> CentreAnswer:
        return CentreAnswer(ok=False, code="bad_document", message=str(exc))

    def issue(self, invoice: EInvoice) -> CentreAnswer:
        done = self.exchanges.last_ok("issue", invoice.number)
        if done is not None:
            return _ezpay_issued(done, "already issued")
        try:
            fields = ez.issue_fields(invoice, self.now())
            search = ez.search_fields(invoice.number, invoice.total, self.now())
        except ez.EzpayWireError as exc:
            return self._unsendable(exc)
        answer, result = self._run("issue", invoice.number, fields)
        if answer.ok:
            return _ezpay_issued(result, answer.message)
        if answer.retryable:
            return answer
        # Refused: perhaps because an earlier attempt was taken (a repeated MerchantOrderNo).
        held, found = self._run("query", invoice.number, search)
        if held.retryable:
            return held
        if held.ok and found.get("InvoiceNumber"):
            return _ezpay_issued(found, "already issued")
        return answer

    def void(self, void: InvoiceVoid) -> CentreAnswer:
        if self.exchanges.last_ok("void", void.number) is not None:
            return CentreAnswer(ok=True, code=ez.SUCCESS, message="already void")
        answer, _ = self._run("void", void.number, ez.void_fields(void, self.now()))
        if answer.code == ez.ALREADY_VOID:
            # Taken by an earlier attempt whose answer was lost.
            return CentreAnswer(ok=True, code=ez.SUCCESS, message="already void")
        return answer

    def _order_of(self, invoice_number: str) -> str | None:
        """Our key (MerchantOrderNo) of the invoice ezPay numbered ``invoice_number``: the
        document of the ok issue (or search) whose answer names it."""
        X = EinvoiceExchange  # noqa: N806 - short

        def work(conn: Connection) -> list[Any]:
            return list(
                conn.execute(
                    select(X.document_number, X.answer)
                    .where(
                        X.centre == self.name,
                        X.operation.in_(("issue", "query")),
                        X.outcome == "ok",
                        X.answer.contains(invoice_number),
                    )
                    .order_by(X.id.desc())
                ).all()
            )

        for row in self.db.read(work):
            try:
                answer = json.loads(row.answer or "{}")
            except ValueError:
                continue
            if isinstance(answer, dict) and answer.get("InvoiceNumber") == invoice_number:
                return str(row.document_number)
        return None

    def allowance(self, allowance: Allowance) -> CentreAnswer:
        if self.exchanges.last_ok("allowance", allowance.number) is not None:
            return CentreAnswer(ok=True, code=ez.SUCCESS, message="already taken")
        order_no = self._order_of(allowance.invoice_number)
        if order_no is None:
            return CentreAnswer(
                ok=False, code="unknown_invoice", message="ezPay never issued this invoice here"
            )
        try:
            fields = ez.allowance_fields(allowance, order_no, self.now())
        except ez.EzpayWireError as exc:
            return self._unsendable(exc)
        answer, _ = self._run("allowance", allowance.number, fields)
        return answer

    def void_allowance(self, void: AllowanceVoid) -> CentreAnswer:
        if self.exchanges.last_ok("void_allowance", void.number) is not None:
            return CentreAnswer(ok=True, code=ez.SUCCESS, message="already void")
        taken = self.exchanges.last_ok("allowance", void.number) or {}
        centre_number = str(taken.get("AllowanceNo") or "")
        if not centre_number:
            return CentreAnswer(
                ok=False, code="unknown_allowance", message="ezPay never took this allowance"
            )
        fields = ez.void_allowance_fields(void, centre_number, self.now())
        answer, _ = self._run("void_allowance", void.number, fields)
        return answer

    # ezPay's barcode and love code lookups are a separate application
    # (/Api_inv_application, its own CheckValue): not used, the format rules apply.
    def check_mobile_barcode(self, barcode: str) -> bool | None:
        return None

    def check_love_code(self, love_code: str) -> bool | None:
        return None


def _ezpay_issued(result: dict[str, Any], message: str | None) -> CentreAnswer:
    number, random_code = result.get("InvoiceNumber"), result.get("RandomNum")
    return CentreAnswer(
        ok=True,
        code=ez.SUCCESS,
        message=message,
        invoice_number=str(number) if number else None,
        random_code=str(random_code) if random_code else None,
        issued_at=_when(result.get("CreateTime")),
    )


# ---- carrier and donation checks ----------------------------------------------------------


def look_up(centre: Centre | None, kind: str, code: str) -> bool | None:
    """Whether the centre knows a mobile barcode (``kind`` mobile) or a donation code
    (donation): True, False, or None when it cannot be asked (no centre, no such lookup,
    down, slow) or did not answer clearly."""
    name = "check_mobile_barcode" if kind == "mobile" else "check_love_code"
    lookup = getattr(centre, name, None)
    return lookup(code) if lookup is not None else None


def verify_mobile_barcode(centre: Centre | None, barcode: str) -> bool:
    """A mobile barcode that has the format and, when the centre can be asked, exists there;
    offline (no centre, or it did not answer) the format rule alone decides."""
    if not carrier_formats.is_mobile_barcode(barcode):
        return False
    found = look_up(centre, "mobile", barcode)
    return True if found is None else found


def verify_love_code(centre: Centre | None, love_code: str) -> bool:
    """A donation code (愛心碼) that has the format and, when the centre can be asked, is
    registered; offline the format rule alone decides."""
    if not carrier_formats.is_love_code(love_code):
        return False
    found = look_up(centre, "donation", love_code)
    return True if found is None else found


# ---- from the settings ---------------------------------------------------------------------

CENTRES = ("ecpay", "amego", "ezpay")


def centre_from_settings(db: Database, settings: Settings) -> Centre | None:
    """The centre ``DINGDAN_EINVOICE_CENTRE`` names (``ecpay``, ``amego`` or ``ezpay``),
    configured from the ``DINGDAN_EINVOICE_*`` settings; None when no centre is set (invoices
    are then kept for a Turnkey upload by other means). ValueError for a name that is not a
    centre, or for ezPay without its keys (ezPay publishes no test shop)."""
    name = settings.einvoice_centre.strip().lower()
    if not name:
        return None
    if name == "ecpay":
        # The keys as an admin stored them, else the environment's (provider_keys).
        keys = provider_keys.read_keys(db, "einvoice_ecpay", settings)
        return EcpayCentre(
            db,
            url=settings.einvoice_ecpay_url,
            merchant_id=keys["merchant_id"],
            hash_key=keys["hash_key"],
            hash_iv=keys["hash_iv"],
            timeout=settings.einvoice_centre_timeout,
        )
    if name == "amego":
        keys = provider_keys.read_keys(db, "einvoice_amego", settings)
        return AmegoCentre(
            db,
            url=settings.einvoice_amego_url,
            ubn=keys["ubn"],
            app_key=keys["app_key"],
            timeout=settings.einvoice_centre_timeout,
        )
    if name == "ezpay":
        keys = provider_keys.read_keys(db, "einvoice_ezpay", settings)
        return EzpayCentre(
            db,
            url=settings.einvoice_ezpay_url,
            merchant_id=keys["merchant_id"],
            hash_key=keys["hash_key"],
            hash_iv=keys["hash_iv"],
            timeout=settings.einvoice_centre_timeout,
        )
    raise ValueError(f"DINGDAN_EINVOICE_CENTRE must be one of {', '.join(CENTRES)} or empty")


def numbering_centre(settings: Settings) -> str | None:
    """The name of the centre ``DINGDAN_EINVOICE_CENTRE`` names when it assigns the invoice
    numbers itself (ECPay, Amego, ezPay: their numbers come from the ranges registered there, so
    the local ranges are not used); None: numbers come from the local ranges."""
    name = settings.einvoice_centre.strip().lower()
    assigns = {
        "ecpay": EcpayCentre.assigns_numbers,
        "amego": AmegoCentre.assigns_numbers,
        "ezpay": EzpayCentre.assigns_numbers,
    }
    return name if assigns.get(name) else None
