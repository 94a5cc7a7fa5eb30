"""12. Per call, sync, run log on, on both wires, against the independent server (no latency):
grokbook.Client as users get it vs plain httpx.Client and requests.Session posting the same
JSON to the same endpoint; then a profile of grokbook's call, piece by piece.

Issue 24's target: at most 1.2x the best peer on each wire (an independent run measured
1.42x of httpx on both).
Alone: ``python bench/case_percall.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from _common import (
    INFO,
    KEY,
    OURS,
    PEER,
    PROMPT,
    Subject,
    best_peer,
    interleaved,
    label,
    ours,
    spread,
)
from _fixed_server import FixedServer
from _hooks import client_stack
from _peers import httpx_poster, requests_poster
from _profile import Piece, breakdown, profile
from _report import Report, run_alone, x

NUMBER = 12
NAME = "percall"
TITLE = "12. per call on both wires"
MODEL = "grok-4.3"  # the model of the recorded answers the server returns
QUICK = {"calls": 30, "rounds": 2, "profile_calls": 30, "warm": 3}

PERCALL_TARGET = 1.2
WIRES = (("Responses", "responses"), ("Chat Completions", "chat"))

#: What a call is made of, by the functions doing it (bench/_profile.py matches them by
#: package, file and name). Client.chat does not cache by default: no cache piece.
WHOLE = Piece("grokbook.Client.chat", (("grokbook", "client", "chat"),))
PIECES = (
    Piece(
        "build + validate the request",
        (("grokbook", "", "build_request"), ("grokbook", "", "split_options")),
    ),
    Piece("send and receive the head (httpx.Client.send)", (("httpx", "_client.py", "send"),)),
    Piece("read the body (httpx Response.iter_bytes)", (("httpx", "_models.py", "iter_bytes"),)),
    Piece(
        "parse (JSON, wire, usage, cost)",
        (("grokbook", "", "_parse_json"), ("grokbook", "_wire", "parse")),
    ),
    Piece("queue the run-log row (Store.record)", (("grokbook", "store", "record"),)),
)


def _timed(
    wire: str, base_url: str, calls: int, rounds: int, warm: int
) -> tuple[list[Subject], Any]:
    """The subjects on ``wire``, timed; and grokbook's run-log-on client, still open."""
    import grokbook as gb
    from grokbook import store

    closers: list[Callable[[], Any]] = []
    httpx_call, close, httpx_stack = httpx_poster(base_url, wire, MODEL)
    closers.append(close)
    subjects = [Subject("httpx.Client", httpx_stack, PEER, httpx_call)]
    requests_peer = requests_poster(base_url, wire, MODEL)
    if requests_peer is not None:
        requests_call, close, requests_stack = requests_peer
        closers.append(close)
        subjects.append(Subject("requests.Session", requests_stack, PEER, requests_call))
    default = gb.Client(provider="xai", wire=wire, api_key=KEY, base_url=base_url)
    assert default.log, "bench: GROKBOOK_LOG must not be set for the benchmark"
    quiet = gb.Client(provider="xai", wire=wire, api_key=KEY, base_url=base_url, log=False)
    closers.append(quiet.close)
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
            subject.run(f"{PROMPT} ({wire}) #{round_}.{i}")
        if subject.role == OURS:
            store.flush()  # the writer thread's work counts too

    interleaved(subjects, rounds, once)
    for close in closers:
        close()
    return subjects, default


def measure(
    report: Report, calls: int = 1000, rounds: int = 5, profile_calls: int = 500, warm: int = 20
) -> None:
    from grokbook import store

    with FixedServer(0) as base_url:
        for wire_label, wire in WIRES:
            subjects, client = _timed(wire, base_url, calls, rounds, warm)

            def profiled(client: Any = client, wire: str = wire) -> None:
                for i in range(profile_calls):
                    prompt = f"{PROMPT} ({wire}, profiled) #{i}"
                    client.chat(prompt, model=MODEL, reasoning_effort="low")

            stats = profile(profiled)
            store.flush()
            client.close()
            best = best_peer(subjects)
            for subject in subjects:
                report.row(
                    TITLE,
                    f"{wire_label}: {label(subject)}",
                    f"{subject.best_wall / calls * 1000:.2f} ms/call",
                    x(subject.best_wall / best.best_wall) + " of best peer",
                    "best peer"
                    if subject is best
                    else f"{(subject.best_wall - best.best_wall) / calls * 1e6:+.0f} µs/call "
                    f"vs {best.name}; CPU {x(subject.best_cpu / best.best_cpu)} the best peer's",
                    transport=subject.stack,
                    cpu=f"{subject.best_cpu / calls * 1000:.2f} ms/call",
                )
            mine = ours(subjects)
            quiet = next(t for t in subjects if t.role == INFO)
            writer = (mine.best_wall - quiet.best_wall) / calls * 1e6
            pieces = breakdown(stats, WHOLE, PIECES, profile_calls)
            described = "; ".join(
                f"{piece} not found (renamed? see bench/_profile.py)"
                if us is None
                else f"{piece} {us:.0f} µs" + ("" if share is None else f" ({share:.0%})")
                for piece, us, share in pieces
            )
            report.row(
                TITLE,
                f"{wire_label}: (profile) what a grokbook.Client.chat call costs, per call",
                "",
                note=f"{described}; the run log's writer thread (not in the profile): "
                f"{writer:+.0f} µs wall per call, run log on vs off",
            )
            ratio = mine.best_wall / best.best_wall
            report.target(
                TITLE,
                f"{wire_label}: grokbook.Client as users get it (run log on) within "
                f"{PERCALL_TARGET}x of the best peer, per call, on the independent server",
                f"{x(ratio)} of {best.name} ({best.stack}); {spread(mine, best)}",
                ratio <= PERCALL_TARGET,
                f"with the run log off grokbook.Client is {x(quiet.best_wall / best.best_wall)} "
                f"of {best.name}; the run log adds {writer:.0f} µs per call. Under cProfile a "
                f"call splits as: {described}.",
            )
    report.notes.append(
        f"12: best of {rounds} interleaved rounds of {calls} sequential non-streamed calls "
        "per wire, one warm client per library, against the independent aiohttp server "
        "(bench/_fixed_server.py) answering at once with a recorded grok-4.3 body; every "
        "peer posts the JSON grokbook sends to the same path and parses the answer. The "
        f"profile is {profile_calls} more calls of the run-log-on client under cProfile: "
        "each piece is the cumulative time of the functions doing it, per call (inflated by "
        "the profiler; read the shares), the rest being what no piece covers (the retry "
        "plan, auth, headers, timing); the run log's writer thread is outside the profile, "
        "so it is given as the run-log-on minus run-log-off wall time of the timed rounds."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
