"""The benchmarks' server: grokbook's simulator on loopback, in its own process.

Run as ``python bench/_serve.py LATENCY_MS``: prints the base URL on one line, then serves
until its stdin closes. Every answer waits exactly ``LATENCY_MS`` before its first byte
(0: no waiting), so client-side overhead is what differs between the clients measured.
A separate process keeps the server's threads off the clients' GIL.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _main(latency_ms: float) -> None:
    from grokbook.sim import SimServer, Simulator

    class FixedLatency(Simulator):
        def plan(self, request: Any) -> Any:
            plan = super().plan(request)
            return dataclasses.replace(plan, head_delay_s=latency_ms / 1000.0)

    server = SimServer("127.0.0.1", 0, simulator=FixedLatency(latency="none")).start()
    print(server.base_url, flush=True)
    sys.stdin.read()
    server.stop()


class Server:
    """``with Server(200) as base_url: ...``: a simulator process answering after 200 ms."""

    #: The script run as the server process: ``SCRIPT LATENCY_MS`` prints its base URL, then
    #: serves until its stdin closes.
    SCRIPT = Path(__file__).resolve()

    def __init__(self, latency_ms: float = 0.0) -> None:
        self.latency_ms = latency_ms
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self._proc = subprocess.Popen(
            [sys.executable, str(self.SCRIPT), str(self.latency_ms)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.__exit__()
            raise RuntimeError(f"bench: {self.SCRIPT.name} did not start ({line!r})")
        return line

    def __exit__(self, *exc_info: object) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        self._proc = None


if __name__ == "__main__":
    _main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
