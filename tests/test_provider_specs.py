"""grokbook's AI/ML API request bodies validate against AI/ML API's published per-model specs.

The specs ship in ``tests/specs/aimlapi/`` (source and date in ``tests/specs/README.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from grokbook._core import build_request
from grokbook.providers import PROVIDERS

SPECS = Path(__file__).resolve().parent / "specs" / "aimlapi"

# spec file -> (the id grokbook users write, an effort the model takes or None)
CASES = {
    "grok-3-beta": ("grok-3-beta", None),
    "grok-3-mini-beta": ("grok-3-mini-beta", "high"),
    "grok-4": ("grok-4", None),
    "grok-4-1-fast-reasoning": ("grok-4-1-fast-reasoning", None),
}


def _request_schema(name: str) -> dict[str, Any]:
    spec = json.loads((SPECS / f"{name}.json").read_text(encoding="utf-8"))
    post = spec["paths"]["/v1/chat/completions"]["post"]
    schema: dict[str, Any] = post["requestBody"]["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("spec_name", sorted(CASES))
def test_aimlapi_request_body_matches_its_spec(spec_name: str, stream: bool) -> None:
    model, effort = CASES[spec_name]
    request = build_request(
        PROVIDERS["aimlapi"],
        "https://api.aimlapi.com/v1",
        "What is 101*3?",
        model=model,
        reasoning_effort=effort,
        system="Answer briefly.",
        temperature=0.5,
        max_tokens=200,
        stream=stream,
    )
    errors = [
        e.message
        for e in jsonschema.Draft202012Validator(_request_schema(spec_name)).iter_errors(
            request.body
        )
    ]
    assert not errors, errors


def test_aimlapi_spells_grok_4_its_own_way() -> None:
    # AI/ML API lists Grok 4 as x-ai/grok-4-07-09, not x-ai/grok-4 (its spec's model enum).
    assert PROVIDERS["aimlapi"].wire_model("grok-4") == "x-ai/grok-4-07-09"
    assert PROVIDERS["aimlapi"].wire_model("grok-3-mini") == "x-ai/grok-3-mini"
    assert PROVIDERS["openrouter"].wire_model("grok-4") == "x-ai/grok-4"
