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
from dingdan.services.invoicing import shapes as invoicing
from dingdan.services.jobs import shapes as jobs
from dingdan.services.messaging import shapes as messaging
from dingdan.services.orders import shapes as orders
from dingdan.services.payments import shapes as payments
from dingdan.services.shared import view_types
from dingdan.services.shared.common import PageView
from dingdan.web.api.access import schemas as access_api
from dingdan.web.api.after_sales import dispute_schemas
from dingdan.web.api.after_sales import schemas as after_sales_api
from dingdan.web.api.catalog import schemas as catalog_api
from dingdan.web.api.inventory import schemas as inventory_api
from dingdan.web.api.invoicing import schemas as invoicing_api
from dingdan.web.api.jobs import schemas as jobs_api
from dingdan.web.api.messaging import schemas as messaging_api
from dingdan.web.api.orders import allocation_moves as allocation_moves_api
from dingdan.web.api.orders import customer_privacy as customer_privacy_api
from dingdan.web.api.orders import customers as customers_api
from dingdan.web.api.orders import risk as risk_api
from dingdan.web.api.orders import schemas as orders_api
from dingdan.web.api.orders import view_schemas as order_views_api
from dingdan.web.api.orders import view_schemas as orders_views
from dingdan.web.api.payments import cod_payouts as cod_payouts_api
from dingdan.web.api.payments import linepay as linepay_api
from dingdan.web.api.payments import schemas as payments_api
from dingdan.web.api.shared import common_schemas
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
    (payments.PaymentView, orders_views.Payment),
    (payments.PaymentCardView, orders_views.PaymentCard),
    (payments.PaymentWithOrderView, orders_views.PaymentWithOrder),
    (PageView, orders_views.PaymentList),
    (payments.IntentView, payments_api.PaymentIntent),
    (payments.RemittanceView, orders_views.Remittance),
    (payments.RemittedOrder, orders_views.RemittedOrder),
    (payments.PayoutLineView, cod_payouts_api.PayoutLine),
    (payments.PayoutReportView, cod_payouts_api.PayoutReport),
    (payments.PayoutDifferenceView, cod_payouts_api.PayoutDifference),
    (payments.PayoutDifferences, cod_payouts_api.PayoutDifferences),
    (payments.LinePaySettingsView, linepay_api.LinePaySettings),
    (payments.StoreCreditView, after_sales_api.StoreCredit),
    (payments.CreditBalanceView, after_sales_api.CreditBalance),
    (payments.CreditEntryView, after_sales_api.CreditEntry),
    (invoicing.InvoiceView, invoicing_api.Invoice),
    (invoicing.InvoiceList, invoicing_api.InvoiceList),
    (invoicing.InvoiceLineView, invoicing_api.InvoiceLine),
    (invoicing.InvoiceDetailView, invoicing_api.InvoiceDetail),
    (invoicing.AllowanceView, invoicing_api.AllowanceOut),
    (invoicing.AllowanceDetailView, invoicing_api.AllowanceDetail),
    (invoicing.AllowanceList, invoicing_api.AllowanceList),
    (invoicing.SettingsView, invoicing_api.InvoicingSettings),
    (invoicing.TrackView, invoicing_api.Track),
    (invoicing.TrackList, invoicing_api.TrackList),
    (invoicing.BlankRun, invoicing_api.BlankRun),
    (invoicing.BlankNumbers, invoicing_api.BlankNumbers),
    (invoicing.FapiaoView, invoicing_api.FapiaoOut),
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
    (payments.PaymentCommand, orders_api.PaymentIn),
    (payments.RefundCommand, orders_api.RefundIn),
    (payments.AuthorizeCommand, orders_api.AuthorizeIn),
    (payments.CaptureCommand, orders_api.CaptureIn),
    (payments.RemittanceCommand, orders_api.RemittanceIn),
    (payments.RemittedOrderIn, orders_api.RemittanceOrderIn),
    (payments.CloseIntentCommand, payments_api.CloseIntentIn),
    (payments.LinePaySettingsCommand, linepay_api.LinePaySettingsIn),
    (invoicing.SettingsCommand, invoicing_api.InvoicingSettingsIn),
    (invoicing.TrackCommand, invoicing_api.TrackIn),
    (invoicing.FapiaoCommand, invoicing_api.FapiaoIn),
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
    assert command(inventory.LocationCommand, patch, exclude_unset=True) == {"regions": ["TW-TPE"]}


def test_a_body_the_command_does_not_describe_is_refused() -> None:
    # A field the TypedDict lacks would be dropped silently by the adapter: refused instead.
    with pytest.raises(TypeError):
        command(messaging.TestSendCommand, messaging_api.PreviewIn(order="DD1", subject="x"))


# ---- orders ---------------------------------------------------------------------------------

ORDER_VIEWS: list[tuple[type, type[BaseModel]]] = [
    (view_types.OrderView, order_views_api.Order),
    (view_types.OrderLineView, order_views_api.OrderLine),
    (view_types.AllocationView, order_views_api.Allocation),
    (view_types.ShipmentView, order_views_api.Shipment),
    (view_types.ShippedLine, common_schemas.StockLineOut),
    (PageView, order_views_api.OrderPage),
    (PageView, order_views_api.OrderEvents),
    (PageView, order_views_api.ShipmentList),
    (orders.OrderEventView, order_views_api.OrderEvent),
    (orders.LifetimeValueView, customers_api.LifetimeValue),
    (orders.ConsentView, customer_privacy_api.Consent),
    (orders.ConsentEntryView, customers_api.ConsentEntry),
    (orders.CustomerExportView, customers_api.CustomerExport),
    (orders.ExportedCustomerView, customers_api.ExportedCustomer),
    (orders.ExportedChannelView, customers_api.ExportedChannel),
    (orders.ExportedOrderView, customers_api.ExportedOrder),
    (orders.ExportedLineView, customers_api.ExportedLine),
    (orders.ExportedPaymentView, customers_api.ExportedPayment),
    (orders.ExportedCardView, customers_api.ExportedCard),
    (orders.ExportedReturnView, customers_api.ExportedReturn),
    (orders.ExportedMessageView, customers_api.ExportedMessage),
    (orders.ExportedRatingView, customers_api.ExportedRating),
    (orders.ErasedView, customers_api.Erased),
    (orders.BlockView, risk_api.Block),
    (orders.RiskSettingsView, risk_api.RiskSettings),
    (orders.RuleView, risk_api.RuleOut),
]

ORDER_COMMANDS: list[tuple[type, type[BaseModel]]] = [
    (orders.OrderEdit, orders_api.OrderEditIn),
    (orders.EditLine, orders_api.EditLineIn),
    (orders.LineCancel, orders_api.LineCancelIn),
    (orders.AllocationMove, allocation_moves_api.AllocationMoveIn),
    (orders.MoveLine, allocation_moves_api.MoveLineIn),
    (orders.ConsentCommand, customer_privacy_api.ConsentIn),
    (orders.BlockCommand, risk_api.BlockIn),
    (orders.RiskSettingsCommand, risk_api.RiskSettingsIn),
    (orders.RuleCommand, risk_api.RuleIn),
]


@pytest.mark.parametrize(("view", "model"), ORDER_VIEWS, ids=lambda v: v.__name__)
def test_an_order_view_names_the_fields_of_its_response_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == set(model.model_fields)


@pytest.mark.parametrize(("typed", "model"), ORDER_COMMANDS, ids=lambda v: v.__name__)
def test_an_order_command_names_the_fields_of_its_request_body(
    typed: type, model: type[BaseModel]
) -> None:
    # As the client sends them: ``from`` of an allocation move is ``from_`` in Python.
    assert _keys(typed) == {f.alias or name for name, f in model.model_fields.items()}


def test_an_order_edit_body_becomes_its_command_unchanged() -> None:
    body = orders_api.OrderEditIn.model_validate(
        {
            "lines": [{"sku": "TEA-1", "quantity": 0}, {"sku": "TEA-2", "quantity": 3}],
            "shipping_address": {"name": "王小明", "line1": "信義路五段7號", "country": "TW"},
            "invoice": {"type": "b2c", "carrier_type": "mobile", "carrier_id": "/ABC1234"},
        }
    )
    sent = command(orders.OrderEdit, body, exclude_none=True)
    assert sent == body.model_dump(exclude_none=True)
    settings = risk_api.RiskSettingsIn.model_validate({"medium": 40, "rules": {"x": {"points": 5}}})
    assert command(orders.RiskSettingsCommand, settings, exclude_unset=True) == {
        "medium": 40,
        "rules": {"x": {"points": 5}},
    }


# ---- fulfilment -------------------------------------------------------------------------

from dingdan.services.fulfilment import shapes as fulfilment  # noqa: E402
from dingdan.web.api.fulfilment import cvs_schemas, delivery_run_schemas, tracking_schemas  # noqa: E402
from dingdan.web.api.fulfilment import labels as labels_api  # noqa: E402
from dingdan.web.api.fulfilment import pickup as pickup_api  # noqa: E402
from dingdan.web.api.fulfilment import schemas as fulfilment_api  # noqa: E402
from dingdan.web.api.orders import schemas as orders_api  # noqa: E402

FULFILMENT_VIEWS: list[tuple[type, type[BaseModel]]] = [
    (fulfilment.CarrierView, fulfilment_api.Carrier),
    (fulfilment.CarrierList, fulfilment_api.CarrierList),
    (fulfilment.WebhookSecretView, tracking_schemas.WebhookSecret),
    (fulfilment.PickOrderView, fulfilment_api.PickOrder),
    (fulfilment.PickLineView, fulfilment_api.PickLine),
    (fulfilment.PickListView, fulfilment_api.PickList),
    (fulfilment.PackedLineView, fulfilment_api.PackedLine),
    (fulfilment.ExpectedLineView, fulfilment_api.ExpectedLine),
    (fulfilment.PackDifferenceView, fulfilment_api.PackDifference),
    (fulfilment.PackCheckView, fulfilment_api.PackCheck),
    (fulfilment.PackRecordView, fulfilment_api.PackRecord),
    (fulfilment.PackRecordList, fulfilment_api.PackRecordList),
    (fulfilment.PlaceView, pickup_api.PickupPlace),
    (fulfilment.PickupView, pickup_api.Pickup),
    (fulfilment.LabelRangeView, labels_api.LabelRange),
    (fulfilment.LabelRangeList, labels_api.LabelRangeList),
    (fulfilment.LabelAddressView, labels_api.LabelAddress),
    (fulfilment.LabelView, labels_api.Label),
    (fulfilment.DriverView, delivery_run_schemas.Driver),
    (fulfilment.RecipientView, delivery_run_schemas.Recipient),
    (fulfilment.StopView, delivery_run_schemas.Stop),
    (fulfilment.StopCounts, delivery_run_schemas.Counts),
    (fulfilment.CashLineView, delivery_run_schemas.CashLine),
    (fulfilment.CashView, delivery_run_schemas.Cash),
    (fulfilment.RunView, delivery_run_schemas.Run),
    (fulfilment.RunSummaryView, delivery_run_schemas.RunSummary),
    (fulfilment.PlannedOrderView, delivery_run_schemas.PlannedOrder),
    (fulfilment.PlanAreaView, delivery_run_schemas.PlanArea),
    (fulfilment.PlanningView, delivery_run_schemas.Planning),
    (fulfilment.CvsDeliveryView, cvs_schemas.CvsDelivery),
    (fulfilment.BrowserForm, cvs_schemas.BrowserForm),
    (fulfilment.ParcelView, cvs_schemas.Parcel),
    (fulfilment.ExchangeView, cvs_schemas.Exchange),
    (fulfilment.CvsShipmentView, cvs_schemas.CvsShipment),
    (fulfilment.TrackingEventView, tracking_schemas.TrackingEvent),
    (fulfilment.TrackingEventList, tracking_schemas.TrackingEventList),
]

FULFILMENT_COMMANDS: list[tuple[type, type[BaseModel]]] = [
    (fulfilment.CarrierCommand, fulfilment_api.CarrierIn),
    (fulfilment.CarrierChanges, fulfilment_api.CarrierPatch),
    (fulfilment.ShipmentCommand, orders_api.ShipmentIn),
    (fulfilment.ExceptionCommand, orders_api.ExceptionIn),
    (fulfilment.PackCommand, fulfilment_api.PackIn),
    (fulfilment.LabelRangeCommand, labels_api.LabelRangeIn),
    (fulfilment.RunCommand, delivery_run_schemas.RunIn),
    (fulfilment.StoreCommand, cvs_schemas.StoreIn),
    (fulfilment.CvsShipmentCommand, cvs_schemas.CvsShipmentIn),
]


@pytest.mark.parametrize(("view", "model"), FULFILMENT_VIEWS, ids=lambda v: v.__name__)
def test_a_fulfilment_view_names_the_fields_of_its_response_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == set(model.model_fields)


@pytest.mark.parametrize(("typed", "model"), FULFILMENT_COMMANDS, ids=lambda v: v.__name__)
def test_a_fulfilment_command_names_the_fields_of_its_request_body(
    typed: type, model: type[BaseModel]
) -> None:
    assert _keys(typed) == set(model.model_fields)


def test_a_fulfilment_body_becomes_its_command_unchanged() -> None:
    # Every body of a fulfilment route, as the route hands it over (exclude_* as it does).
    shipment = cvs_schemas.CvsShipmentIn(lines=[{"sku": "TEA-1", "quantity": 2}])
    assert command(fulfilment.CvsShipmentCommand, shipment, exclude_none=True) == {
        "lines": [{"sku": "TEA-1", "quantity": 2}],
        "collect": True,
    }
    patch = fulfilment_api.CarrierPatch(active=False)
    assert command(fulfilment.CarrierChanges, patch, exclude_unset=True) == {"active": False}
    carrier = fulfilment_api.CarrierIn(code="kerry", name="Kerry")
    assert command(fulfilment.CarrierCommand, carrier)["store_pickup"] is False
    pack = fulfilment_api.PackIn(scans=["TEA-1"])
    assert command(fulfilment.PackCommand, pack, exclude_unset=True) == {"scans": ["TEA-1"]}
    run = delivery_run_schemas.RunIn(driver="d@example.com", date="2026-12-08")
    assert command(fulfilment.RunCommand, run, exclude_none=True) == {
        "driver": "d@example.com",
        "date": "2026-12-08",
    }
    ship = orders_api.ShipmentIn(carrier="tcat", lines=[{"sku": "TEA-1", "quantity": 2}])
    assert command(fulfilment.ShipmentCommand, ship, exclude_unset=True) == {
        "carrier": "tcat",
        "lines": [{"sku": "TEA-1", "quantity": 2}],
    }
    exception = orders_api.ExceptionIn(kind="lost")
    assert command(fulfilment.ExceptionCommand, exception, exclude_unset=True) == {"kind": "lost"}
    store = cvs_schemas.StoreIn(brand="7-ELEVEN", store_id="131386", store_name="建盛")
    assert command(fulfilment.StoreCommand, store)["address"] is None
    labels = labels_api.LabelRangeIn(carrier="tcat", start="1000", end="1999")
    assert command(fulfilment.LabelRangeCommand, labels, exclude_none=True) == {
        "carrier": "tcat",
        "start": "1000",
        "end": "1999",
    }


def test_the_payments_and_invoicing_bodies_become_their_commands_unchanged() -> None:
    remittance = orders_api.RemittanceIn(
        carrier="tcat", reference="R-1", orders=[{"number": "DD1", "amount": "10.00"}]
    )
    assert command(payments.RemittanceCommand, remittance) == remittance.model_dump()
    settings = invoicing_api.InvoicingSettingsIn(seller_name="茶舖", einvoice=True)
    assert command(invoicing.SettingsCommand, settings) == settings.model_dump()
    capture = orders_api.CaptureIn()
    assert command(payments.CaptureCommand, capture, exclude_none=True) == {}


# ---- catalog (issue 18, part 4) ----------------------------------------------------------

from dingdan.services.catalog import shapes as catalog  # noqa: E402
from dingdan.web.api.catalog import channel_stock as channel_stock_api  # noqa: E402
from dingdan.web.api.catalog import styles as styles_api  # noqa: E402

CATALOG_VIEWS: list[tuple[type, type[BaseModel]]] = [
    (catalog.StyleVariantView, styles_api.Variant),
    (catalog.StyleView, styles_api.Style),
    (catalog.StyleSummary, styles_api.StyleItem),
    (catalog.PhotoView, styles_api.Photo),
    (catalog.ListingView, styles_api.Listing),
    (catalog.VariantListingView, styles_api.VariantListing),
    (catalog.ChannelListingView, styles_api.ChannelListing),
    (catalog.StyleListingsView, styles_api.StyleListings),
    (catalog.SkuListingsView, styles_api.SkuListings),
    (catalog.ChannelView, catalog_api.Channel),
    (catalog.ChannelList, catalog_api.ChannelList),
    (catalog.TaxRuleView, catalog_api.TaxRule),
    (catalog.TaxRateView, catalog_api.TaxRate),
    (catalog.TaxRateList, catalog_api.TaxRateList),
    (catalog.StockRuleView, channel_stock_api.ChannelStockRule),
    (catalog.ChannelStockItem, channel_stock_api.ChannelStockItem),
    (catalog.ChannelStockPage, channel_stock_api.ChannelStock),
]

CATALOG_COMMANDS: list[tuple[type, type[BaseModel]]] = [
    (catalog.ProductFields, catalog_api.ProductPatch),
    (catalog.VariantCommand, styles_api.VariantIn),
    (catalog.StyleCommand, styles_api.StyleIn),
    (catalog.StyleChanges, styles_api.StylePatch),
    (catalog.VariantsCommand, styles_api.VariantsIn),
    (catalog.ListingCommand, styles_api.ListingIn),
    (catalog.ChannelCommand, catalog_api.ChannelIn),
    (catalog.ChannelChanges, catalog_api.ChannelPatch),
    (catalog.TaxRateCommand, catalog_api.TaxRateIn),
    (catalog.StockRuleCommand, channel_stock_api.ChannelStockRuleIn),
]


@pytest.mark.parametrize(("view", "model"), CATALOG_VIEWS, ids=lambda v: v.__name__)
def test_a_catalog_view_names_the_fields_of_its_response_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == set(model.model_fields)


@pytest.mark.parametrize(("typed", "model"), CATALOG_COMMANDS, ids=lambda v: v.__name__)
def test_a_catalog_command_names_the_fields_of_its_request_body(
    typed: type, model: type[BaseModel]
) -> None:
    assert _keys(typed) == set(model.model_fields)


def test_a_new_product_is_the_api_body_and_what_the_product_page_adds() -> None:
    # The page's form of a new product also has a reorder point (and may name a supplier,
    # which only an update reads).
    assert _keys(catalog.NewProduct) - set(catalog_api.ProductIn.model_fields) == {
        "reorder_point",
        "supplier",
    }
    assert set(catalog_api.ProductIn.model_fields) <= _keys(catalog.NewProduct)
    body = catalog_api.ProductIn(sku="TEA-1", name="Tea", price="120", currency="TWD")
    assert command(catalog.NewProduct, body) == body.model_dump()


def test_a_style_body_becomes_its_command_without_its_blank_fields() -> None:
    body = styles_api.StyleIn(
        code="TEE",
        name="Tee",
        options=["尺寸"],
        variants=[styles_api.VariantIn(sku="TEE-M", options={"尺寸": "M"}, price="300")],
    )
    assert command(catalog.StyleCommand, body, exclude_none=True) == {
        "code": "TEE",
        "name": "Tee",
        "options": ["尺寸"],
        "variants": [{"sku": "TEE-M", "options": {"尺寸": "M"}, "price": "300"}],
    }


# ---- integrations (issue 18, part 4) -----------------------------------------------------

from dingdan.services.integrations import channel_json  # noqa: E402
from dingdan.services.integrations import shapes as integrations  # noqa: E402
from dingdan.web.api.integrations import inbound as inbound_api  # noqa: E402
from dingdan.web.api.integrations import schemas as integrations_api  # noqa: E402

INTEGRATIONS_VIEWS: list[tuple[type, type[BaseModel]]] = [
    (integrations.EndpointView, integrations_api.WebhookWithSecret),
    (integrations.EndpointList, integrations_api.WebhookList),
    (integrations.DeliveryView, integrations_api.Delivery),
    (integrations.AttemptView, integrations_api.Attempt),
    (integrations.DeliveryDetail, integrations_api.DeliveryDetail),
    (integrations.HookAnswer, inbound_api.HookAnswer),
    (integrations.InboundDeliveryView, inbound_api.InboundDelivery),
    (integrations.InboundList, inbound_api.InboundPage),
    (integrations.AliasView, inbound_api.Alias),
    (integrations.AddressView, inbound_api.AddressOut),
]

INTEGRATIONS_COMMANDS: list[tuple[type, type[BaseModel]]] = [
    (integrations.NewEndpoint, integrations_api.WebhookIn),
    (integrations.EndpointChanges, integrations_api.WebhookPatch),
    (integrations.AddressCommand, inbound_api.AddressIn),
]


@pytest.mark.parametrize(("view", "model"), INTEGRATIONS_VIEWS, ids=lambda v: v.__name__)
def test_an_integrations_view_names_the_fields_of_its_response_model(
    view: type, model: type[BaseModel]
) -> None:
    assert _keys(view) == set(model.model_fields)


@pytest.mark.parametrize(("typed", "model"), INTEGRATIONS_COMMANDS, ids=lambda v: v.__name__)
def test_an_integrations_command_names_the_fields_of_its_request_body(
    typed: type, model: type[BaseModel]
) -> None:
    assert _keys(typed) == set(model.model_fields)


def test_a_webhook_patch_becomes_its_command_with_only_the_fields_sent() -> None:
    patch = integrations_api.WebhookPatch(status="disabled")
    assert command(integrations.EndpointChanges, patch, exclude_unset=True) == {
        "status": "disabled"
    }


def test_a_channel_value_of_the_wrong_kind_fails_as_python_would() -> None:
    # The mapping of a channel's order reads open JSON; a value of another kind leaves the
    # delivery needing attention (invalid_order) with the error plain Python raises.
    assert channel_json.get({"sku": "TEA-1"}, "sku") == "TEA-1"
    assert channel_json.each(None) == [] and channel_json.each([{"a": 1}]) == [{"a": 1}]
    assert channel_json.each({"a": 1}) == ["a"]
    with pytest.raises(AttributeError):
        channel_json.get("text", "sku")
    with pytest.raises(TypeError):
        channel_json.each(5)


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
