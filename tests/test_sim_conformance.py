"""The simulator's responses validate against xAI's published OpenAPI schemas.

The spec ships with the tests (``tests/specs/xai/xai-openapi.json``, source and date in
``tests/specs/README.md``); a missing spec fails these tests loudly rather than skipping them.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from grokbook import catalog
from grokbook._sse import SSEDecoder
from grokbook.sim import SimTransport

SPECS = Path(__file__).resolve().parent / "specs"
XAI_SPEC = SPECS / "xai" / "xai-openapi.json"
SPEC_URI = "urn:grokbook:xai-openapi"


@cache
def _registry() -> Registry:
    if not XAI_SPEC.is_file():
        pytest.fail(
            f"xAI's OpenAPI spec is missing: expected {XAI_SPEC} (see tests/specs/README.md); "
            "these conformance tests never skip."
        )
    spec = json.loads(XAI_SPEC.read_text(encoding="utf-8"))
    # The whole OpenAPI document is one resource, so "#/components/schemas/..." refs resolve.
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(SPEC_URI, resource)
    return registry


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def validate(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
    )


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
    registry = _registry()
    schemas = registry.contents(SPEC_URI)["components"]["schemas"]
    for name in (
        "ChatResponse",
        "ChatResponseChunk",
        "Usage",
        "ListModelsResponse",
        "ListLanguageModelsResponse",
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
                "model": "grok-4-0709",
                "messages": [{"role": "user", "content": "hi"}],
                "reasoning_effort": "low",
            },
        )
    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "Model grok-4-0709 does not support parameter reasoningEffort.",
    }
