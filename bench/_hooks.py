"""Every place the benchmarks reach past grokbook's public API, in one file.

The cases use public names only (``grokbook.*``, ``grokbook.store``'s functions, the
``%%grok`` magic's traits, ``grokbook.sim``), except for :func:`client_stack`, which has no
public equivalent today (:func:`magic_clock` sets the magic's public ``clock`` trait). Each
degrades rather than fails when what it reaches for moves (the package is being
reorganised, issue 24): this is the one file to mend then.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from _common import stack


def client_stack(client: Any) -> str:
    """The HTTP stack under a grokbook Client or AsyncClient, read from the live objects.

    Private: ``Client._http`` (an ``httpx.Client``) and ``AsyncClient._http()`` (the running
    loop's ``httpx.AsyncClient``, so call this inside a loop). Public alternative wanted: a
    read-only way to see what a client sends over. Falls back to ``"unknown"``.
    """
    http = getattr(client, "_http", None)
    try:
        if callable(http):
            http = http()
        return stack(http)
    except (AttributeError, RuntimeError, StopIteration, TypeError):
        return "unknown"


@contextlib.contextmanager
def magic_clock(magics: Any, now: Callable[[], float]) -> Iterator[bool]:
    """Make the ``%%grok`` magic's display throttle read ``now`` instead of the real clock.

    Public: the ``GrokMagics.clock`` trait (a callable returning seconds; None is the real
    clock). Yields False (the real clock stays) when the magic has no such trait.
    """
    if not magics.has_trait("clock"):
        yield False
        return
    original = magics.clock
    magics.clock = now
    try:
        yield True
    finally:
        magics.clock = original
