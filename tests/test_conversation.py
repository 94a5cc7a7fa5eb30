"""gb.Conversation on the simulator: every wire and store mode, sync and async, resume, branch."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import errors
from grokbook.sim import SimTransport

MODES = [("responses", True), ("responses", False), ("chat", True)]


class Recording(SimTransport):
    """The simulator, keeping every request body it was sent."""

    def __init__(self) -> None:
        super().__init__(latency="none")
        self.bodies: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.read()))
        return super().handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(await request.aread()))
        return await super().handle_async_request(request)


QUESTIONS = ["What is 101*3?", "now double it", "add 10"]
ANSWERS = ["303", "606", "616"]


@pytest.mark.parametrize(("wire", "store"), MODES)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_three_turns_follow_up_on_the_first(wire: str, store: bool, mode: str) -> None:
    transport = Recording()
    model = "grok-4.7"  # returns encrypted reasoning on every reply
    if mode == "sync":
        chat = gb.Conversation(
            gb.Client(provider="sim", transport=transport), model, "low", store, wire=wire
        )
        answers = [chat.ask(q).content for q in QUESTIONS]
    else:

        async def run() -> list[str]:
            client = gb.AsyncClient(provider="sim", transport=transport)
            chat = gb.Conversation(client, model, "low", store, wire=wire)
            out = [(await chat.aask(q)).content for q in QUESTIONS]
            await client.aclose()
            return out, chat  # type: ignore[return-value]

        answers, chat = asyncio.run(run())  # type: ignore[misc]
    for answer, expected in zip(answers, ANSWERS, strict=True):
        assert answer.endswith(expected), answers
    frame = chat.usage_frame()
    assert list(frame.index) == [0, 1, 2]
    assert frame["cumulative_cost_usd"].is_monotonic_increasing
    assert frame["cumulative_cost_usd"].iloc[-1] == pytest.approx(frame["cost_usd"].sum())
    bodies = transport.bodies
    if wire == "responses" and store:
        # Follow-ups send only the new question and continue the stored response.
        assert bodies[1]["previous_response_id"] == chat.turns[0].completion.id
        assert bodies[2]["input"] == [{"role": "user", "content": "add 10"}]
    elif wire == "responses":
        # Nothing stored: the history is resent, reasoning items passed back unchanged.
        assert all(b["store"] is False for b in bodies)
        assert bodies[1]["include"] == ["reasoning.encrypted_content"]
        passed = [item for item in bodies[2]["input"] if item.get("type") == "reasoning"]
        assert passed == [*chat.turns[0].completion.reasoning_items,
                          *chat.turns[1].completion.reasoning_items]  # fmt: skip
        assert all(item["encrypted_content"] for item in passed)
    else:
        assert [m["role"] for m in bodies[2]["messages"]] == ["user", "assistant"] * 2 + ["user"]
    if not (wire == "responses" and store):
        # Resending history is billed: the prompt grows turn by turn.
        assert frame["prompt_tokens"].is_monotonic_increasing


@pytest.mark.parametrize(("wire", "store"), MODES)
def test_resume_from_the_run_log_in_a_new_process(wire: str, store: bool) -> None:
    chat = gb.Conversation(gb.Client(provider="sim"), None, "low", store, wire=wire)
    chat.ask("What is 101*3?")
    chat.ask("now double it")
    code = (
        "import grokbook as gb\n"
        f"chat = gb.Conversation.resume({chat.id!r}, client=gb.Client(provider='sim'))\n"
        "print(len(chat.turns), chat.ask('add 10').content, chat.wire, chat.store)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "606", "+", "10", "=", "616", wire, str(store)]
    assert (chat.id, 3) in [(cid, turns) for cid, turns, _ in gb.Conversation.saved()]


def test_branch_shares_the_first_turns_only() -> None:
    chat = gb.Conversation(gb.Client(provider="sim"), reasoning_effort="low")
    chat.ask("What is 101*3?")
    chat.ask("now double it")
    other = chat.branch(at=1)
    assert other.ask("now triple it").content.endswith("909")
    assert len(chat.turns) == 2 and len(other.turns) == 2 and other.id != chat.id
    assert chat.turns[1].completion.content.endswith("606")
    with pytest.raises(errors.UnsupportedParameterError, match="turn count"):
        chat.branch(at=5)


def test_bad_use_is_refused_with_what_to_do() -> None:
    with pytest.raises(errors.UnsupportedParameterError, match="aask"):
        gb.Conversation(gb.AsyncClient(provider="sim")).ask("hi")
    with pytest.raises(errors.UnsupportedParameterError, match="does not speak"):
        gb.Conversation(gb.Client(provider="openrouter", api_key="k"), wire="responses")
    with pytest.raises(errors.UnsupportedParameterError, match="No conversation"):
        gb.Conversation.resume("conv-nope", client=gb.Client(provider="sim"))
    with pytest.raises(errors.UnsupportedParameterError, match="non-empty"):
        gb.Conversation(gb.Client(provider="sim")).ask("  ")


def test_streamed_turns_are_kept() -> None:
    chat = gb.Conversation(gb.Client(provider="sim"), reasoning_effort="low")
    kinds = {event.kind for event in chat.stream("What is 101*3?")}
    assert kinds == {"reasoning", "content"}
    assert "".join(e.text for e in chat.stream("now double it") if e.kind == "content").endswith(
        "606"
    )
    assert [t.index for t in chat.turns] == [0, 1]
    assert "Conversation" in chat._repr_html_() and "606" in chat._repr_html_()
