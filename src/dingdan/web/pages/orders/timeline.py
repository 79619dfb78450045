"""The order timeline in the reader's language.

Services store each order event's ``kind`` and ``data`` with an English ``message`` for logs
and the API. The page tells each known kind again as a translated sentence built from its
data; a kind it does not know (or data of an unexpected shape) shows the stored message.
Some facts live only in the message (the channel of "created", the carrier of "shipped"),
so those are read back from it with the pattern the service writes.

``event_text(e, currency)`` is a Jinja global of the back office's templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context

from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import env
from dingdan.web.pages.shared.messages import N_

Sentence = tuple[str, dict[str, Any]]  # a msgid and the values of its placeholders


@dataclass(frozen=True)
class Reader:
    """What a sentence needs: the translation, the formats and the order's currency."""

    gettext: Any
    fmt: Any
    language: str
    currency: str | None
    carrier_name: Any = None  # code -> name, from the page's carrier directory

    def carrier(self, code: str) -> str:
        if self.carrier_name is not None:
            return str(self.carrier_name(code))
        return messages.carrier_name(self.language, code)

    def money(self, amount: Any) -> str:
        if amount is None:
            return ""
        return self.fmt.money(amount, self.currency) if self.currency else str(amount)

    def label(self, value: Any) -> str:
        return messages.label(self.gettext, value)


def _lines(items: list[dict[str, Any]], quantity: str = "quantity") -> str:
    return ", ".join(f"{ln[quantity]} × {ln['sku']}" for ln in items)


def _after(prefix: str, message: str | None) -> str | None:
    """What follows ``prefix`` in a stored message (a reason or note kept only there)."""
    if message and message.startswith(prefix):
        return message[len(prefix) :]
    return None


def _created(e: dict[str, Any], r: Reader) -> list[Sentence]:
    total = r.money(e["data"]["total"])
    found = re.search(r" placed on (\S+)$", e.get("message") or "")
    if found:
        channel = r.label(found.group(1))
        return [
            (
                N_("Order placed on %(channel)s, total %(total)s."),
                {"channel": channel, "total": total},
            )
        ]
    return [(N_("Order placed, total %(total)s."), {"total": total})]


def _allocated(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    if "allocations" in d:
        n = sum(int(a["quantity"]) for a in d["allocations"])
        return [(N_("%(n)s units reserved from stock."), {"n": n}), *_route(d)]
    return [
        (
            N_("%(quantity)s × %(sku)s allocated from backorder."),
            {"quantity": d["quantity"], "sku": d["sku"]},
        )
    ]


def _route(d: dict[str, Any]) -> list[Sentence]:
    """Why the capture chose the locations it did (its ``route``, services/orders/capture)."""
    where = ", ".join(d.get("locations") or [])
    route = d.get("route")
    if route == "one_serving":
        serves = ", ".join(d.get("regions") or [])
        if serves:
            msgid = N_("Filled from %(where)s: it serves %(serves)s and holds everything.")
            return [(msgid, {"where": where, "serves": serves})]
        return [(N_("Filled from %(where)s: it serves everywhere and holds everything."),
                 {"where": where})]  # fmt: skip
    if route == "split_serving":
        msgid = N_("Split: no serving location holds it all; filled from %(where)s.")
        return [(msgid, {"where": where})]
    if route == "fallback":
        serving = set(d.get("serving") or [])
        if serving & set(d.get("locations") or []):
            msgid = N_("The serving locations could not fill it: filled from %(where)s.")
        else:
            msgid = N_("No serving location had stock: filled from %(where)s.")
        return [(msgid, {"where": where})]
    return []


def _allocation_moved(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    values = {"from": d["from"], "to": d["to"], "lines": _lines(d["lines"])}
    return [(N_("Allocation moved from %(from)s to %(to)s: %(lines)s."), values)]


def _paid(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    if d.get("reference"):
        msgid = N_("Payment of %(amount)s recorded (%(reference)s).")
        return [(msgid, {"amount": r.money(d["amount"]), "reference": d["reference"]})]
    return [(N_("Payment of %(amount)s recorded."), {"amount": r.money(d["amount"])})]


def _authorized(e: dict[str, Any], r: Reader) -> list[Sentence] | None:
    found = re.fullmatch(r"(\S+) [A-Z]{3} authorized", e.get("message") or "")
    if not found:
        return None
    return [(N_("%(amount)s authorized."), {"amount": r.money(found.group(1))})]


def _voided(e: dict[str, Any], r: Reader) -> list[Sentence] | None:
    found = re.fullmatch(r"Authorization (\S+) voided", e.get("message") or "")
    if not found:
        return None
    return [(N_("Authorization %(id)s voided."), {"id": found.group(1)})]


def _cancelled(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e.get("data") or {}
    message = e.get("message")
    if "sku" in d:
        values = {"quantity": d["quantity"], "sku": d["sku"]}
        reason = _after(f"{d['quantity']} × {d['sku']} cancelled: ", message)
        if reason:
            return [
                (N_("%(quantity)s × %(sku)s cancelled: %(reason)s"), {**values, "reason": reason})
            ]
        return [(N_("%(quantity)s × %(sku)s cancelled."), values)]
    if message:  # cancelling the whole order stores the reason as the message
        return [(N_("Order cancelled: %(reason)s"), {"reason": message})]
    return [(N_("Order cancelled."), {})]


def _shipped(e: dict[str, Any], r: Reader) -> list[Sentence] | None:
    found = re.fullmatch(
        r"Shipped from (?P<location>\S+) with (?P<carrier>.+?)(?: \((?P<tracking>[^()]*)\))?",
        e.get("message") or "",
    )
    if not found:
        return None
    values = {
        "location": found["location"],
        "carrier": r.carrier(found["carrier"]),
    }
    if found["tracking"]:
        msgid = N_("Shipped from %(location)s with %(carrier)s, tracking number %(tracking)s.")
        return [(msgid, {**values, "tracking": found["tracking"]})]
    return [(N_("Shipped from %(location)s with %(carrier)s."), values)]


def _exception(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    values = {"id": d["shipment_id"], "kind": r.label(d["kind"])}
    if d.get("note"):
        return [(N_("Shipment %(id)s: %(kind)s (%(note)s)."), {**values, "note": d["note"]})]
    return [(N_("Shipment %(id)s: %(kind)s."), values)]


def _tracking(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    what = r.label(d["status"])
    if d.get("exception"):
        what = f"{what} ({r.label(d['exception'])})"
    values = {"id": d["shipment_id"], "status": what}
    if d.get("location"):
        msgid = N_("Shipment %(id)s: %(status)s at %(location)s (carrier tracking).")
        out = [(msgid, {**values, "location": d["location"]})]
    else:
        out = [(N_("Shipment %(id)s: %(status)s (carrier tracking)."), values)]
    if d.get("applied") is False:
        out.append((N_("Recorded only: the shipment was already further along."), {}))
    return out


def _edited(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    out: list[Sentence] = []
    if d.get("lines"):
        changes = ", ".join(f"{c['sku']} {c['from']} → {c['to']}" for c in d["lines"])
        out.append((N_("Quantities changed: %(changes)s."), {"changes": changes}))
    if d.get("shipping_address_changed"):
        out.append((N_("Shipping address changed."), {}))
    before, after = r.money(d["total_before"]), r.money(d["total_after"])
    out.append((N_("Total %(before)s → %(after)s."), {"before": before, "after": after}))
    return out


def _priced_below_list(e: dict[str, Any], r: Reader) -> list[Sentence]:
    return [
        (
            N_("%(sku)s priced at %(price)s, below the product's price of %(list_price)s."),
            {
                "sku": ln["sku"],
                "price": r.money(ln["unit_price"]),
                "list_price": r.fmt.money(ln["list_price"], ln["list_currency"]),
            },
        )
        for ln in e["data"]["lines"]
    ]


def _replay_differs(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    out: list[Sentence] = [
        (
            N_("Sent again as %(external_id)s on %(channel)s; the changes were not applied."),
            {"external_id": d["external_id"], "channel": r.label(d["channel"])},
        )
    ]
    for ln in d["lines"]:
        msgid = N_("%(sku)s: %(order)s on the order, %(sent)s sent.")
        out.append((msgid, {"sku": ln["sku"], "order": ln["order"], "sent": ln["sent"]}))
    for p in d["prices"]:
        msgid = N_("%(sku)s price: %(order)s on the order, %(sent)s sent.")
        values = {"sku": p["sku"], "order": r.money(p["order"]), "sent": r.money(p["sent"])}
        out.append((msgid, values))
    if d["fields"]:
        names = ", ".join(messages.field_label(r.gettext, f["field"]) for f in d["fields"])
        out.append((N_("Also different: %(fields)s."), {"fields": names}))
    return out


def _replacement(e: dict[str, Any], r: Reader) -> list[Sentence]:
    original = e["data"]["original"]
    note = _after(f"Replacement for order {original}: ", e.get("message"))
    if note:
        msgid = N_("Replacement for order %(original)s: %(note)s")
        return [(msgid, {"original": original, "note": note})]
    return [(N_("Replacement for order %(original)s."), {"original": original})]


def _dispute_opened(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    values = {"id": d["dispute_id"], "type": r.label(d["type"])}
    return [(N_("Dispute %(id)s opened: %(type)s."), values)]


DIRECTIONS = {
    "inbound": N_("Dispute %(id)s: message from the customer."),
    "outbound": N_("Dispute %(id)s: message to the customer."),
    "note": N_("Dispute %(id)s: internal note."),
}
DISPUTE_STEPS = {
    "investigating": N_("Dispute %(id)s is being investigated."),
    "refund": N_("Dispute %(id)s resolved with a refund."),
    "reshipment": N_("Dispute %(id)s resolved with a reshipment."),
    "reject": N_("Dispute %(id)s rejected."),
    "resolved": N_("Dispute %(id)s resolved."),
    "closed": N_("Dispute %(id)s closed."),
}


def _dispute_message(e: dict[str, Any], r: Reader) -> list[Sentence] | None:
    d = e["data"]
    msgid = DIRECTIONS.get(d["direction"])
    return [(msgid, {"id": d["dispute_id"]})] if msgid else None


def _dispute_step(e: dict[str, Any], r: Reader) -> list[Sentence] | None:
    d = e["data"]
    msgid = DISPUTE_STEPS.get(d.get("resolution") or d["status"])
    if msgid is None:
        return None
    out: list[Sentence] = [(msgid, {"id": d["dispute_id"]})]
    if d.get("note"):
        out.append((N_("Note: %(note)s"), {"note": d["note"]}))
    return out


def _dispute_reassigned(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    out: list[Sentence] = []
    if "owner" in d:
        out.append(
            (
                N_("Dispute %(id)s: owner now %(owner)s."),
                {"id": d["dispute_id"], "owner": d["owner"]},
            )
        )
    if "due_date" in d:
        msgid = N_("Dispute %(id)s: due %(date)s.")
        out.append((msgid, {"id": d["dispute_id"], "date": d["due_date"]}))
    return out


def _dispute_evidence(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    found = re.fullmatch(r"Dispute \S+: evidence (.+) \([^()]*\)", e.get("message") or "")
    if found:
        msgid = N_("Dispute %(id)s: evidence %(file)s added.")
        return [(msgid, {"id": d["dispute_id"], "file": found.group(1)})]
    return [(N_("Dispute %(id)s: evidence added."), {"id": d["dispute_id"]})]


def _return_requested(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    lines = ", ".join(
        f"{ln['quantity']} × {ln['sku']} ({r.label(ln['reason'])})" for ln in d["lines"]
    )
    return [(N_("Return %(id)s requested: %(lines)s."), {"id": d["return_id"], "lines": lines})]


def _return_received(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    lines = ", ".join(f"{ln['resellable'] + ln['damaged']} × {ln['sku']}" for ln in d["lines"])
    msgid = N_("Return %(id)s received at %(location)s: %(lines)s.")
    return [(msgid, {"id": d["return_id"], "location": d["location"], "lines": lines})]


def _return_quarantined(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    msgid = N_("Return %(id)s: damaged units quarantined at %(location)s: %(lines)s.")
    values = {"id": d["return_id"], "location": d["location"], "lines": _lines(d["lines"])}
    return [(msgid, values)]


def _return_refunded(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    values = {"id": d["return_id"], "amount": r.money(d["amount"]), "to": r.label(d["to"])}
    return [(N_("Return %(id)s refunded: %(amount)s (%(to)s)."), values)]


def _simple(msgid: str, **keys: str) -> Callable[[dict[str, Any], Reader], list[Sentence]]:
    """A sentence whose placeholders are fields of the data, as they are."""

    def sentence(e: dict[str, Any], r: Reader) -> list[Sentence]:
        return [(msgid, {name: e["data"][key] for name, key in keys.items()})]

    return sentence


def _refunded(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    amount, reason = r.money(d["amount"]), d.get("reason") or ""
    # Reasons the services write themselves when a return or a dispute refunds.
    if found := re.fullmatch(r"Return (\S+)", reason):
        return [(N_("Refund of %(amount)s for return %(id)s."), {"amount": amount, "id": found[1]})]
    if found := re.fullmatch(r"Dispute (\S+) \(\w+\)", reason):
        msgid = N_("Refund of %(amount)s for dispute %(id)s.")
        return [(msgid, {"amount": amount, "id": found[1]})]
    if reason:
        return [(N_("Refund of %(amount)s: %(reason)s"), {"amount": amount, "reason": reason})]
    return [(N_("Refund of %(amount)s."), {"amount": amount})]


def _store_credit(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    values = {"id": d["return_id"], "amount": r.money(d["amount"])}
    return [(N_("Return %(id)s: %(amount)s to store credit."), values)]


def _backordered(e: dict[str, Any], r: Reader) -> list[Sentence]:
    return [(N_("Backordered: %(lines)s."), {"lines": _lines(e["data"]["lines"])})]


def _payment_unrecorded(e: dict[str, Any], r: Reader) -> list[Sentence]:
    d = e["data"]
    msgid = N_(
        "Payment intent %(id)s: the provider moved %(amount)s and it could not be recorded; "
        "finance decides on the background jobs page."
    )
    return [(msgid, {"id": d["intent_id"], "amount": r.money(d["amount"])})]


KINDS: dict[str, Callable[[dict[str, Any], Reader], list[Sentence] | None]] = {
    "created": _created,
    "allocated": _allocated,
    "backordered": _backordered,
    "allocation_moved": _allocation_moved,
    "paid": _paid,
    "refunded": _refunded,
    "authorized": _authorized,
    "voided": _voided,
    "payment_unrecorded": _payment_unrecorded,
    "payment_retried": _simple(N_("Payment intent %(id)s recorded again."), id="intent_id"),
    "payment_resolved": _simple(
        N_("Payment intent %(id)s settled by hand: %(note)s"), id="intent_id", note="note"
    ),
    "cancelled": _cancelled,
    "picked": _simple(N_("Picked at %(location)s."), location="location"),
    "packed": _simple(N_("Packed at %(location)s."), location="location"),
    "shipped": _shipped,
    "delivered": _simple(N_("Shipment %(id)s delivered."), id="shipment_id"),
    "exception": _exception,
    "tracking": _tracking,
    "edited": _edited,
    "priced_below_list": _priced_below_list,
    "replay_differs": _replay_differs,
    "replacement": _replacement,
    "reshipment": _simple(
        N_("Dispute %(id)s: reshipped as order %(number)s."), id="dispute_id", number="replacement"
    ),
    "dispute_opened": _dispute_opened,
    "dispute_message": _dispute_message,
    "dispute_investigating": _dispute_step,
    "dispute_resolved": _dispute_step,
    "dispute_closed": _dispute_step,
    "dispute_evidence": _dispute_evidence,
    "dispute_reassigned": _dispute_reassigned,
    "return_requested": _return_requested,
    "return_policy_overridden": _simple(
        N_("Return %(id)s: return policy overridden: %(reason)s"), id="return_id", reason="reason"
    ),
    "return_approved": _simple(N_("Return %(id)s approved."), id="return_id"),
    "return_rejected": _simple(
        N_("Return %(id)s rejected: %(reason)s"), id="return_id", reason="reason"
    ),
    "return_received": _return_received,
    "return_quarantined": _return_quarantined,
    "return_refunded": _return_refunded,
    "store_credit": _store_credit,
    "return_exchanged": _simple(
        N_("Return %(id)s exchanged for order %(number)s."), id="return_id", number="replacement"
    ),
    "return_photos": _simple(
        N_("Photos attached to return %(id)s: %(count)s."), id="return_id", count="count"
    ),
}


def event_text(
    gettext: Any,
    event: dict[str, Any],
    *,
    fmt: Any,
    language: str,
    currency: str | None = None,
    carrier_name: Any = None,
) -> str:
    """The event as translated sentences; the stored message for an unknown kind."""
    told = KINDS.get(str(event.get("kind")))
    stored = str(event.get("message") or "")
    if told is None:
        return stored
    try:
        sentences = told(event, Reader(gettext, fmt, language, currency, carrier_name))
    except (KeyError, TypeError, ValueError, AttributeError):  # data of an older shape
        return stored
    if not sentences:
        return stored
    joiner = " " if language == "en" else ""  # Chinese sentences follow on without a space
    return joiner.join(str(gettext(msgid, **values)) for msgid, values in sentences)


@pass_context
def _event_text(ctx: Any, event: dict[str, Any], currency: str | None = None) -> str:
    page = ctx["page"]
    return event_text(
        page.gettext,
        event,
        fmt=page.fmt,
        language=page.language,
        currency=currency,
        carrier_name=page.carrier_name,
    )


env.globals["event_text"] = _event_text
