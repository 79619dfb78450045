"""A local stand-in for ECPay logistics (物流整合): a real HTTP server on 127.0.0.1, in a
thread, that answers as ECPay's published API does.

- ``/Express/map``: the store map. Instead of a map it "chooses" ``store_for[subtype]`` at
  once and answers the page ECPay's map ends with: a form that the browser posts to the
  ``ServerReplyURL`` with ``CVSStoreID``, ``CVSStoreName``, ``CVSAddress`` ... (not signed,
  as ECPay's is not). ``map_reply(html)`` reads that form back for a test.
- ``/Express/Create``: checks the ``CheckMacValue`` (MD5) and the fields ECPay requires,
  refuses a ``MerchantTradeNo`` seen before, and answers ``1|MerchantID=...&AllPayLogisticsID=
  ...&CVSPaymentNo=...&CheckMacValue=...`` or ``0|<message>``.
- the print pages (``/helper/printTradeDocument`` and the C2C ones): check the MAC and answer
  an HTML label naming the shipment.
- ``notice(logistics_id, code, message)``: a status notice as ECPay posts it to the
  ``ServerReplyURL`` of that parcel, signed; ``store_change(...)`` the C2C store notice.

``mode`` ``down`` answers 503; every request is kept in ``received``.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

from dingdan.domain.fulfilment import ecpay_logistics as ec
from dingdan.domain.shared import ecpay_mac

MERCHANT_ID, HASH_KEY, HASH_IV = ec.SANDBOX_B2C

STORES = {
    "UNIMART": ("991182", "馥樺門市", "台北市南港區三重路23號1樓"),
    "UNIMARTC2C": ("991182", "馥樺門市", "台北市南港區三重路23號1樓"),
    "FAMI": ("006598", "全家南港店", "台北市南港區南港路二段93號"),
    "FAMIC2C": ("006598", "全家南港店", "台北市南港區南港路二段93號"),
    "HILIFE": ("2001", "萊爾富南港店", "台北市南港區興中路1號"),
    "HILIFEC2C": ("2001", "萊爾富南港店", "台北市南港區興中路1號"),
    "OKMART": ("1328", "OK南港店", "台北市南港區玉成街1號"),
    "OKMARTC2C": ("1328", "OK南港店", "台北市南港區玉成街1號"),
}


@dataclass
class Received:
    path: str
    form: dict[str, str]


@dataclass
class FakeEcpayLogistics:
    hash_key: str = HASH_KEY
    hash_iv: str = HASH_IV
    mode: str = "up"  # up, down
    received: list[Received] = field(default_factory=list)
    parcels: dict[str, dict[str, str]] = field(default_factory=dict)  # by AllPayLogisticsID
    _trade_nos: set[str] = field(default_factory=set)
    _next: int = 1000
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def sign(self, params: dict[str, str]) -> dict[str, str]:
        mac = ecpay_mac.check_mac_value(params, self.hash_key, self.hash_iv, "md5")
        return {**params, "CheckMacValue": mac}

    def start(self) -> FakeEcpayLogistics:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                with fake._lock:
                    fake.received.append(Received(self.path, form))
                if fake.mode == "down":
                    self._send(503, "Service Unavailable", "text/plain")
                    return
                status, text, kind = fake.answer(self.path, form)
                self._send(status, text, kind)

            def _send(self, status: int, text: str, kind: str) -> None:
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
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

    # ---- answers ---------------------------------------------------------------------------

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, str, str]:
        if path == ec.MAP_PATH:
            return 200, self._map(form), "text/html"
        if path == ec.CREATE_PATH:
            return 200, self._create(form), "text/html"
        if path == ec.B2C_PRINT_PATH or path.startswith("/Express/Print"):
            return self._print(form)
        return 404, "Not Found", "text/plain"

    def _map(self, form: dict[str, str]) -> str:
        sub = form.get("LogisticsSubType", "")
        store = STORES.get(sub)
        if store is None or form.get("LogisticsType") != "CVS" or not form.get("ServerReplyURL"):
            return "<html><body>參數錯誤</body></html>"
        reply = {
            "MerchantID": form.get("MerchantID", ""),
            "MerchantTradeNo": form.get("MerchantTradeNo", ""),
            "LogisticsSubType": sub,
            "CVSStoreID": store[0],
            "CVSStoreName": store[1],
            "CVSAddress": store[2],
            "CVSTelephone": "",
            "CVSOutSide": "0",
            "ExtraData": form.get("ExtraData", ""),
        }
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in reply.items()
        )
        action = html.escape(form["ServerReplyURL"])
        return (
            f'<html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{action}">{inputs}</form></body></html>'
        )

    def _refuse(self, message: str) -> str:
        return f"0|{message}"

    def _create(self, form: dict[str, str]) -> str:
        if not ecpay_mac.verify(form, self.hash_key, self.hash_iv, "md5"):
            return self._refuse("CheckMacValue Error")
        sub = form.get("LogisticsSubType", "")
        if sub not in STORES or form.get("LogisticsType") != "CVS":
            return self._refuse("LogisticsSubType Error")
        if not re.fullmatch(r"09[0-9]{8}", form.get("ReceiverCellPhone", "")):
            return self._refuse("ReceiverCellPhone Error")
        if not form.get("ReceiverStoreID") or not form.get("ReceiverName"):
            return self._refuse("ReceiverStoreID Error")
        amount = int(form.get("GoodsAmount") or 0)
        if not 1 <= amount <= 20000:
            return self._refuse("GoodsAmount Error")
        if form.get("IsCollection") == "Y" and int(form.get("CollectionAmount") or 0) <= 0:
            return self._refuse("CollectionAmount Error")
        with self._lock:
            if form["MerchantTradeNo"] in self._trade_nos:
                return self._refuse("MerchantTradeNo 重複")
            self._trade_nos.add(form["MerchantTradeNo"])
            self._next += 1
            lid = str(1700000 + self._next)
        fields = {
            "MerchantID": form["MerchantID"],
            "MerchantTradeNo": form["MerchantTradeNo"],
            "RtnCode": "300",
            "RtnMsg": "訂單處理中(已收到訂單資料)",
            "AllPayLogisticsID": lid,
            "LogisticsType": "CVS",
            "LogisticsSubType": sub,
            "GoodsAmount": form["GoodsAmount"],
            "UpdateStatusDate": form["MerchantTradeDate"],
            "ReceiverName": form["ReceiverName"],
            "ReceiverPhone": form.get("ReceiverPhone", ""),
            "ReceiverCellPhone": form["ReceiverCellPhone"],
            "ReceiverEmail": form.get("ReceiverEmail", ""),
            "ReceiverAddress": "",
            "CVSPaymentNo": f"F{lid[-7:]}",
            "CVSValidationNo": "1234" if sub == "UNIMARTC2C" else "",
            "BookingNote": "",
        }
        self.parcels[lid] = {**fields, "ServerReplyURL": form.get("ServerReplyURL", "")}
        return "1|" + urlencode(self.sign(fields))

    def _print(self, form: dict[str, str]) -> tuple[int, str, str]:
        if not ecpay_mac.verify(form, self.hash_key, self.hash_iv, "md5"):
            return 200, "CheckMacValue Error", "text/html"
        lid = form.get("AllPayLogisticsID", "")
        if lid not in self.parcels:
            return 200, "查無資料", "text/html"
        return 200, f"<html><body>託運單 {html.escape(lid)}</body></html>", "text/html"

    # ---- what ECPay posts to us ------------------------------------------------------------

    def notice(self, logistics_id: str, code: str, message: str, at: str) -> dict[str, str]:
        """A status notice for the parcel, signed, as ECPay posts it."""
        p = self.parcels[logistics_id]
        fields = {
            k: p[k]
            for k in (
                "MerchantID",
                "MerchantTradeNo",
                "AllPayLogisticsID",
                "LogisticsType",
                "LogisticsSubType",
                "GoodsAmount",
                "ReceiverName",
                "ReceiverPhone",
                "ReceiverCellPhone",
                "ReceiverEmail",
                "ReceiverAddress",
                "CVSPaymentNo",
                "CVSValidationNo",
                "BookingNote",
            )
        }
        return self.sign({**fields, "RtnCode": code, "RtnMsg": message, "UpdateStatusDate": at})

    def store_change(self, logistics_id: str, status: str, store_id: str) -> dict[str, str]:
        p = self.parcels[logistics_id]
        return self.sign(
            {
                "MerchantID": p["MerchantID"],
                "AllPayLogisticsID": logistics_id,
                "GoodsName": "",
                "GoodsAmount": p["GoodsAmount"],
                "StoreType": "01",
                "Status": status,
                "StoreID": store_id,
            }
        )


def map_reply(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the form the map's last page posts."""
    action = re.search(r'action="([^"]+)"', page)
    assert action is not None, page
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    return html.unescape(action[1]), {k: html.unescape(v) for k, v in fields.items()}
