"""8. Sweeps at the limit: 1,000 calls at concurrency 50 and 200, 2,500 at 500 (200 ms server
latency), grokbook.sweep beside aiohttp and httpx semaphore loops whose pools are sized to the
concurrency, run log and cache on as shipped. (The 10,000 calls at concurrency 100 this case
used to run, untargeted, are case 10's, which targets their client CPU.)

Alone: ``python bench/case_limit.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from _common import MODEL, OURS, PEER, PROMPT, Subject, best_peer, interleaved, label, ours, spread
from _peers import aiohttp_semaphore, grokbook_sweep, httpx_semaphore
from _report import Report, run_alone, s, x
from _serve import Server

NUMBER = 8
NAME = "limit"
TITLE = "8. sweeps at the limit"

#: (calls, concurrency, server latency in ms, has a target): the issue's figures.
LIMIT_GRIDS = ((1000, 50, 200, True), (1000, 200, 200, True), (2500, 500, 200, True))
QUICK_GRIDS = ((60, 30, 20, True),)
LIMIT_TARGET = 1.15


def limit_grid(
    report: Report,
    calls: int,
    concurrency: int,
    latency_ms: float,
    targeted: bool,
    rounds: int,
    case: str = TITLE,
    server: type[Server] = Server,
    wire: str = "chat",
    model: str = MODEL,
) -> list[Subject]:
    """One grid: the sized aiohttp and httpx loops and grokbook.sweep, interleaved; its rows
    (and its target when ``targeted``) go to ``case``. Returns the subjects, timed.

    ``server``: the simulator (``_serve.Server``) or another server class like it; ``wire``
    and ``model``: what every subject asks for.
    """
    ideal = calls * latency_ms / 1000 / concurrency
    with server(latency_ms) as base_url:

        def looped(coro: Callable[..., Any]) -> Callable[[str], None]:
            return lambda p: asyncio.run(
                coro(base_url, calls, concurrency, p, sized=True, wire=wire, model=model)
            )

        subjects = [
            Subject(
                "aiohttp.ClientSession(limit=concurrency) + semaphore",
                "aiohttp",
                PEER,
                looped(aiohttp_semaphore),
            ),
            Subject(
                "httpx.AsyncClient(Limits(concurrency)) + semaphore",
                "httpx/httpcore",
                PEER,
                looped(httpx_semaphore),
            ),
            Subject(
                "grokbook.sweep as users get it (run log + cache on)",
                "httpx/aiohttp",
                OURS,
                lambda p: grokbook_sweep(base_url, calls, concurrency, p, wire=wire, model=model),
            ),
        ]
        for subject in subjects:
            subject.run(f"warm up ({subject.name}, {concurrency})")
        interleaved(
            subjects,
            rounds,
            lambda t, r: t.run(f"{PROMPT} ({t.name}, c{concurrency}, round {r})"),
        )
    best = best_peer(subjects)
    mine = ours(subjects)
    grid = f"{calls} calls, concurrency {concurrency}, {latency_ms:g} ms (ideal {s(ideal)})"
    for subject in subjects:
        report.row(
            case,
            f"{grid}: {label(subject)}",
            f"{s(subject.best_wall)}",
            x(subject.best_wall / best.best_wall) + " of best peer",
            f"{x(subject.best_wall / ideal)} of ideal",
            transport=subject.stack,
            cpu=f"{subject.best_cpu / calls * 1000:.2f} ms/call",
        )
    ratio = mine.best_wall / best.best_wall
    if targeted:
        report.target(
            case,
            f"{grid}: grokbook.sweep within {LIMIT_TARGET}x of the best peer",
            f"{x(ratio)} of {best.name}; {spread(mine, best)}",
            ratio <= LIMIT_TARGET,
            f"client CPU per call: grokbook {mine.best_cpu / calls * 1000:.2f} ms, "
            f"{best.name} {best.best_cpu / calls * 1000:.2f} ms; at this concurrency the "
            "server (one Python process on a shared 2-core machine) may be the limit for "
            "every subject alike.",
        )
    return subjects


def measure(
    report: Report,
    rounds: int = 2,
    grids: tuple[tuple[int, int, float, bool], ...] = LIMIT_GRIDS,
) -> None:
    """Sweeps at concurrency 50, 200 and 500 beside peers whose pools are sized to the
    concurrency, run log and cache on as shipped."""
    for calls, concurrency, latency_ms, targeted in grids:
        limit_grid(report, calls, concurrency, latency_ms, targeted, rounds)
    report.notes.append(
        "8: best of 2 interleaved rounds after a warm-up; every peer's pool is sized to the "
        "concurrency (aiohttp's and httpx's defaults cap at 100 connections, which would halve "
        "them at 200 and 500: grokbook sizes its own pool from the sweep's concurrency)."
    )


def run(report: Report, quick: bool = False) -> None:
    if quick:
        measure(report, rounds=1, grids=QUICK_GRIDS)
    else:
        measure(report)


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
