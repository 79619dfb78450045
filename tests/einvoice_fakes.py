"""Local stand-ins for the e-invoice centres: real HTTP servers on 127.0.0.1, in a thread.

``FakeEcpay`` plays ECPay's B2C e-invoice 2.0 API (the AES envelope under the same keys,
``TransCode``/``RtnCode``, numbers and random codes it assigns, a repeated ``RelateNumber``
refused, ``GetIssue``, void, allowances against the remaining amount, their voids
(``AllowanceInvalid``, ``GetAllowanceInvalid``), the barcode and love code lookups);
``FakeAmego`` plays Amego's (the md5 ``sign``, ``f0401``/``f0501``/``g0401``/``g0501``,
``invoice_query`` listing an invoice's allowances, D0501 once void, the barcode lookup);
``FakeEzpay`` plays ezPay's (``MerchantID_`` and the AES ``PostData_``, ``Status``/``Result``
with a CheckCode under the same keys, a repeated ``MerchantOrderNo`` refused, ``invoice_search``,
void, allowances against the remaining amount and their voids, every answer kept). All
check what they receive as the real services do and keep every request. ``mode``
makes them misbehave: ``down`` answers 503, ``hang`` holds the answer until the test ends
(the client times out), ``garbage`` answers a proxy's HTML page.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dingdan.domain.invoicing import amego as am
from dingdan.domain.invoicing import ecpay_einvoice as ec
from dingdan.domain.invoicing import ezpay_einvoice as ez
from dingdan.domain.invoicing.documents import Allowance, EInvoice, Line, Party

# Error codes of the stand-ins' refusals (the adapters never depend on their values).
ECPAY_DUPLICATE = 5000006  # RelateNumber already used
ECPAY_BAD_FIELD = 2000001
ECPAY_NOT_FOUND = 1600003
AMEGO_DUPLICATE = 1001
AMEGO_BAD_SIGN = 16  # Amego's code for a sign that does not verify
AMEGO_NOT_FOUND = 1003
TIME_WINDOW = 600  # seconds a request's timestamp may be off


@dataclass
class Received:
    path: str
    body: bytes
    data: Any  # the decrypted Data (ECPay) or the parsed data field (Amego)


@dataclass
class _Base:
    mode: str = "up"  # up, down, hang, garbage
    received: list[Received] = field(default_factory=list)
    # Refuse the next request to a path with (code, message).
    refuse_next: dict[str, tuple[int, str]] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    # Called with (path, body) as each request arrives, before it is answered.
    on_receive: Callable[[str, bytes], None] | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> _Base:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.on_receive is not None:
                    fake.on_receive(self.path, body)
                if fake.mode == "hang":
                    fake._release.wait(30)
                    return
                if fake.mode == "down":
                    self._send(503, b"Service Unavailable", "text/plain")
                    return
                if fake.mode == "garbage":
                    self._send(200, b"<html>502 Bad Gateway</html>", "text/html")
                    return
                with fake._lock:
                    status, answer = fake.handle(self.path, body)
                self._send(status, answer, "application/json")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError


# ---- ECPay ---------------------------------------------------------------------------------


@dataclass
class FakeEcpay(_Base):
    merchant_id: str = ec.SANDBOX_MERCHANT_ID
    key: str = ec.SANDBOX_HASH_KEY
    iv: str = ec.SANDBOX_HASH_IV
    barcodes: set[str] = field(default_factory=lambda: {"/TRM+O+P"})
    love_codes: set[str] = field(default_factory=lambda: {"168001"})
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # by RelateNumber
    allowances: dict[str, dict[str, Any]] = field(default_factory=dict)  # by IA_Allow_No
    next_number: int = 10000000

    def _answer(self, data: dict[str, Any] | None, trans_code: int = 1, msg: str = "") -> bytes:
        outer = {
            "PlatformID": "",
            "MerchantID": self.merchant_id,
            "RpHeader": {"Timestamp": int(self.clock())},
            "TransCode": trans_code,
            "TransMsg": msg or ("Success" if trans_code == 1 else "Fail"),
            "Data": ec.encrypt_data(data, self.key, self.iv) if data is not None else "",
        }
        return ec.dump_json(outer).encode()

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            outer = json.loads(body)
            data = ec.decrypt_data(outer["Data"], self.key, self.iv)
        except (ValueError, KeyError, TypeError):
            return 200, self._answer(None, 9999, "Data decrypt failed")
        self.received.append(Received(path, body, data))
        header = outer.get("RqHeader") or {}
        stamp = header.get("Timestamp")
        if header.get("Revision") != ec.REVISION:
            return 200, self._answer(None, 9999, "RqHeader.Revision must be 3.0.0")
        if (
            outer.get("MerchantID") != self.merchant_id
            or data.get("MerchantID") != self.merchant_id
        ):
            return 200, self._answer(None, 9999, "MerchantID mismatch")
        if not isinstance(stamp, int) or abs(stamp - self.clock()) > TIME_WINDOW:
            return 200, self._answer(None, 9999, "Timestamp out of range")
        if path in self.refuse_next:
            code, msg = self.refuse_next.pop(path)
            return 200, self._answer({"RtnCode": code, "RtnMsg": msg})
        route = {
            "/B2CInvoice/Issue": self._issue,
            "/B2CInvoice/GetIssue": self._get_issue,
            "/B2CInvoice/Invalid": self._invalid,
            "/B2CInvoice/Allowance": self._allowance,
            "/B2CInvoice/AllowanceInvalid": self._allowance_invalid,
            "/B2CInvoice/GetAllowanceInvalid": self._get_allowance_invalid,
            "/B2CInvoice/CheckBarcode": lambda d: self._exists(d.get("BarCode"), self.barcodes),
            "/B2CInvoice/CheckLoveCode": lambda d: self._exists(d.get("LoveCode"), self.love_codes),
        }.get(path)
        if route is None:
            return 404, b"{}"
        return 200, self._answer(route(data))

    @staticmethod
    def _refuse(code: int, msg: str) -> dict[str, Any]:
        return {"RtnCode": code, "RtnMsg": msg}

    def _issue_rules(self, d: dict[str, Any]) -> str | None:
        items = d.get("Items") or []
        if not d.get("RelateNumber") or not items:
            return "RelateNumber and Items are required"
        if sum(int(i["ItemAmount"]) for i in items) != int(d.get("SalesAmount") or -1):
            return "the items do not add up to SalesAmount"
        if d.get("CustomerIdentifier") and (d.get("Print") != "1" or d.get("Donation") == "1"):
            return "a B2B invoice is printed and not donated"
        if d.get("Donation") == "1" and (not d.get("LoveCode") or d.get("Print") == "1"):
            return "a donation needs a LoveCode and is not printed"
        if d.get("CarrierType") and d.get("Print") == "1":
            return "an invoice with a carrier is not printed"
        if d.get("CarrierType") in ("2", "3") and not d.get("CarrierNum"):
            return "CarrierNum is required"
        if d.get("Print") == "1" and not (d.get("CustomerName") and d.get("CustomerAddr")):
            return "Because print mark is yes. Customer name and address can not be empty."
        if not (d.get("CustomerPhone") or d.get("CustomerEmail")):
            return "You should be settings either of customer phone and email."
        return None

    def _issue(self, d: dict[str, Any]) -> dict[str, Any]:
        problem = self._issue_rules(d)
        if problem:
            return self._refuse(ECPAY_BAD_FIELD, problem)
        if d["RelateNumber"] in self.invoices:
            return self._refuse(ECPAY_DUPLICATE, "RelateNumber 重複")
        number = f"AB{self.next_number}"
        self.next_number += 1
        random_code = f"{(self.next_number * 7919) % 10000:04d}"
        self.invoices[d["RelateNumber"]] = {
            "InvoiceNo": number,
            "RandomNumber": random_code,
            # ECPay answers in Taiwan's time (UTC+8, no summer time).
            "InvoiceDate": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock() + 8 * 3600)),
            "remaining": int(d["SalesAmount"]),
            "void": False,
            "request": d,
        }
        inv = self.invoices[d["RelateNumber"]]
        return {
            "RtnCode": 1,
            "RtnMsg": "開立發票成功",
            "InvoiceNo": number,
            "InvoiceDate": inv["InvoiceDate"],
            "RandomNumber": random_code,
        }

    def _by_number(self, number: str) -> dict[str, Any] | None:
        return next((i for i in self.invoices.values() if i["InvoiceNo"] == number), None)

    def _get_issue(self, d: dict[str, Any]) -> dict[str, Any]:
        if d.get("RelateNumber"):
            inv = self.invoices.get(d["RelateNumber"])
        else:
            inv = self._by_number(d.get("InvoiceNo") or "")
        if inv is None:
            return self._refuse(ECPAY_NOT_FOUND, "查無發票資料")
        return {
            "RtnCode": 1,
            "RtnMsg": "查詢成功",
            "IIS_Number": inv["InvoiceNo"],
            "IIS_Random_Number": inv["RandomNumber"],
            "IIS_Create_Date": inv["InvoiceDate"],
            "IIS_Invalid_Status": "1" if inv["void"] else "0",
            "IIS_Remain_Allowance_Amt": inv["remaining"],
        }

    def _invalid(self, d: dict[str, Any]) -> dict[str, Any]:
        inv = self._by_number(d.get("InvoiceNo") or "")
        if inv is None or not d.get("Reason"):
            return self._refuse(ECPAY_NOT_FOUND, "查無發票資料")
        if inv["void"]:
            return self._refuse(ECPAY_BAD_FIELD, "發票已作廢")
        inv["void"] = True
        return {"RtnCode": 1, "RtnMsg": "作廢發票成功", "InvoiceNo": inv["InvoiceNo"]}

    def _allowance(self, d: dict[str, Any]) -> dict[str, Any]:
        inv = self._by_number(d.get("InvoiceNo") or "")
        if inv is None or inv["void"]:
            return self._refuse(ECPAY_NOT_FOUND, "查無發票資料")
        amount = int(d.get("AllowanceAmount") or 0)
        if sum(int(i["ItemAmount"]) for i in d.get("Items") or []) != amount:
            return self._refuse(ECPAY_BAD_FIELD, "the items do not add up to AllowanceAmount")
        if amount <= 0 or amount > inv["remaining"]:
            return self._refuse(ECPAY_BAD_FIELD, "折讓金額超過可折讓金額")
        inv["remaining"] -= amount
        allow_no = f"{2026120700000000 + len(self.allowances) + 1}"
        self.allowances[allow_no] = {"invoice": inv["InvoiceNo"], "amount": amount, "void": False}
        return {
            "RtnCode": 1,
            "RtnMsg": "折讓成功",
            "IA_Allow_No": allow_no,
            "IA_Invoice_No": inv["InvoiceNo"],
            "IA_Date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock())),
            "IA_Remain_Allowance_Amt": inv["remaining"],
        }

    def _allowance_invalid(self, d: dict[str, Any]) -> dict[str, Any]:
        allowance = self.allowances.get(d.get("AllowanceNo") or "")
        if allowance is None or allowance["invoice"] != d.get("InvoiceNo"):
            return self._refuse(ECPAY_NOT_FOUND, "查無折讓資料")
        if allowance["void"]:
            return self._refuse(ECPAY_BAD_FIELD, "折讓已作廢")
        if not d.get("Reason"):
            return self._refuse(ECPAY_BAD_FIELD, "作廢原因 格式錯誤")
        allowance["void"] = True
        allowance["reason"] = d["Reason"]
        allowance["voided"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock()))
        inv = self._by_number(allowance["invoice"])
        assert inv is not None
        inv["remaining"] += allowance["amount"]
        return {"RtnCode": 1, "RtnMsg": "作廢折讓成功", "IA_Invoice_No": allowance["invoice"]}

    def _get_allowance_invalid(self, d: dict[str, Any]) -> dict[str, Any]:
        """查詢作廢折讓明細: the void of one allowance, found only once it is void."""
        no = d.get("AllowanceNo") or ""
        allowance = self.allowances.get(no)
        if allowance is None or allowance["invoice"] != d.get("InvoiceNo") or not allowance["void"]:
            return self._refuse(ECPAY_NOT_FOUND, "查無作廢折讓資料")
        return {
            "RtnCode": 1,
            "RtnMsg": "查詢成功",
            "AI_Allow_No": no,
            "AI_Invoice_No": allowance["invoice"],
            "AI_Date": allowance["voided"],
            "Reason": allowance["reason"],
        }

    def _exists(self, value: Any, known: set[str]) -> dict[str, Any]:
        return {"RtnCode": 1, "RtnMsg": "執行成功", "IsExist": "Y" if value in known else "N"}


# ---- Amego ---------------------------------------------------------------------------------


@dataclass
class FakeAmego(_Base):
    ubn: str = am.SANDBOX_UBN
    app_key: str = am.SANDBOX_APP_KEY
    barcodes: set[str] = field(default_factory=lambda: {"/TRM+O+P"})
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # by OrderId
    allowances: dict[str, dict[str, Any]] = field(default_factory=dict)  # by AllowanceNumber
    next_number: int = 26513024

    @staticmethod
    def _reply(code: int, msg: str = "", **extra: Any) -> bytes:
        return am.dump_json({"code": code, "msg": msg, **extra}).encode()

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        fields = am.read_form(body)
        try:
            data = json.loads(fields.get("data", ""))
        except json.JSONDecodeError:
            data = None
        self.received.append(Received(path, body, data))
        if fields.get("invoice") != self.ubn or not am.verify(fields, self.app_key):
            return 200, self._reply(AMEGO_BAD_SIGN, "sign 驗證錯誤")
        if abs(int(fields["time"]) - self.clock()) > TIME_WINDOW:
            return 200, self._reply(AMEGO_BAD_SIGN, "time 逾時")
        if path in self.refuse_next:
            code, msg = self.refuse_next.pop(path)
            return 200, self._reply(code, msg)
        route = {
            "/json/f0401": self._issue,
            "/json/f0501": self._void,
            "/json/g0401": self._allowance,
            "/json/g0501": self._void_allowance,
            "/json/invoice_query": self._query,
            "/json/barcode": self._barcode,
        }.get(path)
        if route is None:
            return 404, b"{}"
        return 200, route(data)

    def _issue(self, d: dict[str, Any]) -> bytes:
        items = d.get("ProductItem") or []
        total = int(d.get("TotalAmount") or 0)
        if not items or sum(int(i["Amount"]) for i in items) != total:
            return self._reply(1010, "ProductItem 金額加總錯誤")
        if (
            int(d["SalesAmount"])
            + int(d["TaxAmount"])
            + int(d["FreeTaxSalesAmount"])
            + int(d["ZeroTaxSalesAmount"])
            != total
        ):
            return self._reply(1011, "金額錯誤")
        if d["OrderId"] in self.invoices:
            return self._reply(AMEGO_DUPLICATE, "訂單編號重複")
        number = f"AA{self.next_number}"
        self.next_number += 1
        random_code = f"{(self.next_number * 7919) % 10000:04d}"
        self.invoices[d["OrderId"]] = {
            "invoice_number": number,
            "random_number": random_code,
            "invoice_type": "C0401",
            "total": total,
            "allowance": [],
        }
        return self._reply(
            0,
            invoice_number=number,
            invoice_time=int(self.clock()),
            random_number=random_code,
        )

    def _by_number(self, number: str) -> dict[str, Any] | None:
        return next((i for i in self.invoices.values() if i["invoice_number"] == number), None)

    def _void(self, d: list[dict[str, Any]]) -> bytes:
        inv = self._by_number(d[0].get("CancelInvoiceNumber", ""))
        if inv is None:
            return self._reply(AMEGO_NOT_FOUND, "發票不存在")
        if inv["invoice_type"] == "C0501":
            return self._reply(1020, "發票已作廢")
        inv["invoice_type"] = "C0501"
        return self._reply(0)

    def _allowance(self, d: list[dict[str, Any]]) -> bytes:
        a = d[0]
        items = a.get("ProductItem") or []
        inv = self._by_number(items[0]["OriginalInvoiceNumber"]) if items else None
        if inv is None or inv["invoice_type"] != "C0401":
            return self._reply(AMEGO_NOT_FOUND, "發票不存在")
        if a["AllowanceNumber"] in self.allowances:
            return self._reply(AMEGO_DUPLICATE, "折讓單號重複")
        if int(a["TotalAmount"]) != sum(int(i["Amount"]) for i in items) or int(
            a["TaxAmount"]
        ) != sum(int(i["Tax"]) for i in items):
            return self._reply(1030, "折讓金額錯誤")
        self.allowances[a["AllowanceNumber"]] = {"invoice": inv, "void": False}
        inv["allowance"].append({"allowance_number": a["AllowanceNumber"], "invoice_type": "D0401"})
        return self._reply(0)

    def _void_allowance(self, d: list[dict[str, Any]]) -> bytes:
        number = d[0].get("CancelAllowanceNumber", "")
        allowance = self.allowances.get(number)
        if allowance is None or allowance["void"]:
            return self._reply(AMEGO_NOT_FOUND, "折讓單不存在")
        allowance["void"] = True
        for entry in allowance["invoice"]["allowance"]:
            if entry["allowance_number"] == number:
                entry["invoice_type"] = "D0501"
        return self._reply(0)

    def _query(self, d: dict[str, Any]) -> bytes:
        if d.get("type") == "invoice":
            inv = self._by_number(d.get("invoice_number") or "")
        else:
            inv = self.invoices.get(d.get("order_id") or "")
        if inv is None:
            return self._reply(AMEGO_NOT_FOUND, "查無資料")
        public = {k: v for k, v in inv.items() if k != "total"}
        return self._reply(0, data=public)

    def _barcode(self, d: dict[str, Any]) -> bytes:
        if d.get("barCode") in self.barcodes:
            return self._reply(0)
        return self._reply(1040, "手機條碼不存在")


# ---- ezPay ---------------------------------------------------------------------------------

EZPAY_TEST_MERCHANT = "31090553"
EZPAY_TEST_KEY = "abcdefghijklmnopqrstuvwxyzabcdef"  # 32, the manual's example key
EZPAY_TEST_IV = "1234567891234567"
EZPAY_BAD_FIELD = "INV10003"
EZPAY_NOT_FOUND = "INV20006"


@dataclass
class FakeEzpay(_Base):
    merchant_id: str = EZPAY_TEST_MERCHANT
    key: str = EZPAY_TEST_KEY
    iv: str = EZPAY_TEST_IV
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # by MerchantOrderNo
    allowances: dict[str, dict[str, Any]] = field(default_factory=dict)  # by AllowanceNo
    next_number: int = 30000000
    # Every answer's bytes, in order (refuse_next takes ezPay's Status codes as the code).
    answers: list[bytes] = field(default_factory=list)

    def _answer(self, status: str, message: str, result: dict[str, Any] | None = None) -> bytes:
        body: dict[str, Any] = {"Status": status, "Message": message}
        body["Result"] = json.dumps(result, ensure_ascii=False) if result is not None else ""
        out = json.dumps(body, ensure_ascii=False).encode()
        self.answers.append(out)
        return out

    def _checked(self, result: dict[str, Any]) -> dict[str, Any]:
        return {**result, "CheckCode": ez.check_code(result, self.key, self.iv)}

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            merchant, d = ez.read_form(body, self.key, self.iv)
        except ez.EzpayWireError:
            self.received.append(Received(path, body, None))
            return 200, self._answer("KEY10002", "資料解密錯誤")
        self.received.append(Received(path, body, d))
        if merchant != self.merchant_id:
            return 200, self._answer("KEY10002", "商店代號錯誤")
        versions = {p: v for p, v in ez.ENDPOINTS.values()}
        if path not in versions:
            return 404, b"{}"
        if d.get("RespondType") != "JSON" or d.get("Version") != versions[path]:
            return 200, self._answer("KEY10006", "Version 或 RespondType 錯誤")
        try:
            stamp = int(d.get("TimeStamp") or "")
        except ValueError:
            stamp = 0
        if abs(stamp - self.clock()) > TIME_WINDOW:
            return 200, self._answer("KEY10007", "TimeStamp 逾時")
        if path in self.refuse_next:
            code, msg = self.refuse_next.pop(path)
            return 200, self._answer(str(code), msg)
        route = {
            "/Api/invoice_issue": self._issue,
            "/Api/invoice_search": self._search,
            "/Api/invoice_invalid": self._invalid,
            "/Api/allowance_issue": self._allowance,
            "/Api/allowanceInvalid": self._allowance_invalid,
        }[path]
        return 200, route(d)

    def _issue(self, d: dict[str, str]) -> bytes:
        names = [d.get(k, "").split("|") for k in ("ItemName", "ItemCount", "ItemPrice", "ItemAmt")]
        if len({len(n) for n in names}) != 1 or not d.get("ItemName"):
            return self._answer(EZPAY_BAD_FIELD, "商品資料錯誤")
        amt, tax, total = int(d["Amt"]), int(d["TaxAmt"]), int(d["TotalAmt"])
        items = sum(int(a) for a in d["ItemAmt"].split("|"))
        if amt + tax != total or items != (amt if d["Category"] == "B2B" else total):
            return self._answer(EZPAY_BAD_FIELD, "金額錯誤")
        if d["Category"] == "B2B" and (not d.get("BuyerUBN") or d.get("PrintFlag") != "Y"):
            return self._answer(EZPAY_BAD_FIELD, "B2B 需統編且列印")
        if d.get("CarrierType") and (d.get("LoveCode") or not d.get("CarrierNum")):
            return self._answer(EZPAY_BAD_FIELD, "載具資料錯誤")
        if d.get("Status") != "1":
            return self._answer(EZPAY_BAD_FIELD, "Status 錯誤")
        order = d["MerchantOrderNo"]
        if order in self.invoices:
            return self._answer(ez.DUPLICATE, "自訂編號重覆")
        number = f"EZ{self.next_number}"
        self.next_number += 1
        inv = {
            "MerchantID": self.merchant_id,
            "InvoiceTransNo": f"{26113010000000000 + self.next_number}",
            "MerchantOrderNo": order,
            "TotalAmt": total,
            "InvoiceNumber": number,
            "RandomNum": f"{(self.next_number * 7919) % 10000:04d}",
            # Taiwan's time (UTC+8).
            "CreateTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock() + 8 * 3600)),
        }
        self.invoices[order] = {**inv, "remaining": total, "void": False, "request": d}
        return self._answer(ez.SUCCESS, "電子發票開立成功", self._checked(inv))

    def _by_number(self, number: str) -> dict[str, Any] | None:
        return next((i for i in self.invoices.values() if i["InvoiceNumber"] == number), None)

    def _search(self, d: dict[str, str]) -> bytes:
        inv = self.invoices.get(d.get("MerchantOrderNo") or "")
        if inv is None or str(inv["TotalAmt"]) != d.get("TotalAmt"):
            return self._answer(EZPAY_NOT_FOUND, "查無發票")
        public = {k: inv[k] for k in ("MerchantID", "InvoiceTransNo", "MerchantOrderNo")}
        public.update({k: inv[k] for k in ("TotalAmt", "InvoiceNumber", "RandomNum", "CreateTime")})
        public["InvoiceStatus"] = "2" if inv["void"] else "1"
        return self._answer(ez.SUCCESS, "查詢成功", self._checked(public))

    def _invalid(self, d: dict[str, str]) -> bytes:
        inv = self._by_number(d.get("InvoiceNumber") or "")
        reason = d.get("InvalidReason") or ""
        if inv is None:
            return self._answer(EZPAY_NOT_FOUND, "查無發票")
        if not reason or len(reason.encode()) > 20:
            return self._answer(EZPAY_BAD_FIELD, "作廢原因錯誤")
        if inv["void"]:
            return self._answer(ez.ALREADY_VOID, "發票已作廢過")
        inv["void"] = True
        result = {"MerchantID": self.merchant_id, "InvoiceNumber": inv["InvoiceNumber"]}
        result["CreateTime"] = inv["CreateTime"]
        return self._answer(ez.SUCCESS, "作廢成功", result)

    def _allowance(self, d: dict[str, str]) -> bytes:
        inv = self._by_number(d.get("InvoiceNo") or "")
        if inv is None or inv["void"] or inv["MerchantOrderNo"] != d.get("MerchantOrderNo"):
            return self._answer(EZPAY_NOT_FOUND, "查無發票")
        nets = [int(a) for a in d["ItemAmt"].split("|")]
        taxes = [int(a) for a in d["ItemTaxAmt"].split("|")]
        total = int(d["TotalAmt"])
        if len(nets) != len(taxes) or sum(nets) + sum(taxes) != total:
            return self._answer(EZPAY_BAD_FIELD, "折讓金額錯誤")
        if total <= 0 or total > inv["remaining"]:
            return self._answer("IAI10004", "折讓金額超過可折讓金額")
        inv["remaining"] -= total
        allow_no = f"A{261130000000 + len(self.allowances) + 1}"
        self.allowances[allow_no] = {
            "invoice": inv["InvoiceNumber"],
            "amount": total,
            "void": False,
        }
        result = {
            "MerchantID": self.merchant_id,
            "AllowanceNo": allow_no,
            "InvoiceNumber": inv["InvoiceNumber"],
            "MerchantOrderNo": inv["MerchantOrderNo"],
            "AllowanceAmt": total,
            "RemainAmt": inv["remaining"],
        }
        return self._answer(ez.SUCCESS, "折讓開立成功", result)

    def _allowance_invalid(self, d: dict[str, str]) -> bytes:
        allowance = self.allowances.get(d.get("AllowanceNo") or "")
        if allowance is None:
            return self._answer("IAI10002", "查無折讓")
        if allowance["void"]:
            return self._answer(ez.ALREADY_VOID, "折讓已作廢過")
        if not d.get("InvalidReason"):
            return self._answer(EZPAY_BAD_FIELD, "作廢原因錯誤")
        allowance["void"] = True
        inv = self._by_number(allowance["invoice"])
        assert inv is not None
        inv["remaining"] += allowance["amount"]
        result = {"MerchantID": self.merchant_id, "AllowanceNo": d["AllowanceNo"]}
        return self._answer(ez.SUCCESS, "作廢折讓成功", result)


# ---- documents the centres are sent in the tests ------------------------------------------

NOW = 1_796_000_000  # 2026-11-30, a fixed clock so request bytes are reproducible
AT = datetime.fromtimestamp(NOW, UTC)
SELLER = Party("凍頂茶行", ubn="24634102")


def invoice(key: str = "DD000123", **kw) -> EInvoice:
    values = dict(
        number=key,
        issued_at=AT,
        random_code="0000",
        seller=SELLER,
        buyer=Party("林小姐", email="lin@example.com"),
        lines=(
            Line(1, "凍頂烏龍茶 150g", Decimal(2), Decimal(350), Decimal(700)),
            Line(2, "運費", Decimal(1), Decimal(100), Decimal(100)),
        ),
        total=Decimal(800),
        carrier_type="mobile",
        carrier_id="/TRM+O+P",
    )
    values.update(kw)
    return EInvoice(**values)  # type: ignore[arg-type]


def allowance(number: str, invoice_number: str, amount: int = 350) -> Allowance:
    return Allowance(
        number=number,
        issued_at=AT,
        invoice_number=invoice_number,
        invoice_issued_at=AT,
        seller=SELLER,
        buyer=Party("林小姐", email="lin@example.com"),
        lines=(Line(1, "凍頂烏龍茶 150g", Decimal(1), Decimal(amount), Decimal(amount)),),
        total=Decimal(amount),
    )
