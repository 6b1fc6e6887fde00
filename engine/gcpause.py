"""Pause Python's cyclic garbage collector during a burst of allocations.

Loading a large story allocates millions of small objects (nodes, positions, model
objects) that all stay alive. Each allocation burst would trigger collections that walk
every object allocated so far, again and again, for nothing: nothing is garbage yet.
Pausing the collector for the duration cut a 10,000-fragment lint from about 10 s to 3.5 s
(bench/lint_bench.py). Reference counting still frees what it can; the collector runs again
as soon as the call returns.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with the cyclic garbage collector paused (re-enabled after, if it was on)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper
