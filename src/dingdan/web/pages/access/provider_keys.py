"""Settings → Provider keys (admins: ``manage_users``): the keys of ECPay (payments,
logistics) and of the e-invoice centres, stored encrypted; a secret is never shown again,
only ``••••`` and its last four characters (services/shared/provider_keys.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.services.shared import provider_keys
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HERE = "/settings/provider-keys"
# Only an admin sets them: the role that manages users by default.
ADMIN_ONLY = Action.MANAGE_USERS

PROVIDER_LABELS = {
    "ecpay_payments": N_("ECPay payments"),
    "ecpay_logistics": N_("ECPay logistics"),
    "einvoice_ecpay": N_("ECPay e-invoices"),
    "einvoice_amego": N_("Amego e-invoices"),
    "einvoice_ezpay": N_("ezPay e-invoices"),
}
FIELD_LABELS = {
    "merchant_id": N_("MerchantID"),
    "hash_key": N_("HashKey"),
    "hash_iv": N_("HashIV"),
    "ubn": N_("Seller's UBN"),
    "app_key": N_("App Key"),
}


def _page(page: Page, status: int = 200) -> Response:
    return page.render(
        "access/provider_keys.html",
        status=status,
        providers=provider_keys.get_view(page.request.app.state.db),
        provider_label=lambda p: page._(PROVIDER_LABELS[p]),
        field_label=lambda f: page._(FIELD_LABELS[f]),
        clear=provider_keys.CLEAR,
    )


@router.get(HERE)
def show(page: User) -> Response:
    page.require(ADMIN_ONLY)
    return _page(page)


@router.post(HERE + "/{provider}")
def save(request: Request, provider: str, page: User, form: Form) -> Response:
    actor = page.require(ADMIN_ONLY)
    fields = provider_keys.PROVIDERS.get(provider, ())
    body: dict[str, Any] = {
        f.name: form_text(form, f.name, provider_keys.MAX_LENGTH + 1) for f in fields
    }
    return page.attempt(
        lambda: provider_keys.put_keys(request.app.state.db, actor, provider, body),
        done=page.gettext("Keys saved."),
        back=HERE,
        form_id=f"keys-{provider}",
        # A typed secret is never echoed back, even when the save is refused.
        typed={f.name: (body.get(f.name) or "") for f in fields if not f.secret},
        again=lambda status: _page(page, status),
    )
