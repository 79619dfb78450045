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
