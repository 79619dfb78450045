"""The ship drop-down offers the carriers of the settings: the seller's own active carriers
too, and not a carrier switched off."""

from __future__ import annotations

import re

from dingdan.services.fulfilment import carriers
from dingdan.services.payments import transactions
from tests.builders import ADMIN


def _options(html: str) -> set[str]:
    form = html.split('id="ship-form"', 1)[1].split("</form>", 1)[0]
    return set(re.findall(r'<option value="([^"]+)"', form.split('id="ship-carrier"', 1)[1]))


def test_the_ship_form_lists_the_active_carriers_of_the_settings(shop, browser, db):
    carriers.create_carrier(db, ADMIN, {"code": "bike_tpe", "name": "Taipei Bike Couriers"})
    carriers.update_carrier(db, ADMIN, "hct", {"active": False})
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    html = browser("warehouse").get(f"/orders/{number}").text  # paid: shipping is offered
    options = _options(html)
    assert "bike_tpe" in options and "tcat" in options and "hct" not in options
    assert "Taipei Bike Couriers" in html
