"""Nothing billed twice, nothing lost: a kernel killed with SIGKILL at any point of a sweep,
then the same cell run again (issue 22, items 1 and 2).

The sweeps run in a child process against the simulator's loopback server, which runs in this
process and SIGKILLs the child from inside a chosen request (so "killed between the server's
answer and the client's next step" is exact, not a race), or the child kills itself right
after the sweep returned. The same sweep then runs again in a fresh child, and the server's
counters say what was sent and billed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import _batch_store, batch, store
from grokbook.sim import SimServer, SimTransport, Simulator
from grokbook.sim._batch import BatchStore
from grokbook.sim._plan import Plan

MODEL = "grok-3-mini-beta"
#: Calls per sweep here (the issue's 2,000 / 3,000 are measured in docs, not in the suite).
BATCH_CALLS = 600
LIVE_CALLS = 400
CONCURRENCY = 16

pytestmark = pytest.mark.timeout(120)


def kind(request: httpx.Request) -> str:
    method, path = request.method, request.url.path
    if path in ("/v1/responses", "/v1/chat/completions"):
        return "call"
    if path == "/v1/files":
        return "upload"
    if path == "/v1/batches":
        return "create" if method == "POST" else "list"
    if path.endswith("/results"):
        return "results"
    if path.startswith("/v1/batches/"):
        return "status"
    return "other"


class Killer(Simulator):
    """The simulator, counting requests by kind; it SIGKILLs ``victim`` once the n-th request
    of ``kill_at = (kind, n)`` has been answered by the simulator (before it is sent)."""

    def __init__(self) -> None:
        super().__init__(latency="none", batches=BatchStore(delay_s=0.0))
        self.counts: Counter[str] = Counter()
        self.kill_at: tuple[str, int] | None = None
        self.victim: int | None = None
        self._count_lock = threading.Lock()

    def plan(self, request: httpx.Request) -> Plan:
        what = kind(request)
        with self._count_lock:
            self.counts[what] += 1
            number = self.counts[what]
        plan = super().plan(request)
        if self.victim is not None and self.kill_at == (what, number):
            os.kill(self.victim, signal.SIGKILL)
        return plan

    def billed_lines(self) -> int:
        """Batch requests the server was given (each one is billed once it runs)."""
        return sum(len(b.lines) for b in self.batches._batches.values())


CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import grokbook as gb
    from grokbook import batch
    base_url, via, calls, then = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    batch.CREATE_INTERVAL_S = 0.0
    batch.RESULTS_PAGE = 50
    client = gb.Client(provider="xai", api_key="sim", base_url=base_url)
    prompts = [f"What is {i}+1?" for i in range(calls)]
    df = gb.sweep(prompts, models="grok-3-mini-beta", efforts=["low"], client=client, via=via,
                  progress=False, poll_interval=0.02, concurrency=int(sys.argv[5]))
    print(json.dumps({"rows": len(df), "ok": int((df["status"] == "ok").sum())}), flush=True)
    if then == "kill":
        os.kill(os.getpid(), signal.SIGKILL)  # right after the sweep returned
    """
)


def run_child(
    server: SimServer,
    killer: Killer,
    home: Path,
    via: str,
    calls: int,
    kill_at: tuple[str, int] | str | None,
) -> subprocess.CompletedProcess[str]:
    killer.kill_at = kill_at if isinstance(kill_at, tuple) else None
    then = "kill" if kill_at == "after return" else "exit"
    env = {**os.environ, "GROKBOOK_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, server.base_url, via, str(calls), then, str(CONCURRENCY)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    killer.victim = proc.pid
    try:
        out, err = proc.communicate(timeout=100)
    finally:
        if proc.poll() is None:
            proc.kill()
        killer.victim = None
    # Requests of the dead child still being handled count towards it, not the next run.
    while True:
        seen = sum(killer.counts.values())
        time.sleep(0.3)
        if sum(killer.counts.values()) == seen:
            break
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def durable_answers(home: Path) -> int:
    """Cache entries a new process would find (what a re-run does not send again)."""
    with sqlite3.connect(home / store.DB_NAME) as conn:
        return int(conn.execute("SELECT count(*) FROM cache").fetchone()[0])


BATCH_KILLS: list[Any] = [
    ("upload", 1),  # the file is uploaded, no batch yet
    ("create", 1),  # the server made the batch; its answer never arrived
    ("status", 1),  # recorded, polling
    ("results", 3),  # collecting, pages 1-2 read
    "after return",  # every answer collected: killed right after the sweep returned
]


@pytest.mark.parametrize("kill_at", BATCH_KILLS, ids=str)
def test_a_batch_sweep_killed_at_any_point_then_run_again_bills_nothing_twice(
    kill_at: Any, tmp_path: Path
) -> None:
    killer = Killer()
    with SimServer(simulator=killer) as server:
        first = run_child(server, killer, tmp_path, "batch", BATCH_CALLS, kill_at)
        assert first.returncode == -signal.SIGKILL, first.stderr
        again = run_child(server, killer, tmp_path, "batch", BATCH_CALLS, None)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"rows": BATCH_CALLS, "ok": BATCH_CALLS}
    assert killer.batches.created == 1  # no second batch
    assert killer.billed_lines() == BATCH_CALLS  # no request given to the server twice
    assert killer.counts["call"] == 0


LIVE_KILLS: list[Any] = [
    ("call", 1),
    ("call", LIVE_CALLS // 3),
    ("call", LIVE_CALLS * 2 // 3),
    ("call", LIVE_CALLS),  # the last call: its answer never arrives
    "after return",
]


@pytest.mark.parametrize("kill_at", LIVE_KILLS, ids=str)
def test_a_live_sweep_killed_at_any_point_then_run_again_resends_only_what_was_not_durable(
    kill_at: Any, tmp_path: Path
) -> None:
    killer = Killer()
    with SimServer(simulator=killer) as server:
        first = run_child(server, killer, tmp_path, "live", LIVE_CALLS, kill_at)
        assert first.returncode == -signal.SIGKILL, first.stderr
        sent_first = killer.counts["call"]
        durable = durable_answers(tmp_path)
        again = run_child(server, killer, tmp_path, "live", LIVE_CALLS, None)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"rows": LIVE_CALLS, "ok": LIVE_CALLS}
    resent = killer.counts["call"] - sent_first
    assert resent == LIVE_CALLS - durable  # exactly the answers that were not durable
    if kill_at == "after return":
        assert resent == 0
    else:
        # Sent but not durable at the kill: the calls in flight (the one the kill interrupted
        # among them) and the answers the writer had not committed yet (at most one of its
        # transactions, MAX_BATCH rows; measured: a few rows).
        assert 1 <= sent_first - durable <= CONCURRENCY + store.MAX_BATCH


# -- in process: returning means durable -----------------------------------------------------------
@pytest.fixture
def slow_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each writer transaction takes 0.2 s longer: a sweep that returned before its rows were
    committed would be caught out."""
    transaction = store.Store._transaction

    def slow(conn: sqlite3.Connection, entries: Any, calls: Any) -> None:
        time.sleep(0.2)
        transaction(conn, entries, calls)

    monkeypatch.setattr(store.Store, "_transaction", staticmethod(slow))
    monkeypatch.setattr(batch, "CREATE_INTERVAL_S", 0.0)


def committed(sql: str) -> int:
    """A count read through a connection of its own: what another process would see."""
    with sqlite3.connect(store.store_home() / store.DB_NAME) as conn:
        return int(conn.execute(sql).fetchone()[0])


PROMPTS = [f"What is {i}*3?" for i in range(12)]


def sweep_by(entry: str, client: gb.Client, batches: BatchStore) -> Any:
    kwargs: dict[str, Any] = dict(models=MODEL, efforts=["low", "high"], client=client,
                                  progress=False, poll_interval=0.01)  # fmt: skip
    if entry == "sweep":
        return gb.sweep(PROMPTS, **kwargs)
    if entry == "asweep":
        return asyncio.run(gb.asweep(PROMPTS, **kwargs))
    if entry == "sweep via batch":
        return gb.sweep(PROMPTS, via="batch", **kwargs)
    if entry == "asweep via batch":
        return asyncio.run(gb.asweep(PROMPTS, via="batch", **kwargs))
    batches.delay_s = 60.0  # submitted and left running; collected by batch_result
    first = batch.batch_sweep(PROMPTS, MODEL, ["low", "high"], client=client, progress=False,
                              poll_interval=0.01, timeout=0.0)  # fmt: skip
    for record in batches._batches.values():
        record.delay_s = 0.0
    (batch_id,) = first.attrs["sweep"]["batch_ids"]
    return batch.batch_result(batch_id, client=client, progress=False, wait=True)


@pytest.mark.parametrize(
    "entry", ["sweep", "asweep", "sweep via batch", "asweep via batch", "batch_result"]
)
def test_a_sweep_returns_only_once_its_rows_are_durable(entry: str, slow_writer: None) -> None:
    simulator = Simulator(latency="none", batches=BatchStore(delay_s=0.0))
    client = gb.Client(provider="sim", transport=SimTransport(simulator=simulator))
    df = sweep_by(entry, client, simulator.batches)
    assert len(df) == 2 * len(PROMPTS) and (df["status"] == "ok").all()
    assert committed("SELECT count(*) FROM cache") == 2 * len(PROMPTS)
    assert committed("SELECT count(*) FROM calls WHERE cached = 0") == 2 * len(PROMPTS)


def test_a_batch_is_marked_collected_only_once_its_answers_are_durable(
    slow_writer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    update = _batch_store.update

    def watching(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("collected"):
            seen.append(committed("SELECT count(*) FROM cache"))
        update(*args, **kwargs)

    monkeypatch.setattr(_batch_store, "update", watching)
    client = gb.Client(provider="sim", transport=SimTransport(latency="none", batch_delay=0.0))
    gb.sweep(PROMPTS, models=MODEL, efforts=["low", "high"], client=client, via="batch",
             progress=False, poll_interval=0.01)  # fmt: skip
    assert seen == [2 * len(PROMPTS)]


def test_an_interrupted_batch_creation_is_found_by_name_and_not_made_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same window in process: the creation's answer is lost (a connection reset after
    the server made the batch), so this run fails; the next one finds the batch by name."""
    monkeypatch.setattr(batch, "CREATE_INTERVAL_S", 0.0)
    simulator = Simulator(latency="none", batches=BatchStore(delay_s=0.0))
    lost = threading.Event()

    class Transport(SimTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if kind(request) == "create" and not lost.is_set():
                lost.set()
                raise httpx.ReadError("connection reset after the batch was made")
            return response

    client = gb.Client(provider="sim", transport=Transport(simulator=simulator))
    with pytest.raises(gb.errors.APIConnectionError):
        gb.sweep(PROMPTS, models=MODEL, efforts="low", client=client, via="batch", progress=False)
    assert simulator.batches.created == 1
    assert gb.batches()["status"].tolist() == ["creating"]
    df = gb.sweep(PROMPTS, models=MODEL, efforts="low", client=client, via="batch",
                  progress=False, poll_interval=0.01)  # fmt: skip
    assert simulator.batches.created == 1
    assert len(df) == len(PROMPTS) and (df["status"] == "ok").all()
    assert gb.batches()["status"].tolist() == ["completed"]


def test_a_creation_the_server_refused_leaves_no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CREATE_INTERVAL_S", 0.0)
    simulator = Simulator(latency="none", batches=BatchStore(delay_s=0.0))

    class Transport(SimTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if kind(request) == "create":
                return httpx.Response(400, json={"code": "x", "error": "no"}, request=request)
            return super().handle_request(request)

    client = gb.Client(provider="sim", transport=Transport(simulator=simulator))
    with pytest.raises(gb.errors.BadRequestError):
        gb.sweep(PROMPTS, models=MODEL, efforts="low", client=client, via="batch", progress=False)
    assert gb.batches().empty


# -- fork while the writer commits (item 5) --------------------------------------------------------
FORKS = 60


FORK_SCENARIO = """\
import os, signal, threading, time
import grokbook as gb
from grokbook import store
from grokbook.sim import SimTransport
FORKS = {forks}
client = gb.Client(provider="sim", transport=SimTransport(latency="none"))
parent = store.get_store()
assert parent is not None
stop = threading.Event()

def keep_the_writer_busy(worker: int) -> None:
    number = 0
    while not stop.is_set():
        client.chat(f"What is {{worker}}+{{number}}?", cache=True)
        number += 1

busy = [threading.Thread(target=keep_the_writer_busy, args=(w,)) for w in range(2)]
for thread in busy:
    thread.start()
hung = 0
try:
    time.sleep(0.2)
    for number in range(FORKS):
        pid = os.fork()
        if pid == 0:  # the child: its own store, one logged call, then out
            code = 1
            try:
                # A client of its own: the parent's busy threads may hold its transport's
                # locks at fork time (only the store quiesces around fork).
                own = gb.Client(provider="sim", transport=SimTransport(latency="none"))
                own.chat(f"child {{number}}", cache=True, tags={{"source": "forked"}})
                code = 0 if store.flush(timeout=10) else 2
            finally:
                os._exit(code)
        deadline = time.monotonic() + 10
        while (status := os.waitpid(pid, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                hung += 1
                os.kill(pid, signal.SIGKILL)
                status = os.waitpid(pid, 0)
                break
            time.sleep(0.002)
        else:
            assert os.waitstatus_to_exitcode(status[1]) == 0
finally:
    stop.set()
    for thread in busy:
        thread.join()
print(f"hung {{hung}} of {{FORKS}}")
"""


def test_forks_taken_while_the_writer_commits_never_hang_a_child(tmp_path: Path) -> None:
    """A child forked while the writer thread is inside SQLite would inherit a lock held by a
    thread that does not exist in it, and hang at its first SQLite call; the store quiesces
    its threads around fork so every child opens its own store and logs its call."""
    # In a fresh interpreter: pytest's own threads (xdist's channels, capture) hold locks of
    # their own that a fork would inherit; what is tested here is grokbook's writer.
    script = FORK_SCENARIO.format(forks=FORKS)
    env = {**os.environ, "GROKBOOK_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == f"hung 0 of {FORKS}", done.stdout
    with sqlite3.connect(tmp_path / store.DB_NAME) as conn:  # every child logged its call
        forked = conn.execute("SELECT count(*) FROM calls WHERE source = 'forked'").fetchone()
    assert forked[0] == FORKS


# -- multiprocessing.Pool terminated by `with Pool():` (item 6) ----------------------------------
POOL_TASKS = 60


def _pool_call(number: int) -> str:
    client = gb.Client(provider="sim", transport=SimTransport(latency="none"))
    return client.chat(f"What is {number}+2?", cache=True, tags={"source": "pool"}).content


async def _pool_acall(number: int) -> str:
    async with gb.AsyncClient(provider="sim", transport=SimTransport(latency="none")) as client:
        answer = await client.chat(f"What is {number}+2?", cache=True, tags={"source": "pool"})
    return answer.content


def _pool_async_call(number: int) -> str:
    return asyncio.run(_pool_acall(number))


def _slow_writer() -> None:
    """A Pool initializer: the worker's writer takes 0.1 s per transaction, so rows still
    queued when the pool is terminated would be lost."""
    transaction = store.Store._transaction

    def slow(conn: sqlite3.Connection, entries: Any, calls: Any) -> None:
        time.sleep(0.1)
        transaction(conn, entries, calls)

    store.Store._transaction = staticmethod(slow)  # type: ignore[method-assign]


POOL_SCENARIO = """\
import json, multiprocessing
from tests.test_durability import _pool_async_call, _pool_call, _slow_writer
if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(2, initializer=_slow_writer) as pool:
        answers = pool.map({task}, range({tasks}), chunksize=1)
    print(json.dumps(answers))
"""


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_rows_of_pool_workers_survive_the_pools_terminate(method: str, mode: str) -> None:
    """``with Pool():`` terminates its workers on exit (SIGTERM: no atexit, no flush); each
    worker's rows are written before its task returns."""
    import multiprocessing

    task = _pool_call if mode == "sync" else _pool_async_call
    if method == "fork":
        # From a fresh interpreter, as the fork test above: a worker forked from pytest (under
        # xdist) inherits locks of pytest's own threads; what is tested is grokbook's writes.
        script = POOL_SCENARIO.format(task=task.__name__, tasks=POOL_TASKS)
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        answers = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        with multiprocessing.get_context(method).Pool(2, initializer=_slow_writer) as pool:
            answers = pool.map(task, range(POOL_TASKS), chunksize=1)
    assert answers[:2] == ["0 + 2 = 2", "1 + 2 = 3"]
    assert committed("SELECT count(*) FROM calls WHERE source = 'pool'") == POOL_TASKS
    assert committed("SELECT count(*) FROM cache") == POOL_TASKS


# -- a read-only store (item 14) ---------------------------------------------------------------
#: (the database file's mode, its folder's mode) while it is read
READ_ONLY = {
    "file and folder read-only": (0o444, 0o555),
    "folder read-only": (0o666, 0o555),
    "file read-only": (0o444, 0o777),
}


@contextlib.contextmanager
def unwritable(home: Path, file_mode: int, folder_mode: int) -> Iterator[None]:
    """The store's file and folder with these modes; as root (whom permissions do not stop)
    the process acts as ``nobody`` meanwhile, so the modes bite as they do for a user."""
    db = home / store.DB_NAME
    db.chmod(file_mode)
    home.chmod(folder_mode)
    as_root = os.geteuid() == 0
    if as_root:
        os.setegid(65534)
        os.seteuid(65534)
    try:
        yield
    finally:
        if as_root:
            os.seteuid(0)
            os.setegid(0)
        home.chmod(0o700)
        db.chmod(0o600)


@pytest.fixture
def traversable_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A GROKBOOK_HOME whose parent folders anyone may enter (pytest's tmp_path is private
    to its owner, which ``nobody`` is not)."""
    parent = Path(tempfile.mkdtemp(prefix="grokbook-ro-"))
    parent.chmod(0o755)
    home = parent / "home"
    monkeypatch.setenv("GROKBOOK_HOME", str(home))
    try:
        yield home
    finally:
        store.reset()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", list(READ_ONLY))
def test_a_read_only_store_serves_its_cached_answers_and_warns_once(
    case: str, mode: str, traversable_home: Path
) -> None:
    transport = SimTransport(latency="none")
    sync = gb.Client(provider="sim", transport=transport)
    questions = [f"What is {i}+1?" for i in range(5)]
    for question in questions:
        sync.chat(question, cache=True)
    store.reset()  # as a new kernel would find it
    sent = transport.requests_served

    async def ask_async(prompts: list[str]) -> list[gb.Completion]:
        async with gb.AsyncClient(provider="sim", transport=transport) as client:
            return [await client.chat(p, cache=True) for p in prompts]

    def ask(prompts: list[str]) -> list[gb.Completion]:
        if mode == "sync":
            return [sync.chat(p, cache=True) for p in prompts]
        return asyncio.run(ask_async(prompts))

    with (
        unwritable(traversable_home, *READ_ONLY[case]),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        hits = ask(questions)
        new = ask(["What is 40+2?", "What is 40+2?"])  # not cached, and cannot be cached
        store.flush()
    logged = committed("SELECT count(*) FROM calls")
    assert all(hit.cached for hit in hits)
    assert [hit.content for hit in hits] == [f"{i} + 1 = {i + 1}" for i in range(5)]
    assert not any(answer.cached for answer in new)
    assert transport.requests_served - sent == 2  # only the new question was sent, twice
    assert logged == 5  # nothing new was logged
    assert [w.category for w in caught] == [store.StoreWarning], [str(w) for w in caught]
    assert "read-only" in str(caught[0].message)
    assert "nothing new is logged" in str(caught[0].message)
