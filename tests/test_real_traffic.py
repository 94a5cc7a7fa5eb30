"""Real xAI traffic (tests/real, provenance in its SOURCES.md) through grokbook's public clients.

Every recording is replayed through ``gb.Client`` and ``gb.AsyncClient`` on an
``httpx.MockTransport``: the JSON bodies as recorded, the ``*.chunks.txt`` streams in the SSE
framings a server may use. Each value grokbook reads is checked against what the test derives
from the raw JSON itself (never against grokbook's own output): the answer, the reasoning
summary, encrypted reasoning, function and server-side tool calls, citations, every usage
field, the fingerprint and the cost. The bill test then removes ``cost_in_usd_ticks`` and
asserts that grokbook's catalog reproduces every bill to the tick.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import catalog
from grokbook.result import Completion, StreamEvent
from tests.conftest import FAKE_KEY

REAL = Path(__file__).resolve().parent / "real"
FILES = sorted(p.name for p in REAL.iterdir() if p.name[:2].isdigit())
TICKS_PER_USD = 10_000_000_000
#: The model each reproduction asked for, where the response names another (SOURCES.md).
ASKED = {
    "04": "grok-4",
    "13": "grok-4",
    "18": "grok-4",
    "27": "grok-4-1-fast-non-reasoning",
}


@dataclass(frozen=True)
class Recording:
    name: str
    wire: str
    #: The non-streamed body, or the stream's events (one JSON object per line).
    body: dict[str, Any] | None
    events: tuple[dict[str, Any], ...]

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def streamed(self) -> bool:
        return self.body is None

    @property
    def final(self) -> dict[str, Any]:
        """The whole response: the body, a Responses stream's completed response, or a Chat
        stream assembled here from its chunks."""
        if self.body is not None:
            return self.body
        if self.wire == "responses":
            return next(e["response"] for e in self.events if e["type"] == "response.completed")
        return _assemble_chat(self.events)

    @property
    def asked(self) -> str:
        return ASKED.get(self.number, self.final["model"])


def _assemble_chat(chunks: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """A Chat Completions body from its stream chunks (the test's own reading)."""
    content, reasoning, finish = "", "", None
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            content += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            for piece in delta.get("tool_calls") or ():
                slot = calls.setdefault(piece["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] = piece.get("id") or slot["id"]
                function = piece.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"content": content, "reasoning_content": reasoning or None}
    message["tool_calls"] = [
        {"id": c["id"], "function": {"name": c["name"], "arguments": c["arguments"]}}
        for _, c in sorted(calls.items())
    ]
    last = chunks[-1]
    return {
        "id": last["id"],
        "model": last["model"],
        "created": last["created"],
        "system_fingerprint": last.get("system_fingerprint"),
        "choices": [{"message": message, "finish_reason": finish}],
        "usage": next(c["usage"] for c in chunks if c.get("usage")),
    }


@cache
def load(name: str) -> Recording:
    text = (REAL / name).read_text(encoding="utf-8")
    wire = "chat" if "_chat_" in name else "responses"
    if name.endswith(".chunks.txt"):
        events = tuple(json.loads(line) for line in text.splitlines() if line.strip())
        return Recording(name, wire, None, events)
    return Recording(name, wire, json.loads(text), ())


def test_the_corpus_is_all_there() -> None:
    # The nine recordings the issue shipped plus the ones found since (SOURCES.md).
    assert len(FILES) == 22
    assert all(name in (REAL / "SOURCES.md").read_text() for name in FILES)
    assert "Apache License" in (REAL / "LICENSE-vercel-ai.txt").read_text()


# -- the test's own reading of a response ------------------------------------------------------
def _usage_of(final: dict[str, Any]) -> dict[str, Any]:
    usage = final["usage"]
    assert isinstance(usage, dict)
    return usage


def _fingerprint(final: dict[str, Any]) -> str | None:
    metadata = final.get("metadata")
    if isinstance(metadata, dict) and metadata.get("system_fingerprint"):
        return str(metadata["system_fingerprint"])
    value = final.get("system_fingerprint")
    return str(value) if value else None


@cache
def fingerprint_models() -> dict[str, str]:
    """Which model each fingerprint belongs to, from the recordings of non-retired models."""
    models: dict[str, str] = {}
    for name in FILES:
        final = load(name).final
        record = catalog.get(final["model"])
        fingerprint = _fingerprint(final)
        if fingerprint and record is not None and not record.retired:
            models[fingerprint] = record.id
    return models


def expected(rec: Recording) -> dict[str, Any]:
    """Everything a Completion should say about ``rec``, read from the raw JSON here."""
    final = rec.final
    usage = _usage_of(final)
    out: dict[str, Any] = {"model": final["model"], "id": final["id"]}
    out["fingerprint"] = _fingerprint(final)
    ticks = usage.get("cost_in_usd_ticks")
    out["ticks"] = ticks
    if rec.wire == "responses":
        items = final["output"]
        texts = [
            part["text"]
            for item in items
            if item["type"] == "message"
            for part in item["content"]
            if part["type"] == "output_text"
        ]
        out["content"] = "".join(texts)
        summaries = [
            part["text"]
            for item in items
            if item["type"] == "reasoning"
            for part in item.get("summary") or ()
        ]
        out["summary"] = "\n\n".join(summaries) or None
        encrypted = [i["encrypted_content"] for i in items if i.get("encrypted_content")]
        out["encrypted"] = encrypted[-1] if encrypted else None
        out["tool_calls"] = tuple(
            gb.ToolCall(i["call_id"] or i["id"], i["name"], i["arguments"])
            for i in items
            if i["type"] == "function_call"
        )
        out["server_tools"] = [
            i["id"] for i in items if i["type"].endswith("_call") and i["type"] != "function_call"
        ]
        urls = [
            note["url"]
            for item in items
            if item["type"] == "message"
            for part in item["content"]
            for note in part.get("annotations") or ()
            if note.get("url")
        ]
        out["citations"] = set(urls)
        prompt, output = usage["input_tokens"], usage["output_tokens"]
        reasoning = usage["output_tokens_details"]["reasoning_tokens"]
        cached = usage["input_tokens_details"]["cached_tokens"]
        # Real Responses bodies count the reasoning inside output_tokens.
        assert usage["total_tokens"] == prompt + output, rec.name
        out["usage"] = {
            "prompt_tokens": prompt,
            "cached_prompt_tokens": cached,
            "reasoning_tokens": reasoning,
            "completion_tokens": output - reasoning,
            "output_tokens": output,
            "total_tokens": usage["total_tokens"],
            "convention": "reasoning-included",
        }
        out["finish"] = "tool_calls" if out["tool_calls"] else "stop"
    else:
        choice = final["choices"][0]
        message = choice["message"]
        out["content"] = message.get("content") or ""
        out["summary"] = None
        out["reasoning"] = message.get("reasoning_content") or None
        out["encrypted"] = None
        out["tool_calls"] = tuple(
            gb.ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in message.get("tool_calls") or ()
        )
        out["server_tools"] = []
        out["citations"] = set()
        prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
        reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
        # Chat Completions count the reasoning outside completion_tokens.
        assert usage["total_tokens"] == prompt + completion + reasoning, rec.name
        out["usage"] = {
            "prompt_tokens": prompt,
            "cached_prompt_tokens": usage["prompt_tokens_details"]["cached_tokens"],
            "reasoning_tokens": reasoning,
            "completion_tokens": completion,
            "output_tokens": completion + reasoning,
            "total_tokens": usage["total_tokens"],
            "convention": "reasoning-excluded",
        }
        out["finish"] = choice["finish_reason"]
    out["usage"]["num_sources_used"] = usage.get("num_sources_used")
    out["usage"]["num_server_side_tools_used"] = usage.get("num_server_side_tools_used")
    details = usage.get("server_side_tool_usage_details") or {}
    out["usage"]["server_side_tool_calls"] = {
        key[: -len("_calls")]: count for key, count in details.items() if count
    }
    out["usage"]["context_details"] = usage.get("context_details")
    answering = fingerprint_models().get(out["fingerprint"] or "")
    named = catalog.get(final["model"])
    assert named is not None, rec.name
    out["answered_by"] = answering if answering and answering != named.id else None
    return out


# -- replaying a recording -------------------------------------------------------------------------
FRAMINGS = ("data+done", "event+data")


def sse(rec: Recording, framing: str) -> bytes:
    lines = [json.dumps(event) for event in rec.events]
    if framing == "data+done":
        return ("".join(f"data: {line}\n\n" for line in lines) + "data: [DONE]\n\n").encode()
    pairs = zip(rec.events, lines, strict=True)
    return "".join(f"event: {event['type']}\ndata: {line}\n\n" for event, line in pairs).encode()


def replay(
    rec: Recording, mode: str, framing: str = "data+done"
) -> tuple[list[StreamEvent], Completion, httpx.Request]:
    """``rec`` through the public client (``mode`` "sync" or "async") as its server sent it."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if rec.body is not None:
            return httpx.Response(200, json=rec.body)
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, headers=headers, content=sse(rec, framing))

    transport = httpx.MockTransport(handler)
    options = {"provider": "xai", "api_key": FAKE_KEY, "log": False, "wire": rec.wire}
    prompt, model = "What does the recording say?", rec.asked
    if mode == "sync":
        with gb.Client(transport=transport, **options) as client:
            if not rec.streamed:
                return [], client.chat(prompt, model=model), seen[0]
            with client.stream(prompt, model=model) as stream:
                events = list(stream)
            return events, stream.completion, seen[0]

    async def run() -> tuple[list[StreamEvent], Completion]:
        async with gb.AsyncClient(transport=transport, **options) as client:
            if not rec.streamed:
                return [], await client.chat(prompt, model=model)
            async with client.stream(prompt, model=model) as stream:
                events = [event async for event in stream]
            return events, stream.completion

    events, completion = asyncio.run(run())
    return events, completion, seen[0]


CASES = [
    pytest.param(name, mode, framing, id=f"{name[:2]}-{mode}-{framing}")
    for name in FILES
    for mode in ("sync", "async")
    for framing in (
        FRAMINGS if name.endswith(".chunks.txt") and "_responses_" in name else FRAMINGS[:1]
    )
]


@pytest.mark.parametrize(("name", "mode", "framing"), CASES)
def test_every_recording_reads_as_its_raw_json_says(name: str, mode: str, framing: str) -> None:
    rec = load(name)
    want = expected(rec)
    events, c, request = replay(rec, mode, framing)
    path = "/v1/responses" if rec.wire == "responses" else "/v1/chat/completions"
    assert request.url.path == path
    assert json.loads(request.content).get("stream", False) is rec.streamed
    assert c.wire == rec.wire and c.provider == "xai" and not c.simulated
    assert (c.model, c.id, c.requested_model) == (want["model"], want["id"], rec.asked)
    assert c.content == want["content"]
    assert c.reasoning_summary == want["summary"]
    if rec.wire == "chat":
        assert c.reasoning == want["reasoning"]
    else:
        assert c.reasoning == want["summary"]  # no model here streams raw reasoning text
    assert c.encrypted_reasoning == want["encrypted"]
    assert c.tool_calls == want["tool_calls"]
    assert [item["id"] for item in c.server_tool_calls] == want["server_tools"]
    assert set(c.citations) == want["citations"] and len(c.citations) == len(want["citations"])
    assert c.finish_reason == want["finish"]
    assert c.system_fingerprint == want["fingerprint"]
    assert c.usage.as_dict() == want["usage"]
    assert c.answered_by == want["answered_by"]
    if want["ticks"] is not None:
        assert c.cost_usd == want["ticks"] / TICKS_PER_USD
    if rec.streamed:
        shown = "".join(e.text for e in events if e.kind == "content")
        assert shown == c.content
        thought = "".join(e.text for e in events if e.kind == "reasoning")
        assert thought.replace("\n\n", "") == (c.reasoning or "").replace("\n\n", "")


@pytest.mark.parametrize("name", FILES, ids=[name[:2] for name in FILES])
def test_a_retired_id_is_noted_when_another_model_answered(name: str) -> None:
    rec = load(name)
    want = expected(rec)
    _, c, _ = replay(rec, "sync")
    asked = catalog.get(rec.asked)
    assert asked is not None
    answered = want["answered_by"] or catalog.get(want["model"]).id  # type: ignore[union-attr]
    if answered == asked.id:
        assert c.model_notice is None
    else:
        assert c.model_notice is not None and "\n" not in c.model_notice
        assert f"answered by {answered}" in c.model_notice
        assert "retired" in c.model_notice


# -- the bills ----------------------------------------------------------------------------------
def _without_ticks(rec: Recording) -> Recording:
    """``rec`` with every ``cost_in_usd_ticks`` removed (so grokbook must price it itself)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "cost_in_usd_ticks"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return Recording(rec.name, rec.wire, strip(copy.deepcopy(rec.body)), strip(list(rec.events)))


BILLED = [name for name in FILES if load(name).final["usage"].get("cost_in_usd_ticks")]
UNBILLED = [name for name in FILES if name not in BILLED]


def test_most_recordings_carry_a_bill() -> None:
    assert len(BILLED) == 15 and len(UNBILLED) == 7


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", BILLED, ids=[name[:2] for name in BILLED])
def test_the_catalog_reproduces_every_bill_to_the_tick(name: str, mode: str) -> None:
    rec = load(name)
    ticks = rec.final["usage"]["cost_in_usd_ticks"]
    _, c, _ = replay(_without_ticks(rec), mode)
    assert "cost_in_usd_ticks" not in json.dumps(c.raw)
    assert c.cost_usd is not None
    assert round(c.cost_usd * TICKS_PER_USD) == ticks, (name, c.cost_usd, ticks / TICKS_PER_USD)


@pytest.mark.parametrize("name", UNBILLED, ids=[name[:2] for name in UNBILLED])
def test_a_recording_without_a_bill_is_priced_at_its_own_model_then(name: str) -> None:
    # All of them predate the 2026-05-15 retirement: the old model's prices still applied.
    rec = load(name)
    final = rec.final
    assert 0 < final["created_at"] < 1778803200  # 2026-05-15T00:00:00Z
    _, c, _ = replay(rec, "sync")
    record = catalog.get(final["model"])
    assert record is not None and record.retired and c.answered_by is None
    usage = final["usage"]
    prompt, cached = usage["input_tokens"], usage["input_tokens_details"]["cached_tokens"]
    fees = sum(
        count * catalog.TOOL_FEES[key[: -len("_calls")]].usd_per_call
        for key, count in (usage.get("server_side_tool_usage_details") or {}).items()
        if count
    )
    price_in, price_cached, price_out = record.prices(prompt)
    assert price_in is not None and price_cached is not None and price_out is not None
    tokens = (prompt - cached) * price_in + cached * price_cached
    tokens += usage["output_tokens"] * price_out
    assert c.cost_usd == pytest.approx(tokens / 1e6 + fees, rel=1e-12)


def test_bill_fees_are_per_billed_call_not_per_item() -> None:
    # Sample 23 made 6 server-side calls (custom X tools and web searches) but xAI's details
    # bill one x_search call; grokbook keeps the billed counts.
    rec = load("23_responses_grok-4-fast-reasoning_x-search-custom-tools.chunks.txt")
    _, c, _ = replay(rec, "sync")
    assert c.usage.num_server_side_tools_used == 6
    assert c.usage.server_side_tool_calls == {"x_search": 1}
    assert len(c.server_tool_calls) == 6
