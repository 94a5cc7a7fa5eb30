"""10. Client CPU per call in a sweep: 10,000 calls at concurrency 100 (50 ms server latency),
grokbook.sweep as users get it (run log and cache on) vs a bare aiohttp + semaphore loop and
an httpx one, pools sized to the concurrency; then a profile of grokbook's sweep.

Issue 24's target: grokbook's client CPU per call at most 1.5x the thriftiest peer's.
Alone: ``python bench/case_cpu.py [--quick] [--report-only]``; to see more of the profile:
``python -m cProfile -s tottime bench/run.py --only cpu --no-write``.
"""

from __future__ import annotations

import sys

from _common import PROMPT, cpu_spread, ours, thriftiest_peer
from _peers import grokbook_sweep
from _profile import profile, top
from _report import Report, run_alone, x
from _serve import Server
from case_limit import limit_grid

NUMBER = 10
NAME = "cpu"
TITLE = "10. client CPU per call in a sweep"
QUICK = {"calls": 200, "concurrency": 20, "latency_ms": 5, "rounds": 1, "profile_calls": 100}

CPU_TARGET = 1.5


def measure(
    report: Report,
    calls: int = 10_000,
    concurrency: int = 100,
    latency_ms: float = 50,
    rounds: int = 2,
    profile_calls: int = 2_000,
) -> None:
    subjects = limit_grid(report, calls, concurrency, latency_ms, False, rounds, case=TITLE)
    mine = ours(subjects)
    peer = thriftiest_peer(subjects)
    ratio = mine.best_cpu / peer.best_cpu
    with Server(latency_ms) as base_url:
        stats = profile(
            lambda: grokbook_sweep(base_url, profile_calls, concurrency, f"{PROMPT} (profiled)")
        )
    hot = top(stats, profile_calls)
    report.row(
        TITLE,
        f"(profile) grokbook.sweep, {profile_calls:,} calls: grokbook's functions by own time",
        "",
        note="; ".join(hot) + " (per call, under cProfile, this thread only)",
    )
    report.target(
        TITLE,
        f"{calls:,} calls at concurrency {concurrency}: grokbook.sweep's client CPU per call "
        f"within {CPU_TARGET}x of the thriftiest peer's (run log + cache on)",
        f"{x(ratio)} of {peer.name} ({mine.best_cpu / calls * 1000:.2f} vs "
        f"{peer.best_cpu / calls * 1000:.2f} ms/call); {cpu_spread(mine, peer)}",
        ratio <= CPU_TARGET,
        "grokbook's own work per call (request building, validation, usage and pricing, the "
        "run log and cache, the frame) on top of its httpx layer over aiohttp. Where it goes, "
        f"by own time per call under cProfile: {'; '.join(hot[:5])}. The store's writer "
        "thread is not in that profile but is in the CPU figure.",
    )
    report.notes.append(
        f"10: best of {rounds} interleaved rounds after a warm-up, every peer's pool sized to "
        f"the concurrency, the simulator answering after {latency_ms:g} ms; 'client CPU' is "
        "this process's CPU time (all threads: the store's writer thread counts; the server "
        "is another process) in the best round, per call. The target compares it with the "
        "peer that spent the least CPU (every peer counts). The profile is one more sweep "
        f"of {profile_calls:,} calls under cProfile (the calling thread only)."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
