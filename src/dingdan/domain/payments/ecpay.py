"""ECPay's all-in-one payment (綠界 全方位金流, AioCheckOut V5) as ECPay documents it: the
checkout's parameters, the callbacks' fields, the card refund (CreditDetail/DoAction). Pure:
the signature is ``domain/shared/ecpay_mac.py`` (SHA256, EncryptType 1); the service
(``services/payments/ecpay.py``) sends and records.

- ``MerchantTradeNo``: ours, unique per attempt, at most 20 letters and digits.
- ``MerchantTradeDate``: ``yyyy/MM/dd HH:mm:ss`` in Asia/Taipei.
- ``TotalAmount``: a whole number of New Taiwan dollars (ECPay takes TWD only).
- ``ItemName``: the items joined with ``#`` (ECPay shows one per line), at most 400 bytes.
- ``ChoosePayment``: ``Credit`` (card), ``ATM`` (a virtual account per attempt, with
  ``ExpireDate`` in days, 1-60), ``CVS`` (a convenience-store payment code, with
  ``StoreExpireDate`` in minutes); ATM and CVS give their account or code to
  ``PaymentInfoURL`` (RtnCode 2 and 10100073) and the payment to ``ReturnURL`` later.
- ``NeedExtraPaidInfo=Y`` (card): ReturnURL adds the card's details, among them ``card6no``
  (the first six digits) and ``card4no`` (the last four).
- ``ReturnURL`` answers ``1|OK`` (plain text) when the result is taken, ``0|<message>``
  otherwise; ECPay posts again until it reads ``1|OK``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dingdan.domain.shared.ecpay_mac import check_mac_value, verify

TAIPEI = ZoneInfo("Asia/Taipei")
STAGE_URL = "https://payment-stage.ecpay.com.tw"
PRODUCTION_URL = "https://payment.ecpay.com.tw"
CHECKOUT_PATH = "/Cashier/AioCheckOut/V5"
DO_ACTION_PATH = "/CreditDetail/DoAction"
# ECPay's published test shop for the all-in-one payment (shared vectors, ecpay_payment.json).
STAGE_MERCHANT_ID = "3002607"
STAGE_HASH_KEY = "pwFHCqoQZGmho4w6"
STAGE_HASH_IV = "EkRm7iFT261dpevs"

# Our names of the ways to pay → ECPay's ChoosePayment.
CHOICES = {"card": "Credit", "atm": "ATM", "cvs": "CVS"}
RTN_PAID = "1"
RTN_ATM_INFO = "2"  # PaymentInfoURL: the virtual account was given
RTN_CVS_INFO = "10100073"  # PaymentInfoURL: the payment code was given
OK_ANSWER = "1|OK"
ERROR_ANSWER = "0|error"
ATM_DAYS = 3  # ExpireDate: days the virtual account stays open (1-60)
CVS_MINUTES = 3 * 24 * 60  # StoreExpireDate: minutes the code stays valid
MAX_ITEM_NAME = 400
MAX_TRADE_DESC = 200
TRADE_NO = re.compile(r"[0-9A-Za-z]{1,20}")


def trade_no(order_number: str) -> str:
    """A new MerchantTradeNo for one attempt at paying ``order_number``: its letters and
    digits (at most 10) and 10 random ones, so that each attempt is unique and still shows
    which order it was for."""
    head = re.sub(r"[^0-9A-Za-z]", "", order_number)[:10]
    return (head + secrets.token_hex(8).upper())[:20]


def taipei_time(at: datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in Asia/Taipei (MerchantTradeDate)."""
    return at.astimezone(TAIPEI).strftime("%Y/%m/%d %H:%M:%S")


def whole_dollars(amount_minor: int, currency: str) -> int:
    """TotalAmount: ECPay takes whole New Taiwan dollars. ValueError for another currency or
    an amount with cents (or none at all)."""
    if currency != "TWD":
        raise ValueError("ECPay takes TWD only")
    if amount_minor <= 0 or amount_minor % 100:
        raise ValueError("ECPay takes whole dollars")
    return amount_minor // 100


def _clip_bytes(text: str, most: int) -> str:
    while len(text.encode()) > most:
        text = text[:-1]
    return text


def item_name(names: list[str]) -> str:
    """The items joined with ``#``, as ECPay shows them one per line (a ``#`` in a name
    would split it, so it becomes a full-width ＃)."""
    joined = "#".join(n.replace("#", "＃").strip() or "-" for n in names) or "-"
    return _clip_bytes(joined, MAX_ITEM_NAME)


@dataclass(frozen=True)
class Checkout:
    merchant_id: str
    merchant_trade_no: str
    at: datetime
    amount: int  # whole dollars
    description: str
    items: list[str]
    choice: str  # card, atm, cvs
    return_url: str
    client_back_url: str
    order_result_url: str
    payment_info_url: str


def checkout_params(c: Checkout) -> dict[str, str]:
    """The AioCheckOut V5 parameters of ``c``, unsigned, with their documented names."""
    if c.choice not in CHOICES:
        raise ValueError(f"unknown choice {c.choice!r}")
    if not TRADE_NO.fullmatch(c.merchant_trade_no):
        raise ValueError("MerchantTradeNo is at most 20 letters and digits")
    params = {
        "MerchantID": c.merchant_id,
        "MerchantTradeNo": c.merchant_trade_no,
        "MerchantTradeDate": taipei_time(c.at),
        "PaymentType": "aio",
        "TotalAmount": str(c.amount),
        "TradeDesc": _clip_bytes(c.description.strip() or "-", MAX_TRADE_DESC),
        "ItemName": item_name(c.items),
        "ReturnURL": c.return_url,
        "ClientBackURL": c.client_back_url,
        "OrderResultURL": c.order_result_url,
        "ChoosePayment": CHOICES[c.choice],
        "EncryptType": "1",
    }
    if c.choice == "card":
        # ReturnURL then also tells the card's card6no and card4no (the card risk rules).
        params["NeedExtraPaidInfo"] = "Y"
    elif c.choice == "atm":
        params["ExpireDate"] = str(ATM_DAYS)
        params["PaymentInfoURL"] = c.payment_info_url
    elif c.choice == "cvs":
        params["StoreExpireDate"] = str(CVS_MINUTES)
        params["PaymentInfoURL"] = c.payment_info_url
    return params


def signed(params: Mapping[str, str], hash_key: str, hash_iv: str) -> dict[str, str]:
    """``params`` with their CheckMacValue (SHA256)."""
    out = {k: v for k, v in params.items() if k != "CheckMacValue"}
    out["CheckMacValue"] = check_mac_value(out, hash_key, hash_iv)
    return out


def is_signed(params: Mapping[str, str], hash_key: str, hash_iv: str) -> bool:
    return verify(params, hash_key, hash_iv)


@dataclass(frozen=True)
class Result:
    """What a ReturnURL or PaymentInfoURL callback says (already verified)."""

    merchant_id: str
    merchant_trade_no: str
    rtn_code: str
    rtn_msg: str
    trade_no: str
    amount: int | None  # TradeAmt, whole dollars
    payment_type: str
    simulated: bool  # SimulatePaid=1: the stage's "simulate payment" button, no money
    bank_code: str | None
    v_account: str | None
    payment_no: str | None
    expires_at: datetime | None


def expire_time(text: str | None) -> datetime | None:
    """ExpireDate of a PaymentInfoURL callback: ``yyyy/MM/dd`` (ATM: the whole day) or
    ``yyyy/MM/dd HH:mm:ss`` (CVS), Asia/Taipei; None when absent or unreadable."""
    if not text:
        return None
    text = text.strip()
    for fmt, whole_day in (("%Y/%m/%d %H:%M:%S", False), ("%Y/%m/%d", True)):
        try:
            parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - Taipei, set below
        except ValueError:
            continue
        if whole_day:
            parsed = datetime.combine(parsed.date(), time(23, 59, 59))
        return parsed.replace(tzinfo=TAIPEI)
    return None


def _amount(text: Any) -> int | None:
    if isinstance(text, str) and re.fullmatch(r"[0-9]{1,12}", text.strip()):
        return int(text.strip())
    return None


def read_result(form: Mapping[str, str]) -> Result:
    """The callback's fields; ValueError when one that every callback has is missing."""
    trade = form.get("MerchantTradeNo") or ""
    if not TRADE_NO.fullmatch(trade):
        raise ValueError("no MerchantTradeNo")
    rtn = (form.get("RtnCode") or "").strip()
    if not rtn:
        raise ValueError("no RtnCode")

    def opt(name: str) -> str | None:
        value = (form.get(name) or "").strip()
        return value or None

    return Result(
        merchant_id=form.get("MerchantID") or "",
        merchant_trade_no=trade,
        rtn_code=rtn,
        rtn_msg=form.get("RtnMsg") or "",
        trade_no=(form.get("TradeNo") or "").strip(),
        amount=_amount(form.get("TradeAmt")),
        payment_type=form.get("PaymentType") or "",
        simulated=(form.get("SimulatePaid") or "0").strip() == "1",
        bank_code=opt("BankCode"),
        v_account=opt("vAccount"),
        payment_no=opt("PaymentNo"),
        expires_at=expire_time(form.get("ExpireDate")),
    )


def refund_params(
    merchant_id: str, merchant_trade_no: str, trade_no: str, amount: int
) -> dict[str, str]:
    """CreditDetail/DoAction with Action R (a card refund, in part or whole), unsigned."""
    return {
        "MerchantID": merchant_id,
        "MerchantTradeNo": merchant_trade_no,
        "TradeNo": trade_no,
        "Action": "R",
        "TotalAmount": str(amount),
    }


def deadline_after(at: datetime, choice: str) -> datetime | None:
    """The latest ECPay would give for the account or code of a checkout started at ``at``
    (used until PaymentInfoURL tells the exact ExpireDate)."""
    if choice == "atm":
        day = at.astimezone(TAIPEI).date() + timedelta(days=ATM_DAYS)
        return datetime.combine(day, time(23, 59, 59), tzinfo=TAIPEI)
    if choice == "cvs":
        return at + timedelta(minutes=CVS_MINUTES)
    return None
