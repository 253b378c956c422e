"""Python's cyclic garbage collector paused around a bounded computation.

A forecast of a hundred porteurs builds tens of thousands of small objects (flows, months,
decimals) that all live until it ends and form no reference cycle. Each time their count
passes the collector's threshold, CPython traverses its generations, the whole heap of a
web process once enough survive (a fifth of a scenario's treasury went there). Objects
are still freed by reference counting while the collector is paused; a cycle made
meanwhile is collected at the first collection after it."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    """No cyclic collection inside the block: for a computation whose allocations its
    caller bounds (a chunk of porteurs, a page), never around a loop over a whole table.
    Nests and threads safely: only the block that found the collector enabled enables it
    again, and a collector disabled by the process stays so."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
