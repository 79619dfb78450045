"""Planning's settings page: the shop's own promotions (known peaks the forecasts lift
demand on, with the uplift the seller expects or none) and the ABC/XYZ thresholds."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.services.purchasing import planning_settings
from dingdan.services.purchasing.shapes import PromotionCommand, ThresholdsCommand
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BACK = "/planning/settings"


@router.get("/planning/settings")
def settings_page(request: Request, page: User) -> Response:
    return _page(page)


def _page(page: Page, code: int = 200) -> Response:
    db = page.request.app.state.db
    return page.render(
        "purchasing/planning_settings.html",
        status=code,
        promotions=planning_settings.list_promotions(db)["items"],
        thresholds=planning_settings.get_abc_thresholds(db),
    )


@router.post("/planning/promotions")
def create_promotion(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    body: PromotionCommand = {
        "name": form_text(form, "name", 200) or "",
        "starts_on": form_text(form, "starts_on", 20) or "",
        "ends_on": form_text(form, "ends_on", 20) or "",
        "expected_uplift": form_amount(form, "expected_uplift"),
    }
    return page.attempt(
        lambda: planning_settings.create_promotion(request.app.state.db, actor, body),
        done=page.gettext("Promotion added: the forecasts count it from their next run."),
        back=BACK,
        form_id="new-promotion",
        typed=form,
        again=lambda status: _page(page, status),
    )


@router.post("/planning/promotions/{promotion_id}/delete")
def delete_promotion(request: Request, promotion_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    return page.attempt(
        lambda: planning_settings.delete_promotion(request.app.state.db, actor, promotion_id),
        done=page.gettext("Promotion deleted."),
        back=BACK,
        form_id=f"delete-{quote(promotion_id, safe='')}",
        typed={},
        again=lambda status: _page(page, status),
    )


@router.post("/planning/abc-thresholds")
def save_thresholds(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    body: ThresholdsCommand = {
        "a": form_amount(form, "a"),
        "b": form_amount(form, "b"),
        "x": form_amount(form, "x"),
        "y": form_amount(form, "y"),
    }
    return page.attempt(
        lambda: planning_settings.put_abc_thresholds(request.app.state.db, actor, body),
        done=page.gettext("ABC/XYZ thresholds saved."),
        back=BACK,
        form_id="thresholds",
        typed=form,
        again=lambda status: _page(page, status),
    )
