"""A local stand-in for ECPay's all-in-one payment (綠界 AioCheckOut V5): a real HTTP server
on 127.0.0.1, in a thread, with ECPay's stage shop (3002607) and its keys.

- ``POST /Cashier/AioCheckOut/V5``: the checkout form as a browser posts it; refused
  (``CheckMacValue Error``) unless its CheckMacValue is right and its fields are there as
  ECPay requires them; kept as a trade with a TradeNo of its own.
- ``POST /CreditDetail/DoAction``: a card refund (Action R), signed, for a paid card trade
  and at most what is left of it; answers as ECPay does (``RtnCode=1&RtnMsg=...``).

ECPay's callbacks are posted by ``pay`` (ReturnURL) and ``give_info`` (PaymentInfoURL),
signed with the stage keys, to the URLs the checkout named, through ``deliver(url, body)``
(the test's client; by default an HTTP POST). Every callback's body and answer is kept.
"""

from __future__ import annotations

import secrets
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from dingdan.domain.payments import ecpay as ec
from dingdan.domain.shared.ecpay_mac import check_mac_value, verify

REQUIRED = (
    "MerchantID",
    "MerchantTradeNo",
    "MerchantTradeDate",
    "PaymentType",
    "TotalAmount",
    "TradeDesc",
    "ItemName",
    "ReturnURL",
    "ChoosePayment",
    "EncryptType",
    "CheckMacValue",
)


def _http_post(url: str, body: bytes) -> str:
    r = httpx.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    return r.text


@dataclass
class Trade:
    form: dict[str, str]
    trade_no: str
    refunded: int = 0
    paid: bool = False


@dataclass
class FakeEcpayPayments:
    merchant_id: str = ec.STAGE_MERCHANT_ID
    hash_key: str = ec.STAGE_HASH_KEY
    hash_iv: str = ec.STAGE_HASH_IV
    deliver: Callable[[str, bytes], str] = _http_post
    trades: dict[str, Trade] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    callbacks: list[tuple[str, bytes, str]] = field(default_factory=list)
    refunds: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeEcpayPayments:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                if self.path == ec.CHECKOUT_PATH:
                    out = fake._checkout(form)
                    kind = "text/html; charset=utf-8"
                elif self.path == ec.DO_ACTION_PATH:
                    out = fake._do_action(form)
                    kind = "text/plain; charset=utf-8"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = out.encode()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- what ECPay checks ----

    def _checkout(self, form: dict[str, str]) -> str:
        missing = [k for k in REQUIRED if not form.get(k)]
        if missing or not verify(form, self.hash_key, self.hash_iv):
            self.refused.append(form.get("MerchantTradeNo", ""))
            return "CheckMacValue Error" if not missing else f"Missing {missing}"
        with self._lock:
            if form["MerchantTradeNo"] in self.trades:
                self.refused.append(form["MerchantTradeNo"])
                return "MerchantTradeNo Duplicate"
            no = "2412" + "".join(secrets.choice("0123456789") for _ in range(16))
            self.trades[form["MerchantTradeNo"]] = Trade(form, no)
        return "<html><body>ECPay checkout</body></html>"

    def _do_action(self, form: dict[str, str]) -> str:
        self.refunds.append(form)
        if not verify(form, self.hash_key, self.hash_iv):
            return "RtnCode=0&RtnMsg=CheckMacValue Error"
        trade = self.trades.get(form.get("MerchantTradeNo", ""))
        ok = (
            trade is not None
            and trade.paid
            and trade.form["ChoosePayment"] == "Credit"
            and form.get("TradeNo") == trade.trade_no
            and form.get("Action") == "R"
        )
        if not ok or trade is None:
            return "RtnCode=0&RtnMsg=Trade not found"
        amount = int(form.get("TotalAmount") or 0)
        if amount <= 0 or trade.refunded + amount > int(trade.form["TotalAmount"]):
            return "RtnCode=0&RtnMsg=Amount Error"
        trade.refunded += amount
        return urllib.parse.urlencode(
            {
                "MerchantID": self.merchant_id,
                "MerchantTradeNo": form["MerchantTradeNo"],
                "TradeNo": trade.trade_no,
                "RtnCode": "1",
                "RtnMsg": "Success",
            }
        )

    # ---- the callbacks ----

    def signed(self, fields: dict[str, str]) -> dict[str, str]:
        return {**fields, "CheckMacValue": check_mac_value(fields, self.hash_key, self.hash_iv)}

    def result_fields(self, merchant_trade_no: str, rtn_code: str = "1") -> dict[str, str]:
        trade = self.trades[merchant_trade_no]
        kind = {"Credit": "Credit_CreditCard", "ATM": "ATM_TAISHIN", "CVS": "CVS_CVS"}
        return {
            "MerchantID": self.merchant_id,
            "MerchantTradeNo": merchant_trade_no,
            "StoreID": "",
            "RtnCode": rtn_code,
            "RtnMsg": "交易成功" if rtn_code == "1" else "交易失敗",
            "TradeNo": trade.trade_no,
            "TradeAmt": trade.form["TotalAmount"],
            "PaymentDate": "2026/12/07 18:30:00",
            "PaymentType": kind[trade.form["ChoosePayment"]],
            "PaymentTypeChargeFee": "10",
            "TradeDate": trade.form["MerchantTradeDate"],
            "SimulatePaid": "0",
            "CustomField1": "",
            "CustomField2": "",
            "CustomField3": "",
            "CustomField4": "",
            **self._extra_paid_info(trade),
        }

    def _extra_paid_info(self, trade: Trade) -> dict[str, str]:
        """NeedExtraPaidInfo=Y on a card trade: ECPay's extra fields, the stage's test card
        (4311-9522-2222-2222) as card6no and card4no."""
        if trade.form.get("NeedExtraPaidInfo") != "Y" or trade.form["ChoosePayment"] != "Credit":
            return {}
        return {
            "gwsr": "11943456",
            "process_date": "2026/12/07 18:30:00",
            "auth_code": "777777",
            "amount": trade.form["TotalAmount"],
            "eci": "0",
            "card4no": "2222",
            "card6no": "431195",
            "stage": "0",
            "stast": "0",
            "staed": "0",
            "red_dan": "0",
            "red_de_amt": "0",
            "red_ok_amt": "0",
            "red_yet": "0",
        }

    def post(self, url: str, fields: dict[str, str]) -> str:
        body = urllib.parse.urlencode(fields).encode()
        answer = self.deliver(url, body)
        self.callbacks.append((url, body, answer))
        return answer

    def pay(self, merchant_trade_no: str, rtn_code: str = "1", **change: str) -> str:
        """The payment result (ReturnURL), signed; ``change`` alters fields before signing."""
        trade = self.trades[merchant_trade_no]
        answer = self.post(
            trade.form["ReturnURL"],
            self.signed({**self.result_fields(merchant_trade_no, rtn_code), **change}),
        )
        if answer == "1|OK" and rtn_code == "1":
            trade.paid = True
        return answer

    def give_info(self, merchant_trade_no: str, expire: str | None = None) -> str:
        """The ATM account (RtnCode 2) or CVS code (10100073), signed, to PaymentInfoURL."""
        trade = self.trades[merchant_trade_no]
        base = self.result_fields(merchant_trade_no)
        base.pop("PaymentDate")
        base.pop("SimulatePaid")
        if trade.form["ChoosePayment"] == "ATM":
            extra = {
                "RtnCode": "2",
                "RtnMsg": "Get VirtualAccount Succeeded",
                "BankCode": "812",
                "vAccount": "9103522850" + trade.trade_no[-4:],
                "ExpireDate": expire or "2026/12/10",
            }
        else:
            extra = {
                "RtnCode": "10100073",
                "RtnMsg": "Get CVS Code Succeeded.",
                "PaymentNo": "LLL" + trade.trade_no[-11:],
                "ExpireDate": expire or "2026/12/10 18:30:00",
                "Barcode1": "",
                "Barcode2": "",
                "Barcode3": "",
            }
        return self.post(trade.form["PaymentInfoURL"], self.signed({**base, **extra}))
