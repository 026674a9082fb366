"""Retry timing: exponential backoff with jitter, so a failing endpoint is not hammered in lockstep."""

from __future__ import annotations

import random


def retry_delay(attempt: int, base: float, cap: float, *, retry_after: float | None = None,
                rng: random.Random | None = None) -> float:
    """Return seconds to wait before attempt `attempt + 1` (attempt counts from 1).

    The delay doubles per attempt up to `cap`, then a random point in its upper half is taken
    ("equal jitter"): never less than half the nominal delay, never in step with other workers.
    A server's Retry-After is honoured when it asks for longer.
    """
    uniform = rng.uniform if rng is not None else random.uniform
    nominal = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = nominal / 2 + uniform(0, nominal / 2)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, max(cap, delay))
    return delay
