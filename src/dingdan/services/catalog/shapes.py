"""The shapes of the catalog context's commands in and views out (styles, photos, listings,
channels, tax rates, channel stock), as TypedDicts: plain dicts at run time, checked by
mypy where they are built and read. The product view is ``services/shared/view_types.py``'s
``ProductView``. A command's field is typed as what a caller may hand over (``None`` where
a page passes a blank form field on, the text typed where a number was asked): the service
checks every field and refuses a bad one with its code. ``web/api/catalog/schemas.py``,
``styles.py`` and ``channel_stock.py`` describe the same views for clients."""

from __future__ import annotations

from typing_extensions import TypedDict

# ---- views -------------------------------------------------------------------------------


class StyleVariantView(TypedDict):
    sku: str
    name: str
    options: dict[str, str] | None
    barcode: str | None
    price: str
    currency: str
    active: bool
    on_hand: int  # over the active locations
    available: int
    locations: dict[str, int]  # available per active location


class StyleView(TypedDict):
    code: str
    name: str
    options: list[str]
    category: str | None
    brand: str | None
    variants: list[StyleVariantView]
    created_at: str | None
    updated_at: str | None


class StyleSummary(TypedDict):
    """A style in the list."""

    code: str
    name: str
    options: list[str]
    category: str | None
    brand: str | None
    variant_count: int
    updated_at: str | None


class PhotoView(TypedDict):
    id: str
    key: str  # SHA-256 of the uploaded file
    position: int
    urls: dict[str, str]  # by size: thumb, medium, large
    width: int | None
    height: int | None
    created_at: str | None


class ListingView(TypedDict):
    channel: str
    sku: str
    listed: bool
    channel_skus: list[str]


class VariantListingView(TypedDict):
    sku: str
    listed: bool
    channel_skus: list[str]


class ChannelListingView(TypedDict):
    channel: str
    name: str
    every_sku: bool  # the channel's stock rule names no SKU subset
    variants: list[VariantListingView]


class StyleListingsView(TypedDict):
    style: str
    channels: list[ChannelListingView]


class SkuListingsView(TypedDict):
    sku: str
    channels: list[ChannelListingView]


class ChannelView(TypedDict):
    code: str
    name: str
    builtin: bool
    active: bool
    kind: str
    pick_priority: int
    created_at: str | None
    updated_at: str | None


class ChannelList(TypedDict):
    items: list[ChannelView]
    next_cursor: None


class TaxRuleView(TypedDict):
    rate: str  # percent as a decimal string
    prices_include_tax: bool


class TaxRateView(TypedDict):
    country: str
    tax_class: str
    rate: str
    prices_include_tax: bool
    source: str  # default or override
    default: TaxRuleView | None
    updated_at: str | None


class TaxRateList(TypedDict):
    items: list[TaxRateView]
    next_cursor: None


class StockRuleView(TypedDict):
    channel: str
    buffer_kind: str  # units or percent
    buffer: int
    skus: list[str] | None  # None: every SKU
    locations: list[str] | None  # None: every active location
    updated_at: str | None


class ChannelStockItem(TypedDict):
    sku: str
    available: int
    may_sell: int


class ChannelStockPage(TypedDict):
    channel: str
    buffer_kind: str
    buffer: int
    items: list[ChannelStockItem]
    next_cursor: str | None


class ChannelStockView(ChannelStockPage):
    """The page with the strong ETag made from its numbers (sent as a header)."""

    etag: str


class ChannelNumbers(TypedDict):
    channel: str
    available: int
    may_sell: int


class SkuChannelNumbers(TypedDict):
    """One SKU's entry of an ``inventory.changed`` payload."""

    sku: str
    available: int  # across every active location
    channels: list[ChannelNumbers]  # each active channel selling it


# ---- commands ----------------------------------------------------------------------------


class ProductFields(TypedDict, total=False):
    """The fields of a product to change (only those present change)."""

    name: str | None
    price: str | None
    currency: str | None
    barcode: str | None
    weight_grams: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    category: str | None
    brand: str | None
    tax_class: str | None
    active: bool | None
    allow_backorder: bool | None
    low_stock_threshold: int | None
    reorder_point: int | None
    supplier: str | None  # the preferred supplier's code; an update reads it


class NewProduct(ProductFields, total=False):
    """A product to create: ``sku``, ``name``, ``price`` and ``currency`` required."""

    sku: str | None


class VariantCommand(TypedDict, total=False):
    """A variant of a style: a SKU that exists is attached with its option values; a new
    one is created (price and currency default to the request's)."""

    sku: str | None
    options: dict[str, str]
    name: str | None
    price: str | None
    currency: str | None
    barcode: str | None
    weight_grams: int | None
    active: bool | None
    allow_backorder: bool | None


class StyleCommand(TypedDict, total=False):
    code: str | None
    name: str | None
    options: list[str]
    category: str | None
    brand: str | None
    price: str | None  # of the new variants by default
    currency: str | None
    variants: list[VariantCommand]


class StyleChanges(TypedDict, total=False):
    name: str | None
    category: str | None
    brand: str | None


class VariantsCommand(TypedDict, total=False):
    variants: list[VariantCommand]
    price: str | None
    currency: str | None


class ListingCommand(TypedDict, total=False):
    listed: bool
    channel_sku: str | None  # the channel's SKU for it (a SKU alias)


class SkuListingItem(TypedDict):
    """One variant of a style on one channel."""

    sku: str
    listed: bool
    channel_sku: str | None


class ChannelListingItem(TypedDict):
    """One SKU on one channel."""

    channel: str
    listed: bool
    channel_sku: str | None


class ChannelCommand(TypedDict, total=False):
    code: str | None
    name: str | None
    kind: str | None  # manual, shopify, woocommerce, standard
    webhook_secret: str | None


class ChannelChanges(TypedDict, total=False):
    name: str | None
    active: bool | None
    pick_priority: int | str | None  # a page passes on text that is not a number


class TaxRateCommand(TypedDict, total=False):
    rate: str | None  # a percent
    prices_include_tax: bool | None


class StockRuleCommand(TypedDict, total=False):
    buffer_kind: str | None  # units or percent
    buffer: int | str  # a page passes on text that is not a number
    skus: list[str] | None
    locations: list[str] | None
