"""grokbook's benchmarks against the peers: ``make bench`` (or ``python bench/run.py``).

Every figure is measured in the same run as its baseline, against grokbook's simulator served
on loopback from a separate process (no latency, or a fixed 200 ms before the first byte), so
the ratios mean something on any machine while the absolute numbers only describe this one.

1. per-call overhead: 300 sequential calls, grokbook.Client vs httpx.Client vs openai.OpenAI
2. sweep throughput: 500 calls at concurrency 50, 200 ms server latency, grokbook.sweep vs
   httpx.AsyncClient + semaphore vs openai.AsyncOpenAI + semaphore, and vs the ideal
3. import cost in fresh interpreters: import grokbook / %load_ext grokbook vs httpx, openai
4. streaming display: a 4,000-token answer through %%grok's display path (fake display sink)
5. tables: usage_frame and effort_summary on 100,000 synthetic completions

Prints a table, writes docs/benchmarks.md (with a description of the machine) and exits 1 if
a target is missed. ``--only overhead,sweep`` runs some cases; ``--no-write`` leaves the
docs alone. Takes about two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _serve import ROOT, Server

# A fresh store for the run: the run log and cache start empty, and nothing touches the
# user's own. Set before grokbook is imported anywhere.
os.environ["GROKBOOK_HOME"] = tempfile.mkdtemp(prefix="grokbook-bench-")
for _var in ("XAI_API_KEY", "GROKBOOK_PROVIDER", "GROKBOOK_BASE_URL", "GROKBOOK_MODEL"):
    os.environ.pop(_var, None)

MODEL = "grok-3-mini-beta"
PROMPT = "What is 101*3?"
KEY = "bench-key"
DOC = ROOT / "docs" / "benchmarks.md"
CASES = ("overhead", "sweep", "import", "stream", "tables")


# -- results -----------------------------------------------------------------------------------
@dataclass
class Row:
    case: str
    subject: str
    value: str
    ratio: str = ""
    note: str = ""


@dataclass
class Target:
    case: str
    text: str
    measured: str
    met: bool
    why: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, *args: str, **kwargs: str) -> None:
        self.rows.append(Row(*args, **kwargs))

    def target(self, case: str, text: str, measured: str, met: bool, why: str = "") -> None:
        self.targets.append(Target(case, text, measured, met, why))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}x"


# -- 1. per-call overhead ----------------------------------------------------------------------
def _body(prompt: str) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "reasoning_effort": "low",
    }


def bench_overhead(report: Report, calls: int = 300, rounds: int = 3) -> None:
    import httpx
    import openai

    import grokbook as gb
    from grokbook import store

    with Server(0) as base_url:
        plain = httpx.Client(timeout=60)
        url = f"{base_url}/chat/completions"
        headers = {"Authorization": f"Bearer {KEY}"}
        quiet = gb.Client(provider="xai", api_key=KEY, base_url=base_url, log=False)
        logged = gb.Client(provider="xai", api_key=KEY, base_url=base_url, log=True)
        sdk = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=60)

        def httpx_call(prompt: str) -> None:
            response = plain.post(url, json=_body(prompt), headers=headers)
            response.raise_for_status()
            response.json()

        def openai_call(prompt: str) -> None:
            sdk.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": prompt}],
                reasoning_effort="low",
            )

        subjects: dict[str, Callable[[str], Any]] = {
            "httpx.Client": httpx_call,
            "grokbook.Client (log=False)": lambda p: quiet.chat(
                p, model=MODEL, reasoning_effort="low"
            ),
            "grokbook.Client (run log on)": lambda p: logged.chat(
                p, model=MODEL, reasoning_effort="low"
            ),
            "openai.OpenAI": openai_call,
        }
        times: dict[str, list[float]] = {name: [] for name in subjects}
        for fn in subjects.values():  # warm up: connections, imports, the store
            for _ in range(20):
                fn(PROMPT)
        store.flush()
        for round_ in range(rounds):
            order = list(subjects.items())
            if round_ % 2:
                order.reverse()
            for name, fn in order:
                started = time.perf_counter()
                for i in range(calls):
                    fn(f"{PROMPT} #{round_}.{i}")
                if "run log" in name:
                    store.flush()  # the writer thread's work counts too
                times[name].append(time.perf_counter() - started)
        plain.close()
        quiet.close()
        logged.close()
        sdk.close()

    best = {name: min(values) for name, values in times.items()}
    base = best["httpx.Client"]
    for name, total in best.items():
        report.row(
            "1. per-call overhead",
            name,
            f"{_ms(total / calls)}/call ({_s(total)} for {calls})",
            _x(total / base) + " of httpx",
            f"+{(total - base) / calls * 1e6:.0f} µs/call vs httpx"
            if name != "httpx.Client"
            else "",
        )
    ratio = best["grokbook.Client (log=False)"] / base
    report.target(
        "1. per-call overhead",
        "grokbook (log=False) within 1.3x of httpx",
        _x(ratio),
        ratio <= 1.3,
    )
    vs_sdk = best["grokbook.Client (log=False)"] / best["openai.OpenAI"]
    report.target(
        "1. per-call overhead",
        "grokbook (log=False) faster than the openai SDK",
        _x(vs_sdk) + " of openai",
        vs_sdk < 1.0,
    )
    report.notes.append(
        f"1: best of {rounds} interleaved rounds of {calls} sequential non-streamed calls each, "
        "one warm client per library, simulator without latency; every library parses the JSON "
        "(grokbook also validates, normalizes usage and prices the call). 'run log on' "
        "includes waiting for the store's writer thread to commit its rows."
    )


# -- 2. sweep throughput -----------------------------------------------------------------------
async def _httpx_semaphore(
    base_url: str, calls: int, concurrency: int, prompt: str, aiohttp: bool = False
) -> None:
    import httpx

    semaphore = asyncio.Semaphore(concurrency)
    kwargs: dict[str, Any] = {}
    if aiohttp:
        from httpx_aiohttp import AiohttpTransport

        kwargs["transport"] = AiohttpTransport()
    async with httpx.AsyncClient(timeout=60, **kwargs) as http:

        async def one(i: int) -> None:
            async with semaphore:
                response = await http.post(
                    f"{base_url}/chat/completions",
                    json=_body(f"{prompt} #{i}"),
                    headers={"Authorization": f"Bearer {KEY}"},
                )
                response.raise_for_status()
                response.json()

        await asyncio.gather(*(one(i) for i in range(calls)))


async def _openai_semaphore(base_url: str, calls: int, concurrency: int, prompt: str) -> None:
    import openai

    semaphore = asyncio.Semaphore(concurrency)
    async with openai.AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0) as sdk:

        async def one(i: int) -> None:
            async with semaphore:
                await sdk.chat.completions.create(
                    model=MODEL,
                    messages=[{"role": "user", "content": f"{prompt} #{i}"}],
                    reasoning_effort="low",
                )

        await asyncio.gather(*(one(i) for i in range(calls)))


def _grokbook_sweep(
    base_url: str, calls: int, concurrency: int, prompt: str, httpcore: bool = False
) -> None:
    import httpx

    import grokbook as gb

    # As shipped, the AsyncClient's network transport is aiohttp's pool (grokbook/_aiohttp.py);
    # `httpcore=True` measures the same sweep over httpx's own pool, for comparison.
    transport = httpx.AsyncHTTPTransport() if httpcore else None
    client = gb.AsyncClient(provider="xai", api_key=KEY, base_url=base_url, transport=transport)
    df = gb.sweep(
        prompt,
        models=[MODEL],
        efforts=["low"],
        repeats=calls,
        concurrency=concurrency,
        client=client,
        progress=False,
    )
    failed = int((df["status"] != "ok").sum())
    if len(df) != calls or failed:
        raise RuntimeError(f"bench: the sweep returned {len(df)} rows, {failed} failed")


SWEEP_PLAN = (
    "the sweep is slower than a hand-written loop: profile it (python -m cProfile) against "
    "the peers; the store's writer thread and the per-call bookkeeping are the suspects."
)
SWEEP_OURS = "grokbook.sweep (as shipped: aiohttp pool, run log + cache on)"
SWEEP_HTTPCORE = "(informative) grokbook.sweep over httpx's own pool"
HAND_AIOHTTP = "(informative) httpx.AsyncClient(AiohttpTransport) + semaphore"


def bench_sweep(
    report: Report,
    calls: int = 500,
    concurrency: int = 50,
    latency_ms: float = 200,
    rounds: int = 2,
) -> None:
    ideal = calls * latency_ms / 1000 / concurrency
    with Server(latency_ms) as base_url:

        def httpx_run(p: str, aiohttp: bool = False) -> None:
            asyncio.run(_httpx_semaphore(base_url, calls, concurrency, p, aiohttp))

        subjects: dict[str, Callable[[str], Any]] = {
            "httpx.AsyncClient + semaphore": httpx_run,
            "openai.AsyncOpenAI + semaphore": lambda p: asyncio.run(
                _openai_semaphore(base_url, calls, concurrency, p)
            ),
            SWEEP_OURS: lambda p: _grokbook_sweep(base_url, calls, concurrency, p),
            HAND_AIOHTTP: lambda p: httpx_run(p, aiohttp=True),
            SWEEP_HTTPCORE: lambda p: _grokbook_sweep(
                base_url, calls, concurrency, p, httpcore=True
            ),
        }
        # Warm up every subject once (imports, server threads, pandas, the store).
        for name, fn in subjects.items():
            fn(f"warm up ({name})")
        times: dict[str, list[float]] = {name: [] for name in subjects}
        cpu: dict[str, list[float]] = {name: [] for name in subjects}
        for round_ in range(rounds):
            order = list(subjects.items())
            if round_ % 2:
                order.reverse()
            for name, fn in order:
                # A new prompt per subject and round: every grokbook call is a cache miss (the
                # sweep caches by default), as in a first run.
                started, cpu_started = time.perf_counter(), time.process_time()
                fn(f"{PROMPT} ({name}, round {round_})")
                times[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - cpu_started)
    best = {name: min(values) for name, values in times.items()}
    ours = best[SWEEP_OURS]
    # The peers: what people use today (httpx's and the openai SDK's defaults).
    peers = {n: t for n, t in best.items() if not n.startswith(("grokbook", "(informative)"))}
    best_peer_name = min(peers, key=lambda n: peers[n])
    best_peer = peers[best_peer_name]
    for name, total in best.items():
        report.row(
            "2. sweep throughput",
            name,
            f"{_s(total)} ({calls / total:.0f} calls/s)",
            f"{_x(total / ideal)} of ideal",
            f"{_x(total / best_peer)} of best peer; client CPU {min(cpu[name]):.2f} s",
        )
    report.row("2. sweep throughput", "ideal (calls x latency / concurrency)", _s(ideal))
    # 3% for noise: the CPUs are shared; a real regression shows up far above that.
    ratio = ours / best_peer
    report.target(
        "2. sweep throughput",
        "grokbook.sweep (as shipped) no slower than the best peer (3% margin)",
        f"{_x(ratio)} of {best_peer_name}",
        ratio <= 1.03,
        SWEEP_PLAN,
    )
    report.row(
        "2. sweep throughput",
        "(informative) grokbook.sweep vs the same loop by hand on the same transport",
        _x(ours / best[HAND_AIOHTTP]),
    )
    report.notes.append(
        f"2: best of {rounds} interleaved rounds after one warm-up each; the server answers "
        f"every call after exactly {latency_ms:.0f} ms. 'client CPU' is the benchmark "
        "process's CPU time for the run, steadier than wall time on a shared machine. "
        "grokbook's AsyncClient sends network calls over httpx-aiohttp's transport: over "
        "httpx's own pool (httpcore 1.0.9, the 'httpx's own pool' row) the pool's bookkeeping "
        "grows with its connections (encode/httpcore#1035) and a 50-wide sweep spent several "
        "times the CPU, which made it slower than the openai SDK."
    )


# -- 3. import cost ----------------------------------------------------------------------------
_TIMER = """
import sys, time
{setup}
t = time.perf_counter()
{stmt}
sys.stdout.write(repr(time.perf_counter() - t))
"""
_SHELL = (
    "from IPython.core.interactiveshell import InteractiveShell\nsh = InteractiveShell.instance()"
)


def _time_in_fresh_process(setup: str, stmt: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(setup=setup, stmt=stmt)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    if out.returncode:
        raise RuntimeError(f"bench: {stmt!r} failed in a fresh interpreter:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def bench_import(report: Report, runs: int = 7) -> None:
    cases: dict[str, tuple[str, str]] = {
        "import httpx": ("", "import httpx"),
        "import grokbook": ("", "import grokbook"),
        "import grokbook; grokbook.Client (first use)": ("", "import grokbook; grokbook.Client"),
        "import openai": ("", "import openai"),
        "%load_ext grokbook (fresh InteractiveShell)": (
            _SHELL,
            "sh.run_line_magic('load_ext', 'grokbook')",
        ),
    }
    if importlib.util.find_spec("jupyter_ai_magics") is not None:
        cases["%load_ext jupyter_ai_magics (fresh InteractiveShell)"] = (
            _SHELL,
            "sh.run_line_magic('load_ext', 'jupyter_ai_magics')",
        )
    else:
        message = (
            "jupyter_ai_magics is not installed (it pulls in LangChain and many providers; "
            "not installed for a benchmark), so %load_ext jupyter_ai_magics was skipped."
        )
        print(f"note: {message}")
        report.notes.append(f"3: {message}")
    times: dict[str, list[float]] = {name: [] for name in cases}
    for setup, stmt in cases.values():  # warm the page cache and the .pyc files
        _time_in_fresh_process(setup, stmt)
    for _ in range(runs):
        for name, (setup, stmt) in cases.items():
            times[name].append(_time_in_fresh_process(setup, stmt))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["import httpx"]
    for name, value in medians.items():
        report.row("3. import cost", name, _ms(value), _x(value / base) + " of httpx")
    ratio = medians["import grokbook"] / base
    report.target(
        "3. import cost", "import grokbook within 1.5x of import httpx", _x(ratio), ratio <= 1.5
    )
    report.notes.append(
        f"3: median of {runs} fresh interpreters each, timed inside the process (interpreter "
        "start-up excluded), after one untimed run to warm the .pyc files. `import grokbook` "
        "loads public names lazily; the first use of grokbook.Client imports httpx, shown "
        "separately. %load_ext grokbook imports the magic and render modules, not httpx."
    )


# -- 4. streaming display ----------------------------------------------------------------------
class _Sink:
    """A display() stand-in: counts new outputs and in-place updates, keeps the last one."""

    def __init__(self) -> None:
        self.displays = 0
        self.updates = 0
        self.last: dict[str, str] = {}

    def display(self, obj: Any, raw: bool = False, display_id: Any = None) -> _Handle:
        self.displays += 1
        self.last = obj
        return _Handle(self)


class _Handle:
    def __init__(self, sink: _Sink) -> None:
        self.sink = sink

    def update(self, obj: Any, raw: bool = False) -> None:
        self.sink.updates += 1
        self.sink.last = obj


def _sse_answer(tokens: int) -> list[bytes]:
    base = {"id": "bench", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    chunks = []
    for i in range(tokens):
        delta = {"content": f"w{i} " if i % 12 else f"\n\nword{i} "}
        chunks.append({**base, "choices": [{"index": 0, "delta": delta}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": tokens + 10}
    chunks.append({**base, "choices": [], "usage": usage})
    events = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks]
    return [*events, b"data: [DONE]\n\n"]


def bench_stream(report: Report, tokens: int = 4000, paced_s: float = 2.0) -> None:
    import httpx
    from IPython.core.interactiveshell import InteractiveShell

    import grokbook.magic as magic_module
    from grokbook import Client

    events = _sse_answer(tokens)

    def handler_for(pace: float) -> Callable[[httpx.Request], httpx.Response]:
        def body() -> Iterator[bytes]:
            per_batch = pace / (len(events) / 20) if pace else 0.0
            for i, event in enumerate(events):
                if pace and i % 20 == 0:
                    time.sleep(per_batch)
                yield event

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=body()
            )

        return handler

    def client_for(pace: float) -> Client:
        transport = httpx.MockTransport(handler_for(pace))
        return Client(provider="xai", api_key=KEY, transport=transport, log=False, max_retries=0)

    # The floor: the same stream read with no display at all.
    started = time.perf_counter()
    with client_for(0.0) as client:
        stream = client.stream("Write 4000 words.", model=MODEL)
        chunks = sum(1 for _ in stream)
        assert len(stream.completion.content) > tokens
    floor = time.perf_counter() - started

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "grokbook")
    magics = shell.magics_manager.registry["GrokMagics"]
    magics.frontend = "rich"
    magics.provider = "xai"  # the factory below serves it; no "using the simulator" notice
    original = magic_module._display_function
    results: dict[str, tuple[float, _Sink]] = {}
    try:
        for label, pace in (("as fast as it arrives", 0.0), (f"paced over {paced_s:g} s", paced_s)):
            sink = _Sink()
            magic_module._display_function = lambda sink=sink: sink.display  # type: ignore[misc]
            magics._clients.clear()
            magics.client_factory = lambda provider, key, pace=pace: client_for(pace)
            started = time.perf_counter()
            shell.run_cell_magic("grok", "--no-cache -o bench_r", "Write 4000 words.")
            elapsed = time.perf_counter() - started
            if "bench_r" not in shell.user_ns:
                raise RuntimeError(f"bench: the magic did not finish: {sink.last}")
            del shell.user_ns["bench_r"]
            results[label] = (elapsed, sink)
    finally:
        magic_module._display_function = original
        shell.run_line_magic("unload_ext", "grokbook")
    report.row(
        "4. streaming display",
        f"client.stream, no display ({chunks} content chunks)",
        _s(floor),
        "1.00x",
    )
    for label, (elapsed, sink) in results.items():
        live_updates = sink.updates - 1  # the last update empties the live area
        report.row(
            "4. streaming display",
            f"%%grok {tokens}-token answer, {label}",
            _s(elapsed),
            _x(elapsed / floor) + " of no display" if "fast" in label else "",
            f"{live_updates} display updates for {chunks} chunks, {sink.displays} outputs",
        )
    paced_elapsed, paced_sink = results[f"paced over {paced_s:g} s"]
    allowed = paced_elapsed * 10 + 2
    report.target(
        "4. streaming display",
        "at most 10 display updates per second (+ first and last)",
        f"{paced_sink.updates - 1} updates in {_s(paced_elapsed)}",
        paced_sink.updates - 1 <= allowed,
    )
    report.notes.append(
        f"4: the %%grok cell magic in a real InteractiveShell (rich frontend) with IPython's "
        f"display() replaced by a counting sink; the answer is {tokens} SSE content chunks from "
        "an httpx.MockTransport, once as fast as possible and once spread over "
        f"{paced_s:g} s as a model would send it. Updates redraw the whole answer so far."
    )


# -- 5. tables ---------------------------------------------------------------------------------
def _completions(n: int) -> list[Any]:
    from grokbook.result import Completion, Usage

    rng = random.Random(7)
    models = ("grok-3-mini-beta", "grok-3-mini-fast-beta", "grok-4.3")
    efforts = ("low", "high", None)
    out = []
    for i in range(n):
        prompt_tokens = rng.randint(8, 200)
        reasoning = rng.randint(50, 3000)
        completion = rng.randint(5, 400)
        usage = Usage(
            prompt_tokens=prompt_tokens,
            cached_prompt_tokens=None if i % 7 == 0 else rng.randint(0, prompt_tokens),
            reasoning_tokens=reasoning,
            completion_tokens=completion,
            output_tokens=reasoning + completion,
            total_tokens=prompt_tokens + reasoning + completion,
            convention="reasoning-excluded",
        )
        model = models[i % 3]
        out.append(
            Completion(
                content=f"answer {i}",
                reasoning=None,
                model=model,
                requested_model=model,
                reasoning_effort=efforts[(i // 3) % 3],
                usage=usage,
                latency_s=rng.uniform(0.2, 9.0),
                cost_usd=rng.uniform(1e-5, 1e-2),
                id=f"r{i}",
                provider="xai",
                messages=({"role": "user", "content": f"prompt {i % 100}"},),
            )
        )
    return out


def bench_tables(report: Report, n: int = 100_000, rounds: int = 3) -> None:
    import pandas as pd

    import grokbook as gb

    completions = _completions(n)
    records = [
        {
            "model": c.model,
            "reasoning_effort": c.reasoning_effort or "default",
            "prompt": c.prompt,
            **c.usage.as_dict(),
            "latency_s": c.latency_s,
            "cost_usd": c.cost_usd,
        }
        for c in completions
    ]
    frame_times, summary_times, base_frame, base_summary = [], [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        df = gb.usage_frame(completions)
        frame_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        summary = gb.effort_summary(df)
        summary_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain = pd.DataFrame.from_records(records)
        base_frame.append(time.perf_counter() - started)
        started = time.perf_counter()
        numeric = plain.drop(columns=["prompt", "convention"])
        numeric.groupby(["model", "reasoning_effort"]).agg(["mean", "std", "count"])
        base_summary.append(time.perf_counter() - started)
    assert len(df) == n and len(summary) == 9, (len(df), len(summary))
    uf, es = min(frame_times), min(summary_times)
    bf, bs = min(base_frame), min(base_summary)
    report.row(
        "5. tables",
        f"pd.DataFrame.from_records, {n:,} plain dicts",
        _s(bf),
        "1.00x",
    )
    report.row("5. tables", f"gb.usage_frame, {n:,} Completions", _s(uf), _x(uf / bf))
    report.row("5. tables", "groupby(model, effort).agg(mean, std, count)", _s(bs), "1.00x")
    report.row("5. tables", f"gb.effort_summary, {n:,} rows", _s(es), _x(es / bs))
    report.target(
        "5. tables",
        f"usage_frame on {n:,} completions < 1 s",
        _s(uf),
        uf < 1.0,
        "usage_frame spends its time in Python, not pandas: it reads Completion.prompt twice "
        "per row, copies every row dict, and frame_from_rows scans each row's keys against a "
        "list to find extra columns. Computing the prompt once, collecting keys with one "
        "set.update per row and building the typed columns from the lists already made "
        "gives identical frames in about 0.6x the time (measured while writing this "
        "benchmark); that is the plan for grokbook/tables.py.",
    )
    report.target("5. tables", f"effort_summary on {n:,} rows < 1 s", _s(es), es < 1.0)
    report.notes.append(
        f"5: best of {rounds}; usage_frame builds typed columns (nullable Int64 counts, "
        "float latency and cost) from Completion objects, effort_summary aggregates per "
        "model x effort; the baselines are the plain pandas equivalents on dicts."
    )


# -- output ------------------------------------------------------------------------------------
def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    packages = ("grokbook", "httpx", "httpcore", "openai", "pandas", "ipython")
    return [
        ("date", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}; {os.cpu_count()} logical CPUs ({affinity} usable)"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(f"{p} {_version(p)}" for p in packages)),
    ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def print_report(report: Report) -> None:
    print()
    rows = [["case", "subject", "measured", "ratio", "note"]]
    rows += [[r.case, r.subject, r.value, r.ratio, r.note] for r in report.rows]
    print("\n".join(_table(rows)))
    print()
    targets = [["target", "measured", "result"]]
    targets += [[t.text, t.measured, "met" if t.met else "MISSED"] for t in report.targets]
    print("\n".join(_table(targets)))


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _misses(report: Report) -> list[str]:
    missed = [t for t in report.targets if not t.met]
    if not missed:
        return []
    lines = ["## Misses and plans", ""]
    for t in missed:
        why = t.why or "no explanation recorded yet: investigate before the next release."
        lines.append(f"- **{_md(t.text)}** ({_md(t.measured)}): {_md(why)}")
    return [*lines, ""]


def write_doc(report: Report, path: Path, elapsed: float) -> None:
    out = [
        "# Benchmarks",
        "",
        "grokbook against what people use today, measured side by side in one run of "
        "`make bench` (`bench/run.py`). Every peer talks to the same server: grokbook's "
        "simulator on loopback (`bench/_serve.py`), in its own process, answering without "
        "latency or after a fixed 200 ms. Ratios compare figures from the same run; the "
        "absolute numbers describe only the machine below, which was shared with other "
        "work while it ran, so expect a few percent of noise.",
        "",
        "This file is written by `bench/run.py`; edit that, not this.",
        "",
        "## Machine",
        "",
        *[f"- **{k}**: {_md(v)}" for k, v in machine()],
        f"- **run time**: {elapsed:.0f} s",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
        *[
            f"| {_md(t.text)} | {_md(t.measured)} | {'met' if t.met else '**missed**'} |"
            for t in report.targets
        ],
        "",
        *_misses(report),
        "## Figures",
        "",
        "| case | subject | measured | ratio | note |",
        "|---|---|---|---|---|",
        *[
            f"| {_md(r.case)} | {_md(r.subject)} | {_md(r.value)} | {_md(r.ratio)} | "
            f"{_md(r.note)} |"
            for r in report.rows
        ],
        "",
        "## How each figure is measured",
        "",
        *[f"- {_md(n)}" for n in report.notes],
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default=",".join(CASES), help=f"comma-separated: {CASES}")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    chosen = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = set(chosen) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {CASES}")
    runners: dict[str, Callable[[Report], None]] = {
        "overhead": bench_overhead,
        "sweep": bench_sweep,
        "import": bench_import,
        "stream": bench_stream,
        "tables": bench_tables,
    }
    report = Report()
    started = time.perf_counter()
    for name in chosen:
        t = time.perf_counter()
        print(f"bench: {name} ...", flush=True)
        runners[name](report)
        print(f"bench: {name} done in {time.perf_counter() - t:.1f} s", flush=True)
    elapsed = time.perf_counter() - started
    print_report(report)
    if not args.no_write:
        write_doc(report, DOC, elapsed)
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    missed = [t for t in report.targets if not t.met]
    if missed:
        print(f"bench: {len(missed)} target(s) missed: " + "; ".join(t.text for t in missed))
        return 1
    print("bench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
