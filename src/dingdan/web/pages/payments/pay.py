"""The customer's pay page, ``/pay/{token}`` (the order's tracking token; no sign-in,
mobile first): what is due, the ways to pay, the ATM account or convenience-store code once
given, "paid" once paid. ECPay's checkout starts here (``POST /pay/{token}/ecpay``): the
signed form is handed to the browser, which posts it to ECPay by itself (``hand_off``: that
page's form-action names ECPay's address).

Other providers add their way to pay to ``WAYS`` (a button posting to
``/pay/{token}/<path>``, their own route): LINE Pay's is ``/pay/{token}/linepay``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.payments import linepay as linepay_rules
from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.payments import ecpay, linepay_settings
from dingdan.services.payments.shapes import PayView
from dingdan.services.shared import shop
from dingdan.web.error_status import status_of
from dingdan.web.pages.orders.tracking import too_many
from dingdan.web.pages.shared.core import Anon, Page, PageRoute, posted
from dingdan.web.pages.shared.security import hand_off

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def N_(text: str) -> str:  # noqa: N802 - marks a string for the catalogs
    return text


class PayPage(PayView):
    """The pay page's view: the order's (``ecpay.pay_view``), and whether LINE Pay can take
    the payment."""

    linepay: bool


@dataclass(frozen=True)
class Way:
    """A way to pay on the page: a provider's button (or buttons, one per ``choices``)."""

    code: str
    label: str  # a msgid
    path: str  # posted to /pay/{token}/<path>
    offered: Callable[[PayPage], bool]
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (value, msgid)


# The ways to pay, in the order shown; each offered when its service is configured for the
# order's currency (the flags ``_render`` puts in the view).
WAYS: list[Way] = [
    Way(
        "ecpay",
        N_("ECPay"),
        "ecpay",
        offered=lambda view: bool(view.get("ecpay")),
        choices=(
            ("card", N_("Credit card")),
            ("atm", N_("ATM transfer (virtual account)")),
            ("cvs", N_("Convenience store payment code")),
        ),
    ),
    Way("linepay", N_("LINE Pay"), "linepay", offered=lambda view: bool(view.get("linepay"))),
]


def _render(request: Request, page: Page, token: str, status: int = 200) -> Response:
    db = request.app.state.db
    try:
        order = ecpay.pay_view(db, token)
    except NotFound:
        return page.render("payments/pay.html", status=404, p=None, shop=shop.get_shop(db))
    view: PayPage = {
        **order,
        "linepay": order["currency"] in linepay_rules.CURRENCIES
        and db.read(lambda conn: linepay_settings.settings_view(conn)["configured"]),
    }
    ways = [w for w in WAYS if view["payable"] and w.offered(view)]
    return page.render(
        "payments/pay.html", status=status, p=view, ways=ways, token=token, shop=shop.get_shop(db)
    )


@router.get("/pay/{token}")
def pay_page(request: Request, token: str, page: Anon) -> Response:
    return too_many(request, page) or _render(request, page, token)


@router.post("/pay/{token}/ecpay")
async def start_ecpay(request: Request, token: str, page: Anon) -> Response:
    """The customer chose card, ATM or a CVS code: the signed checkout form, posted to
    ECPay by the browser (a script file; a button without scripts)."""
    limited = too_many(request, page)
    if limited is not None:
        return limited
    form = await posted(request)
    db = request.app.state.db
    choice = form.get("choice") if isinstance(form.get("choice"), str) else ""
    try:
        checkout = await run_in_threadpool(ecpay.start_checkout, db, token, str(choice))
    except NotFound:
        return page.render("payments/pay.html", status=404, p=None, shop=shop.get_shop(db))
    except DomainError as exc:
        page.flash_error(exc)
        return _render(request, page, token, status=status_of(exc))
    response = page.render(
        "payments/checkout.html", c=checkout, token=token, shop=shop.get_shop(db)
    )
    return hand_off(response, checkout["action"])


@router.post("/pay/{token}/result")
async def ecpay_result_page(token: str, page: Anon) -> Response:
    """ECPay's OrderResultURL: the customer's browser comes back here from ECPay with the
    result, which is not trusted (the signed ReturnURL callback records payments): the
    page says what the order now shows."""
    return page.redirect(f"/pay/{token}")
