"""1. Per-call overhead: 1,000 sequential calls, grokbook.Client as users get it (run log on) vs
httpx.Client, openai.OpenAI and requests.Session, on the simulator without latency.

Alone: ``python bench/case_overhead.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from _common import (
    INFO,
    KEY,
    MODEL,
    OURS,
    PEER,
    PROMPT,
    Subject,
    best_peer,
    interleaved,
    label,
    ours,
    spread,
    stack,
)
from _hooks import client_stack
from _peers import httpx_poster, requests_poster
from _report import Report, run_alone, x
from _serve import Server

NUMBER = 1
NAME = "overhead"
TITLE = "1. per-call overhead"
QUICK = {"calls": 30, "rounds": 2, "warm": 3}

OVERHEAD_TARGET = 1.3  # grokbook as users get it, per call, vs the fastest peer


def measure(report: Report, calls: int = 1000, rounds: int = 7, warm: int = 20) -> None:
    import openai

    import grokbook as gb
    from grokbook import store

    closers: list[Callable[[], Any]] = []
    with Server(0) as base_url:
        httpx_call, close, httpx_stack = httpx_poster(base_url)
        closers.append(close)
        sdk = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=60)
        # As users get it: no log= argument (the run log is on unless GROKBOOK_LOG=0).
        default = gb.Client(provider="xai", wire="chat", api_key=KEY, base_url=base_url)
        assert default.log, "bench: GROKBOOK_LOG must not be set for the benchmark"
        quiet = gb.Client(provider="xai", wire="chat", api_key=KEY, base_url=base_url, log=False)
        closers += [sdk.close, default.close, quiet.close]

        def openai_call(prompt: str) -> None:
            sdk.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": prompt}],
                reasoning_effort="low",
            )

        subjects = [
            Subject("httpx.Client", httpx_stack, PEER, httpx_call),
            Subject("openai.OpenAI", stack(sdk._client), PEER, openai_call),
        ]
        requests_peer = requests_poster(base_url)
        if requests_peer is not None:
            requests_call, close, requests_stack = requests_peer
            closers.append(close)
            subjects.append(Subject("requests.Session", requests_stack, PEER, requests_call))
        else:
            report.notes.append("1: requests is not installed, so it was not measured.")
        subjects += [
            Subject(
                "grokbook.Client() as users get it (run log on)",
                client_stack(default),
                OURS,
                lambda p: default.chat(p, model=MODEL, reasoning_effort="low"),
            ),
            Subject(
                "grokbook.Client(log=False)",
                client_stack(quiet),
                INFO,
                lambda p: quiet.chat(p, model=MODEL, reasoning_effort="low"),
            ),
        ]
        for subject in subjects:  # warm up: connections, imports, the store
            for _ in range(warm):
                subject.run(PROMPT)
        store.flush()

        def once(subject: Subject, round_: int) -> None:
            for i in range(calls):
                subject.run(f"{PROMPT} #{round_}.{i}")
            if subject.role == OURS:
                store.flush()  # the writer thread's work counts too

        interleaved(subjects, rounds, once)
        for close in closers:
            close()

    best = best_peer(subjects)
    base = best.best_wall
    for s in subjects:
        report.row(
            TITLE,
            label(s),
            f"{s.best_wall / calls * 1000:.2f} ms/call",
            x(s.best_wall / base) + " of best peer",
            "best peer"
            if s is best
            else f"{(s.best_wall - base) / calls * 1e6:+.0f} µs/call vs {best.name}; "
            f"CPU {x(s.best_cpu / best.best_cpu)} the best peer's",
            transport=s.stack,
            cpu=f"{s.best_cpu / calls * 1000:.2f} ms/call",
        )
    mine = ours(subjects)
    ratio = mine.best_wall / base
    quiet_subject = next(s for s in subjects if s.role == INFO)
    log_cost = (mine.best_wall - quiet_subject.best_wall) / calls
    report.target(
        TITLE,
        f"grokbook.Client as users get it (run log on) within {OVERHEAD_TARGET}x of the best peer",
        f"{x(ratio)} of {best.name} ({best.stack}); {spread(mine, best)}",
        ratio <= OVERHEAD_TARGET,
        f"client CPU per call: grokbook.Client {mine.best_cpu / calls * 1000:.2f} ms, "
        f"{best.name} {best.best_cpu / calls * 1000:.2f} ms. With the run log off "
        f"grokbook.Client is {x(quiet_subject.best_wall / base)} of {best.name}; the run log, "
        f"on by default, adds {log_cost * 1e6:.0f} µs per call, the writer thread's commit "
        "included"
        + (
            ": without it this target would be met, so a cheaper write per call "
            "(grokbook/store.py) is what meets it."
            if quiet_subject.best_wall / base <= OVERHEAD_TARGET
            else ", and even without it the target is missed: grokbook's own per-call work "
            "(request building, validation, usage, pricing) needs profiling too."
        ),
    )
    sdk_subject = next(s for s in subjects if s.name == "openai.OpenAI")
    vs_sdk = mine.best_wall / sdk_subject.best_wall
    report.target(
        TITLE,
        "grokbook.Client as users get it (run log on) faster than the openai SDK",
        f"{x(vs_sdk)} of openai.OpenAI ({sdk_subject.stack}); {spread(mine, sdk_subject)}",
        vs_sdk < 1.0,
    )
    report.notes.append(
        f"1: best of {rounds} interleaved rounds of {calls} sequential non-streamed calls each, "
        "one warm client per library, simulator without latency; every client parses the "
        "JSON (grokbook also validates, normalizes usage and prices the call). The best peer "
        "is the fastest of every peer measured; targets compare best rounds and also give "
        "the ratio's range over the rounds (each pair timed side by side in one round). "
        "'as users get it' is grokbook.Client() with "
        "no log= argument: the run log is on, and its time includes waiting for the store's "
        "writer thread to commit its rows. 'client CPU' is this process's CPU time (all "
        "threads; the server is another process) per call; wall and CPU are each the best "
        "round's."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
