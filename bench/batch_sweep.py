"""Batch sweeps at scale: 10,000 vs 100,000 calls on the loopback simulator.

Run as ``python bench/batch_sweep.py`` (about a minute and a half on two cores): each size runs
in a fresh interpreter (so peak memory is that run's own), against grokbook's simulator served
from another process (``bench/_serve.py``: its threads stay off the client's GIL and out of the
client's CPU time and memory). One run = build the grid, stream the JSONL into batches (at most
``grokbook.batch.MAX_REQUESTS_PER_BATCH`` each), upload (``POST /v1/files``), create
(``POST /v1/batches``; creations spaced ``CREATE_INTERVAL_S`` apart as xAI asks), poll, page
the results (``GET /v1/batches/{id}/results``, 1,000 a page), record every answer in the run
log and cache, and build the DataFrame.

Figures: wall time and client CPU (this process, all threads, the store's writer included) per
phase and per 1,000 rows; peak RSS above the interpreter's after imports (``ru_maxrss``).
Linear means time per 1,000 rows stays flat from 10k to 100k; bounded means memory grows with
the rows kept (the frame, the cache's pending entries), not with the JSONL (streamed to a
temporary file, never held whole). ``--no-store-sizes`` also runs sizes with the run log
and cache off, to separate the batch path from the store. ``--write`` replaces the batch
section of docs/benchmarks.md (between its markers; ``bench/run.py`` keeps that section).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- batch-bench:start -->"
END = "<!-- batch-bench:end -->"
SIZES = (10_000, 100_000)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _one(calls: int, base_url: str, store_on: bool = True) -> dict[str, Any]:
    """One batch sweep of ``calls`` calls in this process; the figures as a dict.

    ``store_on=False``: run log and cache off (``GROKBOOK_LOG=0``, ``cache=False``), to see
    the batch path alone.
    """
    os.environ["GROKBOOK_HOME"] = tempfile.mkdtemp(prefix="grokbook-batch-bench-")
    if not store_on:
        os.environ["GROKBOOK_LOG"] = "0"
    import pandas  # noqa: F401 - imported before the baseline: its size is not the run's
    import tqdm.auto  # noqa: F401

    import grokbook as gb
    from grokbook import batch, store, sweeps, tables  # noqa: F401

    client = gb.Client(provider="xai", api_key="bench", base_url=base_url)
    prompts = [f"What is {i}*{i % 97 + 2}?" for i in range(calls // 2)]
    baseline = _rss_mb()
    marks = [(time.perf_counter(), time.process_time())]

    def mark() -> None:
        marks.append((time.perf_counter(), time.process_time()))

    spec, jobs = batch._spec(
        prompts,
        "grok-3-mini-beta",
        ["low", "high"],
        1,
        client=client,
        system=None,
        temperature=None,
        seed=0,
        cache=store_on,
    )
    run = batch._BatchRun(client, spec, jobs, progress=False, poll_interval=0.05)
    run.resume()
    run.submit_rest()  # build the requests, stream the JSONL, upload, create
    mark()
    run.wait()  # poll, page the results, parse, run log + cache
    mark()
    frame = run.frame()
    mark()
    written = store.flush(600)
    mark()
    peak = _rss_mb()
    assert written and len(frame) == calls and (frame["status"] == "ok").all(), frame.head()
    phases = ["submit", "poll + collect", "frame", "run-log flush"]
    out: dict[str, Any] = {
        "calls": calls,
        "batches": run.submitted,
        "peak_mb": peak - baseline,
        "store": store_on,
    }
    for name, (t0, c0), (t1, c1) in zip(phases, marks[:-1], marks[1:], strict=True):
        out[name] = {"wall_s": t1 - t0, "cpu_s": c1 - c0}
    out["total"] = {
        "wall_s": marks[-1][0] - marks[0][0],
        "cpu_s": marks[-1][1] - marks[0][1],
    }
    return out


def _child(calls: int, base_url: str, store_on: bool = True) -> dict[str, Any]:
    mode = "store" if store_on else "no-store"
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(calls), base_url, mode],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "XAI_API_KEY"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench child for {calls} calls failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| calls | batches | wall | client CPU | wall per 1,000 rows | CPU per 1,000 rows "
        "| peak memory above start | memory per 1,000 rows |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        k = r["calls"] / 1000
        total = r["total"]
        lines.append(
            f"| {r['calls']:,} | {r['batches']} | {total['wall_s']:.1f} s | "
            f"{total['cpu_s']:.1f} s | {total['wall_s'] / k * 1000:.0f} ms | "
            f"{total['cpu_s'] / k * 1000:.0f} ms | {r['peak_mb']:.0f} MB | "
            f"{r['peak_mb'] / k:.2f} MB |"
        )
    lines += ["", "| phase | " + " | ".join(f"{r['calls']:,} calls" for r in results) + " |"]
    lines.append("|---|" + "---|" * len(results))
    for phase in ("submit", "poll + collect", "frame", "run-log flush"):
        cells = [f"{r[phase]['wall_s']:.2f} s wall, {r[phase]['cpu_s']:.2f} s CPU" for r in results]
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    return lines


def _per_call_us(result: dict[str, Any]) -> float:
    return float(result["total"]["cpu_s"]) / result["calls"] * 1e6


def _section(results: list[dict[str, Any]], bare: list[dict[str, Any]]) -> str:
    small, large = results[0], results[-1]
    ratio = (large["total"]["cpu_s"] / large["calls"]) / (small["total"]["cpu_s"] / small["calls"])
    memory = (large["peak_mb"] / large["calls"]) / max(small["peak_mb"] / small["calls"], 1e-9)
    body = [
        START,
        '## Batch sweeps (`gb.sweep(..., via="batch")`): 10,000 vs 100,000 calls',
        "",
        "Measured by `python bench/batch_sweep.py --write` on the loopback simulator (another "
        "process; its batches take no time). One run: build the grid, stream the JSONL, "
        "upload, create, poll, page 1,000 results at a time, parse, write the run log and "
        "cache, build the frame. Wall time includes the simulator computing every answer "
        "(twice: to count outcomes, then to serve them), so client CPU is grokbook's own "
        "share. Each size runs in a fresh interpreter; "
        "client CPU is that process's (all threads). Peak memory is `ru_maxrss` above the "
        "interpreter's after imports. These are the simulator's timings on a shared 2-core "
        "machine, not xAI's: a real batch spends its hours in xAI's queue.",
        "",
        *_table(results),
        "",
        f"Per call, {large['calls']:,} calls cost {ratio:.2f}x the client CPU of "
        f"{small['calls']:,} (1.00 = linear) and "
        f"{memory:.2f}x the memory: the JSONL is streamed to a temporary file and uploaded "
        "from it (never held whole, never twice); what grows with the grid is the rows kept "
        f"for the DataFrame and the answers queued for the run log and cache. "
        f"{large['calls']:,} calls went out as {large['batches']} batch(es) of at most "
        "50,000 requests (xAI: batches "
        "above 100,000 requests may be throttled), created one second apart (xAI: one batch "
        "creation per second per team).",
    ]
    if len(bare) >= 2:
        first, last = bare[0], bare[-1]
        body += [
            "",
            "Where the growth is: the same sweep with the run log and the cache off "
            "(`--no-store`: `GROKBOOK_LOG=0`, `cache=False`) took "
            f"{_per_call_us(first):.0f} µs of client CPU per call at {first['calls']:,} calls "
            f"and {_per_call_us(last):.0f} µs at {last['calls']:,} "
            f"({_per_call_us(last) / _per_call_us(first):.2f}x): close to linear. What grows "
            "per call with the store on is the SQLite store's inserts into ever larger "
            "tables and indexes (the cache's random sha256 keys most), which a live sweep "
            "of the same size pays too. On this shared machine these per-call ratios move "
            "by 0.1 to 0.2 from run to run.",
        ]
    body.append(END)
    return "\n".join(body)


def _write(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument(
        "--no-store-sizes",
        default="10000,40000",
        help="sizes also run with the run log and cache off ('' for none)",
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one(int(args.child[0]), args.child[1], args.child[2] == "store")))
        return
    from _serve import Server

    sizes = [int(s) for s in args.sizes.split(",")]
    bare_sizes = [int(s) for s in args.no_store_sizes.split(",") if s.strip()]
    results, bare = [], []
    with Server(0) as base_url:
        for calls in sizes:
            results.append(_child(calls, base_url))
            print(json.dumps(results[-1]), flush=True)
        for calls in bare_sizes:
            bare.append(_child(calls, base_url, store_on=False))
            print(json.dumps(bare[-1]), flush=True)
    section = _section(results, bare)
    print(section)
    if args.write:
        _write(section)
        print(f"\nwrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
