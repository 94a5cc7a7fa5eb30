"""xAI's published OpenAPI document, as jsonschema validators for the simulator's tests.

The spec ships with the tests (``tests/specs/xai/xai-openapi.json``, source and date in
``tests/specs/README.md``); a missing spec fails loudly rather than skipping.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).resolve().parent / "specs"
XAI_SPEC = SPECS / "xai" / "xai-openapi.json"
SPEC_URI = "urn:grokbook:xai-openapi"


@cache
def registry() -> Registry:
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
    return jsonschema.Draft202012Validator(schema, registry=registry())


def validate(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
    )
