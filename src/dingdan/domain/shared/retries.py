"""When a failed background job (an outbox message) is tried again, and when it is dead.

The schedule is the one the contract gives outgoing webhooks: the first retry within 30 s,
then about 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h; after the last retry the
message is dead (kept, listed, replayable). Each delay is shortened by a random part of up
to 15%, so messages that failed together (an endpoint down for a minute) do not all come
back in the same second, and no retry comes later than the schedule says. 15%, not more:
the shortest 24 h wait (20.4 h) is still longer than the longest 20 h one, so the waits of
one message always grow.
"""

from __future__ import annotations

from datetime import timedelta

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # the first try, then one per delay
JITTER = 0.15


def retry_delay(attempts: int, rand: float) -> timedelta | None:
    """The wait before the next try of a message that has now failed ``attempts`` times
    (1 after its first failure), or None when that was its last attempt. ``rand`` is a
    uniform random number in [0, 1)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[max(attempts, 1) - 1]
    return base * (1 - JITTER * rand)
