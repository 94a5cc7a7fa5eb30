"""Every place the benchmarks reach past grokbook's public API, in one file.

The cases use public names only (``grokbook.*``, ``grokbook.store``'s functions, the
``%%grok`` magic's traits, ``grokbook.sim``), except for the two hooks below, which have no
public equivalent today. Each degrades rather than fails when the private name moves (the
package is being reorganised, issue 24): this is the one file to mend then.
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
def magic_clock(now: Callable[[], float]) -> Iterator[bool]:
    """Make the ``%%grok`` magic's display throttle read ``now`` instead of the real clock.

    Private: ``grokbook.magic._now`` (its docstring: "tests replace it"). Public alternative
    wanted: a clock the magic reads that a caller may inject (as ``client_factory`` is).
    Yields False (the real clock stays) when the name is gone.
    """
    import grokbook.magic as magic_module

    original = getattr(magic_module, "_now", None)
    if original is None:
        yield False
        return
    magic_module._now = now  # type: ignore[attr-defined]
    try:
        yield True
    finally:
        magic_module._now = original  # type: ignore[attr-defined]
