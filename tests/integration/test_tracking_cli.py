"""`dingdan tracking import`: a bad row stores nothing (exit 1) unless --skip-bad."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from dingdan.cli.main import app
from dingdan.config import get_settings
from dingdan.services.fulfilment import shipments, tracking_queries
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, TEA_SHOP, order_body

stocked = TEA_SHOP.fixture()
runner = CliRunner()


@pytest.fixture
def cli_db(stocked: Any, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield stocked
    get_settings.cache_clear()


def test_the_command_stores_good_rows_only_when_told_to_skip_the_bad(cli_db: Any, tmp_path):
    order, _ = capture.place_order(cli_db, ADMIN, order_body())
    transactions.record_payment(cli_db, ADMIN, order["number"], {"amount": order["total"]})
    s = shipments.create_shipment(
        cli_db, ADMIN, order["number"], {"carrier": "tcat", "tracking_number": "123456789012"}
    )
    path = tmp_path / "events.csv"
    path.write_text(
        "carrier,tracking_number,status,time\n"
        "tcat,123456789012,out_for_delivery,2026-12-07 10:00\n"
        "tcat,123456789012,someday,2026-12-07 11:00\n",
        encoding="utf-8-sig",
    )
    r = runner.invoke(app, ["tracking", "import", str(path)])
    assert r.exit_code == 1 and "row 3: status" in r.output
    assert tracking_queries.events_of_shipment(cli_db, s["id"])["items"] == []
    r = runner.invoke(app, ["tracking", "import", str(path), "--skip-bad"])
    assert r.exit_code == 0, r.output
    assert "applied 1" in r.output and "1 bad row(s) skipped" in r.output
