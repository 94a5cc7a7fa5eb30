"""Usage normalization: xAI vs OpenRouter arithmetic, missing counts, cost."""

from __future__ import annotations

from typing import Any

import pytest

from grokbook import catalog
from grokbook._core import compute_cost
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


def test_cost_uses_the_serving_model_then_the_asked_one() -> None:
    usage = Usage(prompt_tokens=100_000, output_tokens=0, completion_tokens=0)
    # A retired model answered by grok-4.3 is billed at grok-4.3's prices.
    assert compute_cost({}, usage, "grok-4.3", "grok-4") == pytest.approx(0.125)
    assert compute_cost({}, usage, "unknown-model", "grok-3-beta") == pytest.approx(0.3)
    assert compute_cost({}, usage, "unknown", "also-unknown") is None


def test_cost_none_when_counts_missing() -> None:
    record = catalog.get("grok-3-mini-beta")
    assert record is not None
    assert record.cost_usd(prompt_tokens=None, output_tokens=10) is None


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_every_provider_reads_xai_usage(name: str) -> None:
    provider = PROVIDERS[name]
    usage = provider.read_usage(provider, XAI_USAGE)
    assert usage.completion_tokens == 9 and usage.reasoning_tokens == 94
