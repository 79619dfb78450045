"""The typed boundary of the services (issue 18, part 4): each view a service builds as a
TypedDict names the same fields as the API's response model of it, and each command a
route hands over (``web/api/shared/commands.command``) names the same fields as the
request body's model, so neither can grow a field the other does not know of."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from dingdan.services.access import shapes as access
from dingdan.services.after_sales import shapes as after_sales
from dingdan.services.inventory import shapes as inventory
from dingdan.services.jobs import shapes as jobs
from dingdan.services.messaging import shapes as messaging
from dingdan.web.api.access import schemas as access_api
from dingdan.web.api.after_sales import dispute_schemas
from dingdan.web.api.after_sales import schemas as after_sales_api
from dingdan.web.api.catalog import schemas as catalog_api
from dingdan.web.api.inventory import schemas as inventory_api
from dingdan.web.api.jobs import schemas as jobs_api
from dingdan.web.api.messaging import schemas as messaging_api
from dingdan.web.api.shared.commands import command

VIEWS: list[tuple[type, type[BaseModel]]] = [
    (inventory.LocationView, catalog_api.Location),
    (inventory.SkuLevelView, catalog_api.SkuLevel),
    (inventory.ReceiptView, catalog_api.Receipt),
    (inventory.AdjustmentView, catalog_api.Adjustment),
    (inventory.TransferView, catalog_api.Transfer),
    (jobs.JobView, jobs_api.Job),
    (access.TokenView, access_api.Token),
    (access.UserView, access_api.User),
    (access.TrailView, access_api.AuditEntry),
    (after_sales.ReturnView, after_sales_api.Return),
    (after_sales.ReturnLineView, after_sales_api.ReturnLineOut),
    (after_sales.ReturnOverride, after_sales_api.Override),
    (after_sales.ReturnRefund, after_sales_api.ReturnRefundOut),
    (after_sales.PolicyView, after_sales_api.ReturnPolicy),
    (after_sales.PhotoView, after_sales_api.Photo),
    (after_sales.DisputeView, dispute_schemas.Dispute),
    (after_sales.DisputeMessageView, dispute_schemas.DisputeMessage),
    (after_sales.EvidenceView, dispute_schemas.Evidence),
    (messaging.MessageView, messaging_api.Message),
    (messaging.TemplateView, messaging_api.Template),
    (messaging.TemplateSummary, messaging_api.TemplateSummary),
    (messaging.PreviewView, messaging_api.Preview),
    (messaging.LineProviderView, messaging_api.LineProvider),
    (messaging.SmsProviderView, messaging_api.SmsProvider),
    (messaging.ProvidersView, messaging_api.Providers),
    (messaging.CustomerChannelView, messaging_api.CustomerChannel),
]

COMMANDS: list[tuple[type, type[BaseModel]]] = [
    (inventory.ReceiptCommand, inventory_api.ReceiptIn),
    (inventory.AdjustmentCommand, inventory_api.AdjustmentIn),
    (inventory.TransferCommand, inventory_api.TransferIn),
    (inventory.LocationCommand, catalog_api.LocationIn),
    (after_sales.ReturnRequest, after_sales_api.ReturnIn),
    (after_sales.ReturnReceipt, after_sales_api.ReceiveIn),
    (after_sales.RefundRequest, after_sales_api.ReturnRefundIn),
    (after_sales.ExchangeRequest, after_sales_api.ExchangeIn),
    (after_sales.PolicyRequest, after_sales_api.ReturnPolicyIn),
    (after_sales.DisputeRequest, after_sales_api.DisputeIn),
    (after_sales.DisputeAssignment, after_sales_api.DisputeAssignIn),
    (after_sales.DisputeMessageIn, after_sales_api.MessageIn),
    (after_sales.DisputeTransitionRequest, after_sales_api.DisputeTransitionIn),
    (messaging.TemplateFields, messaging_api.TemplateIn),
    (messaging.PreviewCommand, messaging_api.PreviewIn),
    (messaging.TestSendCommand, messaging_api.TestSendIn),
    (messaging.ProvidersCommand, messaging_api.ProvidersIn),
    (messaging.CustomerChannelCommand, messaging_api.CustomerChannelIn),
]


def _keys(typed: type) -> set[str]:
    return set(typed.__required_keys__) | set(typed.__optional_keys__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("view", "model"), VIEWS, ids=lambda v: v.__name__)
def test_a_service_view_names_the_fields_of_its_response_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == set(model.model_fields)


@pytest.mark.parametrize(("typed", "model"), COMMANDS, ids=lambda v: v.__name__)
def test_a_command_names_the_fields_of_its_request_body(
    typed: type, model: type[BaseModel]
) -> None:
    assert _keys(typed) == set(model.model_fields)


def test_a_body_becomes_its_command_unchanged() -> None:
    body = after_sales_api.DisputeTransitionIn(
        status="resolved", resolution="reshipment", lines=[{"sku": "TEA-1", "quantity": 2}]
    )
    sent = command(after_sales.DisputeTransitionRequest, body, exclude_none=True)
    assert sent == {
        "status": "resolved",
        "resolution": "reshipment",
        "lines": [{"sku": "TEA-1", "quantity": 2}],
    }
    patch = catalog_api.LocationPatch(regions=["TW-TPE"])
    assert command(inventory.LocationCommand, patch, exclude_unset=True) == {
        "regions": ["TW-TPE"]
    }


def test_a_body_the_command_does_not_describe_is_refused() -> None:
    # A field the TypedDict lacks would be dropped silently by the adapter: refused instead.
    with pytest.raises(TypeError):
        command(messaging.TestSendCommand, messaging_api.PreviewIn(order="DD1", subject="x"))


# ---- purchasing (and the ABC report it builds): a model's field named by its alias ("class")


def _names(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _purchasing_pairs() -> tuple[list[tuple[type, type[BaseModel]]], ...]:
    from dingdan.services.purchasing import shapes as purchasing
    from dingdan.web.api.purchasing import cycle_counts as cycle_counts_api
    from dingdan.web.api.purchasing import forecasts as forecasts_api
    from dingdan.web.api.purchasing import planning_settings as planning_api
    from dingdan.web.api.purchasing import schemas as purchasing_api
    from dingdan.web.api.reports import abc as abc_api

    views: list[tuple[type, type[BaseModel]]] = [
        (purchasing.SupplierView, purchasing_api.Supplier),
        (purchasing.SupplierProductView, purchasing_api.SupplierProduct),
        (purchasing.SupplierProducts, purchasing_api.SupplierProducts),
        (purchasing.POLineView, purchasing_api.POLine),
        (purchasing.ReceiptSummaryView, purchasing_api.ReceiptSummary),
        (purchasing.PurchaseOrderView, purchasing_api.PurchaseOrder),
        (purchasing.PurchaseOrderRow, purchasing_api.PurchaseOrderRow),
        (purchasing.POReceiptView, purchasing_api.POReceipt),
        (purchasing.SuggestionView, purchasing_api.Suggestion),
        (purchasing.Suggestions, purchasing_api.Suggestions),
        (purchasing.DraftsView, purchasing_api.Drafts),
        (purchasing.PromotionView, planning_api.Promotion),
        (purchasing.Promotions, planning_api.Promotions),
        (purchasing.LocationPointView, planning_api.LocationPoint),
        (purchasing.ReorderPointsView, planning_api.ReorderPoints),
        (purchasing.CycleCountLineView, cycle_counts_api.CycleCountLineOut),
        (purchasing.CycleCountView, cycle_counts_api.CycleCountOut),
        (purchasing.CycleCountItem, cycle_counts_api.CycleCountItem),
        (purchasing.BacktestView, forecasts_api.Backtest),
        (purchasing.ForecastDay, forecasts_api.Day),
        (purchasing.ForecastView, forecasts_api.ForecastOut),
        (purchasing.AbcItem, abc_api.AbcItem),
        (purchasing.AbcReport, abc_api.AbcReport),
    ]
    commands: list[tuple[type, type[BaseModel]]] = [
        (purchasing.SupplierCommand, purchasing_api.SupplierIn),
        (purchasing.SupplierPatch, purchasing_api.SupplierPatch),
        (purchasing.SupplierProductCommand, purchasing_api.SupplierProductIn),
        (purchasing.POLineIn, purchasing_api.POLineIn),
        (purchasing.PurchaseOrderCommand, purchasing_api.PurchaseOrderIn),
        (purchasing.PurchaseOrderPatch, purchasing_api.PurchaseOrderPatch),
        (purchasing.ReceiveCommand, purchasing_api.POReceiptIn),
        (purchasing.DraftsCommand, purchasing_api.DraftsIn),
        (purchasing.PromotionCommand, planning_api.PromotionIn),
        (purchasing.ThresholdsCommand, planning_api.ThresholdsIn),
        (purchasing.ReorderPointCommand, planning_api.ReorderPointIn),
        (purchasing.CycleCountCommand, cycle_counts_api.CycleCountIn),
        (purchasing.CountLineCommand, cycle_counts_api.CountLineIn),
    ]
    return views, commands


@pytest.mark.parametrize(
    ("view", "model"), _purchasing_pairs()[0] + _purchasing_pairs()[1], ids=lambda v: v.__name__
)
def test_a_purchasing_shape_names_the_fields_of_its_api_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == _names(model)


def test_a_purchase_order_body_becomes_its_command_unchanged() -> None:
    from dingdan.services.purchasing import shapes as purchasing
    from dingdan.web.api.purchasing import schemas as purchasing_api

    body = purchasing_api.PurchaseOrderIn(
        supplier="TEA-FARM",
        location="MAIN",
        lines=[purchasing_api.POLineIn(sku="TEA-1", quantity=3, unit_cost="12.50")],
        notes=None,
    )
    assert command(purchasing.PurchaseOrderCommand, body, exclude_unset=True) == {
        "supplier": "TEA-FARM",
        "location": "MAIN",
        "lines": [{"sku": "TEA-1", "quantity": 3, "unit_cost": "12.50"}],
        "notes": None,
    }


# ---- reports: the views the report routes answer, by alias ("from", "to")


def _reports_pairs() -> list[tuple[type, type[BaseModel]]]:
    from dingdan.services.reports import shapes as reports
    from dingdan.web.api.reports import carriers as carriers_api
    from dingdan.web.api.reports import clv as clv_api
    from dingdan.web.api.reports import customers as customers_api
    from dingdan.web.api.reports import kpis as kpis_api
    from dingdan.web.api.reports import report_common
    from dingdan.web.api.reports import routes as reports_api
    from dingdan.web.api.reports import sales as sales_api
    from dingdan.web.api.reports import stockouts as stockouts_api
    from dingdan.web.api.reports import top as top_api

    return [
        (reports.RangeView, report_common.Ranged),
        (reports.Totals, report_common.Totals),
        (reports.SalesItem, sales_api.SalesItem),
        (reports.SalesView, sales_api.Sales),
        (reports.HeatmapCell, sales_api.Cell),
        (reports.HeatmapView, sales_api.Heatmap),
        (reports.TopItem, top_api.TopItem),
        (reports.TopView, top_api.Top),
        (reports.StockoutRow, stockouts_api.StockoutRow),
        (reports.StockoutsView, stockouts_api.Stockouts),
        (reports.Figures, kpis_api.Figures),
        (reports.KpisView, kpis_api.Kpis),
        (reports.TransitView, carriers_api.Transit),
        (reports.CarrierRow, carriers_api.CarrierRow),
        (reports.CarriersView, carriers_api.Carriers),
        (reports.PromiseView, carriers_api.Promise),
        (reports.PromisesView, carriers_api.Promises),
        (reports.PromiseCommand, carriers_api.PromiseIn),
        (reports.RateRow, reports_api.RateRow),
        (reports.ReturnRatesView, reports_api.ReturnRates),
        (reports.BgNbdParams, clv_api.BgNbdParams),
        (reports.SpendModel, clv_api.SpendModel),
        (reports.ClvModelView, clv_api.ClvModel),
        (reports.MoneyView, clv_api.Money),
        (reports.CustomerClvView, clv_api.CustomerClv),
        (reports.LikelyCustomer, clv_api.LikelyCustomer),
        (reports.RfmCustomer, customers_api.RfmCustomer),
        (reports.BoughtWithView, customers_api.BoughtWith),
    ]


@pytest.mark.parametrize(("view", "model"), _reports_pairs(), ids=lambda v: v.__name__)
def test_a_report_view_names_the_fields_of_its_response_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == _names(model)
