"""What every benchmark case shares: a fresh store, constants, and the side-by-side harness.

Importing this module isolates the process from the user's own grokbook state (before grokbook
is imported anywhere): a fresh, empty ``GROKBOOK_HOME`` for the run log and cache, and no
provider, key or model from the environment. The harness times subjects (a peer, grokbook as
users get it, other grokbook configurations shown for information) in interleaved rounds and
compares grokbook with the fastest of EVERY peer measured in the same run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOC = ROOT / "docs" / "benchmarks.md"
if str(BENCH) not in sys.path:  # so a case imported from elsewhere finds its siblings
    sys.path.insert(0, str(BENCH))

# A fresh store for the run: the run log and cache start empty, and nothing touches the
# user's own. Set before grokbook is imported anywhere.
os.environ["GROKBOOK_HOME"] = tempfile.mkdtemp(prefix="grokbook-bench-")
for _var in (
    "XAI_API_KEY",
    "GROKBOOK_PROVIDER",
    "GROKBOOK_BASE_URL",
    "GROKBOOK_MODEL",
    "GROKBOOK_LOG",  # the per-call targets measure grokbook's default: the run log on
):
    os.environ.pop(_var, None)

MODEL = "grok-3-mini-beta"
PROMPT = "What is 101*3?"
KEY = "bench-key"


@contextlib.contextmanager
def grokbook_home(home: str) -> Iterator[None]:
    """Point grokbook's store at ``home`` for a while, then back at the run's own."""
    from grokbook import store

    before = os.environ.get("GROKBOOK_HOME")
    os.environ["GROKBOOK_HOME"] = home
    store.reset()
    try:
        yield
    finally:
        store.reset()
        if before is None:
            os.environ.pop("GROKBOOK_HOME", None)
        else:
            os.environ["GROKBOOK_HOME"] = before


# -- subjects compared with their peers ---------------------------------------------------------
PEER = "peer"  # someone else's client or a hand-written loop: always in the best-peer set
OURS = "ours"  # grokbook as users get it: what the targets measure
INFO = "info"  # another grokbook configuration, shown for information only


@dataclass
class Subject:
    name: str
    stack: str  # the HTTP stack underneath, named from the live objects (see stack())
    role: str
    run: Callable[[str], Any]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def best_wall(self) -> float:
        return min(self.wall)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)


def stack(http: Any) -> str:
    """An httpx-style client's stack, e.g. ``httpx/httpcore`` or ``httpx2/aiohttp``.

    Read from the objects themselves, so the table names what actually ran (the openai SDK,
    for one, has moved from httpx to httpx2 across versions).
    """
    front = next(
        top
        for top in (cls.__module__.split(".")[0] for cls in type(http).__mro__)
        if top in ("httpx", "httpx2")
    )
    transport = http._transport
    pool = getattr(transport, "_pool", None)
    if pool is not None:
        back = type(pool).__module__.split(".")[0]
    elif "aiohttp" in type(transport).__module__:
        back = "aiohttp"
    else:
        back = type(transport).__module__.split(".")[0]
    return f"{front}/{back}"


def interleaved(subjects: list[Subject], rounds: int, once: Callable[[Subject, int], None]) -> None:
    """Time ``once(subject, round)`` for every subject, in alternating order each round.

    Records wall time and this process's CPU time (every thread of it: the store's writer
    thread counts; the server runs in another process and does not).
    """
    for round_ in range(rounds):
        order = subjects if round_ % 2 == 0 else subjects[::-1]
        for subject in order:
            started, cpu_started = time.perf_counter(), time.process_time()
            once(subject, round_)
            subject.wall.append(time.perf_counter() - started)
            subject.cpu.append(time.process_time() - cpu_started)


def best_peer(subjects: list[Subject]) -> Subject:
    """The fastest of EVERY peer measured in the run: none is left out, least of all a winner."""
    return min((s for s in subjects if s.role == PEER), key=lambda s: s.best_wall)


def thriftiest_peer(subjects: list[Subject]) -> Subject:
    """The peer that spent the least client CPU in its best round: every peer counts."""
    return min((s for s in subjects if s.role == PEER), key=lambda s: s.best_cpu)


def ours(subjects: list[Subject]) -> Subject:
    return next(s for s in subjects if s.role == OURS)


def spread(mine: Subject, peer: Subject) -> str:
    """The range of mine/peer over the rounds, each pair timed side by side in one round."""
    ratios = [a / b for a, b in zip(mine.wall, peer.wall, strict=True)]
    return f"per round {min(ratios):.2f}-{max(ratios):.2f}x"


def cpu_spread(mine: Subject, peer: Subject) -> str:
    """The range of mine/peer client CPU over the rounds."""
    ratios = [a / b for a, b in zip(mine.cpu, peer.cpu, strict=True)]
    return f"per round {min(ratios):.2f}-{max(ratios):.2f}x"


def label(subject: Subject) -> str:
    if subject.role == INFO:
        return f"(information) {subject.name}"
    return subject.name
