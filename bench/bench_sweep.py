"""Sweep overhead: grokbook's sweep vs plain ``httpx.AsyncClient`` + a semaphore.

500 calls at concurrency 50 against a loopback server that answers every request after
200 ms; both clients run against the same server in the same run, alternating, and the best
of each is compared (the median too: a busy machine makes single runs noisy). Expected:
about 500 / 50 x 0.2 s = 2 s each, ratio about 1.0.

    .venv/bin/python bench/bench_sweep.py [--calls 500] [--concurrency 50] [--rounds 3]
        [--server sim|stdlib]

The server is grokbook's simulator (``grokbook.sim.SimServer``) with a fixed 200 ms delay,
run in a separate process so it does not share the GIL with the clients being measured; a
stdlib asyncio server is used instead if the simulator's server is not available. Not part
of the unit tests; takes about 25 seconds. The grokbook side runs with its defaults (run log
and cache on, in a temporary GROKBOOK_HOME), so the figure includes that bookkeeping.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

LATENCY_S = 0.2
MODEL = "grok-3-mini-beta"
PROMPT = "What is 101*3?"

# Run in a child process: prints the base URL, then serves until stdin closes.
_SERVER = r"""
import dataclasses, sys
LATENCY_S = float(sys.argv[1])
try:
    if sys.argv[2] == "stdlib":
        raise ImportError("asked for the stdlib server")
    from grokbook.sim import SimServer, Simulator

    class FixedLatency(Simulator):
        def plan(self, request):
            plan = super().plan(request)
            return dataclasses.replace(plan, head_delay_s=LATENCY_S)

    server = SimServer("127.0.0.1", 0, simulator=FixedLatency(latency="none")).start()
    print(server.base_url, "grokbook-sim", flush=True)
    sys.stdin.read()
    server.stop()
except ImportError:
    import asyncio, json
    BODY = json.dumps({
        "id": "bench", "object": "chat.completion", "created": 0, "model": "grok-3-mini-beta",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "303",
                                 "reasoning_content": "101*3 = 303"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 326,
                  "completion_tokens_details": {"reasoning_tokens": 310}},
    }).encode()

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                await asyncio.sleep(LATENCY_S)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(BODY), BODY))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
        port = server.sockets[0].getsockname()[1]
        print(f"http://127.0.0.1:{port}/v1", "stdlib-asyncio", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())
"""


Timing = tuple[float, float]  # wall seconds, CPU seconds of this process


def _timed(func: Any, *args: Any) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    func(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


async def plain_httpx(base_url: str, calls: int, concurrency: int, prompt: str) -> None:
    """The baseline: the same POSTs with httpx and a semaphore, JSON parsed."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "reasoning_effort": "low",
    }
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def one() -> None:
            async with semaphore:
                response = await http.post(
                    f"{base_url}/chat/completions",
                    json=body,
                    headers={"Authorization": "Bearer sim"},
                )
                response.raise_for_status()
                response.json()

        await asyncio.gather(*(one() for _ in range(calls)))


def run_plain(base_url: str, calls: int, concurrency: int, prompt: str) -> None:
    asyncio.run(plain_httpx(base_url, calls, concurrency, prompt))


def grokbook_sweep(base_url: str, calls: int, concurrency: int, prompt: str) -> None:
    import grokbook as gb

    client = gb.AsyncClient(provider="xai", api_key="sim", base_url=base_url)
    df = gb.sweep(
        prompt,
        models=[MODEL],
        efforts=["low"],
        repeats=calls,
        concurrency=concurrency,
        client=client,
        progress=False,
    )
    failed = df[df["status"] != "ok"]
    if len(df) != calls or len(failed):
        sys.exit(f"bench: sweep returned {len(df)} rows, {len(failed)} failed: {failed.head()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--server",
        choices=("sim", "stdlib"),
        default="sim",
        help="the simulator's threaded server (default) or a single-threaded asyncio one",
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="grokbook-bench-")
    os.environ["GROKBOOK_HOME"] = home  # a fresh run log / cache: every call is a miss
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(LATENCY_S), args.server],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
    )
    try:
        assert server.stdout is not None
        base_url, kind = server.stdout.readline().split()
        print(
            f"server: {kind} at {base_url}, {LATENCY_S * 1000:.0f} ms per call; "
            f"{args.calls} calls at concurrency {args.concurrency}; ideal "
            f"{args.calls / args.concurrency * LATENCY_S:.2f} s"
        )
        # Warm up (imports, server threads, pandas) without timing; a new prompt per round
        # keeps every grokbook call a cache miss, as in a first run.
        run_plain(base_url, args.concurrency, args.concurrency, "warm up")
        grokbook_sweep(base_url, args.concurrency, args.concurrency, "warm up")
        plain: list[Timing] = []
        ours: list[Timing] = []
        for round_ in range(args.rounds):
            prompt = f"{PROMPT} (round {round_ + 1})"
            plain.append(_timed(run_plain, base_url, args.calls, args.concurrency, prompt))
            ours.append(_timed(grokbook_sweep, base_url, args.calls, args.concurrency, prompt))
            print(
                f"round {round_ + 1}: httpx {plain[-1][0]:.3f} s (cpu {plain[-1][1]:.2f} s)   "
                f"grokbook.sweep {ours[-1][0]:.3f} s (cpu {ours[-1][1]:.2f} s)"
            )
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)
    best_plain, best_ours = min(t for t, _ in plain), min(t for t, _ in ours)
    median_plain = statistics.median(t for t, _ in plain)
    median_ours = statistics.median(t for t, _ in ours)
    print(
        f"best: httpx + semaphore {best_plain:.3f} s, grokbook.sweep {best_ours:.3f} s; "
        f"ratio sweep / httpx = {best_ours / best_plain:.3f} "
        f"(median {median_ours / median_plain:.3f}); client CPU per call: httpx "
        f"{1000 * min(c for _, c in plain) / args.calls:.2f} ms, grokbook "
        f"{1000 * min(c for _, c in ours) / args.calls:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
