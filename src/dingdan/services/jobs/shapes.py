"""The shapes of the jobs context's views and rounds, as TypedDicts: plain dicts at run
time, checked by mypy where they are built and read. ``web/api/jobs/schemas.py`` describes
the job view for clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from dingdan.services.reports.shapes import CrmRun

if TYPE_CHECKING:
    from dingdan.services.jobs.worker import Drained
    from dingdan.services.messaging.sending import Sent


class JobView(TypedDict):
    id: str
    topic: str
    status: str
    attempts: int
    last_error: str | None
    available_at: str | None
    created_at: str | None


class FrequentRound(TypedDict):
    """What one ``worker.run_frequent`` did, by job."""

    inventory_changed: int
    outbox: Drained
    live: list[str]
    search_indexed: int
    webhooks: int
    messages: Sent


class RoundJobs(TypedDict):
    """The jobs of ``worker.run_once`` that run before ``run_frequent``."""

    cancelled: list[str]
    payment_intents: int
    staff_alerts: dict[str, int] | None
    payment_reminders: list[str]
    purged_keys: int
    inbound_bodies_purged: int
    audit_sealed: int
    customers_anonymised: int
    crm: CrmRun  # reports.recommendations.run_if_due's answer
    forecasts_started: bool
    einvoice_uploads: int


class Round(RoundJobs, FrequentRound):
    """What one ``worker.run_once`` did, by job."""

    documents: int
