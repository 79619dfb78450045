"""Known demand peaks of the sellers' year (Taiwan, Hong Kong, China), and the uplift they
bring, learned from past peaks.

Peaks: Singles' Day 11.11, Double 12 (12.12), Chinese New Year (the shopping days before it),
Mid-Autumn Festival (the days before it), Mother's Day (Taiwan: the second Sunday of May,
the week before it), and the shop's own promotions (entered as events, each a date range).

AutoARIMA takes the peaks as regressors (services/purchasing/forecast_models.py, where a
long history reacts to them); for the other models a peak works as an *uplift*: the ratio
of demand on a kind of peak day to the demand around it, measured on every past occurrence
in the history, applied to the model's forecast on future days of that kind. A promotion
given an expected uplift is lifted by that instead.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Lunar dates from the Hong Kong Observatory's tables (Gregorian dates of the first day of
# the first month, and of the 15th day of the eighth month).
CHINESE_NEW_YEAR = {
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
MID_AUTUMN = {
    2018: date(2018, 9, 24),
    2019: date(2019, 9, 13),
    2020: date(2020, 10, 1),
    2021: date(2021, 9, 21),
    2022: date(2022, 9, 10),
    2023: date(2023, 9, 29),
    2024: date(2024, 9, 17),
    2025: date(2025, 10, 6),
    2026: date(2026, 9, 25),
    2027: date(2027, 9, 15),
    2028: date(2028, 10, 3),
    2029: date(2029, 9, 22),
    2030: date(2030, 9, 12),
}
# Shopping happens before a festival: the days counted as its peak, ending the day before.
CNY_DAYS = 14
MID_AUTUMN_DAYS = 10
MOTHERS_DAY_DAYS = 7
# The days around a peak that are its baseline (each side), peaks excluded.
BASELINE_DAYS = 14
# An uplift is bounded: a few noisy occurrences must not multiply a forecast by 50.
MAX_UPLIFT = 10.0


@dataclass(frozen=True)
class Promotion:
    """A shop's own event: from ``starts_on`` to ``ends_on``, both included; ``uplift`` is
    what the seller expects it to multiply demand by (None: the learned one is used)."""

    name: str
    starts_on: date
    ends_on: date
    uplift: float | None = None


def mothers_day(year: int) -> date:
    """Taiwan's Mother's Day: the second Sunday of May."""
    first = date(year, 5, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(days=7)


def _span(end: date, days: int) -> list[date]:
    return [end - timedelta(days=i) for i in range(days, 0, -1)]


def peaks_of_year(year: int) -> dict[str, list[date]]:
    """Each kind of peak and its days in ``year`` (lunar ones only where the table has them)."""
    out = {
        "singles_day": [date(year, 11, 11)],
        "double_12": [date(year, 12, 12)],
        "mothers_day": _span(mothers_day(year), MOTHERS_DAY_DAYS),
    }
    if year in CHINESE_NEW_YEAR:
        out["chinese_new_year"] = _span(CHINESE_NEW_YEAR[year], CNY_DAYS)
    if year in MID_AUTUMN:
        out["mid_autumn"] = _span(MID_AUTUMN[year], MID_AUTUMN_DAYS)
    return out


def peak_days(start: date, end: date, promotions: Iterable[Promotion] = ()) -> dict[date, str]:
    """Every peak day from ``start`` to ``end`` (inclusive) and its kind; a promotion is its
    own kind ``promotion`` and wins over a calendar peak on the same day."""
    days: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        for kind, found in peaks_of_year(year).items():
            for day in found:
                if start <= day <= end:
                    days.setdefault(day, kind)
    for promo in promotions:
        day = max(promo.starts_on, start)
        while day <= min(promo.ends_on, end):
            days[day] = "promotion"
            day += timedelta(days=1)
    return days


def learn_uplifts(
    first_day: date, history: Sequence[float], promotions: Iterable[Promotion] = ()
) -> dict[str, float]:
    """Per kind of peak seen whole in the history: the median over its occurrences of (mean
    demand on the peak days) / (mean demand of the ``BASELINE_DAYS`` either side that are
    no peak). Kinds never seen whole, or with no demand around them, are left out (no
    uplift)."""
    if not history:
        return {}
    last_day = first_day + timedelta(days=len(history) - 1)
    # Seen beyond the history's ends, so that an occurrence it holds only part of (the days
    # of a peak it starts or ends in) is known as such and left out: a part is biased.
    margin = timedelta(days=60)
    peaks = peak_days(first_day - margin, last_day + margin, promotions)
    ratios: dict[str, list[float]] = {}
    for kind, days in _occurrences(peaks).items():
        for occurrence in days:
            if occurrence[0] < first_day or occurrence[-1] > last_day:
                continue
            ratio = _ratio(first_day, history, occurrence, peaks)
            if ratio is not None:
                ratios.setdefault(kind, []).append(ratio)
    return {
        kind: min(MAX_UPLIFT, statistics.median(found)) for kind, found in ratios.items() if found
    }


def _occurrences(peaks: dict[date, str]) -> dict[str, list[list[date]]]:
    """Runs of consecutive days of one kind."""
    out: dict[str, list[list[date]]] = {}
    previous: tuple[date, str] | None = None
    for day in sorted(peaks):
        kind = peaks[day]
        runs = out.setdefault(kind, [])
        if previous is not None and previous == (day - timedelta(days=1), kind):
            runs[-1].append(day)
        else:
            runs.append([day])
        previous = (day, kind)
    return out


def _ratio(
    first_day: date, history: Sequence[float], days: list[date], peaks: dict[date, str]
) -> float | None:
    def at(day: date) -> float | None:
        i = (day - first_day).days
        return float(history[i]) if 0 <= i < len(history) else None

    on_peak = [v for v in (at(d) for d in days) if v is not None]
    around = []
    for offset in range(1, BASELINE_DAYS + 1):
        for day in (days[0] - timedelta(days=offset), days[-1] + timedelta(days=offset)):
            value = at(day)
            if value is not None and day not in peaks:
                around.append(value)
    if not on_peak or len(around) < BASELINE_DAYS // 2:
        return None
    base = sum(around) / len(around)
    if base <= 0:
        return None
    return (sum(on_peak) / len(on_peak)) / base


def apply_uplifts(
    first_day: date,
    forecast: Sequence[float],
    uplifts: dict[str, float],
    promotions: Iterable[Promotion] = (),
) -> list[float]:
    """The forecast with each future peak day multiplied by its kind's learned uplift; a
    promotion's day by the uplift the seller expects of it, when one was given."""
    if not forecast:
        return list(forecast)
    last_day = first_day + timedelta(days=len(forecast) - 1)
    expected = expected_uplifts(first_day, last_day, promotions)
    if not uplifts and not expected:
        return list(forecast)
    peaks = peak_days(first_day, last_day, promotions)
    out = list(forecast)
    for day, kind in peaks.items():
        factor = expected.get(day) if kind == "promotion" else None
        if factor is None:
            factor = uplifts.get(kind)
        if factor is not None:
            i = (day - first_day).days
            out[i] = out[i] * factor
    return out


def expected_uplifts(start: date, end: date, promotions: Iterable[Promotion]) -> dict[date, float]:
    """The days from ``start`` to ``end`` of promotions given an expected uplift (the
    largest where two overlap)."""
    out: dict[date, float] = {}
    for promo in promotions:
        if promo.uplift is None:
            continue
        day = max(promo.starts_on, start)
        while day <= min(promo.ends_on, end):
            out[day] = max(out.get(day, 0.0), float(promo.uplift))
            day += timedelta(days=1)
    return out
