"""The model catalog: which Grok models exist, what they take and what they cost.

Allowed reasoning efforts are *data* here, never hard-coded in the client: a model that
rejects ``reasoning_effort`` has ``efforts == ()``. Unknown ids are still callable (new models
appear monthly): :func:`get` returns ``None`` and the client passes parameters through.

>>> from grokbook import catalog
>>> catalog.get("grok-3-mini-latest").id
'grok-3-mini-beta'
>>> catalog.get("grok-3-mini-beta").efforts
('low', 'high')
>>> catalog.get("grok-4").efforts
()

Prices are USD per 1M tokens (2025 list prices; grok-4.3 from docs.x.ai). Reasoning tokens
bill at the output rate. ``Client.refresh_catalog()`` updates prices and aliases from the
provider's ``GET /v1/language-models``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "RETIREMENT_DATE",
    "TABLE_HEADERS",
    "Model",
    "all_models",
    "get",
    "register",
    "resolve",
    "table_rows",
    "update_from_language_models",
]

#: xAI's migration note: these models are served by grok-4.3 from this date on.
RETIREMENT_DATE = "2026-05-15"


@dataclass(frozen=True)
class Model:
    """One catalog record."""

    id: str
    aliases: tuple[str, ...] = ()
    reasoning: bool = False
    #: Allowed ``reasoning_effort`` values; empty when the parameter is rejected.
    efforts: tuple[str, ...] = ()
    #: Whether responses carry ``reasoning_content`` text (grok-4 hides its reasoning).
    returns_reasoning_text: bool = False
    context_window: int | None = None
    #: USD per 1M tokens.
    input_price: float | None = None
    cached_input_price: float | None = None
    output_price: float | None = None
    #: ISO date the model was retired, and the model that serves its calls since.
    retired: str | None = None
    served_by: str | None = None
    #: Effort the serving model applies to calls to this retired model.
    served_effort: str | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """The id followed by every alias."""
        return (self.id, *self.aliases)

    @property
    def takes_effort(self) -> bool:
        return bool(self.efforts)

    def cost_usd(
        self,
        *,
        prompt_tokens: int | None,
        cached_prompt_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> float | None:
        """The list-price cost of one call, or None when a price or count is unknown.

        ``prompt_tokens`` includes the cached ones (xAI's meaning); ``output_tokens`` is
        completion + reasoning, both billed at the output rate.
        """
        if self.input_price is None or self.output_price is None:
            return None
        if prompt_tokens is None or output_tokens is None:
            return None
        cached = cached_prompt_tokens or 0
        cached_price = self.cached_input_price
        if cached_price is None:
            cached_price = self.input_price
        uncached = max(prompt_tokens - cached, 0)
        return (
            uncached * self.input_price + cached * cached_price + output_tokens * self.output_price
        ) / 1_000_000


_GROK_3_NOTE = "Grok 3: strong world knowledge; rejects reasoning_effort."
_MINI_NOTE = "Grok 3 mini: reasoning model that shows its thinking; effort low | high."
_GROK_4_NOTE = "Grok 4 family: always reasons, hides its reasoning text, rejects reasoning_effort."

_BUILTIN: tuple[Model, ...] = (
    Model(
        "grok-3-beta",
        aliases=("grok-3", "grok-3-latest"),
        context_window=131_072,
        input_price=3.0,
        cached_input_price=0.75,
        output_price=15.0,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="none",
        description=_GROK_3_NOTE,
    ),
    Model(
        "grok-3-fast-beta",
        aliases=("grok-3-fast", "grok-3-fast-latest"),
        context_window=131_072,
        input_price=5.0,
        cached_input_price=1.25,
        output_price=25.0,
        description=_GROK_3_NOTE + " Faster serving, higher price.",
    ),
    Model(
        "grok-3-mini-beta",
        aliases=("grok-3-mini", "grok-3-mini-latest"),
        reasoning=True,
        efforts=("low", "high"),
        returns_reasoning_text=True,
        context_window=131_072,
        input_price=0.30,
        cached_input_price=0.075,
        output_price=0.50,
        description=_MINI_NOTE,
    ),
    Model(
        "grok-3-mini-fast-beta",
        aliases=("grok-3-mini-fast", "grok-3-mini-fast-latest"),
        reasoning=True,
        efforts=("low", "high"),
        returns_reasoning_text=True,
        context_window=131_072,
        input_price=0.60,
        cached_input_price=0.15,
        output_price=4.00,
        description=_MINI_NOTE + " Faster serving, higher price.",
    ),
    Model(
        "grok-4-0709",
        aliases=("grok-4", "grok-4-latest"),
        reasoning=True,
        context_window=256_000,
        input_price=3.0,
        cached_input_price=0.75,
        output_price=15.0,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="low",
        description=_GROK_4_NOTE,
    ),
    Model(
        "grok-4-fast-reasoning",
        aliases=("grok-4-fast", "grok-4-fast-reasoning-latest"),
        reasoning=True,
        context_window=2_000_000,
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="low",
        description=_GROK_4_NOTE,
    ),
    Model(
        "grok-4-fast-non-reasoning",
        aliases=("grok-4-fast-non-reasoning-latest",),
        context_window=2_000_000,
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="none",
        description="Grok 4 Fast without reasoning.",
    ),
    Model(
        "grok-4-1-fast-reasoning",
        aliases=("grok-4-1-fast", "grok-4-1-fast-reasoning-latest"),
        reasoning=True,
        context_window=2_000_000,
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="low",
        description=_GROK_4_NOTE,
    ),
    Model(
        "grok-4-1-fast-non-reasoning",
        aliases=("grok-4-1-fast-non-reasoning-latest",),
        context_window=2_000_000,
        input_price=0.20,
        cached_input_price=0.05,
        output_price=0.50,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="none",
        description="Grok 4.1 Fast without reasoning.",
    ),
    Model(
        "grok-code-fast-1",
        aliases=("grok-code-fast", "grok-code-fast-1-0825"),
        reasoning=True,
        returns_reasoning_text=True,
        context_window=256_000,
        input_price=0.20,
        cached_input_price=0.02,
        output_price=1.50,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="low",
        description="Grok Code Fast: agentic coding model; rejects reasoning_effort.",
    ),
    Model(
        "grok-4.3",
        aliases=("grok-4.3-latest",),
        reasoning=True,
        efforts=("none", "low", "medium", "high"),
        context_window=1_000_000,
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
        description="Grok 4.3: reasoning on by default (low); effort none | low | medium | high.",
    ),
)

_lock = threading.Lock()
_models: dict[str, Model] = {}
_by_name: dict[str, str] = {}


def _index(model: Model) -> None:
    _models[model.id] = model
    for name in model.names:
        _by_name[name.lower()] = model.id


def _strip_vendor(model_id: str) -> str:
    # Resellers prefix ids with the vendor ("x-ai/grok-3-mini-beta").
    return model_id.split("/", 1)[1] if model_id.lower().startswith("x-ai/") else model_id


def register(model: Model) -> None:
    """Add or replace a catalog record (e.g. a model released after this version)."""
    with _lock:
        old = _models.get(model.id)
        if old is not None:
            for name in old.names:
                _by_name.pop(name.lower(), None)
        _index(model)


def resolve(model_id: str) -> str | None:
    """The canonical id for an id or alias, or None when unknown."""
    return _by_name.get(_strip_vendor(model_id).lower())


def get(model_id: str) -> Model | None:
    """The record for an id or alias (vendor prefixes allowed), or None when unknown."""
    canonical = resolve(model_id)
    return _models.get(canonical) if canonical else None


def all_models(*, include_retired: bool = True) -> list[Model]:
    """Every record, in catalog order."""
    models = list(_models.values())
    if not include_retired:
        models = [m for m in models if not m.retired]
    return models


#: Column names of :func:`table_rows` (prices are USD per 1M tokens).
TABLE_HEADERS = ("model", "efforts", "reasoning text", "$/1M in", "cached in", "out", "status")


def table_rows(*, include_retired: bool = True) -> list[tuple[str, ...]]:
    """The catalog as rows of text for displays (``grokbook models``, ``%grok models``)."""

    def price(value: float | None) -> str:
        return "?" if value is None else f"{value:g}"

    rows: list[tuple[str, ...]] = []
    for model in all_models(include_retired=include_retired):
        status = f"retired {model.retired} → {model.served_by}" if model.retired else "available"
        rows.append(
            (
                model.id,
                " | ".join(model.efforts) if model.efforts else "(rejected)",
                "yes" if model.returns_reasoning_text else "no",
                price(model.input_price),
                price(model.cached_input_price),
                price(model.output_price),
                status,
            )
        )
    return rows


_CENTS_PER_100M_TO_USD_PER_1M = 1 / 10_000  # 1 cent / 100M tokens = 0.0001 USD / 1M


def update_from_language_models(payload: Mapping[str, Any]) -> list[str]:
    """Merge a ``GET /v1/language-models`` body into the catalog; return the ids updated.

    Prices there are US cents per 100 million tokens; the catalog keeps USD per 1M tokens.
    Unknown models are added as non-reasoning records (their efforts are unknown, so the
    client passes ``reasoning_effort`` through and lets the server decide).
    """
    entries: Iterable[Any] = payload.get("models") or payload.get("data") or ()
    updated: list[str] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        model_id = entry["id"]
        existing = get(model_id)

        def price(
            key: str, current: float | None, entry: Mapping[str, Any] = entry
        ) -> float | None:
            value = entry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value) * _CENTS_PER_100M_TO_USD_PER_1M
            return current

        aliases = tuple(a for a in entry.get("aliases") or () if isinstance(a, str))
        if existing is None:
            record = Model(
                model_id,
                aliases=aliases,
                input_price=price("prompt_text_token_price", None),
                cached_input_price=price("cached_prompt_text_token_price", None),
                output_price=price("completion_text_token_price", None),
                description="Listed by the provider; not in grokbook's built-in catalog.",
            )
        else:
            merged_aliases = tuple(dict.fromkeys((*existing.aliases, *aliases)))
            merged_aliases = tuple(a for a in merged_aliases if a != existing.id)
            record = replace(
                existing,
                aliases=merged_aliases,
                input_price=price("prompt_text_token_price", existing.input_price),
                cached_input_price=price(
                    "cached_prompt_text_token_price", existing.cached_input_price
                ),
                output_price=price("completion_text_token_price", existing.output_price),
            )
        register(record)
        updated.append(record.id)
    return updated


def reset() -> None:
    """Restore the built-in table (tests use this after refresh_catalog)."""
    with _lock:
        _models.clear()
        _by_name.clear()
        for model in _BUILTIN:
            _index(model)


reset()
