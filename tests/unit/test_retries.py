"""The retry schedule of background jobs: growing delays with jitter, then dead."""

from __future__ import annotations

from datetime import timedelta

from dingdan.domain.shared.retries import MAX_ATTEMPTS, RETRY_DELAYS, retry_delay


def test_the_first_retry_comes_within_30_seconds_and_the_delays_grow():
    assert retry_delay(1, 0.0) == timedelta(seconds=30)
    assert retry_delay(1, 0.999) >= timedelta(seconds=22)
    longest = [retry_delay(n, 0.0) for n in range(1, MAX_ATTEMPTS)]
    assert longest == list(RETRY_DELAYS) and longest == sorted(longest)
    assert RETRY_DELAYS[-1] == timedelta(hours=24)


def test_jitter_only_shortens_a_delay_by_up_to_15_percent():
    for n in range(1, MAX_ATTEMPTS):
        base = RETRY_DELAYS[n - 1]
        for rand in (0.0, 0.3, 0.7, 0.9999):
            delay = retry_delay(n, rand)
            assert delay is not None and base * 0.85 <= delay <= base


def test_after_the_last_attempt_a_job_is_dead():
    assert MAX_ATTEMPTS == 10
    assert retry_delay(MAX_ATTEMPTS - 1, 0.5) is not None
    assert retry_delay(MAX_ATTEMPTS, 0.5) is None
    assert retry_delay(MAX_ATTEMPTS + 3, 0.5) is None


def test_the_waits_of_one_message_grow_whatever_the_jitter():
    """The longest wait after a failure is shorter than the shortest after the next one."""
    for attempts in range(1, MAX_ATTEMPTS - 1):
        longest = retry_delay(attempts, 0.0)
        shortest_next = retry_delay(attempts + 1, 0.999999)
        assert longest is not None and shortest_next is not None
        assert longest < shortest_next, attempts
