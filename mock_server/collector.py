"""The serving process's garbage collector.

CPython's full collections walk every object it tracks. A sandbox holding many consents tracks
millions (the memory store most of all), and with the default thresholds a served sandbox on the
memory store spent about 40 % of RequestConsent's CPU in them (bench/README.md, "Garbage
collection"); their pauses also made the figures jump from one run to the next. So a serving
process collects nothing while it starts (imports, the spec, a dataset: nothing there is garbage),
then freezes what it loaded out of every later collection, and runs its young collections every
YOUNG allocations instead of every 700, so fewer short-lived objects are promoted for full
collections to walk again. Cycles are still collected, so memory stays bounded.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 50_000  # net container allocations between young collections (CPython: 700)
OLDER = 10  # young collections per middle one, and middle ones per full one (CPython: 10, 10)


@contextmanager
def loading() -> Iterator[None]:
    """No collections while this process loads what it will serve (a decorator, too); as
    before once it is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def serving() -> None:
    """What was loaded is kept out of collections from now on, and collections resume, less
    often: called once the process serves. (What loading left unreachable, a few hundred
    objects, is frozen with the rest: a full collection first would cost a start more.)"""
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
    gc.enable()
