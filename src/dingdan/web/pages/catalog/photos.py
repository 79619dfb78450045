"""Product photos: served by Dingdan (``/product-photos/<key>/<size>.jpg``, content-addressed,
so cached for a year and served without signing in, as the shop's logo is), and uploaded,
made first or removed from a product's or a style's page (services/catalog/photos.py)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import Conflict, DomainError, NotFound
from dingdan.services.catalog import photos
from dingdan.services.shared import uploads
from dingdan.web.pages.shared.core import Form, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/product-photos/{key}/{size}.jpg")
def photo(request: Request, key: str, size: str) -> Response:
    try:
        data, sha = photos.photo_file(request.app.state.db, key, size)
    except (NotFound, Conflict):
        return Response(status_code=404)
    etag = f'"{sha[:32]}"'
    headers = {
        "ETag": etag,
        # The address names the picture (its SHA-256): a new photo is a new address.
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)


def _back(kind: str, owner: str) -> str:
    return f"/{'styles' if kind == 'styles' else 'products'}/{quote(owner, safe='')}#photos"


async def _upload(request: Request, page: User, kind: str, owner: str) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    upload = (await request.form()).get("file")
    name, data = None, b""
    if isinstance(upload, UploadFile):
        name, data = upload.filename, await upload.read(uploads.max_upload_bytes() + 1)
    target = {"style": owner} if kind == "styles" else {"sku": owner}
    try:
        await run_in_threadpool(
            lambda: photos.add_photo(request.app.state.db, actor, name, data, **target)
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        page.flash_error(exc)
    else:
        page.flash(page.gettext("The photo is added."))
    return page.redirect(_back(kind, owner))


@router.post("/products/{sku}/photos")
async def upload_product_photo(request: Request, sku: str, page: User, form: Form) -> Response:
    return await _upload(request, page, "products", sku)


@router.post("/styles/{code}/photos")
async def upload_style_photo(request: Request, code: str, page: User, form: Form) -> Response:
    return await _upload(request, page, "styles", code)


def _change(
    request: Request, page: User, kind: str, owner: str, photo_id: str, action: str
) -> Response:
    """``action`` is ``first`` (shown first) or ``delete``."""
    actor = page.require(Action.MANAGE_CATALOG)
    if action not in ("first", "delete"):
        return Response(status_code=404)
    work = photos.make_first if action == "first" else photos.delete_photo
    try:
        work(request.app.state.db, actor, photo_id)
    except DomainError as exc:
        page.flash_error(exc)
    else:
        page.flash(
            page.gettext("The photo is removed.")
            if action == "delete"
            else page.gettext("The photo is shown first.")
        )
    return page.redirect(_back(kind, owner))


@router.post("/products/{sku}/photos/{photo_id}/{action}")
def change_product_photo(
    request: Request, sku: str, photo_id: str, action: str, page: User, form: Form
) -> Response:
    return _change(request, page, "products", sku, photo_id, action)


@router.post("/styles/{code}/photos/{photo_id}/{action}")
def change_style_photo(
    request: Request, code: str, photo_id: str, action: str, page: User, form: Form
) -> Response:
    return _change(request, page, "styles", code, photo_id, action)
