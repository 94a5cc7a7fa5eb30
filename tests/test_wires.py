"""Both wires, sync and async, streamed and not: one parametrized table on httpx.MockTransport.

Each wire has a scripted xAI-shaped answer carrying everything a response can carry (reasoning
text or summary, encrypted reasoning, a function call, a server-side tool call, citations,
usage with sources and ticks); every case asserts that none of it is lost, and that the request
body is the wire's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import errors
from grokbook.result import Completion, StreamEvent
from tests.conftest import FAKE_KEY, Recorder

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]

# -- Responses: usage as real xAI bodies count it (tests/real): output 119 holds reasoning 110 --
RESPONSES_USAGE = {
    "input_tokens": 32,
    "input_tokens_details": {"cached_tokens": 8},
    "output_tokens": 119,
    "output_tokens_details": {"reasoning_tokens": 110},
    "total_tokens": 151,
    "num_sources_used": 2,
    "num_server_side_tools_used": 1,
    "cost_in_usd_ticks": 3_330_000,
}
REASONING_ITEM = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Multiply 101 by 3."}],
    "encrypted_content": "opaque-blob-123",
    "status": "completed",
}
SEARCH_ITEM = {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {}}
MESSAGE_ITEM = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [
        {
            "type": "output_text",
            "text": "101 * 3 = 303",
            "annotations": [{"type": "url_citation", "url": "https://example.org/math"}],
        }
    ],
}
CALL_ITEM = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"city": "Paris"}',
    "status": "completed",
}


def responses_body() -> dict[str, Any]:
    return {
        "id": "resp_abc",
        "object": "response",
        "created_at": 1_754_475_266,
        "model": "grok-4.3",
        "status": "completed",
        "output": [REASONING_ITEM, SEARCH_ITEM, MESSAGE_ITEM, CALL_ITEM],
        "reasoning": {"effort": "low", "summary": "detailed"},
        "usage": RESPONSES_USAGE,
        "store": True,
    }


def responses_events() -> list[dict[str, Any]]:
    created = {"id": "resp_abc", "object": "response", "model": "grok-4.3", "status": "in_progress"}
    return [
        {"type": "response.created", "sequence_number": 0, "response": created},
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning"}},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 0,
         "delta": "Multiply "},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 0,
         "delta": "101 by 3."},
        {"type": "response.some_future_event", "whatever": [1, 2, 3]},  # ignored, never fatal
        {"type": "response.output_item.done", "output_index": 0, "item": REASONING_ITEM},
        {"type": "response.output_item.done", "output_index": 1, "item": SEARCH_ITEM},
        {"type": "response.output_text.delta", "item_id": "msg_1", "delta": "101 * 3"},
        {"type": "response.output_text.delta", "item_id": "msg_1", "delta": " = 303"},
        {"type": "response.output_text.annotation.added", "item_id": "msg_1",
         "annotation": {"type": "url_citation", "url": "https://example.org/math"}},
        {"type": "response.output_item.done", "output_index": 2, "item": MESSAGE_ITEM},
        {"type": "response.output_item.done", "output_index": 3, "item": CALL_ITEM},
        {"type": "response.completed", "response": responses_body()},
    ]  # fmt: skip


def responses_sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


# -- Chat Completions: grok-3-mini's reasoning_content, a tool call, citations --------------
CHAT_USAGE = {
    "prompt_tokens": 32,
    "prompt_tokens_details": {"cached_tokens": 8},
    "completion_tokens": 9,
    "completion_tokens_details": {"reasoning_tokens": 110},
    "total_tokens": 151,
    "num_sources_used": 2,
    "cost_in_usd_ticks": 3_330_000,
}
CHAT_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def chat_body() -> dict[str, Any]:
    return {
        "id": "chat_abc",
        "object": "chat.completion",
        "model": "grok-3-mini-beta",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "101 * 3 = 303",
                    "reasoning_content": "Multiply 101 by 3.",
                    "tool_calls": [CHAT_CALL],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "citations": ["https://example.org/math"],
        "usage": CHAT_USAGE,
    }


def chat_chunks() -> list[dict[str, Any]]:
    base = {"id": "chat_abc", "object": "chat.completion.chunk", "model": "grok-3-mini-beta"}

    def delta(**d: Any) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": d}]}

    return [
        delta(role="assistant", reasoning_content="Multiply "),
        delta(reasoning_content="101 by 3."),
        delta(content="101 * 3"),
        delta(content=" = 303"),
        delta(tool_calls=[{"index": 0, "id": "call_1", "type": "function",
                           "function": {"name": "get_weather", "arguments": '{"city": '}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '"Paris"}'}}]),
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
         "citations": ["https://example.org/math"]},
        {**base, "choices": [], "usage": CHAT_USAGE},
    ]  # fmt: skip


def chat_sse(chunks: list[dict[str, Any]]) -> bytes:
    return ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()


def answer(wire: str, streamed: bool) -> httpx.Response:
    if streamed:
        body = responses_sse(responses_events()) if wire == "responses" else chat_sse(chat_chunks())
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    return httpx.Response(200, json=responses_body() if wire == "responses" else chat_body())


def call(
    mode: str, streamed: bool, recorder: Recorder, **kwargs: Any
) -> tuple[list[StreamEvent], Completion]:
    kwargs.setdefault("provider", "xai")
    client_kwargs = {"provider": kwargs.pop("provider"), "api_key": FAKE_KEY, "log": False}
    transport = httpx.MockTransport(recorder)
    prompt = kwargs.pop("prompt", "What is 101*3?")
    if mode == "sync":
        with gb.Client(transport=transport, **client_kwargs) as client:
            if not streamed:
                return [], client.chat(prompt, **kwargs)
            with client.stream(prompt, **kwargs) as stream:
                events = list(stream)
            return events, stream.completion

    async def run() -> tuple[list[StreamEvent], Completion]:
        async with gb.AsyncClient(transport=transport, **client_kwargs) as client:
            if not streamed:
                return [], await client.chat(prompt, **kwargs)
            async with client.stream(prompt, **kwargs) as stream:
                events = [event async for event in stream]
            return events, stream.completion

    return asyncio.run(run())


CASES = [
    (wire, mode, streamed)
    for wire in ("responses", "chat")
    for mode in ("sync", "async")
    for streamed in (False, True)
]


@pytest.mark.parametrize(("wire", "mode", "streamed"), CASES)
def test_nothing_the_server_sends_is_lost(wire: str, mode: str, streamed: bool) -> None:
    recorder = Recorder(answer(wire, streamed))
    model = "grok-4.3" if wire == "responses" else "grok-3-mini-beta"
    events, c = call(
        mode, streamed, recorder, wire=wire, model=model, reasoning_effort="low", tools=TOOLS
    )
    assert c.wire == wire
    assert c.content == "101 * 3 = 303"
    assert c.reasoning == "Multiply 101 by 3."
    assert c.tool_calls == (gb.ToolCall("call_1", "get_weather", '{"city": "Paris"}'),)
    assert c.tool_calls[0].parsed() == {"city": "Paris"}
    assert c.citations == ("https://example.org/math",)
    assert c.finish_reason == "tool_calls"
    assert c.reasoning_effort == "low"
    u = c.usage
    assert (u.prompt_tokens, u.cached_prompt_tokens) == (32, 8)
    assert (u.completion_tokens, u.reasoning_tokens, u.output_tokens) == (9, 110, 119)
    assert u.total_tokens == 151
    # Responses count the reasoning inside output_tokens, Chat Completions outside.
    assert u.convention == ("reasoning-included" if wire == "responses" else "reasoning-excluded")
    assert c.num_sources_used == 2
    assert c.cost_usd == pytest.approx(3_330_000 / 1e10)
    if wire == "responses":
        assert c.id == "resp_abc" and c.model == "grok-4.3"
        assert c.reasoning_summary == "Multiply 101 by 3." and c.reasoning_is_summary
        assert c.encrypted_reasoning == "opaque-blob-123"
        assert c.reasoning_items == (REASONING_ITEM,)
        assert c.server_tool_calls == (SEARCH_ITEM,)
        assert u.num_server_side_tools_used == 1
    else:
        assert c.id == "chat_abc" and c.reasoning_summary is None and c.encrypted_reasoning is None
    if streamed:
        kinds = [e.kind for e in events]
        assert kinds == ["reasoning", "reasoning", "content", "content"]
        assert "".join(e.text for e in events if e.kind == "content") == c.content
    # the request, as the wire spells it
    (request,) = recorder.requests
    body = json.loads(request.content)
    assert request.headers["authorization"] == f"Bearer {FAKE_KEY}"
    if wire == "responses":
        assert request.url.path == "/v1/responses"
        assert body["input"] == [{"role": "user", "content": "What is 101*3?"}]
        assert body["reasoning"] == {"effort": "low"}
        assert body["tools"] == TOOLS
        assert "messages" not in body and "reasoning_effort" not in body
    else:
        assert request.url.path == "/v1/chat/completions"
        assert body["messages"] == [{"role": "user", "content": "What is 101*3?"}]
        assert body["reasoning_effort"] == "low"
        assert body["tools"] == [
            {"type": "function", "function": {k: v for k, v in TOOLS[0].items() if k != "type"}}
        ]
    assert body.get("stream", False) is streamed


@pytest.mark.parametrize(("mode", "streamed"), [(m, s) for m in ("sync", "async") for s in (0, 1)])
def test_responses_options_map_to_their_fields(mode: str, streamed: int) -> None:
    recorder = Recorder(answer("responses", bool(streamed)))
    call(
        mode,
        bool(streamed),
        recorder,
        wire="responses",
        model="grok-4.3",
        system="Be brief.",
        max_tokens=500,
        temperature=0.2,
        seed=7,
        store=False,
        include_encrypted_reasoning=True,
        prompt_cache_key="conv-1",
    )
    body = recorder.bodies[0]
    assert body["instructions"] == "Be brief."
    assert body["input"] == [{"role": "user", "content": "What is 101*3?"}]
    assert body["max_output_tokens"] == 500 and "max_tokens" not in body
    assert body["temperature"] == 0.2
    assert body["metadata"] == {"grokbook_seed": "7"} and "seed" not in body
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["prompt_cache_key"] == "conv-1"


def test_reasoning_items_pass_back_unchanged_and_follow_ups_need_no_system() -> None:
    recorder = Recorder(answer("responses", False))
    history = [
        {"role": "user", "content": "What is 101*3?"},
        REASONING_ITEM,
        {"role": "assistant", "content": "303"},
        {"role": "user", "content": "now double it"},
    ]
    call("sync", False, recorder, wire="responses", prompt=history)
    assert recorder.bodies[0]["input"][1] == REASONING_ITEM
    with pytest.raises(errors.UnsupportedParameterError, match="previous_response_id"):
        call("sync", False, recorder, system="x", previous_response_id="resp_1")
    with pytest.raises(errors.UnsupportedParameterError, match="wire='responses'"):
        call("sync", False, recorder, wire="chat", prompt=history)
    with pytest.raises(errors.UnsupportedParameterError, match="Responses API option"):
        call("sync", False, recorder, wire="chat", store=False)
    assert len(recorder.requests) == 1  # refused calls send nothing


def test_a_wire_the_provider_does_not_speak_is_refused_before_sending() -> None:
    recorder = Recorder(answer("responses", False))
    with pytest.raises(errors.UnsupportedParameterError, match="chat only"):
        call("sync", False, recorder, provider="openrouter", wire="responses")
    with pytest.raises(errors.UnsupportedParameterError, match="wire must be"):
        call("sync", False, recorder, wire="grpc")
    assert recorder.requests == []


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "event",
    [
        {"type": "error", "code": "overloaded", "message": "The model is overloaded"},
        {
            "type": "response.failed",
            "response": {
                "status": "failed",
                "error": {"code": "x", "message": "The model is overloaded"},
            },
        },
    ],
)
def test_responses_stream_errors_keep_the_partial_answer(mode: str, event: dict[str, Any]) -> None:
    events = [*responses_events()[:9], event]
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=responses_sse(events)
    )
    with pytest.raises(errors.IncompleteStreamError, match="overloaded") as info:
        call(mode, True, Recorder(response), wire="responses")
    assert info.value.partial_content == "101 * 3 = 303"
    assert info.value.partial_reasoning == "Multiply 101 by 3."


def test_responses_stream_may_end_with_done_as_xais_spec_says() -> None:
    body = responses_sse(responses_events()) + b"data: [DONE]\n\n"
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    events, c = call("sync", True, Recorder(response), wire="responses")
    assert c.content == "101 * 3 = 303" and len(events) == 4
    # [DONE] alone does not end a Responses stream: response.completed does.
    cut = responses_sse(responses_events()[:-1]) + b"data: [DONE]\n\n"
    cut_response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=cut)
    with pytest.raises(errors.IncompleteStreamError, match=r"response\.completed"):
        call("sync", True, Recorder(cut_response), wire="responses")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_responses_stream_without_completed_is_incomplete(mode: str) -> None:
    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=responses_sse(responses_events()[:-1]),
    )
    with pytest.raises(errors.IncompleteStreamError, match=r"response\.completed"):
        call(mode, True, Recorder(response), wire="responses")


def test_responses_raw_reasoning_text_wins_over_the_summary() -> None:
    body = responses_body()
    body["output"][0] = {
        **REASONING_ITEM,
        "content": [{"type": "reasoning_text", "text": "101*3: 100*3 + 1*3 = 303."}],
    }
    _, c = call("sync", False, Recorder(httpx.Response(200, json=body)), wire="responses")
    assert c.reasoning == "101*3: 100*3 + 1*3 = 303." and not c.reasoning_is_summary
    assert c.reasoning_summary == "Multiply 101 by 3."


def test_hidden_reasoning_is_said_in_one_line() -> None:
    body = responses_body()
    body["output"] = [MESSAGE_ITEM]
    body["usage"] = {**RESPONSES_USAGE, "output_tokens_details": {"reasoning_tokens": 312}}
    _, c = call("sync", False, Recorder(httpx.Response(200, json=body)), wire="responses")
    assert c.reasoning is None
    assert c.reasoning_note == "312 reasoning tokens; this model does not show its reasoning"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_2025_spec_example_excluding_reasoning_is_still_read(mode: str) -> None:
    body = responses_body()
    # The 2025 example in xAI's OpenAPI file counts output without the reasoning (32 + 9 +
    # 110 = 151); no real Responses body does, but the total tells, so it reads right.
    body["usage"] = {
        "input_tokens": 32,
        "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 110},
        "total_tokens": 151,
    }
    _, c = call(mode, False, Recorder(httpx.Response(200, json=body)), wire="responses")
    assert c.usage.convention == "reasoning-excluded"
    assert (c.usage.completion_tokens, c.usage.output_tokens) == (9, 119)


def test_completion_round_trips_through_a_dict() -> None:
    _, c = call("sync", False, Recorder(answer("responses", False)), wire="responses")
    again = Completion.from_dict(json.loads(json.dumps(c.to_dict())))
    assert again.tool_calls == c.tool_calls and again.reasoning_items == c.reasoning_items
    assert again.citations == c.citations and again.encrypted_reasoning == "opaque-blob-123"
