"""Conversations in the run log (issue 22, items 12 and 18): turns are only ever added (a turn
number already saved becomes a branch, never an overwrite), and a long conversation on a wire
that resends its history holds and stores each message once, so it grows linearly."""

from __future__ import annotations

import asyncio
import sqlite3
import warnings
from typing import Any

import pytest

import grokbook as gb
from grokbook import _store_codec, store
from grokbook.sim import SimTransport

pytestmark = pytest.mark.timeout(120)

WIRES = [("chat", True), ("responses", True), ("responses", False)]
MODES = ["ask", "aask", "stream", "astream"]


def db() -> sqlite3.Connection:
    store.flush()
    return sqlite3.connect(store.store_home() / store.DB_NAME)


def client(mode: str, transport: SimTransport) -> gb.Client | gb.AsyncClient:
    cls = gb.AsyncClient if mode in ("aask", "astream") else gb.Client
    return cls(provider="sim", transport=transport)


def take_turn(chat: gb.Conversation, mode: str, prompt: str) -> gb.Completion:
    """One turn, by ``mode``: ask / aask / stream / astream."""
    if mode == "ask":
        return chat.ask(prompt)
    if mode == "stream":
        for _ in chat.stream(prompt):
            pass
        assert chat.last is not None
        return chat.last

    async def run() -> gb.Completion:
        if mode == "aask":
            return await chat.aask(prompt)
        async for _ in chat.astream(prompt):
            pass
        assert chat.last is not None
        return chat.last

    return asyncio.run(run())


def saved(conversation_id: str) -> list[tuple[int, str]]:
    with db() as conn:
        rows = conn.execute(
            "SELECT turn, prompt FROM conversations WHERE conversation_id = ? ORDER BY turn",
            (conversation_id,),
        )
        return [(int(turn), str(prompt)) for turn, prompt in rows]


# -- item 12: append only -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("wire", "keep"), WIRES)
def test_two_kernels_continuing_one_conversation_never_overwrite_a_turn(
    wire: str, keep: bool, mode: str
) -> None:
    transport = SimTransport(latency="none")
    chat = gb.Conversation(client=gb.Client(provider="sim", transport=transport), wire=wire,
                           store=keep)  # fmt: skip
    chat.ask("What is 2+2?")
    chat.ask("now double it")
    # Two kernels resume it; each asks its own next question.
    first = gb.Conversation.resume(chat.id, client=client(mode, transport))
    second = gb.Conversation.resume(chat.id, client=client(mode, transport))
    take_turn(first, mode, "now add 1")
    with pytest.warns(store.StoreWarning, match="already saved") as caught:
        take_turn(second, mode, "now subtract 1")
    assert len(caught) == 1
    # The first kernel's paid turn is kept; the second goes on as a branch with its own.
    assert saved(chat.id) == [(0, "What is 2+2?"), (1, "now double it"), (2, "now add 1")]
    assert second.id != chat.id and chat.id in str(caught[0].message)
    assert saved(second.id) == [(0, "What is 2+2?"), (1, "now double it"), (2, "now subtract 1")]
    resumed = gb.Conversation.resume(second.id, client=gb.Client(provider="sim",
                                                                 transport=transport))  # fmt: skip
    assert [t.prompt for t in resumed.turns][-1] == "now subtract 1"
    # ...and both go on under their own ids.
    take_turn(first, mode, "and again")
    take_turn(second, mode, "and again")
    assert [t for t, _ in saved(chat.id)] == [0, 1, 2, 3]
    assert [t for t, _ in saved(second.id)] == [0, 1, 2, 3]


@pytest.mark.parametrize("mode", MODES)
def test_a_turn_that_was_never_saved_leaves_a_gap_and_no_later_turn_is_overwritten(
    mode: str,
) -> None:
    transport = SimTransport(latency="none")
    chat = gb.Conversation(client=gb.Client(provider="sim", transport=transport), wire="chat")
    for question in ("What is 2+2?", "now double it", "now add 1"):
        chat.ask(question)
    with db() as conn:  # as if saving turn 1 had failed (a full disk, a locked file)
        conn.execute("DELETE FROM conversations WHERE turn = 1")
    again = gb.Conversation.resume(chat.id, client=client(mode, transport))
    assert [t.index for t in again.turns] == [0, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no conflict: the next number is past the last one
        take_turn(again, mode, "now subtract 1")
    assert saved(chat.id) == [(0, "What is 2+2?"), (2, "now add 1"), (3, "now subtract 1")]


def test_the_store_refuses_to_replace_a_saved_turn() -> None:
    chat = gb.Conversation(client=gb.Client(provider="sim"), wire="chat")
    answer = chat.ask("What is 2+2?")
    s = store.get_store()
    assert s is not None
    assert s.save_turn(chat.id, 0, {}, "something else", answer) is False
    assert saved(chat.id) == [(0, "What is 2+2?")]


# -- item 18: each message held and stored once ---------------------------------------------------
TURNS = 120


@pytest.mark.parametrize("mode", ["ask", "aask"])
@pytest.mark.parametrize(("wire", "keep"), WIRES)
def test_a_long_conversation_holds_and_stores_each_message_once(
    wire: str, keep: bool, mode: str
) -> None:
    transport = SimTransport(latency="none")
    chat = gb.Conversation(client=client(mode, transport), wire=wire, store=keep)
    answers = [take_turn(chat, mode, f"What is {i}+1?") for i in range(TURNS)]
    # In memory: every turn's Completion keeps its own question, not the history before it.
    assert [len(answer.messages) for answer in answers] == [1] * TURNS
    assert sum(len(turn.completion.messages) for turn in chat.turns) == TURNS
    assert answers[-1].prompt == f"What is {TURNS - 1}+1?"
    with db() as conn:
        # The run log: each call's row holds the new question only (its tags name the
        # conversation and turn whose saved turns are the history).
        sizes = [
            len(messages or "") + len(tags)
            for messages, tags in conn.execute(
                "SELECT messages, tags FROM calls WHERE source = 'conversation' ORDER BY id"
            )
        ]
        turn_sizes = [
            len(_store_codec.pack(_store_codec.unpack(completion)))
            for (completion,) in conn.execute(
                "SELECT completion FROM conversations WHERE conversation_id = ? ORDER BY turn",
                (chat.id,),
            )
        ]
    assert len(sizes) == TURNS and max(sizes) < 200, max(sizes)
    # A saved turn does not grow with the turns before it.
    assert max(turn_sizes[-10:]) < 2 * max(turn_sizes[:10]), (turn_sizes[:10], turn_sizes[-10:])
    # ...and the conversation still resumes with its whole history.
    resumed = gb.Conversation.resume(chat.id, client=gb.Client(provider="sim",
                                                               transport=transport))  # fmt: skip
    assert [t.prompt for t in resumed.turns] == [f"What is {i}+1?" for i in range(TURNS)]


@pytest.mark.parametrize(("wire", "keep"), WIRES)
def test_a_cached_conversation_turn_stores_its_own_question_only(wire: str, keep: bool) -> None:
    chat = gb.Conversation(client=gb.Client(provider="sim"), wire=wire, store=keep)
    for i in range(20):
        chat.ask(f"What is {i}+1?", cache=True)
    with db() as conn:
        entries: list[Any] = [
            _store_codec.unpack(blob) for (blob,) in conn.execute("SELECT completion FROM cache")
        ]
    assert len(entries) == 20
    assert {len(entry["messages"]) for entry in entries} == {1}
