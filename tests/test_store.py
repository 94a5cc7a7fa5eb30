"""The run log and response cache (grokbook.store), through the clients on MockTransport."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import statistics
import subprocess
import sys
import time
import warnings
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import grokbook as gb
from grokbook import _store_schema, errors, store
from grokbook._columns import TOKEN_COLUMNS, USAGE_COLUMNS
from grokbook._core import build_request
from grokbook.providers import select
from tests.conftest import FAKE_KEY, Recorder, chat_body, sse, stream_chunks


def ok_handler(request: httpx.Request) -> httpx.Response:
    """A fresh 200 per request (a Response object can be read only once per client)."""
    return httpx.Response(200, json=chat_body())


def client(recorder: Recorder | None = None, **kwargs: Any) -> gb.Client:
    transport = httpx.MockTransport(recorder or Recorder(ok_handler))
    kwargs.setdefault("api_key", FAKE_KEY)
    return gb.Client(provider="xai", wire="chat", transport=transport, **kwargs)


def aclient(recorder: Recorder | None = None, **kwargs: Any) -> gb.AsyncClient:
    transport = httpx.MockTransport(recorder or Recorder(ok_handler))
    kwargs.setdefault("api_key", FAKE_KEY)
    return gb.AsyncClient(provider="xai", wire="chat", transport=transport, **kwargs)


def db_rows(sql: str = "SELECT * FROM calls ORDER BY id") -> list[dict[str, Any]]:
    s = store.get_store()
    assert s is not None
    s.flush()
    with closing(sqlite3.connect(s.path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


def home() -> Path:
    return Path(os.environ["GROKBOOK_HOME"])


def error_response(status: int = 500) -> httpx.Response:
    return httpx.Response(status, json={"code": "Internal error", "error": "try again later"})


# -- the run log -----------------------------------------------------------------------------------
def test_a_row_per_sync_call_with_request_and_answer() -> None:
    with client() as c:
        c.chat(
            "What is 101*3?",
            model="grok-3-mini-beta",
            reasoning_effort="high",
            temperature=0.5,
            system="Be brief.",
            tags={"sweep_id": "sw-1", "source": "magic"},
        )
    (row,) = db_rows()
    assert row["provider"] == "xai"
    assert row["base_host"] == "api.x.ai"
    assert (row["model"], row["response_model"], row["reasoning_effort"]) == (
        "grok-3-mini-beta",
        "grok-3-mini-beta",
        "high",
    )
    assert json.loads(row["params"])["temperature"] == 0.5
    assert [m["role"] for m in json.loads(row["messages"])] == ["system", "user"]
    assert row["prompt"] == "What is 101*3?"
    assert (row["answer"], row["reasoning"]) == ("303", "101 * 3 = 303")
    assert (row["prompt_tokens"], row["reasoning_tokens"], row["completion_tokens"]) == (12, 310, 4)
    assert row["output_tokens"] == 314 and row["total_tokens"] == 326
    assert row["status"] == "ok" and row["error"] is None and row["cached"] == 0
    assert row["latency_s"] > 0 and row["cost_usd"] > 0
    assert (row["sweep_id"], row["source"]) == ("sw-1", "magic")
    assert row["session_id"] == store.session_id()
    assert datetime.fromisoformat(row["time"]) <= datetime.now(UTC)


def test_failed_call_is_logged_with_missing_counts() -> None:
    rec = Recorder(httpx.Response(404, json={"code": "x", "error": "Model nope not found"}))
    with client(rec) as c, pytest.raises(errors.NotFoundError):
        c.chat("hi", model="nope")
    (row,) = db_rows()
    assert row["status"] == "error" and row["status_code"] == 404
    assert row["error_type"] == "NotFoundError" and "not found" in row["error"]
    assert row["prompt_tokens"] is None and row["answer"] is None
    frame = gb.history()
    assert frame.loc[0, "status"] == "error"
    assert frame.loc[0, "error"].startswith("NotFoundError: ")
    assert all(frame[name].isna().all() for name in TOKEN_COLUMNS)


async def test_async_calls_are_logged_ok_and_failed() -> None:
    rec = Recorder(ok_handler, error_response(500))
    async with aclient(rec, max_retries=0) as c:
        await c.chat("first", tags={"sweep_id": "a"})
        with pytest.raises(errors.InternalServerError):
            await c.chat("second")
    rows = db_rows()
    assert [(r["prompt"], r["status"]) for r in rows] == [("first", "ok"), ("second", "error")]
    assert rows[0]["sweep_id"] == "a"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_streams_are_logged_and_a_cut_stream_keeps_its_partial_answer(mode: str) -> None:
    complete = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse(stream_chunks())
    )
    cut = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse(stream_chunks(), False)
    )
    rec = Recorder(complete, cut)
    if mode == "sync":
        with client(rec) as c:
            assert c.stream("s1").until_done().content == "The answer is 303."
            with pytest.raises(errors.IncompleteStreamError):
                c.stream("s2").until_done()
    else:
        async with aclient(rec) as ac:
            assert (await ac.stream("s1").until_done()).content == "The answer is 303."
            with pytest.raises(errors.IncompleteStreamError):
                await ac.stream("s2").until_done()
    first, second = db_rows()
    assert (first["stream"], first["status"], first["answer"]) == (1, "ok", "The answer is 303.")
    assert first["reasoning_tokens"] == 310
    assert (second["status"], second["error_type"]) == ("error", "IncompleteStreamError")
    assert second["answer"] == "The answer is 303."  # what had arrived is kept


# -- the cache key ---------------------------------------------------------------------------------
BASE: dict[str, Any] = {
    "provider": "xai",
    "base_url": "https://api.x.ai/v1",
    "prompt": "What is 101*3?",
    "model": "grok-3-mini-beta",
    "reasoning_effort": "low",
    "temperature": 0.7,
    "repeat": 0,
}


def key(**changes: Any) -> str:
    args = {**BASE, **changes}
    repeat = args.pop("repeat")
    provider = select(args.pop("provider"))
    base_url = args.pop("base_url")
    prompt = args.pop("prompt")
    request = build_request(provider, base_url, prompt, **args)
    return store.cache_key(request, repeat)


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({}, True),
        ({"reasoning_effort": "high"}, False),
        ({"reasoning_effort": None}, False),
        ({"model": "grok-3-mini-fast-beta"}, False),
        ({"temperature": 0.2}, False),
        ({"temperature": None}, False),
        ({"repeat": 1}, False),
        ({"base_url": "http://127.0.0.1:8000/v1"}, False),
        ({"provider": "openrouter", "base_url": "https://api.x.ai/v1"}, False),
        ({"prompt": "What is 101*4?"}, False),
        ({"system": "Be brief."}, False),
        ({"top_p": 0.9}, False),
        ({"max_tokens": 50}, False),
        ({"seed": 7}, False),
        ({"extra_body": {"user": "u1"}}, False),
        ({"stream": True}, True),  # a streamed and a plain call ask the same question
    ],
)
def test_cache_key_changes_with_everything_that_changes_the_answer(
    change: dict[str, Any], same: bool
) -> None:
    assert (key(**change) == key()) is same


def test_cache_key_ignores_dict_order_and_int_vs_float() -> None:
    m1 = [{"role": "user", "content": "hi", "name": "ann"}]
    m2 = [{"name": "ann", "content": "hi", "role": "user"}]
    assert key(prompt=m1) == key(prompt=m2)
    assert key(extra_body={"a": 1, "b": {"x": 1, "y": 2}}) == key(
        extra_body={"b": {"y": 2, "x": 1}, "a": 1}
    )
    assert key(temperature=1) == key(temperature=1.0)
    assert len(key()) == 64 and int(key(), 16) >= 0


def test_cache_key_never_depends_on_or_contains_the_api_key() -> None:
    request = build_request(
        select("xai"), "https://api.x.ai/v1", "hi", model="grok-3-mini-beta", wire="chat"
    )
    options = {"model": "grok-3-mini-beta", "cache": True}
    with client(api_key=FAKE_KEY) as a, client(api_key="xai-another-key") as b:
        key_a = a._call("hi", options, stream=False).key
        key_b = b._call("hi", options, stream=False).key
        assert key_a == key_b == store.cache_key(request, 0)
        assert FAKE_KEY not in str(key_a)


# -- cache hits and misses -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_hit_keeps_the_original_figures_and_bills_nothing_without_http(mode: str) -> None:
    rec = Recorder(ok_handler)
    if mode == "sync":
        with client(rec) as c:
            first = c.chat("q", reasoning_effort="low", cache=True)
            hit = c.chat("q", reasoning_effort="low", cache=True)
            other = c.chat("q", reasoning_effort="high", cache=True)
    else:
        async with aclient(rec) as ac:
            first = await ac.chat("q", reasoning_effort="low", cache=True)
            hit = await ac.chat("q", reasoning_effort="low", cache=True)
            other = await ac.chat("q", reasoning_effort="high", cache=True)
    assert len(rec.requests) == 2  # the hit made no request; the other effort did
    assert not first.cached and not other.cached and first.cost_usd
    # the call's own figures stay; what this run spent is billed_usd / fetch_s
    assert hit.cached and (hit.cost_usd, hit.latency_s) == (first.cost_usd, first.latency_s)
    assert hit.billed_usd == 0.0 and first.billed_usd == first.cost_usd
    assert hit.fetch_s is not None and hit.fetch_s < 0.05  # this call: the lookup
    assert first.fetch_s == first.latency_s and first.cache_lookup_s is None
    assert hit.original_latency_s == first.latency_s and first.original_latency_s is None
    assert (hit.content, hit.reasoning, hit.usage) == (first.content, first.reasoning, first.usage)
    assert hit.messages == first.messages and hit.id == first.id
    rows = db_rows()
    assert [r["cached"] for r in rows] == [0, 1, 0]
    live, cached = rows[0], rows[1]
    assert (cached["cost_usd"], cached["latency_s"]) == (first.cost_usd, first.latency_s)
    assert cached["billed_usd"] == 0.0 and cached["fetch_s"] == hit.fetch_s
    assert cached["original_latency_s"] == first.latency_s
    assert (live["billed_usd"], live["fetch_s"]) == (first.cost_usd, first.latency_s)
    frame = gb.history()
    assert list(frame["cached"]) == [False, True, False]  # newest first
    assert frame.loc[1, "cost_usd"] == first.cost_usd and frame.loc[1, "billed_usd"] == 0.0
    assert frame.loc[1, "latency_s"] == first.latency_s and frame.loc[1, "fetch_s"] < 0.05
    assert frame.loc[2, "billed_usd"] == first.cost_usd


def test_hit_survives_a_new_process_store() -> None:
    rec = Recorder(ok_handler)
    with client(rec) as c:
        first = c.chat("q", cache=True)
        store.reset()  # flushes and closes: the next lookup reads the database
        hit = c.chat("q", cache=True)
    assert len(rec.requests) == 1
    assert hit.cached and (hit.latency_s, hit.cost_usd) == (first.latency_s, first.cost_usd)
    assert hit.billed_usd == 0.0 and hit.usage == first.usage and hit.raw == first.raw


def test_a_cache_hit_keeps_tool_calls_context_fingerprint_and_who_answered() -> None:
    # The final response of a real stream (tests/real/16): 2 billed web searches, context
    # details, a fingerprint in metadata, a retired id answered by grok-4.3.
    recording = Path(__file__).resolve().parent / "real"
    lines = next(recording.glob("16_*")).read_text(encoding="utf-8").splitlines()
    body = json.loads(lines[-1])["response"]
    rec = Recorder(lambda request: httpx.Response(200, json=body))
    options: dict[str, Any] = {"model": "grok-4-fast-non-reasoning", "wire": "responses"}
    with client(rec) as c:
        first = c.chat("q", cache=True, **options)
        store.reset()  # the hit is read back from the database
        hit = c.chat("q", cache=True, **options)
    assert len(rec.requests) == 1 and hit.cached
    assert hit.usage == first.usage and hit.usage.server_side_tool_calls == {"web_search": 2}
    assert hit.usage.context_details == {"input_tokens": 3153, "output_tokens": 8}
    assert hit.system_fingerprint == first.system_fingerprint == "fp_eb3c003fc66c14ed"
    assert hit.answered_by == first.answered_by == "grok-4.3"
    assert hit.model_notice == first.model_notice is not None


def test_an_entry_stored_before_the_new_fields_still_reads() -> None:
    with client() as c:
        data = c.chat("q").to_dict()
    for name in ("answered_by",):
        del data[name]
    for name in ("server_side_tool_calls", "context_details"):
        del data["usage"][name]
    old = gb.Completion.from_dict(data)
    assert old.answered_by is None and old.usage.server_side_tool_calls == {}
    assert old.usage.context_details is None and old.content == "303"


def test_cache_off_by_default_and_a_failed_call_is_never_cached() -> None:
    rec = Recorder(error_response(500), ok_handler)
    with client(rec, max_retries=0) as c:
        with pytest.raises(errors.InternalServerError):
            c.chat("q", cache=True)
        assert not c.chat("q", cache=True).cached  # the error was not stored: asked again
        assert c.chat("q", cache=True).cached
        assert not c.chat("q").cached  # cache=False (the default) always asks
    assert len(rec.requests) == 3
    assert db_rows("SELECT count(*) AS n FROM cache")[0]["n"] == 1


def test_repeats_are_distinct_samples() -> None:
    rec = Recorder(ok_handler)
    with client(rec) as c:
        for repeat in (0, 1, 2, 0, 1, 2):
            c.chat("q", cache=True, repeat=repeat)
    assert len(rec.requests) == 3


def test_rerunning_the_same_calls_makes_no_requests() -> None:
    rec = Recorder(ok_handler)
    grid = [(p, e, r) for p in ("a", "b", "c") for e in ("low", "high") for r in range(2)]

    def run() -> list[gb.Completion]:
        with client(rec) as c:
            return [c.chat(p, reasoning_effort=e, repeat=r, cache=True) for p, e, r in grid]

    first = run()
    assert len(rec.requests) == len(grid)
    again = run()
    assert len(rec.requests) == len(grid)
    assert all(c.cached for c in again)
    assert [c.content for c in again] == [c.content for c in first]


def test_rerunning_a_finished_sweep_makes_no_api_calls() -> None:
    rec = Recorder(ok_handler)
    c = aclient(rec)
    kwargs: dict[str, Any] = {
        "models": ["grok-3-mini-beta"],
        "efforts": ["low", "high"],
        "repeats": 2,
        "concurrency": 4,
        "client": c,
        "progress": False,
    }
    first = gb.sweep(["p1", "p2"], **kwargs)
    assert len(rec.requests) == 8 and not first["cached"].any()
    again = gb.sweep(["p1", "p2"], **kwargs)
    assert len(rec.requests) == 8
    assert again["cached"].all() and (again["billed_usd"] == 0).all()
    # the same figures as the first run, whatever order the rows landed in
    key = ["prompt", "reasoning_effort", "repeat"]
    before, after = first.sort_values(key), again.sort_values(key)
    for name in ("cost_usd", "latency_s", *TOKEN_COLUMNS):
        assert list(after[name]) == list(before[name]), name
    assert list(before["billed_usd"]) == list(before["cost_usd"])
    sweeps = {r["sweep_id"] for r in db_rows()}
    assert len(sweeps) == 2 and None not in sweeps


def test_cache_hit_is_fast() -> None:
    with client() as c:
        c.chat("q", cache=True)
        s = store.get_store()
        assert s is not None
        s.flush()  # from the database, not the pending entries
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            assert c.chat("q", cache=True).cached
            timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.05  # measured ~0.2 ms; generous for slow CI


def test_cache_clear_empties_the_cache_only() -> None:
    rec = Recorder(ok_handler)
    with client(rec) as c:
        c.chat("a", cache=True)
        c.chat("b", cache=True)
        assert gb.cache_clear() == 2
        assert gb.cache_clear() == 0
        assert not c.chat("a", cache=True).cached
    assert len(rec.requests) == 3
    assert len(gb.history()) == 3


# -- never the key ---------------------------------------------------------------------------------
def test_the_key_bytes_are_absent_from_every_store_file() -> None:
    echoing = httpx.Response(400, json={"code": "bad", "error": f"Incorrect API key {FAKE_KEY}"})
    streamed = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse(stream_chunks())
    )
    rec = Recorder(ok_handler, echoing, streamed, ok_handler)
    with client(rec, max_retries=0) as c:
        c.chat("q", cache=True)
        c.chat("q", cache=True)
        with pytest.raises(errors.BadRequestError):
            c.chat("echo", cache=True)
        c.stream("s").until_done()
        c.chat(f"my key is {FAKE_KEY}", cache=True, extra_body={"user": FAKE_KEY})
    assert rec.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    s = store.get_store()
    assert s is not None
    s.flush()
    blobs = [p.read_bytes() for p in home().iterdir()]
    assert len(blobs) >= 2  # the database and its write-ahead log
    everything = b"".join(blobs)
    assert b"101 * 3 = 303" in everything  # the check can see what was written
    assert b"my key is [redacted]" in everything
    assert FAKE_KEY.encode() not in everything
    assert b"Bearer" not in everything


# -- switches --------------------------------------------------------------------------------------
def test_grokbook_log_0_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKBOOK_LOG", "0")
    rec = Recorder(ok_handler, error_response(500), ok_handler)
    with client(rec, max_retries=0) as c:
        c.chat("q")
        with pytest.raises(errors.InternalServerError):
            c.chat("q")
        c.stream("q").until_done()
    assert len(rec.requests) == 3
    assert not home().exists()
    assert gb.history().empty


def test_log_false_writes_nothing_but_the_cache_still_works() -> None:
    rec = Recorder(ok_handler)
    with client(rec, log=False) as c:
        c.chat("q")
        assert not (home() / store.DB_NAME).exists()
        c.chat("q", cache=True)
        assert c.chat("q", cache=True).cached
    assert len(rec.requests) == 2
    assert db_rows() == []
    assert len(db_rows("SELECT key FROM cache")) == 1


# -- degrading, never failing ----------------------------------------------------------------------
def test_a_corrupt_database_warns_once_and_calls_succeed() -> None:
    home().mkdir(parents=True)
    (home() / store.DB_NAME).write_bytes(b"this is not a SQLite database" * 100)
    rec = Recorder(ok_handler)
    with client(rec) as c, pytest.warns(store.StoreWarning, match="GROKBOOK_HOME") as caught:
        assert c.chat("q", cache=True).content == "303"
        assert not c.chat("q", cache=True).cached
    assert len(caught) == 1
    assert len(rec.requests) == 2
    assert gb.history().empty and gb.cache_clear() == 0
    assert (home() / store.DB_NAME).read_bytes().startswith(b"this is not")  # left for the user


def test_an_unusable_folder_warns_once_and_calls_succeed(monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = home().parent / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GROKBOOK_HOME", str(blocker / "grokbook"))
    with client() as c, pytest.warns(store.StoreWarning) as caught:
        c.chat("q", cache=True)
        c.chat("q")
    assert len(caught) == 1


def test_a_read_only_store_serves_hits_and_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(ok_handler)
    with client(rec) as c:
        c.chat("q", cache=True)
        store.reset()
        db = home() / store.DB_NAME
        modes = {p: p.stat().st_mode for p in (home(), *home().iterdir())}
        for path in modes:
            path.chmod(0o555 if path.is_dir() else 0o444)
        if os.geteuid() == 0:  # root ignores permissions: make SQLite itself refuse writes
            monkeypatch.setattr(_store_schema, "OPEN_MODE", "ro")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                hit = c.chat("q", cache=True)  # read-only still serves what it has
                assert c.chat("new", cache=True).content == "303"
                assert c.chat("newer", cache=True).content == "303"
                store.flush()
            assert hit.cached
            assert len(rec.requests) == 3
            assert [w.category for w in caught] == [store.StoreWarning]
            assert "not recorded" in str(caught[0].message) or "cannot" in str(caught[0].message)
        finally:
            for path, mode in modes.items():
                path.chmod(stat.S_IMODE(mode))
            store.reset()
    assert db.exists()


# -- history ---------------------------------------------------------------------------------------
def test_history_columns_dtypes_order_and_filters() -> None:
    rec = Recorder(ok_handler, ok_handler, error_response(500), ok_handler)
    with client(rec, max_retries=0) as c:
        c.chat("one", model="grok-3-mini-beta", reasoning_effort="low", repeat=3)
        c.chat("two", model="grok-3-mini-fast-beta")
        with pytest.raises(errors.InternalServerError):
            c.chat("three")
    frame = gb.history()
    assert list(frame.columns) == list(store.HISTORY_COLUMNS)
    assert list(frame.columns[2 : 2 + len(USAGE_COLUMNS)]) == list(USAGE_COLUMNS)
    for name in (*TOKEN_COLUMNS, "repeat"):
        assert str(frame[name].dtype) == "Int64", name
    assert str(frame["latency_s"].dtype) == "float64"
    assert str(frame["cost_usd"].dtype) == "float64"
    assert str(frame["cached"].dtype) == "boolean"
    assert str(frame["time"].dtype).startswith("datetime64") and frame["time"].dt.tz is not None
    assert list(frame["prompt"]) == ["three", "two", "one"]  # newest first
    assert frame["id"].is_monotonic_decreasing
    assert pd.isna(frame.loc[0, "prompt_tokens"]) and pd.isna(frame.loc[0, "latency_s"])
    assert frame.loc[2, "reasoning_effort"] == "low" and frame.loc[1, "reasoning_effort"] == (
        "default"
    )
    assert frame.loc[2, "repeat"] == 3 and frame.loc[2, "answer"] == "303"
    assert frame.loc[2, "prompt_tokens"] == 12
    assert list(gb.history(limit=1)["prompt"]) == ["three"]
    assert list(gb.history(model="grok-3-mini-fast-beta")["prompt"]) == ["two"]
    assert len(gb.history(since=timedelta(minutes=5))) == 3
    assert gb.history(since=datetime.now(UTC) + timedelta(hours=1)).empty
    assert len(gb.history(since="2000-01-01")) == 3
    with pytest.raises(ValueError, match="since must be"):
        gb.history(since="yesterday-ish")
    empty = gb.history(model="nobody")
    assert empty.empty and list(empty.columns) == list(store.HISTORY_COLUMNS)
    assert str(empty["prompt_tokens"].dtype) == "Int64"


# -- the file itself -------------------------------------------------------------------------------
def test_files_are_private_and_migrations_recorded_once() -> None:
    with client() as c:
        c.chat("q")
    s = store.get_store()
    assert s is not None
    assert stat.S_IMODE(home().stat().st_mode) == 0o700
    for path in home().iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    with closing(sqlite3.connect(s.path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        recorded = conn.execute("SELECT id, name FROM _migrations ORDER BY id").fetchall()
    assert recorded == [(number, name) for number, name, _ in store.MIGRATIONS]
    assert [number for number, _ in recorded] == [number for number, _, _ in gb.store.MIGRATIONS]
    store.reset()
    info = store.get_store().stats()  # type: ignore[union-attr]
    assert info["schema_version"] == gb.store.MIGRATIONS[-1][0] and info["calls"] == 1
    with closing(sqlite3.connect(s.path)) as conn:
        assert conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(
            gb.store.MIGRATIONS
        )


def _old_row(conn: sqlite3.Connection, ts: float, **values: Any) -> None:
    row = {"time": _store_schema.iso(ts), "ts": ts, "provider": "xai", "model": "grok-3-mini-beta"}
    row.update(values)
    conn.execute(
        f"INSERT INTO calls ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def test_a_store_from_before_migration_2_keeps_the_original_figures_of_cached_rows() -> None:
    """Schema 1 logged a hit with cost 0 and the lookup's time as latency_s (the original in
    original_latency_s); migration 2 gives it back its call's figures, billed 0."""
    store.reset()
    home().mkdir(parents=True, exist_ok=True)
    path = home() / store.DB_NAME
    with closing(sqlite3.connect(path)) as conn:
        number, name, statements = store.MIGRATIONS[0]
        assert number == 1
        conn.execute(
            "CREATE TABLE _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
            "applied_at TEXT NOT NULL)"
        )
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO _migrations VALUES (1, ?, '2026-01-01')", (name,))
        ok = {"status": "ok", "reasoning_effort": "high"}
        _old_row(conn, 1.0, **ok, cache_key="k1", latency_s=0.30, cost_usd=0.00035)
        _old_row(conn, 2.0, **ok, cache_key="k2", latency_s=0.50, cost_usd=0.00070)
        _old_row(conn, 3.0, status="error", error="boom", error_type="InternalServerError")
        hit = {"status": "ok", "cached": 1, "cost_usd": 0.0, "latency_s": 0.0001}
        _old_row(conn, 4.0, **hit, cache_key="k1", original_latency_s=0.30)
        _old_row(conn, 5.0, **hit, cache_key="gone", original_latency_s=0.25)
        conn.commit()
    store.reset()
    s = store.get_store()
    assert s is not None and s.stats()["schema_version"] == store.MIGRATIONS[-1][0]
    columns = "cached, cost_usd, latency_s, billed_usd, fetch_s, original_latency_s"
    rows = db_rows(f"SELECT {columns} FROM calls ORDER BY id")
    figures = [tuple(r.values()) for r in rows]
    assert figures == [
        (0, 0.00035, 0.30, 0.00035, 0.30, None),  # live: billed its cost, fetched its latency
        (0, 0.00070, 0.50, 0.00070, 0.50, None),
        (0, None, None, None, None, None),  # a failure: nothing known
        (1, 0.00035, 0.30, 0.0, 0.0001, 0.30),  # the hit: k1's original call, billed 0
        (1, None, 0.25, 0.0, 0.0001, 0.25),  # its original row is gone: cost unknown, not 0
    ]
    with closing(sqlite3.connect(path)) as conn:  # the helper index went again
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "_calls_cache_key" not in names
    frame = gb.history()
    assert list(frame.columns) == list(store.HISTORY_COLUMNS)
    assert frame["billed_usd"].sum() == pytest.approx(0.00105)
    # and new calls go on being logged with the new columns
    with client() as c:
        first = c.chat("new", cache=True)
        c.chat("new", cache=True)
    (live, cached) = db_rows(f"SELECT {columns} FROM calls WHERE id > 5 ORDER BY id")
    assert cached["cost_usd"] == live["cost_usd"] == live["billed_usd"] == first.cost_usd
    assert cached["billed_usd"] == 0.0


def test_store_follows_grokbook_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first = store.get_store()
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path / "elsewhere"))
    second = store.get_store()
    assert first is not None and second is not None and first is not second
    assert second.path == tmp_path / "elsewhere" / store.DB_NAME
    assert store.get_store() is second


def test_importing_the_store_stays_light() -> None:
    code = "import sys, grokbook.client, grokbook.store; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the offline simulator, end to end ------------------------------------------------------------
async def test_simulator_calls_are_logged_and_replayed() -> None:
    with gb.Client(provider="sim") as c:
        first = c.chat("What is 6*7?", reasoning_effort="high", cache=True)
        assert c.chat("What is 6*7?", reasoning_effort="high", cache=True).cached
        c.stream("What is 2+2?").until_done()
        with pytest.raises(errors.NotFoundError):
            c.chat("hi", model="grok-does-not-exist")
        assert c.stats["requests"] == 3
    async with gb.AsyncClient(provider="sim") as ac:
        hit = await ac.chat("What is 6*7?", reasoning_effort="high", cache=True)
    assert hit.cached and hit.content == first.content and hit.simulated
    frame = gb.history()
    assert list(frame["status"]) == ["ok", "error", "ok", "ok", "ok"]
    assert list(frame["cached"]) == [True, False, False, True, False]
    assert set(frame["provider"]) == {"sim"}
    assert frame.loc[4, "reasoning_tokens"] > 0 and frame.loc[4, "answer"] == first.content


# -- a lean run log: packed cache entries in a rowid table (migration 5) ------------------------
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from grokbook._store_codec import MAGIC, pack, unpack  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(data=_JSON, long=st.text(min_size=32, max_size=200))
@example(data={"\x00": 1}, long="0" * 32)  # a key that looks like the reference marker
@example(data={"\x00\x00": [{"\x00": None}]}, long="0" * 32)
def test_packing_round_trips_any_json_with_repeated_long_strings(data: Any, long: str) -> None:
    value = {"content": long, "raw": {"output": [long, data, {"text": long}]}, "x": data}
    packed = pack(value)
    assert packed.startswith(MAGIC)
    assert unpack(packed) == value


def test_packing_redacts_before_sharing_so_references_stay_right() -> None:
    secret = "s" * 30
    value = {"a": f"{secret} and more text to be long", "b": "x" * 40, "c": "x" * 40}
    assert unpack(pack(value, [secret])) == {
        "a": "[redacted] and more text to be long",
        "b": "x" * 40,
        "c": "x" * 40,
    }


@pytest.mark.parametrize("bad", [b"gbz1not zlib", b"plain bytes", 3])
def test_a_damaged_packed_value_is_a_value_error(bad: Any) -> None:
    with pytest.raises(ValueError):
        unpack(bad)


def test_cache_entries_are_packed_and_a_store_from_before_migration_5_still_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("GROKBOOK_HOME", str(home))
    store.reset()
    client = gb.Client(provider="sim")
    first = client.chat("What is 6*7?", cache=True, reasoning_effort="high")
    db = store.get_store()
    assert db is not None and db.flush()
    with closing(sqlite3.connect(db.path)) as conn:
        (blob,) = conn.execute("SELECT completion FROM cache").fetchone()
        plain = json.dumps(first.to_dict(), default=str)
        assert isinstance(blob, bytes) and blob.startswith(MAGIC)
        assert len(blob) < len(plain) / 3  # the answer's text stored once, compressed
        # Rebuild the store as migration 3 left it: a WITHOUT ROWID cache of plain JSON.
        key = conn.execute("SELECT key FROM cache").fetchone()[0]
        conn.execute("DROP TABLE cache")
        conn.execute(
            "CREATE TABLE cache (key TEXT PRIMARY KEY, created TEXT NOT NULL, provider TEXT, "
            "model TEXT, completion TEXT NOT NULL) WITHOUT ROWID"
        )
        conn.execute(
            "INSERT INTO cache VALUES (?, '2026-11-01', 'sim', 'grok-4.3', ?)", (key, plain)
        )
        conn.execute("DELETE FROM _migrations WHERE id = 5")
        conn.commit()
    store.reset()
    again = gb.Client(provider="sim").chat("What is 6*7?", cache=True, reasoning_effort="high")
    assert again.cached and again.content == first.content
    assert again.reasoning == first.reasoning and again.raw == first.raw
    with closing(sqlite3.connect(store.get_store().path)) as conn:  # type: ignore[union-attr]
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'cache'").fetchone()[0]
        assert "WITHOUT ROWID" not in sql
        assert conn.execute("SELECT max(id) FROM _migrations").fetchone()[0] == 5
    store.reset()


def test_a_calls_row_does_not_store_the_prompt_unset_options_or_column_tags_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path))
    store.reset()
    client = gb.Client(provider="sim")
    client.chat("What is 2+2?", tags={"sweep_id": "s1", "source": "test", "team": "a"})
    client.chat([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    db = store.get_store()
    assert db is not None and db.flush()
    with closing(sqlite3.connect(db.path)) as conn:
        rows = conn.execute(
            "SELECT messages, params, tags, prompt, sweep_id FROM calls ORDER BY id"
        )
        (m1, p1, t1, prompt1, sweep1), (m2, _, _, prompt2, _) = rows.fetchall()
    assert (m1, prompt1, sweep1) == ("", "What is 2+2?", "s1")
    assert "null" not in p1 and json.loads(t1) == {"team": "a"}
    assert json.loads(m2)[0] == {"content": "Be brief.", "role": "system"} and prompt2 == "Hi"
    store.reset()


def test_the_preset_dictionary_never_changes_and_old_entries_still_read() -> None:
    import hashlib
    import zlib

    from grokbook import _store_codec

    # Entries written with the dictionary need its exact bytes: a change needs a new MAGIC.
    assert hashlib.sha256(_store_codec._ZDICT).hexdigest()[:16] == "5f21cfc594df549a"
    value = {"content": "an answer " * 5, "n": 1}
    v1 = b"gbz1" + zlib.compress(json.dumps(value).encode())  # written before the dictionary
    assert unpack(v1) == value
