"""The simulator's responses validate against xAI's published OpenAPI schemas.

The spec ships with the tests (``tests/specs/xai/xai-openapi.json``, source and date in
``tests/specs/README.md``); a missing spec fails these tests loudly rather than skipping them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from grokbook import catalog
from grokbook._sse import SSEDecoder
from grokbook.sim import SimTransport

from ._xai_spec import SPEC_URI, registry, validate, validator


def http() -> httpx.Client:
    return httpx.Client(transport=SimTransport(latency="none"), base_url="http://sim/v1")


def request_body(model: catalog.Model, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model.id,
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is 101*3?"},
        ],
    }
    if model.efforts:
        body["reasoning_effort"] = model.efforts[-1]
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


MODELS = [m.id for m in catalog.all_models()]
MINI = catalog.Model("grok-3-mini-beta", efforts=("low", "high"))


def test_the_spec_has_the_schemas_we_validate_against() -> None:
    spec = registry()
    schemas = spec.contents(SPEC_URI)["components"]["schemas"]
    for name in (
        "ChatResponse",
        "ChatResponseChunk",
        "Usage",
        "ListModelsResponse",
        "ListLanguageModelsResponse",
        "ModelRequest",
        "ModelResponse",
        "ModelUsage",
        "Reasoning",
        "ReasoningText",
        "DeleteStoredCompletionResponse",
    ):
        assert name in schemas


def test_the_validator_catches_a_usage_without_xai_fields() -> None:
    with http() as client:
        data = client.post("/chat/completions", json=request_body(MINI, stream=False)).json()
    broken = copy.deepcopy(data)
    del broken["usage"]["cost_in_usd_ticks"]
    del broken["usage"]["completion_tokens_details"]["accepted_prediction_tokens"]
    assert list(validator("ChatResponse").iter_errors(broken))
    assert list(validator("Usage").iter_errors({"prompt_tokens": 1}))


@pytest.mark.parametrize("model_id", MODELS)
def test_chat_response_validates(model_id: str) -> None:
    model = catalog.get(model_id)
    assert model is not None
    with http() as client:
        response = client.post("/chat/completions", json=request_body(model, stream=False))
    assert response.status_code == 200, response.text
    data = response.json()
    validate("ChatResponse", data)
    validate("Usage", data["usage"])
    assert data["object"] == "chat.completion" and data["system_fingerprint"] == "fp_grokbook_sim"


@pytest.mark.parametrize("model_id", MODELS)
def test_every_stream_chunk_validates(model_id: str) -> None:
    model = catalog.get(model_id)
    assert model is not None
    with http() as client:
        response = client.post("/chat/completions", json=request_body(model, stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = SSEDecoder().feed(response.content)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert len(chunks) >= 3
    for chunk in chunks:
        validate("ChatResponseChunk", chunk)
        assert chunk["object"] == "chat.completion.chunk"
    assert len({c["id"] for c in chunks}) == 1  # one id for the whole stream
    # A finish_reason chunk, then the usage chunk with no choices.
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    validate("Usage", chunks[-1]["usage"])
    # Reasoning deltas come before any content delta.
    kinds = [
        "reasoning" if "reasoning_content" in c["choices"][0]["delta"] else "content"
        for c in chunks[:-2]
    ]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning")


def test_stream_without_include_usage_has_no_usage_chunk() -> None:
    model = catalog.get("grok-3-mini-beta")
    assert model is not None
    body = request_body(model, stream=True)
    del body["stream_options"]
    with http() as client:
        payloads = SSEDecoder().feed(client.post("/chat/completions", json=body).content)
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["choices"] for c in chunks) and not any(c.get("usage") for c in chunks)


def test_model_lists_validate() -> None:
    with http() as client:
        models = client.get("/models").json()
        language = client.get("/language-models").json()
        one = client.get("/models/grok-4.3").json()
        one_language = client.get("/language-models/grok-4.3").json()
    validate("ListModelsResponse", models)
    validate("ListLanguageModelsResponse", language)
    validate("Model", one)
    validate("LanguageModel", one_language)
    assert [m["id"] for m in models["data"]] == MODELS
    assert all(isinstance(m["prompt_text_token_price"], int) for m in language["models"])


def test_error_bodies_are_xai_shaped() -> None:
    with http() as client:
        response = client.post(
            "/chat/completions",
            json={
                "model": "grok-4.20-0309-reasoning",
                "messages": [{"role": "user", "content": "hi"}],
                "reasoning_effort": "low",
            },
        )
    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "Model grok-4.20-0309-reasoning does not support parameter reasoningEffort.",
    }


# -- the Responses wire -------------------------------------------------------------------------
def responses_body(model: catalog.Model, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model.id,
        "input": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": [{"type": "input_text", "text": "What is 101*3?"}]},
        ],
        "include": ["reasoning.encrypted_content"],
        "stream": stream,
    }
    if model.efforts:
        body["reasoning"] = {"effort": model.efforts[-1]}
    return body


def events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each SSE event; the name must equal the data's ``type``."""
    out: list[tuple[str, dict[str, Any]]] = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        assert set(lines) == {"event", "data"}, block
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        out.append((lines["event"], data))
    return out


def test_the_validator_catches_a_response_without_xai_fields() -> None:
    model = catalog.get("grok-4.3")
    assert model is not None
    with http() as client:
        data = client.post("/responses", json=responses_body(model, stream=False)).json()
    validate("ModelResponse", data)
    broken = copy.deepcopy(data)
    del broken["store"]
    del broken["output"][0]["summary"]
    del broken["usage"]["num_server_side_tools_used"]
    paths = {tuple(e.path)[:1] for e in validator("ModelResponse").iter_errors(broken)}
    assert paths == {(), ("output",), ("usage",)}


@pytest.mark.parametrize("model_id", MODELS)
def test_responses_request_and_response_validate(model_id: str) -> None:
    model = catalog.get(model_id)
    assert model is not None
    body = responses_body(model, stream=False)
    validate("ModelRequest", body)
    with http() as client:
        response = client.post("/responses", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    validate("ModelResponse", data)
    validate("ModelUsage", data["usage"])
    for item in data["output"]:
        validate("ModelOutput", item)
    assert data["object"] == "response" and data["status"] == "completed"
    assert data["id"].startswith("sim-") and data["system_fingerprint"] == "fp_grokbook_sim"
    assert data["metadata"]["system_fingerprint"] == "fp_grokbook_sim"  # where xAI puts it
    usage = data["usage"]
    validate("ServerSideToolUsageDetails", usage["server_side_tool_usage_details"])
    assert not any(usage["server_side_tool_usage_details"].values())  # it runs no tool
    reasoning = usage["output_tokens_details"]["reasoning_tokens"]
    # Real xAI Responses arithmetic (tests/real): output_tokens holds the reasoning.
    assert usage["input_tokens"] + usage["output_tokens"] == usage["total_tokens"]
    assert usage["output_tokens"] > reasoning
    kinds = [item["type"] for item in data["output"]]
    assert kinds == (["reasoning", "message"] if reasoning else ["message"])
    if reasoning:
        item = data["output"][0]
        validate("Reasoning", item)
        assert item["summary"] and item["encrypted_content"].startswith("gbsim1.")
        served = catalog.get(data["model"])
        assert served is not None
        raw = served.readable_reasoning("responses") == "reasoning_text"
        assert ("content" in item) == raw


@pytest.mark.parametrize("model_id", MODELS)
def test_every_responses_stream_event_is_typed_and_ordered(model_id: str) -> None:
    model = catalog.get(model_id)
    assert model is not None
    with http() as client:
        response = client.post("/responses", json=responses_body(model, stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert b"[DONE]" not in response.content
    stream = events(response.content)
    assert [data["sequence_number"] for _, data in stream] == list(range(len(stream)))
    names = [name for name, _ in stream]
    assert names[:2] == ["response.created", "response.in_progress"]
    assert names[-1] == "response.completed"
    for name in ("response.created", "response.in_progress", "response.completed"):
        validate("ModelResponse", next(d for n, d in stream if n == name)["response"])
    final = stream[-1][1]["response"]
    validate("ModelUsage", final["usage"])
    assert stream[0][1]["response"]["status"] == "in_progress"
    # Deltas add up to the final items; every item added is also done, with the same id.
    text = "".join(d["delta"] for n, d in stream if n == "response.output_text.delta")
    assert text == final["output"][-1]["content"][0]["text"]
    added = [d["item"]["id"] for n, d in stream if n == "response.output_item.added"]
    done = [d["item"] for n, d in stream if n == "response.output_item.done"]
    assert added == [item["id"] for item in done] == [item["id"] for item in final["output"]]
    assert done == final["output"]
