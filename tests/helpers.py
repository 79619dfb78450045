"""Helpers shared by tests: where the shared test data is, threads started together."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import pytest

# The builders live in tests/builders.py; these names stay importable from here for the
# modules that have not moved yet.
from tests.builders import ADMIN, location, product, receive

__all__ = [
    "ADMIN",
    "location",
    "missing_shared_data",
    "product",
    "receive",
    "run_threads",
    "shared_data_param",
    "shared_external",
]


def shared_external() -> Path:
    """The brief's shared test data (``shared/data/external``): ``DINGDAN_SHARED_DATA`` when
    set (CI sets it for a clone made anywhere), else beside the project's checkout."""
    configured = os.environ.get("DINGDAN_SHARED_DATA")
    if configured:
        return Path(configured) / "external"
    return Path(__file__).resolve().parents[2] / "shared/data/external"


def under_ci() -> bool:
    """CI sets ``CI=true`` (so does .ci/run)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_shared_data(reason: str) -> NoReturn:
    """A test whose shared data is missing: skipped on a developer's machine, failed under
    CI, which must run it."""
    if under_ci():
        pytest.fail(f"{reason}; CI must have it (set DINGDAN_SHARED_DATA)", pytrace=False)
    pytest.skip(reason)


def shared_data_param(reason: str, **kw: Any) -> Any:
    """The one parameter of a test whose shared cases could not be read: it runs, and
    ``missing_shared_data`` (the ``shared_data_missing`` mark, tests/conftest.py) skips it
    or, under CI, fails it."""
    return pytest.param("", marks=pytest.mark.shared_data_missing(reason), **kw)


def run_threads(n: int, target: Any, timeout: float = 120) -> list[BaseException]:
    """Start ``n`` threads together (a barrier) running ``target(i)``; the errors they raised.
    A thread still alive after ``timeout`` fails the test as a hang."""
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def wrapped(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 - collected and returned
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


class RecordingProvider:
    """A payment gateway for tests: it answers every call approved with a reference made of
    the call and its key, and remembers each (call, key). ``down`` makes it time out,
    ``decline`` decline; ``during`` runs once while it "works"; given ``db``, a call that
    comes while the database has a connection checked out or SQLite's write lock held (a
    transaction open) is noted in ``inside``."""

    def __init__(self, code: str, db: Any = None) -> None:
        self.code, self.db = code, db
        self.calls: list[tuple[str, str]] = []
        self.inside: list[str] = []
        self.down = False
        self.decline = False
        self.during: Any = None

    def _answer(self, call: str, key: str) -> Any:
        from dingdan.services.payments.providers import ProviderResult

        if self.db is not None:
            engines = {id(e): e for e in (self.db.engine, self.db.read_engine)}.values()
            lock = getattr(self.db, "_write_lock", None)
            if sum(e.pool.checkedout() for e in engines) or (lock is not None and lock.locked()):
                self.inside.append(call)
        self.calls.append((call, key))
        if self.during is not None:
            during, self.during = self.during, None
            during()
        if self.down:
            raise TimeoutError("no answer in 15 s")
        if self.decline:
            return ProviderResult(False, f"{call}-{key}", "card declined")
        return ProviderResult(True, f"{call}-{key}")

    def authorize(
        self,
        order: Any,
        amount_minor: int,
        currency: str,
        reference: Any,
        *,
        idempotency_key: str,
        db: Any = None,
    ) -> Any:
        return self._answer("authorize", idempotency_key)

    def capture(
        self,
        authorization: Any,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Any = None,
    ) -> Any:
        return self._answer("capture", idempotency_key)

    def void(self, authorization: Any, *, idempotency_key: str, db: Any = None) -> Any:
        return self._answer("void", idempotency_key)

    def refund(
        self,
        payment: Any,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Any = None,
    ) -> Any:
        return self._answer("refund", idempotency_key)

    def keys(self, call: str) -> list[str]:
        """The keys of the calls of one kind, in order."""
        return [k for c, k in self.calls if c == call]


def form_action_allows(csp: str, url: str, own: str = "http://testserver") -> bool:
    """Whether a page under the Content-Security-Policy ``csp`` may submit a form to ``url``
    (and follow a redirect there: Chromium checks each redirect after a submission too), as a
    browser decides: ``'self'`` is the page's own origin ``own``, another origin must be
    named. form-action does not fall back to default-src."""
    from urllib.parse import urljoin, urlsplit

    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    sources = directives.get("form-action")
    if sources is None:
        return True
    target = urlsplit(urljoin(own + "/", url))
    origin = f"{target.scheme}://{target.netloc}"
    return ("'self'" in sources and origin == own) or origin in sources
