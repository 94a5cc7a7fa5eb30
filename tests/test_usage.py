"""Usage normalization: xAI vs OpenRouter arithmetic, missing counts, cost."""

from __future__ import annotations

from typing import Any

import pytest

from grokbook import catalog
from grokbook._core import compute_cost
from grokbook.errors import ImplausibleUsageWarning
from grokbook.providers import PROVIDERS, normalize_usage
from grokbook.result import Usage

XAI_USAGE = {  # the reasoning guide's example: completion EXCLUDES reasoning
    "prompt_tokens": 32,
    "completion_tokens": 9,
    "total_tokens": 135,
    "prompt_tokens_details": {"cached_tokens": 6},
    "completion_tokens_details": {"reasoning_tokens": 94},
}
OPENROUTER_USAGE = {  # completion INCLUDES reasoning
    "prompt_tokens": 32,
    "completion_tokens": 103,
    "total_tokens": 135,
    "completion_tokens_details": {"reasoning_tokens": 94},
}


@pytest.mark.parametrize("includes_reasoning", [False, True])
@pytest.mark.parametrize("raw", [XAI_USAGE, OPENROUTER_USAGE])
def test_both_conventions_normalize_to_xai_meaning(
    raw: dict[str, Any], includes_reasoning: bool
) -> None:
    # The totals decide, whatever the provider claims.
    usage = normalize_usage(raw, includes_reasoning=includes_reasoning)
    assert usage.prompt_tokens == 32
    assert usage.reasoning_tokens == 94
    assert usage.completion_tokens == 9
    assert usage.output_tokens == 103
    assert usage.total_tokens == 135


def test_conventions_are_named() -> None:
    assert normalize_usage(XAI_USAGE, includes_reasoning=True).convention == "reasoning-excluded"
    included = normalize_usage(OPENROUTER_USAGE, includes_reasoning=False)
    assert included.convention == "reasoning-included"


def test_missing_counts_are_none_not_zero() -> None:
    usage = normalize_usage({"prompt_tokens": 5}, includes_reasoning=False)
    assert usage.prompt_tokens == 5
    assert usage.completion_tokens is None
    assert usage.reasoning_tokens is None
    assert usage.cached_prompt_tokens is None
    assert usage.output_tokens is None
    assert normalize_usage(None, includes_reasoning=False) == Usage()


def test_non_reasoning_model() -> None:
    raw = {"prompt_tokens": 50, "completion_tokens": 315, "total_tokens": 365}
    usage = normalize_usage(raw, includes_reasoning=True)
    assert (usage.completion_tokens, usage.reasoning_tokens, usage.output_tokens) == (
        315,
        None,
        315,
    )
    assert usage.total_tokens == 365


def test_total_missing_falls_back_on_provider_convention() -> None:
    raw = {"prompt_tokens": 10, "completion_tokens": 50, "completion_tokens_details": {}}
    raw["completion_tokens_details"] = {"reasoning_tokens": 30}
    assert normalize_usage(raw, includes_reasoning=True).completion_tokens == 20
    assert normalize_usage(raw, includes_reasoning=False).completion_tokens == 50
    # More reasoning than completion: completion cannot include it.
    raw["completion_tokens_details"] = {"reasoning_tokens": 300}
    assert normalize_usage(raw, includes_reasoning=True).completion_tokens == 50


def test_garbage_values_are_missing() -> None:
    raw = {"prompt_tokens": "12", "completion_tokens": True, "total_tokens": 3.0}
    usage = normalize_usage(raw, includes_reasoning=False)
    assert usage.prompt_tokens is None and usage.completion_tokens is None


def test_cost_from_ticks_wins() -> None:
    usage = normalize_usage(XAI_USAGE, includes_reasoning=False)
    raw = {**XAI_USAGE, "cost_in_usd_ticks": 1_234_000}
    assert compute_cost(raw, usage, "grok-3-mini-beta", "grok-3-mini-beta") == pytest.approx(
        1.234e-4
    )


def test_cost_from_catalog_bills_reasoning_at_output_rate() -> None:
    usage = normalize_usage(XAI_USAGE, includes_reasoning=False)
    # grok-3-mini: $0.30 in, $0.075 cached, $0.50 out per 1M tokens.
    expected = (26 * 0.30 + 6 * 0.075 + 103 * 0.50) / 1e6
    assert compute_cost(XAI_USAGE, usage, "grok-3-mini-beta", "x") == pytest.approx(expected)


BEFORE_RETIREMENT = 1_762_189_566  # 2025-11-03, tests/real/02
AFTER_RETIREMENT = 1_785_220_807  # 2026-07-28, tests/real/04


@pytest.mark.parametrize(
    ("served", "asked", "created_at", "expected"),
    [
        # A retired model answered by grok-4.3 is billed at grok-4.3's prices ($1.25 / 1M in).
        ("grok-4.3", "grok-4", None, 0.125),
        # The response names an unknown model: the one asked for prices it, at that time.
        ("unknown-model", "grok-3-beta", BEFORE_RETIREMENT, 0.3),
        ("unknown-model", "grok-3-beta", AFTER_RETIREMENT, 0.125),
        # The response still names the retired id (tests/real/16): its date decides.
        ("grok-4-fast-non-reasoning", "grok-4-fast-non-reasoning", BEFORE_RETIREMENT, 0.02),
        ("grok-4-fast-non-reasoning", "grok-4-fast-non-reasoning", AFTER_RETIREMENT, 0.125),
        # created_at 0 (tests/real/16 says so) or none: after the retirement.
        ("grok-4-fast-non-reasoning", "grok-4-fast-non-reasoning", 0, 0.125),
        ("grok-4-fast-non-reasoning", "grok-4-fast-non-reasoning", None, 0.125),
        ("unknown", "also-unknown", None, None),
    ],
)
def test_cost_uses_the_model_that_answered(
    served: str, asked: str, created_at: float | None, expected: float | None
) -> None:
    usage = Usage(prompt_tokens=100_000, output_tokens=0, completion_tokens=0)
    cost = compute_cost({}, usage, served, asked, created_at=created_at)
    assert cost == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("calls", "fees"),
    [
        ({}, 0.0),
        ({"web_search": 2}, 0.010),  # what tests/real/16 was billed for its 2 searches
        ({"web_search": 1, "x_search": 3, "code_interpreter": 1}, 0.025),
        ({"file_search": 4}, 0.010),
        ({"mcp": 1}, None),  # no known fee: the cost is unknown, never silently low
        ({"web_search": 1, "document_search": 2}, None),
    ],
)
def test_server_side_tool_calls_are_billed_per_call(
    calls: dict[str, int], fees: float | None
) -> None:
    usage = Usage(prompt_tokens=0, output_tokens=0, server_side_tool_calls=calls)
    cost = compute_cost({}, usage, "grok-4.3", "grok-4.3")
    assert cost == (None if fees is None else pytest.approx(fees))


def test_cost_none_when_counts_missing() -> None:
    record = catalog.get("grok-3-mini-beta")
    assert record is not None
    assert record.cost_usd(prompt_tokens=None, output_tokens=10) is None


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_every_provider_reads_xai_usage(name: str) -> None:
    provider = PROVIDERS[name]
    usage = provider.read_usage(provider, XAI_USAGE)
    assert usage.completion_tokens == 9 and usage.reasoning_tokens == 94


# -- the convention per wire (real traffic: tests/real) -----------------------------------------
def _responses(output: int, reasoning: int, total: int | None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "input_tokens": 197,
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
    }
    if total is not None:
        raw["total_tokens"] = total
    return raw


def _chat(completion: int, reasoning: int, total: int | None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "prompt_tokens": 197,
        "completion_tokens": completion,
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }
    if total is not None:
        raw["total_tokens"] = total
    return raw


@pytest.mark.parametrize("includes_reasoning", [False, True])
@pytest.mark.parametrize(
    ("raw", "visible", "reasoning", "convention"),
    [
        # Responses as xAI sends it (tests/real/04): output 111 holds 110 reasoning.
        (_responses(111, 110, 308), 1, 110, "reasoning-included"),
        # ... and without a total, the wire's convention decides, whatever the provider's.
        (_responses(111, 110, None), 1, 110, "reasoning-included"),
        # No reasoning (tests/real/16, 27): still the wire's convention.
        (_responses(49, 0, 246), 49, 0, "reasoning-included"),
        (_responses(49, 0, None), 49, 0, "reasoning-included"),
        # The 2025 example in xAI's OpenAPI file (32 + 9 + 110 = 151): tolerated, as excluded.
        ({**_responses(9, 110, 151), "input_tokens": 32}, 9, 110, "reasoning-excluded"),
        # Chat Completions as xAI sends it (tests/real/18): completion 1, reasoning 146 apart.
        (_chat(1, 146, 344), 1, 146, "reasoning-excluded"),
    ],
)
def test_each_wire_has_its_convention(
    raw: dict[str, Any], visible: int, reasoning: int, convention: str, includes_reasoning: bool
) -> None:
    usage = normalize_usage(raw, includes_reasoning=includes_reasoning)
    assert (usage.completion_tokens, usage.reasoning_tokens) == (visible, reasoning)
    assert usage.output_tokens == visible + reasoning
    assert usage.total_tokens == usage.prompt_tokens + usage.output_tokens  # type: ignore[operator]
    assert usage.convention == convention


@pytest.mark.parametrize(
    ("includes_reasoning", "convention"),
    [(False, "reasoning-excluded"), (True, "reasoning-included")],
)
def test_chat_without_reasoning_or_total_follows_the_provider(
    includes_reasoning: bool, convention: str
) -> None:
    # On Chat Completions the convention differs by provider (xAI apart, OpenRouter inside).
    for raw in (_chat(49, 0, 246), _chat(49, 0, None)):
        usage = normalize_usage(raw, includes_reasoning=includes_reasoning)
        assert usage.convention == convention and usage.completion_tokens == 49


def test_server_side_tool_calls_and_context_details_are_read() -> None:
    raw = {
        **_responses(49, 0, 4193),
        "server_side_tool_usage_details": {
            "web_search_calls": 2,
            "x_search_calls": 0,
            "code_interpreter_calls": "3",  # not a count: dropped
            "mcp_calls": -1,  # not a count either
            "image_generation_calls": 0,
        },
        "context_details": {"input_tokens": 3153, "output_tokens": 8},
    }
    with pytest.warns(ImplausibleUsageWarning):
        usage = normalize_usage(raw, includes_reasoning=False)
    assert usage.server_side_tool_calls == {"web_search": 2}
    assert usage.context_details == {"input_tokens": 3153, "output_tokens": 8}
    plain = normalize_usage(_responses(49, 0, 246), includes_reasoning=False)
    assert plain.server_side_tool_calls == {} and plain.context_details is None


def test_new_usage_fields_round_trip_and_old_dicts_still_read() -> None:
    usage = Usage(
        prompt_tokens=5,
        output_tokens=2,
        server_side_tool_calls={"web_search": 2, "x_search": 0},
        context_details={"input_tokens": 5, "output_tokens": 2},
    )
    assert usage.server_side_tool_calls == {"web_search": 2}  # zeros are not billed calls
    assert Usage.from_dict(usage.as_dict()) == usage
    old = {"prompt_tokens": 5, "output_tokens": 2, "convention": "reasoning-excluded"}
    assert Usage.from_dict(old).server_side_tool_calls == {}
    assert Usage.from_dict(old).context_details is None
