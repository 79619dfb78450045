"""Settings: sales channels and tax rates. Everyone may read them; changing them
needs ``manage_settings`` (admin, manager)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.catalog import channels_and_taxes
from dingdan.services.catalog import shapes as catalog
from dingdan.services.shared.common import Actor
from dingdan.web.api.catalog.schemas import (
    Channel,
    ChannelIn,
    ChannelList,
    ChannelPatch,
    TaxRate,
    TaxRateIn,
    TaxRateList,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["settings"])
WRITE = ("forbidden", "not_found", "conflict")


@router.get("/channels", response_model=ChannelList, responses=responses("forbidden"))
async def list_channels(
    request: Request, active: bool | None = None, actor: Actor = can(Action.READ)
) -> catalog.ChannelList:
    return await run_in_threadpool(
        lambda: channels_and_taxes.list_channels(db_of(request), active=active)
    )


@router.post(
    "/channels",
    response_model=Channel,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_channel(
    request: Request, body: ChannelIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> catalog.ChannelView:
    return await run_in_threadpool(
        channels_and_taxes.create_channel,
        db_of(request),
        actor,
        command(catalog.ChannelCommand, body),
    )


@router.patch("/channels/{code}", response_model=Channel, responses=responses(*WRITE))
async def update_channel(
    request: Request, code: str, body: ChannelPatch, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> catalog.ChannelView:
    """A built-in channel may be renamed; deactivating one is a 409 conflict."""
    return await run_in_threadpool(
        channels_and_taxes.update_channel,
        db_of(request),
        actor,
        code,
        command(catalog.ChannelChanges, body, exclude_unset=True),
    )


@router.get("/tax-rates", response_model=TaxRateList, responses=responses("forbidden"))
async def list_tax_rates(request: Request, actor: Actor = can(Action.READ)) -> catalog.TaxRateList:
    return await run_in_threadpool(channels_and_taxes.list_tax_rates, db_of(request))


@router.put(
    "/tax-rates/{country}/{tax_class}",
    response_model=TaxRate,
    responses=responses("forbidden", "conflict"),
)
async def set_tax_rate(
    request: Request,
    country: str,
    tax_class: str,
    body: TaxRateIn,
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> catalog.TaxRateView:
    """The seller's rate for a country (ISO 3166-1 alpha-2) and class (standard, reduced);
    it applies to orders placed from now on."""
    return await run_in_threadpool(
        channels_and_taxes.set_tax_rate,
        db_of(request),
        actor,
        country,
        tax_class,
        command(catalog.TaxRateCommand, body),
    )


@router.delete(
    "/tax-rates/{country}/{tax_class}",
    status_code=204,
    response_class=Response,
    responses=responses("forbidden", "not_found"),
)
async def delete_tax_rate(
    request: Request, country: str, tax_class: str, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> Response:
    """Removes the seller's rate; the default applies again."""
    await run_in_threadpool(
        channels_and_taxes.delete_tax_rate, db_of(request), actor, country, tax_class
    )
    return Response(status_code=204)
