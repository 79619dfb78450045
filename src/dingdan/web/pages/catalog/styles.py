"""Styles (products with variants, issue 21 part 9): the list, a new style made from its
option values (every combination a variant, its SKU suggested and editable before creating),
and a style's page: its variants with their stock, more variants, its photos and on which
channels each variant is listed (with the channel's SKU)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.catalog import styles as style_rules
from dingdan.domain.orders.rules import BUILTIN_CHANNELS
from dingdan.domain.shared.errors import DomainError, FieldErrors, ValidationFailed
from dingdan.services.catalog import listings, photos, styles
from dingdan.services.catalog.shapes import (
    SkuListingItem,
    StyleChanges,
    StyleCommand,
    StyleView,
    VariantCommand,
    VariantsCommand,
)
from dingdan.web.pages.catalog.products import CURRENCIES
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_SPLIT = re.compile(r"[,，、;\n]+")
_VARIANT = re.compile(r"^variants\[(\d+)\]\.(\w+)")
_OPTION = re.compile(r"^options(\[(\d+)\])?")


@router.get("/styles")
def style_list(
    request: Request, page: User, q: str | None = None, cursor: str | None = None
) -> Response:
    db = request.app.state.db
    q = (q or "").strip()[:200]
    try:
        result = styles.list_styles(db, q=q or None, limit=50, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = styles.list_styles(db, q=q or None, limit=50)
    base = "/styles?" + urlencode({"q": q} if q else {})
    return page.render("catalog/styles.html", result=result, q=q, base=base)


def _values(form: dict[str, Any], i: int) -> list[str]:
    text = form_text(form, f"opt-values-{i}", 2000) or ""
    seen: list[str] = []
    for v in _SPLIT.split(text):
        if v.strip() and v.strip() not in seen:
            seen.append(v.strip())
    return seen


def _options(form: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The option names typed and each one's values (a name without values is left out)."""
    names, grid = [], []
    for i in range(style_rules.MAX_OPTIONS):
        name = form_text(form, f"opt-name-{i}", 100)
        values = _values(form, i)
        if name or values:
            names.append(name or "")
            grid.append(values)
    return names, grid


def _grid(form: dict[str, Any], code: str, grid: list[list[str]]) -> list[dict[str, Any]]:
    """The variant rows: as typed after "show combinations", else every combination with
    its suggested SKU."""
    combos = style_rules.combinations(grid) if grid and all(grid) else []
    rows = []
    for n, values in enumerate(combos[: style_rules.MAX_VARIANTS + 1]):
        rows.append(
            {
                "values": values,
                "sku": form_text(form, f"var-sku-{n}", 64)
                if f"var-sku-{n}" in form
                else style_rules.suggested_sku(code or "STYLE", values, n + 1),
                "barcode": form_text(form, f"var-barcode-{n}", 64) or "",
                "price": form_text(form, f"var-price-{n}", 30) or "",
            }
        )
    return rows


def _new_page(
    page: Page, v: dict[str, Any], rows: list[dict[str, Any]], status: int = 200
) -> Response:
    shown = ["code", "name", "category", "brand", "price", "currency"]
    shown += [f"opt-{k}-{i}" for i in range(style_rules.MAX_OPTIONS) for k in ("name", "values")]
    shown += [f"var-{k}-{n}" for n in range(len(rows)) for k in ("sku", "barcode", "price")]
    return page.render(
        "catalog/style_new.html",
        status=status,
        v=v,
        rows=rows,
        currencies=CURRENCIES,
        facets=styles.facets(page.request.app.state.db),
        max_options=style_rules.MAX_OPTIONS,
        shown=shown,
    )


@router.get("/styles/new")
def new_style(page: User) -> Response:
    page.require(Action.MANAGE_CATALOG)
    return _new_page(page, {"currency": "TWD"}, [])


def _form_field(name: str) -> str:
    """The service's field → the form's (``variants[2].sku`` → ``var-sku-2``)."""
    if m := _VARIANT.match(name):
        column = m[2] if m[2] in ("barcode", "price") else "sku"
        return f"var-{column}-{m[1]}"
    if m := _OPTION.match(name):
        return f"opt-name-{m[2] or 0}"
    return name


def _variant(r: dict[str, Any], names: list[str]) -> VariantCommand:
    variant: VariantCommand = {
        "sku": r["sku"],
        "options": dict(zip(names, r["values"], strict=True)),
    }
    if r["barcode"]:
        variant["barcode"] = r["barcode"]
    if r["price"]:
        variant["price"] = form_amount({"p": r["price"]}, "p")
    return variant


def _body(form: dict[str, Any], rows: list[dict[str, Any]], names: list[str]) -> StyleCommand:
    """The style's fields typed (a blank one left out) and its variants."""
    body: StyleCommand = {"options": names}
    code = form_text(form, "code", 64)
    name = form_text(form, "name", 300)
    category = form_text(form, "category", 100)
    brand = form_text(form, "brand", 100)
    price = form_amount(form, "price")
    currency = form_text(form, "currency", 3)
    if code is not None:
        body["code"] = code
    if name is not None:
        body["name"] = name
    if category is not None:
        body["category"] = category
    if brand is not None:
        body["brand"] = brand
    if price is not None:
        body["price"] = price
    if currency is not None:
        body["currency"] = currency
    body["variants"] = [_variant(r, names) for r in rows]
    return body


@router.post("/styles/new")
def create_style(request: Request, page: User, form: Form) -> Response:
    """``step=grid`` shows the combinations to edit; otherwise the style is created."""
    actor = page.require(Action.MANAGE_CATALOG)
    names, grid = _options(form)
    code = form_text(form, "code", 64) or ""
    rows = _grid(form, code, grid)
    typed = {k: v for k, v in form.items() if isinstance(v, str)}
    if form_text(form, "step", 10) == "grid" and rows:
        return _new_page(page, typed, rows)

    def work() -> StyleView:
        errors = FieldErrors()
        if not rows:
            errors.add("opt-values-0", "required")
        elif len(rows) > style_rules.MAX_VARIANTS:
            errors.add("opt-values-0", "too_many_items", max=style_rules.MAX_VARIANTS)
        errors.raise_if_any("The variants were refused.")
        return styles.create_style(request.app.state.db, actor, _body(form, rows, names))

    return page.attempt(
        work,
        done=lambda s: page.gettext("Style %(code)s created.", code=s["code"]),
        back="/styles/new",
        then=lambda s: f"/styles/{quote(s['code'], safe='')}",
        form_id="style",
        typed=typed,
        again=lambda status: _new_page(page, typed, rows, status),
        rename=_form_field,
        whole_form=True,
    )


def _style_page(page: Page, code: str, status: int = 200, **extra: Any) -> Response:
    db = page.request.app.state.db
    style = styles.get_style(db, code)
    locs = sorted({loc for v in style["variants"] for loc in v["locations"]})
    return page.render(
        "catalog/style.html",
        status=status,
        s=style,
        locations=locs,
        listing=listings.style_listings(db, code)["channels"],
        builtin_channels=BUILTIN_CHANNELS,
        photos=photos.photos_of(db, style=code),
        thumbs=photos.thumbnails(db, [v["sku"] for v in style["variants"]]),
        facets=styles.facets(db),
        **extra,
    )


@router.get("/styles/{code}")
def style_page(code: str, page: User) -> Response:
    return _style_page(page, code)


@router.post("/styles/{code}")
def update_style(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    data: StyleChanges = {
        "name": form_text(form, "name", 300) or "",
        "category": form_text(form, "category", 100) or "",
        "brand": form_text(form, "brand", 100) or "",
    }
    return page.attempt(
        lambda: styles.update_style(request.app.state.db, actor, code, data),
        done=page.gettext("Style %(code)s saved.", code=code),
        back=f"/styles/{quote(code, safe='')}",
        form_id="style-edit",
        typed=data,
        again=lambda status: _style_page(page, code, status),
    )


@router.post("/styles/{code}/variants")
def add_variants(request: Request, code: str, page: User, form: Form) -> Response:
    """New values of the style's options: every combination not yet a variant is added,
    each with its suggested SKU and the price typed."""
    actor = page.require(Action.MANAGE_CATALOG)
    db = request.app.state.db
    style = styles.get_style(db, code)
    have = {style_rules.option_key(list((v["options"] or {}).values())) for v in style["variants"]}
    grid = []
    for i, name in enumerate(style["options"]):
        values = _values(form, i)
        grid.append(
            values or sorted({(v["options"] or {}).get(name, "") for v in style["variants"]} - {""})
        )
    combos = [c for c in style_rules.combinations(grid) if style_rules.option_key(c) not in have]
    start = len(style["variants"])
    body: VariantsCommand = {
        "variants": [
            {
                "sku": style_rules.suggested_sku(code, c, start + n + 1),
                "options": dict(zip(style["options"], c, strict=True)),
            }
            for n, c in enumerate(combos)
        ]
    }
    price = form_amount(form, "price")
    currency = form_text(form, "currency", 3)
    if price is not None:
        body["price"] = price
    if currency is not None:
        body["currency"] = currency
    typed = {k: v for k, v in form.items() if isinstance(v, str)}

    def work() -> StyleView:
        if not combos:
            raise ValidationFailed.on("opt-values-0", "required")
        return styles.add_variants(db, actor, code, body)

    return page.attempt(
        work,
        done=lambda s: page.gettext("%(n)s variants added.", n=len(combos)),
        back=f"/styles/{quote(code, safe='')}",
        form_id="variants",
        typed=typed,
        again=lambda status: _style_page(page, code, status),
        rename=_form_field,
    )


@router.post("/styles/{code}/variants/{sku}/remove")
def remove_variant(request: Request, code: str, sku: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    return page.attempt(
        lambda: styles.remove_variant(request.app.state.db, actor, code, sku),
        done=page.gettext("%(sku)s is no longer a variant of this style.", sku=sku),
        back=f"/styles/{quote(code, safe='')}",
        form_id="variants",
        typed={},
        again=lambda status: _style_page(page, code, status),
    )


@router.post("/styles/{code}/listings/{channel}")
def set_listings(request: Request, code: str, channel: str, page: User, form: Form) -> Response:
    """The channel's listings of the style's variants: checked ones sold, with the channel's
    SKU typed beside each (a SKU alias)."""
    actor = page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    listed = form.get("listed") or []
    listed = set(listed if isinstance(listed, list) else [listed])
    items: list[SkuListingItem] = [
        {
            "sku": v["sku"],
            "listed": v["sku"] in listed,
            "channel_sku": form_text(form, f"channel-sku-{n}", 100),
        }
        for n, v in enumerate(styles.get_style(db, code)["variants"])
    ]

    def rename(name: str) -> str:
        m = re.match(r"^items\[(\d+)\]\.(\w+)", name)
        return f"channel-sku-{m[1]}" if m else name

    return page.attempt(
        lambda: listings.set_listings(db, actor, channel, items),
        done=page.gettext("The listings of %(channel)s are saved.", channel=channel),
        back=f"/styles/{quote(code, safe='')}#listings",
        form_id=f"listings-{channel}",
        typed={k: v for k, v in form.items() if isinstance(v, str)},
        again=lambda status: _style_page(page, code, status),
        rename=rename,
    )
