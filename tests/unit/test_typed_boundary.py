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
from dingdan.services.payments import shapes as payments
from dingdan.web.api.access import schemas as access_api
from dingdan.web.api.after_sales import dispute_schemas
from dingdan.web.api.after_sales import schemas as after_sales_api
from dingdan.web.api.catalog import schemas as catalog_api
from dingdan.web.api.inventory import schemas as inventory_api
from dingdan.web.api.invoicing import schemas as invoicing_api
from dingdan.web.api.jobs import schemas as jobs_api
from dingdan.web.api.messaging import schemas as messaging_api
from dingdan.web.api.orders import schemas as orders_api
from dingdan.web.api.orders import view_schemas as orders_views
from dingdan.web.api.payments import cod_payouts as cod_payouts_api
from dingdan.web.api.payments import linepay as linepay_api
from dingdan.web.api.payments import schemas as payments_api
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
    (payments.IntentView, payments_api.PaymentIntent),
    (payments.RemittanceView, orders_views.Remittance),
    (payments.RemittedOrder, orders_views.RemittedOrder),
    (payments.PayoutLineView, cod_payouts_api.PayoutLine),
    (payments.PayoutReportView, cod_payouts_api.PayoutReport),
    (payments.PayoutDifferenceView, cod_payouts_api.PayoutDifference),
    (payments.PayoutDifferences, cod_payouts_api.PayoutDifferences),
    (payments.LinePaySettingsView, linepay_api.LinePaySettings),
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
    assert command(inventory.LocationCommand, patch, exclude_unset=True) == {
        "regions": ["TW-TPE"]
    }


def test_a_body_the_command_does_not_describe_is_refused() -> None:
    # A field the TypedDict lacks would be dropped silently by the adapter: refused instead.
    with pytest.raises(TypeError):
        command(messaging.TestSendCommand, messaging_api.PreviewIn(order="DD1", subject="x"))


def test_the_payments_and_invoicing_bodies_become_their_commands_unchanged() -> None:
    remittance = orders_api.RemittanceIn(
        carrier="tcat", reference="R-1", orders=[{"number": "DD1", "amount": "10.00"}]
    )
    assert command(payments.RemittanceCommand, remittance) == remittance.model_dump()
    settings = invoicing_api.InvoicingSettingsIn(seller_name="茶舖", einvoice=True)
    assert command(invoicing.SettingsCommand, settings) == settings.model_dump()
    capture = orders_api.CaptureIn()
    assert command(payments.CaptureCommand, capture, exclude_none=True) == {}
