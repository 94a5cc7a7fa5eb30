"""Many threads and several processes writing one store at once lose nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import warnings
from contextlib import closing
from pathlib import Path

import httpx

import grokbook as gb
from grokbook import store
from tests.conftest import chat_body

THREADS = 4
CALLS = 40

# A second kernel: waits for "go" on stdin so that all writers overlap, then makes
# THREADS x CALLS calls; odd threads flush after every call (one transaction per row, the
# most contention), even ones use the cache.
WORKER = r"""
import json, sys, threading
import httpx
import grokbook as gb
from grokbook import store

tag, threads, calls, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def handler(request):
    return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

def work(t):
    c = gb.Client(provider="xai", wire="chat", api_key="k", transport=httpx.MockTransport(handler))
    for i in range(calls):
        c.chat(f"{tag}-{t}-{i}", cache=t % 2 == 0, tags={"sweep_id": tag})
        if t % 2:
            store.flush()

print("ready", flush=True)
sys.stdin.readline()
workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
"""


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=chat_body())


def _work(tag: str, t: int) -> None:
    c = gb.Client(provider="xai", wire="chat", api_key="k", transport=httpx.MockTransport(_handler))
    for i in range(CALLS):
        c.chat(f"{tag}-{t}-{i}", cache=t % 2 == 0, tags={"sweep_id": tag})
        if t % 2:
            store.flush()


def _counts(path: Path) -> dict[str, tuple[int, int]]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT sweep_id, count(*), count(DISTINCT prompt) FROM calls GROUP BY sweep_id"
        )
        return {tag: (n, distinct) for tag, n, distinct in rows}


def test_threads_and_two_processes_write_at_once_without_losing_rows() -> None:
    s = store.get_store()
    assert s is not None
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    body = json.dumps(chat_body())
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, tag, str(THREADS), str(CALLS), body],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for tag in ("proc-a", "proc-b")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        threads = [threading.Thread(target=_work, args=("main", t)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        s.flush()
    results = [proc.communicate(timeout=60) for proc in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "Warning" not in err and "locked" not in err, err
    assert caught == []
    expected = THREADS * CALLS
    assert _counts(s.path) == {tag: (expected, expected) for tag in ("main", "proc-a", "proc-b")}
    info = s.stats()
    assert info["calls"] == 3 * expected and info["unwritten"] == 0
    assert info["cache_entries"] == 3 * (THREADS // 2) * CALLS


def _forked_child(tag: str) -> None:
    _work(tag, 0)  # no explicit flush: the child's exit must write its rows


def test_a_forked_child_gets_its_own_store_and_its_rows_are_written() -> None:
    parent = store.get_store()
    assert parent is not None
    _work("parent", 0)
    parent.flush()  # an idle writer at fork time
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_forked_child, args=("child",))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    _work("parent-after", 1)
    parent.flush()
    assert _counts(parent.path) == {
        "parent": (CALLS, CALLS),
        "child": (CALLS, CALLS),
        "parent-after": (CALLS, CALLS),
    }
    sessions = {r["session_id"] for r in gb.history().to_dict("records")}
    assert len(sessions) == 2  # the child logged under its own session id
