""" "Refund the difference now": the cancel, cancel-a-line and edit screens offer it when the
order was paid; once the change is saved, what the order owes back (its ``refund_due``) is
refunded through the refund service, and the page says what happened."""

from __future__ import annotations

from typing import Any

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.payments import refund_due
from dingdan.web.pages.shared.core import Page

FIELD = "refund_difference"


def asked(form: Any) -> bool:
    return form.get(FIELD) == "1"


def refund_after_change(page: Page, number: str, currency: str, reason: str) -> None:
    """Refund what ``number`` owes back now, and flash the outcome (a refusal too: the change
    itself is saved and stays)."""
    if not page.may(Action.MANAGE_PAYMENTS):
        page.flash(page.gettext("Only a role that may refund can refund the difference."), "error")
        return
    try:
        done = refund_due.refund_difference(page.request.app.state.db, page.actor, number, reason)
    except DomainError as exc:
        page.flash_error(exc)
        return
    if done is None:
        page.flash(page.gettext("The order owes nothing back; nothing was refunded."))
    else:
        page.flash(
            page.gettext(
                "Refunded %(amount)s: what was paid beyond the new total.",
                amount=page.fmt.money(done["amount"], currency),
            )
        )
