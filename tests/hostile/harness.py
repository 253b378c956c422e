"""The fuzzers' common yardstick: the time bound of one answer, measured so that a machine
under load does not fail a sane request."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.db import transaction

#: Seconds any single answer may take, whatever the input (a bound, not a benchmark).
BOUND = float(os.environ.get("GUICHET_FUZZ_BOUND", "2.0"))
#: Hypothesis examples per route (the default keeps each file near a minute and a half on
#: a CI runner; ``GUICHET_FUZZ_EXAMPLES=200`` explores further, as a second pass does).
EXAMPLES = int(os.environ.get("GUICHET_FUZZ_EXAMPLES", "25"))


class Rollback(Exception):
    """Undo an example, so that the next one starts from the same rows."""


def timed(call: Callable):
    """``(answer, seconds)``. An answer slower than ``BOUND`` is undone and asked again
    once, and the faster time kept: a loaded machine stalls one request now and then, a
    pathological input is slow every time."""
    savepoint = transaction.savepoint()
    start = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - start
    if elapsed >= BOUND:
        transaction.savepoint_rollback(savepoint)
        start = time.perf_counter()
        response = call()
        elapsed = min(elapsed, time.perf_counter() - start)
    return response, elapsed
