"""ECPay's CheckMacValue (綠界 檢查碼), shared by its payment (AioCheckOut and the payment
result, SHA256) and logistics (物流整合, MD5) APIs, as ECPay documents it:

1. drop ``CheckMacValue`` and sort the other parameters by name, case-insensitively;
2. join them as ``name=value`` with ``&`` (empty values kept: ``CustomField4=``), put
   ``HashKey=<key>&`` before and ``&HashIV=<iv>`` after;
3. URL-encode the whole string as PHP's ``urlencode`` does (space ``+``, UTF-8 bytes as
   ``%XX``), then put back the characters .NET leaves unescaped: ``-_.!*()`` (``~`` stays
   ``%7E``);
4. lowercase it, hash it (SHA256, or MD5 for logistics) and write the hash in uppercase hex.

Checked against ECPay's published examples (shared vectors ``ecpay_payment.json`` and
``ecpay_logistics.json``). A callback is accepted only when its value equals the one
computed here, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping
from typing import Literal

Method = Literal["sha256", "md5"]

# The characters .NET's UrlEncode leaves as they are and PHP's urlencode escapes.
_DOTNET_KEPT = {"%2d": "-", "%5f": "_", "%2e": ".", "%21": "!", "%2a": "*", "%28": "(", "%29": ")"}


def php_urlencode(text: str) -> str:
    """PHP ``urlencode``: space ``+``, UTF-8 bytes as uppercase ``%XX``, only ``A-Za-z0-9-_.``
    left as is (``~`` too is escaped). ECPay's one URL encoding: the CheckMacValue's (step 3)
    and the e-invoice API's, before its AES (``domain/invoicing/ecpay_einvoice.py``)."""
    return urllib.parse.quote_plus(text, safe="").replace("~", "%7E")


def _encoded(text: str) -> str:
    out = php_urlencode(text).lower()
    for escaped, char in _DOTNET_KEPT.items():
        out = out.replace(escaped, char)
    return out


def check_mac_value(
    params: Mapping[str, object], hash_key: str, hash_iv: str, method: Method = "sha256"
) -> str:
    """The CheckMacValue of ``params`` (any ``CheckMacValue`` among them is left out)."""
    names = sorted((k for k in params if k != "CheckMacValue"), key=lambda k: k.lower())
    joined = "&".join(f"{k}={'' if params[k] is None else params[k]}" for k in names)
    raw = _encoded(f"HashKey={hash_key}&{joined}&HashIV={hash_iv}").encode()
    digest = hashlib.md5(raw) if method == "md5" else hashlib.sha256(raw)  # noqa: S324
    return digest.hexdigest().upper()


def verify(
    params: Mapping[str, object], hash_key: str, hash_iv: str, method: Method = "sha256"
) -> bool:
    """Whether ``params`` carry the CheckMacValue their other fields give under our keys."""
    given = params.get("CheckMacValue")
    if not isinstance(given, str) or not given:
        return False
    expected = check_mac_value(params, hash_key, hash_iv, method)
    return hmac.compare_digest(expected, given.strip().upper())
