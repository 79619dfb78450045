"""Helpers shared by tests: where the shared test data is, threads started together."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# The builders live in tests/builders.py; these names stay importable from here for the
# modules that have not moved yet.
from tests.builders import ADMIN, location, product, receive

__all__ = ["ADMIN", "location", "product", "receive", "run_threads", "shared_external"]


def shared_external() -> Path:
    """The brief's shared test data (``shared/data/external``): ``DINGDAN_SHARED_DATA`` when
    set (CI sets it for a clone made anywhere), else beside the project's checkout."""
    configured = os.environ.get("DINGDAN_SHARED_DATA")
    if configured:
        return Path(configured) / "external"
    return Path(__file__).resolve().parents[2] / "shared/data/external"


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
