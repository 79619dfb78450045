"""Every vocabulary of codes the back office shows to a person, in one registry: statuses,
roles, channels, payment methods, stock movements and their reasons, tax classes, audit
actions and records, the order timeline's kinds, returns and disputes. A code shown on a
page goes through ``messages.label``; ``tests/pages/test_vocabulary.py`` checks that every
code here has a label translated in both Chinese catalogs, that the codes the source writes
(events, audit actions, ledger reasons) are all here, and that pages show no raw code."""

from __future__ import annotations

from dingdan.domain.access.roles import Role
from dingdan.domain.after_sales.returns import (
    Condition,
    DisputeStatus,
    DisputeType,
    RefundTarget,
    ReturnStatus,
)
from dingdan.domain.catalog.products import TAX_CLASSES
from dingdan.domain.fulfilment.delivery_runs import FAIL_REASONS, RunStatus
from dingdan.domain.fulfilment.tracking import EXCEPTION_KINDS, STATUSES
from dingdan.domain.inventory.stock import AdjustmentReason, MovementKind
from dingdan.domain.orders.risk import BLOCK_KINDS, HOLD, LEVELS, RULES
from dingdan.domain.orders.rules import BUILTIN_CHANNELS, PaymentMethod
from dingdan.domain.orders.status import FinancialStatus, FulfillmentStatus, Status
from dingdan.domain.purchasing.purchase_orders import POStatus


def _values(enum: type) -> frozenset[str]:
    return frozenset(str(v.value) for v in enum)  # type: ignore[attr-defined]


VOCABULARIES: dict[str, frozenset[str]] = {
    "order_status": _values(Status),
    "financial_status": _values(FinancialStatus),
    "fulfillment_status": _values(FulfillmentStatus),
    "role": _values(Role),
    "channel": frozenset(BUILTIN_CHANNELS),
    "payment_method": _values(PaymentMethod) | {"store_credit"},
    "movement_kind": _values(MovementKind),
    # what the ledger's reason column holds: the use case that moved stock, or an
    # adjustment's reason code (free text typed by staff is shown as typed)
    "stock_reason": frozenset(
        {
            "receipt",
            "shipment",
            "order",
            "order edit",
            "allocation move",
            "backorder",
            "return",
            "cancel",
            "transfer",
            "purchase_order",
            "risk_block",
        }
    )
    | _values(AdjustmentReason),
    "tax_class": frozenset(TAX_CLASSES),
    "audit_action": frozenset(
        {
            "create",
            "update",
            "delete",
            "set",
            "view",
            "revoke",
            "import",
            "sign_in",
            "sign_in_failed",
            "change_password",
            "ship",
            "edit",
            "cancel",
            "cancel_line",
            "move_allocation",
            "deliver",
            "delivery_exception",
            "payment",
            "refund",
            "close_intent",
            "barcode_cleared",
            "rotate_secret",
            "replay",
            "export",
            "erase",
            "reveal",
            "set_carrier_promise",
            "tag",
            "download",
            "void",
            "send",
            "close",
            "receive",
            "cancel_po",
            "hand_in_cash",
            "delivery_failed",
            "hand_over",
            "approve_risk",
            "hold_risk",
            "flag_risk",
            "block",
            "unblock",
            "post_count",
        }
    ),  # fmt: skip
    "audit_record": frozenset(
        {
            "order",
            "customer",
            "product",
            "location",
            "user",
            "api_token",
            "setting",
            "channel",
            "carrier",
            "tax_rate",
            "stock",
            "shipment",
            "tracking_events",
            "webhook_endpoint",
            "webhook_delivery",
            "channel_stock_rule",
            "invoice",
            "allowance",
            "invoicing_settings",
            "einvoice_track",
            "supplier",
            "supplier_product",
            "purchase_order",
            "cod_payout",
            "delivery_run",
            "label_range",
            "cycle_count",
        }
    ),  # fmt: skip
    "order_event": frozenset(
        {
            "created",
            "allocated",
            "backordered",
            "customer_note",
            "note",
            "picked",
            "allocation_moved",
            "packed",
            "tagged",
            "shipped",
            "delivered",
            "exception",
            "tracking",
            "edited",
            "cancelled",
            "paid",
            "refunded",
            "authorized",
            "voided",
            "payment_unrecorded",
            "payment_retried",
            "payment_resolved",
            "priced_below_list",
            "replay_differs",
            "store_credit",
            "replacement",
            "reshipment",
            "dispute_opened",
            "dispute_message",
            "dispute_evidence",
            "dispute_reassigned",
            "dispute_investigating",
            "dispute_resolved",
            "dispute_closed",
            "return_requested",
            "return_approved",
            "return_rejected",
            "return_received",
            "return_refunded",
            "return_exchanged",
            "return_quarantined",
            "return_policy_overridden",
            "return_photos",
            "invoice_request",
            "fapiao_request",
            "invoice_issued",
            "invoice_voided",
            "invoice_allowance",
            "invoice_allowance_voided",
            "delivery_run",
            "delivery_failed",
            "ready_for_pickup",
            "risk_held",
            "risk_approved",
            "risk_flagged",
        }
    ),  # fmt: skip
    "return_status": _values(ReturnStatus),
    "return_condition": _values(Condition),
    "refund_target": _values(RefundTarget),
    "dispute_type": _values(DisputeType),
    "dispute_status": _values(DisputeStatus),
    "delivery_exception": frozenset(EXCEPTION_KINDS),
    "shipment_status": frozenset({"shipped", *STATUSES}),
    "purchase_order_status": _values(POStatus),
    "delivery_run_status": _values(RunStatus),
    "delivery_fail_reason": frozenset(FAIL_REASONS),
    "risk_level": frozenset(LEVELS),
    "risk_reason": frozenset({*RULES, "blocklist"}),
    "risk_block_kind": frozenset(BLOCK_KINDS),
    "hold": frozenset({HOLD}),
}

ALL_CODES: frozenset[str] = frozenset().union(*VOCABULARIES.values())
