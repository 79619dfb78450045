"""The one table from error codes to HTTP statuses, for the API and the back-office pages.

Every ``DomainError`` subclass carries a ``code`` listed here (a unit test walks them all), so
a page answers a broken rule with the status the API gives for it.
"""

from __future__ import annotations

from dingdan.domain.shared.errors import DomainError

STATUS: dict[str, tuple[int, str]] = {
    "validation_error": (422, "Invalid request"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "not_found": (404, "Not found"),
    "conflict": (409, "Conflict"),
    "domain_error": (409, "Conflict"),  # DomainError itself: a rule broken, said in `detail`
    "insufficient_stock": (409, "Insufficient stock"),
    "invalid_transition": (409, "Invalid transition"),
    "payment_required": (409, "Payment required"),
    "idempotency_conflict": (409, "Idempotency conflict"),
    "on_hold": (409, "On hold"),
    "method_not_allowed": (405, "Method not allowed"),
    "payload_too_large": (413, "Payload too large"),
    "service_unavailable": (503, "Service unavailable"),
    "provider_unavailable": (503, "Provider unavailable"),
    "internal_error": (500, "Internal error"),
}


def code_of(exc: DomainError) -> str:
    """The top-level code an error is answered with (an unlisted one is a conflict)."""
    return exc.code if exc.code in STATUS else "conflict"


def status_of(exc: DomainError) -> int:
    return STATUS[code_of(exc)][0]
