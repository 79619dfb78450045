"""Order rules without a database: channels, payment methods, tax, allocation planning."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import combinations


class PaymentMethod(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"  # ATM / wire; cancelled when unpaid past the deadline
    COD = "cod"  # cash on delivery: may ship unpaid, settled by the carrier's remittance
    E_WALLET = "e_wallet"  # LINE Pay, JKOPAY, Alipay, WeChat Pay ...
    CASH = "cash"
    OTHER = "other"
    STORE_CREDIT = "store_credit"


BUILTIN_CHANNELS = ("web", "app", "phone", "store", "marketplace", "email")


@dataclass(frozen=True)
class TaxRule:
    rate_ppm: int  # parts per million: 5% = 50_000
    prices_include_tax: bool


# Default consumption taxes per country and tax class; a seller's own rates override them.
DEFAULT_TAX: dict[tuple[str, str], TaxRule] = {
    ("TW", "standard"): TaxRule(50_000, True),  # 營業稅 5%, shelf prices include it
    ("TW", "reduced"): TaxRule(50_000, True),
    ("CN", "standard"): TaxRule(130_000, True),  # 增值税 13%
    ("CN", "reduced"): TaxRule(90_000, True),
    ("JP", "standard"): TaxRule(100_000, True),
    ("JP", "reduced"): TaxRule(80_000, True),
    ("SG", "standard"): TaxRule(90_000, True),
    ("HK", "standard"): TaxRule(0, True),  # no sales tax
}
NO_TAX = TaxRule(0, True)


def tax_rule(country: str, tax_class: str, overrides: dict[tuple[str, str], TaxRule]) -> TaxRule:
    if tax_class in ("zero", "exempt"):
        return NO_TAX
    key = (country, tax_class)
    return (
        overrides.get(key)
        or DEFAULT_TAX.get(key)
        or overrides.get((country, "standard"))
        or DEFAULT_TAX.get((country, "standard"))
        or NO_TAX
    )


def _round_div(num: int, den: int) -> int:
    """num/den rounded half away from zero, in integers."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def tax_of(amount: int, rule: TaxRule) -> int:
    """The tax contained in (inclusive) or added to (exclusive) ``amount`` minor units."""
    if rule.rate_ppm == 0:
        return 0
    if rule.prices_include_tax:
        return _round_div(amount * rule.rate_ppm, 1_000_000 + rule.rate_ppm)
    return _round_div(amount * rule.rate_ppm, 1_000_000)


@dataclass(frozen=True)
class Totals:
    subtotal: int
    shipping: int
    tax: int
    total: int
    line_taxes: tuple[int, ...]


def totals(
    line_amounts: Sequence[tuple[int, TaxRule]], shipping: int, shipping_rule: TaxRule
) -> Totals:
    """Subtotal, tax and total; tax is rounded per line. Inclusive prices add no tax to the
    total, exclusive ones do."""
    subtotal = sum(a for a, _ in line_amounts)
    line_taxes = tuple(tax_of(a, r) for a, r in line_amounts)
    ship_tax = tax_of(shipping, shipping_rule)
    added = sum(
        t for t, (_, r) in zip(line_taxes, line_amounts, strict=True) if not r.prices_include_tax
    )
    added += 0 if shipping_rule.prices_include_tax else ship_tax
    tax = sum(line_taxes) + ship_tax
    return Totals(subtotal, shipping, tax, subtotal + shipping + added, line_taxes)


@dataclass(frozen=True)
class Want:
    line: int  # index of the order line
    product_id: int
    quantity: int
    allow_backorder: bool


class Route(StrEnum):
    """How the planner chose the locations of an order (the order's "allocated" event)."""

    ONE_SERVING = "one_serving"  # one location serving the address holds everything
    SPLIT_SERVING = "split_serving"  # no serving location holds it all; they do together
    FALLBACK = "fallback"  # the serving locations could not fill it: all locations
    NONE = "none"  # nothing allocated (all backordered)


@dataclass
class Plan:
    allocations: list[tuple[int, int, int]] = field(default_factory=list)  # line, loc, qty
    backordered: dict[int, int] = field(default_factory=dict)  # line -> qty
    short: dict[int, int] = field(default_factory=dict)  # line -> qty missing, no backorder
    route: Route = Route.NONE

    def locations(self) -> list[int]:
        """The locations allocated from, in the order first used."""
        return list(dict.fromkeys(loc for _, loc, _ in self.allocations))


def plan_allocation(
    wants: Sequence[Want],
    available: dict[tuple[int, int], int],
    locations: Sequence[int],
    serving: Sequence[int] | None = None,
) -> Plan:
    """The core rule applied to ``serving`` first (the locations that serve the order's
    address, in priority order; None: every location serves it), and only when they cannot
    fill the order, to all ``locations`` (in priority order) with the serving ones first.

    The core rule: one location for the whole order where one can fill it, otherwise the
    fewest locations that hold it all together (the first such set in priority order), each
    line split over them in their order; when no few locations hold it all, each line split
    over every location in order. What none holds is backordered where the product allows
    it and short otherwise."""
    order = list(locations) if serving is None else list(serving)
    plan = _core(wants, available, order)
    if serving is None or not (plan.short or plan.backordered):
        return plan
    rest = [loc for loc in locations if loc not in set(order)]
    if not rest:
        return plan
    wider = _core(wants, available, order + rest)
    if sum(q for *_, q in wider.allocations) <= sum(q for *_, q in plan.allocations):
        return plan  # the other locations add nothing: the serving ones' plan stands
    wider.route = Route.FALLBACK
    return wider


# The fewest locations a split may use are searched among at most this many locations and
# up to SPLIT_SEARCH_SIZE of them together (a few thousand checks at worst, only for orders
# no single location can fill); beyond, the split takes the locations in priority order.
SPLIT_SEARCH_LOCATIONS = 12
SPLIT_SEARCH_SIZE = 3


def _fewest(
    merged: Sequence[Want], available: dict[tuple[int, int], int], locations: Sequence[int]
) -> list[int] | None:
    """The first set (in priority order) of the fewest locations that together hold the whole
    order, at most SPLIT_SEARCH_SIZE of them; None when no such set is found."""
    if len(locations) > SPLIT_SEARCH_LOCATIONS:
        return None
    for size in range(2, min(SPLIT_SEARCH_SIZE, len(locations)) + 1):
        for group in combinations(locations, size):  # in priority order, lowest first
            if all(
                sum(max(0, available.get((w.product_id, loc), 0)) for loc in group) >= w.quantity
                for w in merged
            ):
                return list(group)
    return None


def _core(
    wants: Sequence[Want], available: dict[tuple[int, int], int], locations: Sequence[int]
) -> Plan:
    plan = Plan()
    merged = _merged(wants)
    for loc in locations:
        if all(available.get((w.product_id, loc), 0) >= w.quantity for w in merged):
            plan.allocations = [(w.line, loc, w.quantity) for w in wants]
            plan.route = Route.ONE_SERVING
            return plan
    # Fewest splits first: the fewest locations that hold it all together, each line then
    # split over them in priority order.
    locations = _fewest(merged, available, locations) or locations
    left = dict(available)
    for w in wants:
        need = w.quantity
        for loc in locations:
            take = min(need, max(0, left.get((w.product_id, loc), 0)))
            if take:
                plan.allocations.append((w.line, loc, take))
                left[(w.product_id, loc)] = left.get((w.product_id, loc), 0) - take
                need -= take
            if not need:
                break
        if need:
            (plan.backordered if w.allow_backorder else plan.short)[w.line] = need
    plan.route = Route.SPLIT_SERVING if plan.allocations else Route.NONE
    return plan


def route_message(route: Route, used: Sequence[str], matched: Sequence[str], served: bool) -> str:
    """Why an order was filled from ``used`` (location codes, first used first), in English
    for the event's message; ``matched``: the regions of the first that hold the address
    (none: it serves everywhere); ``served``: whether any of ``used`` serves the address."""
    where = ", ".join(used)
    if route == Route.ONE_SERVING:
        serves = ", ".join(matched) or "everywhere"
        return f"Filled from {where}: serves {serves} and holds everything"
    if route == Route.SPLIT_SERVING:
        return f"Split: no serving location holds it all; filled from {where}"
    if route == Route.FALLBACK and not served:
        return f"No serving location had stock: filled from {where}"
    if route == Route.FALLBACK:
        return f"The serving locations could not fill it: filled from {where}"
    return "Nothing allocated"


def _merged(wants: Sequence[Want]) -> list[Want]:
    """One want per product, so that two lines of one SKU are checked together."""
    by_product: dict[int, int] = {}
    for w in wants:
        by_product[w.product_id] = by_product.get(w.product_id, 0) + w.quantity
    return [Want(-1, p, q, False) for p, q in by_product.items()]
