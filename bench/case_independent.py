"""11. The independent shape: 1,000 calls at concurrency 200 and 50 against an aiohttp loopback
server that is not grokbook's (``bench/_fixed_server.py``: a fixed, recorded Responses body
after 200 ms), gb.sweep on the Responses wire vs aiohttp + semaphore and httpx + semaphore
(pools sized to the concurrency), interleaved rounds.

Issue 24's target: within 1.15x of the best peer at concurrency 200 (an independent run
measured 1.37x and 1.41x, where case 8 on the simulator said 1.14x).
Alone: ``python bench/case_independent.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys

from _fixed_server import FixedServer
from _report import Report, run_alone
from case_limit import limit_grid

NUMBER = 11
NAME = "independent"
TITLE = "11. sweeps on an independent server"
MODEL = "grok-4.3"  # the model of the recorded answer the server returns

#: (calls, concurrency, server latency in ms, has a target)
GRIDS = ((1000, 200, 200, True), (1000, 50, 200, False))
QUICK_GRIDS = ((60, 30, 20, True), (40, 10, 20, False))


def measure(
    report: Report,
    rounds: int = 3,
    grids: tuple[tuple[int, int, float, bool], ...] = GRIDS,
) -> None:
    for calls, concurrency, latency_ms, targeted in grids:
        limit_grid(
            report,
            calls,
            concurrency,
            latency_ms,
            targeted,
            rounds,
            case=TITLE,
            server=FixedServer,
            wire="responses",
            model=MODEL,
        )
    report.notes.append(
        f"11: best of {rounds} interleaved rounds after a warm-up, on a server that shares no "
        "code with grokbook: a tiny aiohttp.web app in its own process that reads each "
        "request, waits 200 ms and returns one recorded grok-4.3 Responses body (vercel/ai's "
        "fixture, bench/data/SOURCES.md). grokbook.sweep (run log and cache on, Responses "
        "wire) against aiohttp and httpx semaphore loops posting the same JSON to the same "
        "path, every pool sized to the concurrency."
    )


def run(report: Report, quick: bool = False) -> None:
    if quick:
        measure(report, rounds=1, grids=QUICK_GRIDS)
    else:
        measure(report)


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
