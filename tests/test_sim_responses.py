"""The simulator's Responses wire: efforts, conversation memory, sealed reasoning, streaming,
faults, and the official openai SDK's ``client.responses`` against the loopback server."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

import grokbook as gb
from grokbook import catalog
from grokbook.sim import SimTransport, Simulator, serve_in_background
from grokbook.sim._arith import followup_prompt, solve
from grokbook.sim._conversation import ResponseStore, StoredResponse
from grokbook.sim._responses import LIMIT_NOT_ENFORCED

from ._xai_spec import validate, validator
from .test_sim_conformance import events


def http(transport: SimTransport | None = None) -> httpx.Client:
    return httpx.Client(
        transport=transport or SimTransport(latency="none"), base_url="http://sim/v1"
    )


def validate_request(body: dict[str, Any]) -> None:
    """``body`` validates as ModelRequest. A reasoning item passed back with its
    ``encrypted_content`` matches two of the spec's ``oneOf`` input branches (Reasoning and
    CompactionOutputItem, both only require ``type`` + that field), so the spec rejects every
    such body: those items are checked against ``Reasoning`` alone."""
    items = body.get("input")
    if isinstance(items, list):
        passed_back = [i for i in items if isinstance(i, dict) and i.get("type") == "reasoning"]
        for item in passed_back:
            validate("Reasoning", item)
        body = {**body, "input": [i for i in items if i not in passed_back]}
    validate("ModelRequest", body)


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    """POST /v1/responses with a body that must validate as ModelRequest; a 200 answer that
    must validate as ModelResponse."""
    validate_request(body)
    response = client.post("/responses", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    validate("ModelResponse", data)
    return data


def rejected(client: httpx.Client, status: int, **body: Any) -> str:
    response = client.post("/responses", json=body)
    assert response.status_code == status, response.text
    data = response.json()
    assert set(data) == {"code", "error"}  # xAI's error shape
    return str(data["error"])


def answer(data: dict[str, Any]) -> str:
    message = data["output"][-1]
    assert message["type"] == "message"
    return str(message["content"][0]["text"])


def reasoning_item(data: dict[str, Any]) -> dict[str, Any]:
    item = data["output"][0]
    assert item["type"] == "reasoning"
    return dict(item)


# -- efforts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "effort"),
    [
        ("grok-4.7", "high"),
        ("grok-4.6", "high"),
        ("grok-4.5", "high"),
        ("grok-4.3", "low"),
        ("grok-4.20-multi-agent", "low"),  # xAI documents no default: the simulator's choice
        ("grok-4.20-0309-reasoning", None),  # no effort parameter at all
        ("grok-4", "low"),  # retired: grok-4.3 answers at low
        ("grok-3", "none"),  # retired non-reasoning: grok-4.3 answers at none
    ],
)
def test_the_effort_used_is_reported_when_none_is_sent(model: str, effort: str | None) -> None:
    with http() as client:
        data = create(client, model=model, input="What is 101*3?", store=False)
    assert data["reasoning"]["effort"] == effort
    assert answer(data) == "101 * 3 = 303"


def test_the_requested_effort_is_reported_and_xhigh_reasons_most() -> None:
    tokens = {}
    with http() as client:
        for effort in ("low", "medium", "high", "xhigh"):
            data = create(
                client, model="grok-4.7", input="What is 101*3?", reasoning={"effort": effort}
            )
            assert data["reasoning"]["effort"] == effort
            tokens[effort] = data["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert tokens["low"] < tokens["medium"] < tokens["high"] < tokens["xhigh"]


def test_effort_none_on_grok_4_3_has_no_reasoning_item() -> None:
    with http() as client:
        data = create(client, model="grok-4.3", input="What is 2+2?", reasoning={"effort": "none"})
    assert [item["type"] for item in data["output"]] == ["message"]
    assert data["usage"]["output_tokens_details"]["reasoning_tokens"] == 0


@pytest.mark.parametrize(
    ("model", "effort", "needle"),
    [
        ("grok-4.20-0309-reasoning", "low", "does not support parameter reasoningEffort"),
        ("grok-4.20-0309-non-reasoning", "high", "does not support parameter reasoningEffort"),
        ("grok-4", "xhigh", "takes one of: none, low, medium, high"),  # retired: grok-4.3's
        ("grok-4.5", "xhigh", "takes one of: low, medium, high"),
        ("grok-4.3", "xhigh", "takes one of: none, low, medium, high"),
        ("grok-4.7", "none", "takes one of: low, medium, high, xhigh"),
        ("grok-3-mini", "medium", "takes one of: low, high"),
    ],
)
def test_an_effort_the_model_rejects_is_a_400(model: str, effort: str, needle: str) -> None:
    with http() as client:
        message = rejected(client, 400, model=model, input="hi", reasoning={"effort": effort})
    assert needle in message


@pytest.mark.parametrize("parameter", ["presence_penalty", "frequency_penalty", "stop"])
def test_reasoning_models_refuse_penalties_and_stop(parameter: str) -> None:
    value: Any = ["\n"] if parameter == "stop" else 0.5
    with http() as client:
        message = rejected(client, 400, model="grok-4.6", input="hi", **{parameter: value})
        assert parameter in message
        # A model that does not reason takes them.
        ok = client.post(
            "/responses",
            json={"model": "grok-4.20-0309-non-reasoning", "input": "hi", parameter: value},
        )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"model": "grok-4.3"}, 422, "input"),
        ({"input": "hi"}, 422, "model"),
        ({"model": "grok-9", "input": "hi"}, 404, "grok-9"),
        ({"model": "grok-4.3", "input": 3}, 422, "input"),
        ({"model": "grok-4.3", "input": []}, 422, "input"),
        ({"model": "grok-4.3", "input": [{"role": "robot", "content": "hi"}]}, 422, "robot"),
        ({"model": "grok-4.3", "input": [{"type": "image_gen"}]}, 422, "image_gen"),
        ({"model": "grok-4.3", "input": "hi", "reasoning": "high"}, 422, "reasoning"),
        ({"model": "grok-4.3", "input": "hi", "temperature": 3}, 400, "temperature"),
        ({"model": "grok-4.3", "input": "hi", "top_p": 0}, 400, "top_p"),
        ({"model": "grok-4.3", "input": "hi", "max_output_tokens": 0}, 400, "max_output"),
        ({"model": "grok-4.3", "input": "hi", "store": "yes"}, 422, "store"),
        ({"model": "grok-4.3", "input": "hi", "include": "all"}, 422, "include"),
    ],
)
def test_request_validation(body: dict[str, Any], status: int, needle: str) -> None:
    with http() as client:
        assert needle in rejected(client, status, **body)


# -- conversation memory ------------------------------------------------------------------------
def test_previous_response_id_continues_the_conversation() -> None:
    with http() as client:
        first = create(client, model="grok-4.3", input="What is 101*3?")
        assert answer(first) == "101 * 3 = 303" and first["store"] is True
        second = create(
            client, model="grok-4.3", input="Now double it", previous_response_id=first["id"]
        )
        third = create(client, model="grok-4.6", input="add 1", previous_response_id=second["id"])
    assert answer(second) == "303 * 2 = 606"
    assert second["previous_response_id"] == first["id"]
    assert answer(third) == "606 + 1 = 607"
    # The stored prefix is context the server has seen: cached, and it grows turn by turn.
    assert second["usage"]["input_tokens_details"]["cached_tokens"] > 0
    assert second["usage"]["input_tokens"] < third["usage"]["input_tokens"]


def test_instructions_are_kept_and_cannot_be_replaced_mid_conversation() -> None:
    with http() as client:
        first = create(client, model="grok-4.3", input="What is 2+2?", instructions="Be brief.")
        second = create(
            client, model="grok-4.3", input="square it", previous_response_id=first["id"]
        )
        message = rejected(
            client,
            400,
            model="grok-4.3",
            input="hi",
            instructions="Be long.",
            previous_response_id=first["id"],
        )
    assert first["instructions"] == second["instructions"] == "Be brief."
    assert answer(second) == "4 ** 2 = 16"
    assert "previous_response_id" in message


def test_unknown_previous_response_id_is_a_404() -> None:
    with http() as client:
        message = rejected(
            client, 404, model="grok-4.3", input="double it", previous_response_id="sim-nope"
        )
    assert "sim-nope" in message and "store" in message


def test_stored_responses_are_retrievable_and_deletable_but_store_false_is_not_kept() -> None:
    transport = SimTransport(latency="none")
    with http(transport) as client:
        kept = create(client, model="grok-4.3", input="What is 6*7?")
        gone = create(client, model="grok-4.3", input="What is 6*7?", store=False)
        got = client.get(f"/responses/{kept['id']}")
        assert got.status_code == 200 and got.json() == kept
        validate("ModelResponse", got.json())
        assert gone["store"] is False
        assert client.get(f"/responses/{gone['id']}").status_code == 404
        rejected(client, 404, model="grok-4.3", input="double it", previous_response_id=gone["id"])
        deleted = client.delete(f"/responses/{kept['id']}")
        assert deleted.status_code == 200
        validate("DeleteStoredCompletionResponse", deleted.json())
        assert deleted.json() == {"id": kept["id"], "object": "response", "deleted": True}
        assert client.get(f"/responses/{kept['id']}").status_code == 404
        assert client.delete(f"/responses/{kept['id']}").status_code == 404
        assert client.put(f"/responses/{kept['id']}").status_code == 405
        assert client.get("/responses").status_code == 405
    assert len(transport.simulator.responses) == 0


def test_the_store_is_per_simulator_shared_by_its_transports_and_server() -> None:
    simulator = Simulator(latency="none")
    with http(SimTransport(simulator=simulator)) as one:
        first = create(one, model="grok-4.3", input="What is 101*3?")
    with http(SimTransport(simulator=simulator)) as two:
        assert (
            answer(
                create(two, model="grok-4.3", input="double it", previous_response_id=first["id"])
            )
            == "303 * 2 = 606"
        )
    with http() as other:  # another simulator knows nothing of it
        rejected(other, 404, model="grok-4.3", input="double it", previous_response_id=first["id"])


def test_the_response_store_is_a_bounded_lru() -> None:
    store = ResponseStore(limit=2)
    for name in ("a", "b"):
        store.put(name, StoredResponse(body={"id": name}))
    assert store.get("a") is not None  # "a" is now the most recently used
    store.put("c", StoredResponse(body={"id": "c"}))
    assert "b" not in store and "a" in store and "c" in store and len(store) == 2
    with pytest.raises(ValueError):
        ResponseStore(limit=0)


def test_history_resent_as_input_items_with_encrypted_reasoning() -> None:
    with http() as client:
        first = create(
            client,
            model="grok-4.6",
            input="What is 101*3?",
            store=False,
            include=["reasoning.encrypted_content"],
        )
        item = reasoning_item(first)
        assert item["encrypted_content"].startswith("gbsim1.")
        history: list[Any] = [{"role": "user", "content": "What is 101*3?"}]
        tail = [
            {"role": "assistant", "content": answer(first)},
            {"role": "user", "content": "now double it"},
        ]
        with_blob = create(client, model="grok-4.6", input=[*history, item, *tail], store=False)
        without = create(client, model="grok-4.6", input=[*history, *tail], store=False)
    assert answer(with_blob) == answer(without) == "303 * 2 = 606"
    # The decrypted reasoning is context again: it counts as (cached) input.
    carried = first["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert with_blob["usage"]["input_tokens"] - without["usage"]["input_tokens"] == carried
    assert (
        with_blob["usage"]["input_tokens_details"]["cached_tokens"]
        - without["usage"]["input_tokens_details"]["cached_tokens"]
        == carried
    )


def test_the_spec_cannot_tell_a_passed_back_reasoning_item_from_a_compaction_item() -> None:
    item = {"type": "reasoning", "summary": [], "encrypted_content": "gbsim1.x.y"}
    validate("Reasoning", item)
    validate("CompactionOutputItem", item)
    errors = list(validator("ModelInputPart").iter_errors(item))
    assert errors and "is valid under each of" in errors[0].message


def test_grok_4_7_always_returns_encrypted_reasoning_others_when_asked() -> None:
    with http() as client:
        always = create(client, model="grok-4.7", input="What is 2+2?")
        plain = create(client, model="grok-4.6", input="What is 2+2?")
    assert reasoning_item(always)["encrypted_content"].startswith("gbsim1.")
    assert "encrypted_content" not in reasoning_item(plain)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda blob: blob[:-3] + ("AAA" if not blob.endswith("AAA") else "BBB"),  # the tag
        lambda blob: blob.replace("gbsim1.", "gbsim1.e", 1),  # the payload
        lambda blob: "opaque-blob-from-elsewhere",
    ],
)
def test_a_tampered_reasoning_blob_is_a_400(tamper: Any) -> None:
    with http() as client:
        first = create(client, model="grok-4.7", input="What is 101*3?", store=False)
        item = {
            **reasoning_item(first),
            "encrypted_content": tamper(reasoning_item(first)["encrypted_content"]),
        }
        message = rejected(
            client, 400, model="grok-4.7", input=[item, {"role": "user", "content": "double it"}]
        )
    assert "Could not decrypt the provided encrypted_content" in message


def test_a_reasoning_item_needs_its_summary() -> None:
    with http() as client:
        first = create(client, model="grok-4.7", input="What is 101*3?", store=False)
        item = reasoning_item(first)
        del item["summary"]
        message = rejected(
            client, 422, model="grok-4.7", input=[item, {"role": "user", "content": "hi"}]
        )
    assert "summary" in message


def test_function_call_items_are_accepted_as_history() -> None:
    items: list[Any] = [
        {"role": "user", "content": "What is the weather?"},
        {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": '{"temp": 21}'},
        {"role": "user", "content": [{"type": "input_text", "text": "What is 20+1?"}]},
    ]
    tools = [{"type": "function", "name": "weather", "parameters": {"type": "object"}}]
    with http() as client:
        data = create(client, model="grok-4.3", input=items, tools=tools)
    assert answer(data) == "20 + 1 = 21" and data["tools"] == tools


def test_a_non_arithmetic_prompt_says_it_is_simulated() -> None:
    with http() as client:
        data = create(client, model="grok-4.6", input="Write a haiku about the sea.")
    assert "simulated" in answer(data) and "grokbook" in answer(data)


@pytest.mark.parametrize("model", sorted(LIMIT_NOT_ENFORCED))
def test_max_output_tokens_does_not_cut_models_real_traffic_shows_ignoring_it(model: str) -> None:
    # Real grok-4.3 (16, 8) and grok-4.5 (64) replies came back completed well past the limit
    # (tests/real 04, 05, 13, 26); the simulator answers those models the same way.
    with http() as client:
        free = create(client, model=model, input="What is 101*3?", store=False)
        capped = create(client, model=model, input="What is 101*3?", store=False,
                        max_output_tokens=2)  # fmt: skip
    assert capped["status"] == "completed" and capped["incomplete_details"] is None
    assert answer(capped) == answer(free) == "101 * 3 = 303"
    assert capped["usage"] == free["usage"] and capped["usage"]["output_tokens"] > 2
    assert capped["max_output_tokens"] == 2


def test_the_models_that_ignore_the_limit_are_the_ones_real_traffic_shows() -> None:
    real = Path(__file__).resolve().parent / "real"
    past_the_limit = set()
    for path in real.glob("*_responses_*"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if path.suffix == ".json":
            final = json.loads("".join(lines))
        else:
            final = json.loads(lines[-1])["response"]
        limit = final.get("max_output_tokens")
        if limit is not None and limit < final["usage"]["output_tokens"]:
            assert final["status"] == "completed"
            past_the_limit.add(catalog.get(final["model"]).id)  # type: ignore[union-attr]
    assert past_the_limit == LIMIT_NOT_ENFORCED


def test_max_output_tokens_cuts_other_models_answers_never_to_nothing() -> None:
    # The simulator's model where no recording shows what xAI does: the visible answer is cut
    # at the limit, the reasoning runs whole, the reply is incomplete.
    with http() as client:
        free = create(client, model="grok-4.6", input="What is 101*3?", store=False)
        cut = create(client, model="grok-4.6", input="What is 101*3?", store=False,
                     max_output_tokens=1)  # fmt: skip
    assert cut["status"] == "incomplete" and cut["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    assert answer(cut) == "101 "  # one token of the simulator's 4 characters per token
    assert reasoning_item(cut)["status"] == "completed"
    assert cut["output"][-1]["status"] == "incomplete"
    reasoning = cut["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert reasoning == free["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert cut["usage"]["output_tokens"] == reasoning + 1


def test_usage_cost_uses_the_long_context_tier() -> None:
    long_text = "word " * 161_000  # ~201k prompt tokens in the simulator's token model
    with http() as client:
        data = create(
            client, model="grok-4.6", input=long_text, store=False, reasoning={"effort": "low"}
        )
    usage = data["usage"]
    record = catalog.get("grok-4.6")
    assert record is not None and usage["input_tokens"] >= 200_000
    expected = (usage["input_tokens"] * 4.0 + usage["output_tokens"] * 12.0) / 1e6
    assert usage["cost_in_usd_ticks"] == round(expected * 1e10)


# -- follow-up arithmetic (both wires) ----------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "result"),
    [
        ("Now double it", "606"),
        ("triple it", "909"),
        ("halve it", "151.5"),
        ("square it", "91809"),
        ("add 7", "310"),
        ("subtract 3 from it", "300"),
        ("multiply it by 4", "1212"),
        ("divide it by 3", "101"),
        ("divide it by 0", "undefined"),
    ],
)
def test_followups_act_on_the_previous_answer(prompt: str, result: str) -> None:
    history = [
        {"role": "user", "content": "What is 101*3?"},
        {"role": "assistant", "content": "101 * 3 = 303"},
    ]
    solution = solve(followup_prompt(prompt, history))
    assert solution is not None and solution.answer == result


@pytest.mark.parametrize(
    ("prompt", "previous"),
    [
        ("How do I double a recipe?", "101 * 3 = 303"),  # no "it": not a follow-up
        ("Now double it", "[simulated grok-4.3] You asked: ..."),  # no number to act on
        ("Now double it", "303 / 0 = undefined"),
        ("What is 2+2? Then double it", "101 * 3 = 303"),  # arithmetic of its own comes first
    ],
)
def test_what_is_not_a_followup_is_left_alone(prompt: str, previous: str) -> None:
    history = [{"role": "user", "content": "x"}, {"role": "assistant", "content": previous}]
    assert followup_prompt(prompt, history) == prompt


def test_followup_on_the_chat_wire() -> None:
    messages = [
        {"role": "user", "content": "What is 101*3?"},
        {"role": "assistant", "content": "101 * 3 = 303"},
        {"role": "user", "content": "now double it"},
    ]
    with http() as client:
        data = client.post(
            "/chat/completions", json={"model": "grok-3-mini-beta", "messages": messages}
        ).json()
    assert data["choices"][0]["message"]["content"] == "303 * 2 = 606"
    assert "303 * 2 = 606" in data["choices"][0]["message"]["reasoning_content"]


# -- streaming and faults -----------------------------------------------------------------------
def kinds(model: str, **extra: Any) -> list[str]:
    with http() as client:
        response = client.post(
            "/responses", json={"model": model, "input": "What is 2+2?", "stream": True, **extra}
        )
    names: list[str] = []
    for name, _ in events(response.content):
        if not names or names[-1] != name:  # collapse runs of deltas
            names.append(name)
    return names


MESSAGE_EVENTS = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
SUMMARY_EVENTS = [
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
]


def test_stream_event_sequence_with_raw_reasoning_text() -> None:
    assert kinds("grok-4.6") == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        *SUMMARY_EVENTS,
        "response.output_item.done",
        *MESSAGE_EVENTS,
    ]


def test_stream_event_sequence_with_a_summary_only() -> None:
    assert kinds("grok-4.5") == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *SUMMARY_EVENTS,
        "response.output_item.done",
        *MESSAGE_EVENTS,
    ]


def test_stream_event_sequence_without_reasoning() -> None:
    assert kinds("grok-4.20-0309-non-reasoning") == [
        "response.created",
        "response.in_progress",
        *MESSAGE_EVENTS,
    ]


def test_a_stream_cut_short_by_max_output_tokens_ends_incomplete() -> None:
    assert kinds("grok-4.6", max_output_tokens=1)[-1] == "response.incomplete"
    assert kinds("grok-4.3", max_output_tokens=1)[-1] == "response.completed"


def test_the_completed_event_is_the_stored_response() -> None:
    with http() as client:
        response = client.post(
            "/responses", json={"model": "grok-4.7", "input": "What is 2+2?", "stream": True}
        )
        final = events(response.content)[-1][1]["response"]
        stored = client.get(f"/responses/{final['id']}").json()
    assert stored == final and answer(final) == "2 + 2 = 4"


def test_cut_fault_drops_the_stream_mid_answer() -> None:
    transport = SimTransport(latency="none", faults="cut")
    received = b""
    with (
        http(transport) as client,
        client.stream(
            "POST",
            "/responses",
            json={"model": "grok-4.6", "input": "What is 101*3?", "stream": True},
        ) as response,
        pytest.raises(httpx.RemoteProtocolError, match="cut"),
    ):
        for chunk in response.iter_bytes():
            received += chunk
    names = [name for name, _ in events(received)]
    assert "response.output_text.delta" in names
    assert "response.output_text.done" not in names and "response.completed" not in names


def test_cut_after_n_events() -> None:
    transport = SimTransport(latency="none", faults="cut:after=3")
    with (
        http(transport) as client,
        client.stream(
            "POST", "/responses", json={"model": "grok-4.6", "input": "hi", "stream": True}
        ) as response,
    ):
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_bytes():
                received += chunk
    assert [name for name, _ in events(received)] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ]


@pytest.mark.parametrize(
    ("fault", "status"),
    [("503", 503), ("429:retry-after=0", 429), ("html502", 502), ("notjson", 200)],
)
def test_faults_that_replace_the_answer_store_nothing(fault: str, status: int) -> None:
    transport = SimTransport(latency="none", faults=fault)
    with http(transport) as client:
        response = client.post("/responses", json={"model": "grok-4.3", "input": "What is 2+2?"})
    assert response.status_code == status
    if fault == "notjson":
        with pytest.raises(json.JSONDecodeError):
            response.json()
    assert len(transport.simulator.responses) == 0


def test_truncated_and_reset_faults_on_responses() -> None:
    transport = SimTransport(latency="none", faults="truncated, reset, slow:0")
    with http(transport) as client:
        half = client.post("/responses", json={"model": "grok-4.3", "input": "What is 2+2?"})
        assert half.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(half.content)
        with pytest.raises(httpx.ReadError, match="reset"):
            client.post("/responses", json={"model": "grok-4.3", "input": "What is 2+2?"})
        slow = client.post("/responses", json={"model": "grok-4.3", "input": "What is 2+2?"})
    assert answer(slow.json()) == "2 + 2 = 4"


# -- the official openai SDK, an independent client ---------------------------------------------
def sdk(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sim", max_retries=0, timeout=10)


def test_openai_sdk_responses_create() -> None:
    with serve_in_background(latency="none") as server:
        client = sdk(server.base_url)
        first = client.responses.create(
            model="grok-4.6",
            input="What is 101*3?",
            reasoning={"effort": "low"},
            include=["reasoning.encrypted_content"],
        )
        second = client.responses.create(
            model="grok-4.6", input="Now double it", previous_response_id=first.id
        )
        retrieved = client.responses.retrieve(first.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="grok-4.6", input="x", previous_response_id="sim-x")
        with pytest.raises(openai.BadRequestError):
            client.responses.create(
                model="grok-4.20-0309-reasoning", input="x", reasoning={"effort": "low"}
            )
    assert first.output_text == "101 * 3 = 303" and second.output_text == "303 * 2 = 606"
    assert first.reasoning is not None and first.reasoning.effort == "low"
    reasoning = first.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    assert reasoning.content and "101 * 3 = 303" in reasoning.content[0].text
    assert reasoning.summary and reasoning.summary[0].type == "summary_text"
    usage = first.usage
    assert usage is not None
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.output_tokens > usage.output_tokens_details.reasoning_tokens > 0
    assert retrieved.id == first.id and retrieved.output_text == first.output_text


def test_openai_sdk_responses_stream() -> None:
    with serve_in_background(latency="none") as server:
        client = sdk(server.base_url)
        stream = client.responses.create(model="grok-4.7", input="What is 101*3?", stream=True)
        seen = list(stream)
        with client.responses.stream(model="grok-4.5", input="What is 2+2?") as helper:
            text = "".join(e.delta for e in helper if e.type == "response.output_text.delta")
            final = helper.get_final_response()
    reasoning = "".join(e.delta for e in seen if e.type == "response.reasoning_text.delta")
    content = "".join(e.delta for e in seen if e.type == "response.output_text.delta")
    assert "101 * 3 = 303" in reasoning and content == "101 * 3 = 303"
    assert seen[-1].type == "response.completed"
    completed = seen[-1].response
    assert completed.output_text == content and completed.usage is not None
    assert [e.sequence_number for e in seen] == list(range(len(seen)))
    assert text == final.output_text == "2 + 2 = 4"


# -- usage as real xAI bodies count it, through grokbook's own clients ------------------------
@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_the_simulator_counts_usage_as_each_real_wire_does(
    wire: str, mode: str, streamed: bool
) -> None:
    options: dict[str, Any] = {"model": "grok-4.3", "reasoning_effort": "high", "wire": wire}

    async def run_async() -> gb.Completion:
        async with gb.AsyncClient(provider="sim", log=False) as client:
            if not streamed:
                return await client.chat("What is 101*3?", **options)
            async with client.stream("What is 101*3?", **options) as stream:
                _ = [event async for event in stream]
            return stream.completion

    if mode == "async":
        c = asyncio.run(run_async())
    else:
        with gb.Client(provider="sim", log=False) as client:
            if not streamed:
                c = client.chat("What is 101*3?", **options)
            else:
                with client.stream("What is 101*3?", **options) as stream:
                    list(stream)
                c = stream.completion
    raw = c.raw["usage"]
    if wire == "responses":
        # tests/real: output_tokens holds the reasoning, total = input + output.
        reasoning = raw["output_tokens_details"]["reasoning_tokens"]
        assert raw["total_tokens"] == raw["input_tokens"] + raw["output_tokens"]
        assert raw["output_tokens"] > reasoning > 0
        assert c.usage.convention == "reasoning-included"
        assert c.system_fingerprint == "fp_grokbook_sim" and c.raw["metadata"] == {
            "system_fingerprint": "fp_grokbook_sim"
        }
    else:
        # tests/real/18: completion_tokens without the reasoning, total = all three.
        reasoning = raw["completion_tokens_details"]["reasoning_tokens"]
        assert raw["total_tokens"] == raw["prompt_tokens"] + raw["completion_tokens"] + reasoning
        assert c.usage.convention == "reasoning-excluded"
    assert c.usage.completion_tokens == math.ceil(len(c.content) / 4)  # the simulator's model
    assert c.usage.output_tokens == c.usage.completion_tokens + reasoning
    assert c.content == "101 * 3 = 303" and c.simulated
