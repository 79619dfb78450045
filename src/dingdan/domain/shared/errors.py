"""Domain errors. Each carries a machine ``code``; the web layer maps codes to HTTP."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from dingdan.domain.shared import error_codes


@dataclass(frozen=True)
class FieldError:
    """One bad field: its path, the stable ``code`` (``error_codes.FIELD_ERRORS``), the English
    message of that code filled with ``params``, and the params (the pages translate the code's
    template and fill it with them)."""

    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, field_name: str, code: str, **params: Any) -> FieldError:
        return cls(field_name, code, error_codes.message(code, params), params)


@dataclass
class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    code: str = "domain_error"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)

    def __str__(self) -> str:
        if not self.errors:
            return self.detail
        listed = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.detail} ({listed})"


@dataclass
class ValidationFailed(DomainError):
    code: str = "validation_error"

    @classmethod
    def on(cls, field_name: str, code: str, **params: Any) -> ValidationFailed:
        error = FieldError.of(field_name, code, **params)
        return cls(detail=error.message, errors=[error])


@dataclass
class NotFound(DomainError):
    code: str = "not_found"


@dataclass
class Conflict(DomainError):
    code: str = "conflict"


@dataclass
class InsufficientStock(DomainError):
    code: str = "insufficient_stock"


@dataclass
class InvalidTransition(DomainError):
    code: str = "invalid_transition"


@dataclass
class PaymentRequired(DomainError):
    code: str = "payment_required"


@dataclass
class OnHold(DomainError):
    """The order is held (for a risk review): not picked, packed or shipped until released."""

    code: str = "on_hold"


@dataclass
class IdempotencyConflict(DomainError):
    code: str = "idempotency_conflict"


@dataclass
class Unauthorized(DomainError):
    code: str = "unauthorized"


@dataclass
class Forbidden(DomainError):
    code: str = "forbidden"


@dataclass
class ServiceUnavailable(DomainError):
    code: str = "service_unavailable"


@dataclass
class ProviderUnavailable(DomainError):
    """An outside service (a payment provider) did not answer; what was asked is kept and
    asked again by the worker."""

    code: str = "provider_unavailable"


class FieldErrors:
    """Collects every bad field of one input so that all are reported at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field_name: str, code: str, **params: Any) -> None:
        self.items.append(FieldError.of(field_name, code, **params))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, detail: str = "The request has invalid fields.") -> None:
        if self.items:
            raise ValidationFailed(detail=detail, errors=list(self.items))
