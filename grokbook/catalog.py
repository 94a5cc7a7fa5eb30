"""The model catalog: which Grok models exist, what they take and what they cost.

Allowed reasoning efforts are *data* here, never hard-coded in the client: a model that
rejects the effort parameter has ``efforts == ()``, and ``default_effort`` is the effort the
model applies when a request names none (``None`` when xAI documents no default). Unknown ids
are still callable (new models appear monthly): :func:`get` returns ``None`` and the client
passes parameters through.

>>> from grokbook import catalog
>>> catalog.get("grok-3-mini-latest").id
'grok-3-mini-beta'
>>> catalog.get("grok-3-mini-beta").efforts
('low', 'high')
>>> catalog.get("grok-4.7").efforts, catalog.get("grok-4.7").default_effort
(('low', 'medium', 'high', 'xhigh'), 'high')
>>> catalog.get("grok-4").efforts
()

Prices are USD per 1M tokens; reasoning tokens bill at the output rate. Models with a
long-context tier bill EVERY token of a request at the long prices once its prompt reaches
``long_context_threshold`` tokens (xAI: "requests whose prompt reaches 200k tokens are billed
at the higher rate for all tokens in the request"):

>>> m = catalog.get("grok-4.6")
>>> m.cost_usd(prompt_tokens=199_999, output_tokens=0), m.cost_usd(prompt_tokens=200_000,
...                                                                output_tokens=0)
(0.399998, 0.8)

Sources (checked December 2026): docs.x.ai/developers/models and the per-model cards
(grok-4.7, grok-4.6, grok-4.5), docs.x.ai/developers/model-capabilities/text/reasoning
(efforts and defaults), docs.x.ai/developers/model-capabilities/text/multi-agent; the 2025
records are xAI's 2025 list prices. ``Client.refresh_catalog()`` updates prices and aliases
from the provider's ``GET /v1/language-models`` (which lists base prices only: the long-context
tier stays as recorded here).

(Over 500 lines because most of it is the table of model records: data, not logic.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "DEFAULT_MODEL",
    "RETIREMENT_DATE",
    "TABLE_HEADERS",
    "WIRES",
    "Model",
    "all_models",
    "canonical_effort",
    "closest",
    "default_model",
    "get",
    "register",
    "resolve",
    "table_rows",
    "update_from_language_models",
]

#: The model used when none is given (``GROKBOOK_MODEL`` overrides it): xAI's current
#: general reasoning model with the widest effort range (none | low | medium | high) at the
#: lowest price of the 4.x line (see the README's "Why grok-4.3").
DEFAULT_MODEL = "grok-4.3"


def default_model() -> str:
    """The model a call uses when it names none: ``GROKBOOK_MODEL``, else :data:`DEFAULT_MODEL`."""
    return os.environ.get("GROKBOOK_MODEL") or DEFAULT_MODEL


#: xAI's migration note: these models are served by grok-4.3 from this date on.
RETIREMENT_DATE = "2026-05-15"

#: The two wire protocols: Chat Completions (``/v1/chat/completions``) and Responses.
WIRES = ("chat", "responses")


@dataclass(frozen=True)
class Model:
    """One catalog record."""

    id: str
    aliases: tuple[str, ...] = ()
    reasoning: bool = False
    #: Allowed reasoning efforts; empty when the parameter is rejected (400).
    efforts: tuple[str, ...] = ()
    #: The effort the model applies when the request names none (None: none documented).
    default_effort: str | None = None
    #: Wires on which the model returns its raw reasoning text: "chat" (``reasoning_content``,
    #: grok-3-mini only) and "responses" (``reasoning_text`` content, grok-4.6 and later).
    #: On Responses every reasoning model also returns a reasoning *summary*.
    reasoning_text_on: frozenset[str] = frozenset()
    context_window: int | None = None
    #: USD per 1M tokens (below ``long_context_threshold`` prompt tokens, when there is one).
    input_price: float | None = None
    cached_input_price: float | None = None
    output_price: float | None = None
    #: Prompt tokens from which the whole request bills at the ``long_*`` prices.
    long_context_threshold: int | None = None
    long_input_price: float | None = None
    long_cached_input_price: float | None = None
    long_output_price: float | None = None
    #: Whether every Responses reply carries ``reasoning.encrypted_content`` unasked (grok-4.7;
    #: other models return it when the request's ``include`` names it).
    always_encrypts_reasoning: bool = False
    #: Still served but superseded (xAI reports it deprecated).
    legacy: bool = False
    #: ISO date the model was retired, and the model that serves its calls since.
    retired: str | None = None
    served_by: str | None = None
    #: Effort the serving model applies to calls to this retired model.
    served_effort: str | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.default_effort is not None and self.default_effort not in self.efforts:
            raise ValueError(
                f"{self.id}: default_effort {self.default_effort!r} is not one of its efforts "
                f"{self.efforts!r}."
            )
        unknown = set(self.reasoning_text_on) - set(WIRES)
        if unknown:
            raise ValueError(f"{self.id}: reasoning_text_on names unknown wires {unknown!r}.")

    @property
    def names(self) -> tuple[str, ...]:
        """The id followed by every alias."""
        return (self.id, *self.aliases)

    @property
    def takes_effort(self) -> bool:
        return bool(self.efforts)

    @property
    def returns_reasoning_text(self) -> bool:
        """Whether Chat Completions responses carry ``reasoning_content`` (grok-3-mini)."""
        return "chat" in self.reasoning_text_on

    def readable_reasoning(self, wire: str) -> str | None:
        """What readable reasoning a reply on ``wire`` carries when the model reasons.

        ``"reasoning_content"`` (chat), ``"reasoning_text"`` (responses: the raw text, plus a
        summary), ``"summary"`` (responses: a summary only) or None (nothing readable; the
        reasoning token count is still reported).
        """
        if wire not in WIRES:
            raise ValueError(f"wire must be one of {WIRES}, not {wire!r}.")
        if wire == "chat":
            return "reasoning_content" if "chat" in self.reasoning_text_on else None
        if "responses" in self.reasoning_text_on:
            return "reasoning_text"
        return "summary" if self.reasoning else None

    def prices(self, prompt_tokens: int | None) -> tuple[float | None, float | None, float | None]:
        """(input, cached input, output) USD per 1M tokens for a request of that prompt size."""
        threshold = self.long_context_threshold
        if threshold is not None and prompt_tokens is not None and prompt_tokens >= threshold:
            return (
                self.long_input_price if self.long_input_price is not None else self.input_price,
                self.long_cached_input_price
                if self.long_cached_input_price is not None
                else self.cached_input_price,
                self.long_output_price if self.long_output_price is not None else self.output_price,
            )
        return self.input_price, self.cached_input_price, self.output_price

    def cost_usd(
        self,
        *,
        prompt_tokens: int | None,
        cached_prompt_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> float | None:
        """The list-price cost of one call, or None when a price or count is unknown.

        ``prompt_tokens`` includes the cached ones (xAI's meaning) and picks the price tier;
        ``output_tokens`` is completion + reasoning, both billed at the output rate.
        """
        if prompt_tokens is None or output_tokens is None:
            return None
        input_price, cached_price, output_price = self.prices(prompt_tokens)
        if input_price is None or output_price is None:
            return None
        cached = min(cached_prompt_tokens or 0, prompt_tokens)
        if cached_price is None:
            cached_price = input_price
        uncached = max(prompt_tokens - cached, 0)
        return (uncached * input_price + cached * cached_price + output_tokens * output_price) / (
            1_000_000
        )


_GROK_3_NOTE = "Grok 3: strong world knowledge; rejects reasoning_effort."
_MINI_NOTE = (
    "Grok 3 mini (legacy): reasoning model that shows its thinking (reasoning_content on "
    "Chat Completions); effort low | high."
)
_GROK_4_NOTE = "Grok 4 family: always reasons, hides its reasoning text, rejects reasoning_effort."
_LONG = 200_000  # xAI's long-context threshold (prompt tokens) for every current model

_BUILTIN: tuple[Model, ...] = (
    Model(
        "grok-4.7",
        reasoning=True,
        efforts=("low", "medium", "high", "xhigh"),
        default_effort="high",
        reasoning_text_on=frozenset({"responses"}),
        always_encrypts_reasoning=True,
        context_window=500_000,
        input_price=2.0,
        cached_input_price=0.50,
        output_price=6.0,
        long_context_threshold=_LONG,
        long_input_price=4.0,
        long_cached_input_price=1.0,
        long_output_price=12.0,
        description=(
            "Grok 4.7 (2026-09-21): effort low | medium | high (default) | xhigh; returns "
            "encrypted reasoning on every Responses reply."
        ),
    ),
    Model(
        "grok-4.6",
        aliases=("grok-4.6-latest",),
        reasoning=True,
        efforts=("low", "medium", "high", "xhigh"),
        default_effort="high",
        reasoning_text_on=frozenset({"responses"}),
        context_window=500_000,
        input_price=2.0,
        cached_input_price=0.50,
        output_price=6.0,
        long_context_threshold=_LONG,
        long_input_price=4.0,
        long_cached_input_price=1.0,
        long_output_price=12.0,
        description=(
            "Grok 4.6 (2026-08-12): effort low | medium | high (default) | xhigh; streams its "
            "reasoning text on the Responses API."
        ),
    ),
    Model(
        "grok-4.5",
        aliases=("grok-4.5-latest",),
        reasoning=True,
        efforts=("low", "medium", "high"),
        default_effort="high",
        context_window=500_000,
        input_price=2.0,
        cached_input_price=0.30,
        output_price=6.0,
        long_context_threshold=_LONG,
        long_input_price=4.0,
        long_cached_input_price=0.60,
        long_output_price=12.0,
        description="Grok 4.5: effort low | medium | high (default); reasoning cannot be disabled.",
    ),
    Model(
        "grok-4.3",
        aliases=("grok-4.3-latest",),
        reasoning=True,
        efforts=("none", "low", "medium", "high"),
        default_effort="low",
        context_window=1_000_000,
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
        long_context_threshold=_LONG,
        long_input_price=2.50,
        long_cached_input_price=0.40,
        long_output_price=5.0,
        description="Grok 4.3: reasoning on by default (low); effort none | low | medium | high.",
    ),
    Model(
        "grok-4.20-0309-reasoning",
        aliases=("grok-4.20-reasoning", "grok-4.20-beta-0309-reasoning"),
        reasoning=True,
        context_window=2_000_000,
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
        long_context_threshold=_LONG,
        long_input_price=2.50,
        long_cached_input_price=0.40,
        long_output_price=5.0,
        description="Grok 4.20 reasoning: always reasons; rejects the effort parameter.",
    ),
    Model(
        "grok-4.20-0309-non-reasoning",
        aliases=("grok-4.20-non-reasoning", "grok-4.20-beta-0309-non-reasoning"),
        context_window=2_000_000,
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
        long_context_threshold=_LONG,
        long_input_price=2.50,
        long_cached_input_price=0.40,
        long_output_price=5.0,
        description="Grok 4.20 without reasoning; rejects the effort parameter.",
    ),
    Model(
        "grok-4.20-multi-agent-0309",
        aliases=("grok-4.20-multi-agent", "grok-4.20-multi-agent-beta-0309"),
        reasoning=True,
        efforts=("low", "medium", "high", "xhigh"),
        context_window=2_000_000,
        input_price=1.25,
        cached_input_price=0.20,
        output_price=2.50,
        long_context_threshold=_LONG,
        long_input_price=2.50,
        long_cached_input_price=0.40,
        long_output_price=5.0,
        extra={"agents": {"low": 4, "medium": 4, "high": 16, "xhigh": 16}},
        description=(
            "Grok 4.20 multi-agent (beta, Responses API): the effort picks the number of agents "
            "(low | medium: 4, high | xhigh: 16); xAI documents no default."
        ),
    ),
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
        legacy=True,
        description=_GROK_3_NOTE + " Faster serving, higher price.",
    ),
    Model(
        "grok-3-mini-beta",
        aliases=("grok-3-mini", "grok-3-mini-latest"),
        reasoning=True,
        efforts=("low", "high"),
        reasoning_text_on=frozenset({"chat"}),
        context_window=131_072,
        input_price=0.30,
        cached_input_price=0.075,
        output_price=0.50,
        legacy=True,
        description=_MINI_NOTE,
    ),
    Model(
        "grok-3-mini-fast-beta",
        aliases=("grok-3-mini-fast", "grok-3-mini-fast-latest"),
        reasoning=True,
        efforts=("low", "high"),
        reasoning_text_on=frozenset({"chat"}),
        context_window=131_072,
        input_price=0.60,
        cached_input_price=0.15,
        output_price=4.00,
        legacy=True,
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
        reasoning_text_on=frozenset({"chat"}),
        context_window=256_000,
        input_price=0.20,
        cached_input_price=0.02,
        output_price=1.50,
        retired=RETIREMENT_DATE,
        served_by="grok-4.3",
        served_effort="low",
        description="Grok Code Fast: agentic coding model; rejects reasoning_effort.",
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


def closest(model_id: str, n: int = 2) -> list[str]:
    """The catalog ids a mistyped ``model_id`` most likely meant, best first (at most ``n``;
    none when nothing is close): ids it begins, else the most similar spellings.

    >>> closest("grok-4.3-mini"), closest("grok4.3"), closest("grok-3-mini")
    (['grok-4.3', 'grok-3-mini-beta'], ['grok-4.3'], ['grok-3-mini-beta', 'grok-3-mini-fast-beta'])
    >>> closest("gpt-4o")
    []
    """
    import difflib

    wanted = _strip_vendor(model_id).strip().lower()
    ids = [m.id for m in all_models()]
    started = [i for i in ids if i.startswith(wanted)] if wanted else []
    if started:
        return started[:n]
    ratios = {i: difflib.SequenceMatcher(None, wanted, i).ratio() for i in ids}
    ranked = sorted(ids, key=lambda i: -ratios[i])  # stable: catalog order among equals
    if not ranked or ratios[ranked[0]] < 0.7:
        return []
    best = ratios[ranked[0]]
    return [i for i in ranked if ratios[i] >= best - 0.05][:n]


def canonical_effort(effort: Any) -> Any:
    """An effort as the API spells it: ``"HIGH"`` and ``" High "`` are ``"high"`` (anything
    that is not a string is returned as is, for the caller's check to refuse).

    >>> canonical_effort("HIGH"), canonical_effort(None)
    ('high', None)
    """
    return effort.strip().lower() if isinstance(effort, str) else effort


def all_models(*, include_retired: bool = True) -> list[Model]:
    """Every record, in catalog order."""
    models = list(_models.values())
    if not include_retired:
        models = [m for m in models if not m.retired]
    return models


#: Column names of :func:`table_rows` (prices are USD per 1M tokens).
TABLE_HEADERS = (
    "model",
    "efforts",
    "default",
    "reasoning text",
    "$/1M in",
    "cached in",
    "out",
    "from 200k: in / cached / out",
    "context",
    "status",
)


def _price(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _readable(model: Model) -> str:
    if model.retired and model.served_by:
        successor = get(model.served_by)
        if successor is not None and not successor.retired:
            model = successor  # its calls are answered by the successor
    kinds = []
    if "chat" in model.reasoning_text_on:
        kinds.append("chat")
    if "responses" in model.reasoning_text_on:
        kinds.append("responses")
    elif model.reasoning:
        kinds.append("summary")
    return ", ".join(kinds) or "no"


def _context(tokens: int | None) -> str:
    if tokens is None:
        return "?"
    if tokens >= 1_000_000 and tokens % 1_000_000 == 0:
        return f"{tokens // 1_000_000}M"
    return f"{tokens // 1000}K" if tokens % 1000 == 0 else f"{tokens:,}"


def table_rows(*, include_retired: bool = True) -> list[tuple[str, ...]]:
    """The catalog as rows of text for displays (``grokbook models``, ``%grok models``).

    "reasoning text" names where readable reasoning comes back: ``chat`` (reasoning_content),
    ``responses`` (raw reasoning text and a summary) or ``summary`` (Responses summary only).
    """
    rows: list[tuple[str, ...]] = []
    for model in all_models(include_retired=include_retired):
        if model.retired:
            status = f"retired {model.retired} → {model.served_by}"
        else:
            status = "legacy" if model.legacy else "available"
        long = "-"
        if model.long_context_threshold is not None:
            long = " / ".join(_price(p) for p in model.prices(model.long_context_threshold))
        rows.append(
            (
                model.id,
                " | ".join(model.efforts) if model.efforts else "(rejected)",
                model.default_effort or "-",
                _readable(model),
                _price(model.input_price),
                _price(model.cached_input_price),
                _price(model.output_price),
                long,
                _context(model.context_window),
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
