"""The columns of a usage frame (the public column contract), as plain dict rows.

Shared by tables (DataFrames), sweeps, the run log's history and widgets, so that every
table grokbook shows has the same columns. No pandas here: rows are dicts; ``tables`` turns
them into DataFrames with nullable integer dtypes.

``provider`` and ``simulated`` say who answered: a row with ``simulated=True`` holds the
offline simulator's numbers, never Grok's. ``latency_s`` and ``cost_usd`` are the call's own
figures, the same whether this run made the
call or answered it from grokbook's cache (``cached``); ``billed_usd`` (0 on a cache hit) and
``fetch_s`` (the lookup's time on a hit) say what *this* run spent.
"""

from __future__ import annotations

from typing import Any

from .result import Completion

__all__ = ["DEFAULT_EFFORT_LABEL", "TOKEN_COLUMNS", "USAGE_COLUMNS", "completion_row", "error_row"]

#: The effort label of a call that did not send ``reasoning_effort`` (the model's default).
DEFAULT_EFFORT_LABEL = "default"

TOKEN_COLUMNS = (
    "prompt_tokens",
    "cached_prompt_tokens",
    "reasoning_tokens",
    "completion_tokens",
    "output_tokens",
    "total_tokens",
)

USAGE_COLUMNS = (
    "model",
    "reasoning_effort",
    "prompt",
    "repeat",
    *TOKEN_COLUMNS,
    "latency_s",
    "cost_usd",
    "cached",
    "billed_usd",
    "fetch_s",
    "status",
    "error",
    "provider",
    "simulated",
)


def completion_row(
    completion: Completion, *, prompt: str | None = None, repeat: int = 0
) -> dict[str, Any]:
    """One usage-frame row for a finished call (``model`` is the model asked for)."""
    usage = completion.usage
    return {
        "model": completion.requested_model,
        "reasoning_effort": completion.reasoning_effort or DEFAULT_EFFORT_LABEL,
        "prompt": completion.prompt if prompt is None else prompt,
        "repeat": repeat,
        "prompt_tokens": usage.prompt_tokens,
        "cached_prompt_tokens": usage.cached_prompt_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "completion_tokens": usage.completion_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "latency_s": completion.latency_s,
        "cost_usd": completion.cost_usd,
        "cached": completion.cached,
        "billed_usd": completion.billed_usd,
        "fetch_s": completion.fetch_s,
        "status": "ok",
        "error": None,
        "provider": completion.provider,
        "simulated": completion.simulated,
    }


def error_row(
    *,
    model: str,
    reasoning_effort: str | None,
    prompt: str,
    repeat: int,
    error: str,
    provider: str | None = None,
    simulated: bool | None = None,
) -> dict[str, Any]:
    """One usage-frame row for a failed call: counts are missing (None), never 0."""
    row: dict[str, Any] = dict.fromkeys(USAGE_COLUMNS)
    row.update(
        model=model,
        reasoning_effort=reasoning_effort or DEFAULT_EFFORT_LABEL,
        prompt=prompt,
        repeat=repeat,
        cached=False,
        status="error",
        error=error,
        provider=provider,
        simulated=simulated,
    )
    return row
