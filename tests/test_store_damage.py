"""Damaged or crafted rows in the run log (issue 22, item 13): every read path checks a decoded
entry's shape; a bad one is a miss with one StoreWarning, never a wrong answer or a raw
ValueError, JSONDecodeError, TypeError, IndexError or RecursionError.

Each case writes a damaged value into a real row of the SQLite file (as a disk error, a hand
edit or another program would), then reads it back the way a new kernel does.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import warnings
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import grokbook as gb
from grokbook import _store_codec, batch, store
from grokbook.errors import UnsupportedParameterError
from grokbook.sim import SimTransport, Simulator
from grokbook.sim._batch import BatchStore

MODEL = "grok-3-mini-beta"
QUESTION = "What is 101*3?"
DEEP = "[" * 100_000 + "]" * 100_000  # json.loads: RecursionError

pytestmark = pytest.mark.timeout(60)


def db() -> sqlite3.Connection:
    return sqlite3.connect(store.store_home() / store.DB_NAME)


def write(sql: str, *args: Any) -> None:
    store.flush()
    with db() as conn:
        conn.execute(sql, args)
    store.reset()  # a new kernel: nothing of the old entry is left in memory


def packed_with_a_reference_past_the_end() -> bytes:
    text = json.dumps({"content": {"\x00": 99}}).encode()
    compressor = zlib.compressobj(zdict=_store_codec._ZDICT)
    return _store_codec.MAGIC + compressor.compress(text) + compressor.flush()


def good_entry() -> dict[str, Any]:
    store.flush()
    with db() as conn:
        (stored,) = conn.execute("SELECT completion FROM cache").fetchone()
    data = _store_codec.unpack(stored)
    assert isinstance(data, dict)
    return data


#: A damaged cache entry, from the good one.
DAMAGED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not JSON (JSONDecodeError)": lambda good: '{"content": ',
    "not packed (ValueError)": lambda good: _store_codec.MAGIC + b"\x00garbage",
    "a list, not an object": lambda good: "[1, 2]",
    "no fields (TypeError)": lambda good: "{}",
    "a reference past the end (IndexError)": lambda good: packed_with_a_reference_past_the_end(),
    "nested 100,000 deep (RecursionError)": lambda good: DEEP,
    "content: 5": lambda good: json.dumps({**good, "content": 5}),
    "usage a list": lambda good: json.dumps({**good, "usage": [1]}),
    "messages a number": lambda good: json.dumps({**good, "messages": 5}),
    "tool calls of the wrong shape": lambda good: json.dumps({**good, "tool_calls": [{"x": 1}]}),
    "citations of numbers": lambda good: json.dumps({**good, "citations": [1, 2]}),
    "latency a string": lambda good: json.dumps({**good, "latency_s": "fast"}),
    "cached a string": lambda good: _store_codec.pack({**good, "cached": "yes"}),
}


@pytest.fixture
def transport() -> SimTransport:
    return SimTransport(latency="none")


def ask(path: str, transport: SimTransport) -> gb.Completion:
    """One cached call of ``QUESTION`` by ``path``: the Completion it gave."""
    sync = gb.Client(provider="sim", transport=transport)
    if path == "chat":
        return sync.chat(QUESTION, cache=True)
    if path == "stream":
        stream = sync.stream(QUESTION, cache=True)
        with stream:
            for _ in stream:
                pass
        return stream.completion
    if path == "sweep":
        df = gb.sweep([QUESTION], models="grok-4.3", efforts="low", client=sync, progress=False)
        return gb.Completion(
            content=df["answer"][0], reasoning=None, model="", requested_model="",
            reasoning_effort=None, usage=gb.Usage(), latency_s=None, cost_usd=None,
            id=None, provider="sim", cached=bool(df["cached"][0]),
        )  # fmt: skip

    async def run() -> gb.Completion:
        async with gb.AsyncClient(provider="sim", transport=transport) as client:
            if path == "async chat":
                return await client.chat(QUESTION, cache=True)
            stream = client.stream(QUESTION, cache=True)
            async with stream:
                async for _ in stream:
                    pass
            return stream.completion

    return asyncio.run(run())


@pytest.mark.parametrize("path", ["chat", "async chat", "stream", "async stream", "sweep"])
@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_damaged_cache_entry_is_a_miss_with_one_warning(
    damage: str, path: str, transport: SimTransport
) -> None:
    first = ask(path, transport)
    assert not first.cached
    write("UPDATE cache SET completion = ?", DAMAGED[damage](good_entry()))
    sent = transport.requests_served
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = ask(path, transport)
    assert not again.cached and transport.requests_served == sent + 1  # asked again
    assert again.content == first.content == "101 * 3 = 303"
    assert [w.category for w in caught] == [store.StoreWarning], [str(w) for w in caught]
    assert "cache entry" in str(caught[0].message)
    store.flush()
    assert ask(path, transport).cached  # the damaged entry was replaced by the new answer


# -- conversations -----------------------------------------------------------------------------
TURN_DAMAGE: dict[str, tuple[str, Any]] = {
    "settings not JSON (JSONDecodeError)": ("settings", "{"),
    "settings a list": ("settings", "[1]"),
    "settings nested deep (RecursionError)": ("settings", DEEP),
    "prompt bytes": ("prompt", b"\xff\xfe"),
    "turn a string": ("turn", "x"),
    "answer not packed (ValueError)": ("completion", _store_codec.MAGIC + b"garbage"),
    "answer a reference past the end (IndexError)": (
        "completion",
        packed_with_a_reference_past_the_end(),
    ),
    "answer with content: 5": ("completion", "CONTENT5"),
    "answer missing fields (TypeError)": ("completion", "{}"),
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("damage", list(TURN_DAMAGE))
def test_a_damaged_turn_is_left_out_of_a_resumed_conversation_with_one_warning(
    damage: str, mode: str, transport: SimTransport
) -> None:
    chat = gb.Conversation(client=gb.Client(provider="sim", transport=transport), wire="chat")
    for question in ("What is 2+2?", "now double it", "now add 1"):
        chat.ask(question)
    column, value = TURN_DAMAGE[damage]
    if value == "CONTENT5":
        store.flush()
        with db() as conn:
            (stored,) = conn.execute(
                "SELECT completion FROM conversations WHERE turn = 1"
            ).fetchone()
        value = json.dumps({**_store_codec.unpack(stored), "content": 5})
    write(f"UPDATE conversations SET {column} = ? WHERE turn = 1", value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if mode == "sync":
            again = gb.Conversation.resume(
                chat.id, client=gb.Client(provider="sim", transport=transport)
            )
            follow_up = again.ask("and subtract 2")
        else:
            again = gb.Conversation.resume(
                chat.id, client=gb.AsyncClient(provider="sim", transport=transport)
            )
            follow_up = asyncio.run(again.aask("and subtract 2"))
    assert [turn.prompt for turn in again.turns[:2]] == ["What is 2+2?", "now add 1"]
    assert follow_up.content
    assert [w.category for w in caught] == [store.StoreWarning], [str(w) for w in caught]
    assert "conversation turn" in str(caught[0].message)


def test_a_conversation_whose_every_turn_is_damaged_is_not_found() -> None:
    chat = gb.Conversation(client=gb.Client(provider="sim"), wire="chat")
    chat.ask("What is 2+2?")
    write("UPDATE conversations SET completion = ?", DEEP)
    with pytest.warns(store.StoreWarning), pytest.raises(UnsupportedParameterError, match="No"):
        gb.Conversation.resume(chat.id, client=gb.Client(provider="sim"))


# -- batches -------------------------------------------------------------------------------------
BATCH_DAMAGE: dict[str, tuple[str, Any]] = {
    "jobs not JSON (JSONDecodeError)": ("jobs", "[1,"),
    "jobs an object": ("jobs", '{"a": 1}'),
    "jobs of strings": ("jobs", '["0", "1"]'),
    "a negative job": ("jobs", "[-1]"),
    "a job past the grid (IndexError)": ("jobs", "[0, 999]"),
    "jobs nested deep (RecursionError)": ("jobs", DEEP),
    "grid a list": ("grid", "[]"),
    "grid without prompts (KeyError)": ("grid", '{"models": ["m"]}'),
    "grid prompts a number (TypeError)": ("grid", "GRID_PROMPTS_5"),
    "state a string": ("state", '"in_progress"'),
    "calls a word": ("calls", "many"),
    "collected bytes": ("collected", b"\x00"),
}

PROMPTS = ["What is 101*3?", "What is 7*8?"]


@pytest.fixture
def running_batch(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[gb.Client, BatchStore]]:
    """A batch sweep submitted and left running (the server takes a minute)."""
    monkeypatch.setattr(batch, "CREATE_INTERVAL_S", 0.0)
    simulator = Simulator(latency="none", batches=BatchStore(delay_s=60.0))
    client = gb.Client(provider="sim", transport=SimTransport(simulator=simulator))
    batch.batch_sweep(PROMPTS, MODEL, "low", client=client, progress=False, timeout=0.0)
    yield client, simulator.batches


def damage_batch(damage: str) -> str:
    column, value = BATCH_DAMAGE[damage]
    store.flush()
    with db() as conn:
        batch_id, grid = conn.execute("SELECT batch_id, grid FROM batches").fetchone()
    if value == "GRID_PROMPTS_5":
        value = json.dumps({**json.loads(grid), "prompts": 5})
    write(f"UPDATE batches SET {column} = ?", value)
    return str(batch_id)


@pytest.mark.parametrize("path", ["gb.batches()", "the sweep again", "batch_result"])
@pytest.mark.parametrize("damage", list(BATCH_DAMAGE))
def test_a_damaged_batch_row_is_left_out_with_one_warning(
    damage: str, path: str, running_batch: tuple[gb.Client, BatchStore]
) -> None:
    client, batches = running_batch
    batch_id = damage_batch(damage)
    batches.delay_s = 0.0
    for record in batches._batches.values():
        record.delay_s = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if path == "gb.batches()":
            assert gb.batches(refresh=True, client=client).empty
        elif path == "batch_result":
            with pytest.raises(UnsupportedParameterError, match="No batch"):
                batch.batch_result(batch_id, client=client, progress=False)
        else:  # the damaged batch cannot be resumed: its calls are submitted again
            df = gb.sweep(PROMPTS, models=MODEL, efforts="low", client=client, via="batch",
                          progress=False, poll_interval=0.01)  # fmt: skip
            assert len(df) == 2 and (df["status"] == "ok").all()
            assert batches.created == 2
    assert [w.category for w in caught] == [store.StoreWarning], [str(w) for w in caught]
    assert "batch row" in str(caught[0].message)
