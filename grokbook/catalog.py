"""The model catalog: which Grok models exist, what they take and what they cost.

Allowed reasoning efforts are *data* here, never hard-coded in the client: a model that
rejects the effort parameter has ``efforts == ()``, and ``default_effort`` is the effort the
model applies when a request names none (``None`` when xAI documents no default). A retired
id takes the efforts of the model that answers it now, with the effort that model applies to
its calls as the default. Unknown ids are still callable (new models appear monthly):
:func:`get` returns ``None`` and the client passes parameters through.

>>> from grokbook import catalog
>>> catalog.get("grok-3-mini-latest").id
'grok-3-mini-beta'
>>> catalog.get("grok-3-mini-beta").efforts
('low', 'high')
>>> catalog.get("grok-4.7").efforts, catalog.get("grok-4.7").default_effort
(('low', 'medium', 'high', 'xhigh'), 'high')
>>> catalog.get("grok-4.20-0309-non-reasoning").efforts
()
>>> catalog.get("grok-4").efforts, catalog.get("grok-4").default_effort   # retired: grok-4.3's
(('none', 'low', 'medium', 'high'), 'low')

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
records are xAI's 2025 list prices. With the tool fees (:data:`TOOL_FEES`) and the
retirement redirect (:func:`answered_by`), these prices reproduce every real bill in
``tests/real`` to the tick (``tests/test_real_traffic.py``). ``Client.refresh_catalog()``
updates prices and aliases from the provider's ``GET /v1/language-models`` (which lists base
prices only: the long-context tier stays as recorded here).

(Over 500 lines because most of it is the table of model records: data, not logic.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DEFAULT_MODEL",
    "RETIREMENT_DATE",
    "TABLE_HEADERS",
    "TOOL_FEES",
    "WIRES",
    "BatchTerms",
    "Model",
    "ToolFee",
    "all_models",
    "answered_by",
    "batch_models",
    "batch_terms",
    "canonical_effort",
    "closest",
    "default_effort_note",
    "default_model",
    "get",
    "register",
    "resolve",
    "resolve_effort",
    "table_rows",
    "tool_fees_usd",
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
_GROK_4_NOTE = (
    "Grok 4 family: reasoned at a fixed level and rejected reasoning_effort. Retired: grok-4.3 "
    "answers its calls, so it takes grok-4.3's efforts."
)
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
        # Real grok-4.5 bills imply $0.50 cached (tests/real/05: 79 x $2 + 256 x $0.50 + 79 x
        # $6 = 7,600,000 ticks); some public price lists say $0.30. The bills win; the long
        # tier doubles it, as for grok-4.6 / 4.7.
        cached_input_price=0.50,
        output_price=6.0,
        long_context_threshold=_LONG,
        long_input_price=4.0,
        long_cached_input_price=1.0,
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
        description=(
            "Grok 3: strong world knowledge; rejected reasoning_effort. Retired: grok-4.3 "
            "answers its calls, so it takes grok-4.3's efforts (none when unsent)."
        ),
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
        description=(
            "Grok Code Fast: agentic coding model; rejected reasoning_effort. Retired: "
            "grok-4.3 answers its calls, so it takes grok-4.3's efforts."
        ),
    ),
)


@dataclass(frozen=True)
class ToolFee:
    """What one billed server-side tool call costs on top of the tokens."""

    #: xAI's name in ``server_side_tool_usage_details`` without ``_calls`` ("web_search").
    tool: str
    usd_per_call: float
    source: str


_PRICING_PAGE = "docs.x.ai/developers/pricing, Tool Invocation Costs (checked 2026-12)"

#: Server-side tool fees per billed call. A tool missing here has no known fee: a call to it
#: leaves the fallback cost unknown (None) rather than silently low. Real bills agree:
#: tests/real/16 bills 2 web searches at exactly $0.010 on top of grok-4.3's tokens.
TOOL_FEES: dict[str, ToolFee] = {
    fee.tool: fee
    for fee in (
        ToolFee("web_search", 0.005, f"{_PRICING_PAGE} ($5 / 1k); real bills (tests/real/16)"),
        ToolFee("x_search", 0.005, f"{_PRICING_PAGE} ($5 / 1k)"),
        ToolFee("code_interpreter", 0.005, f"{_PRICING_PAGE} (code execution, $5 / 1k)"),
        ToolFee("file_search", 0.0025, f"{_PRICING_PAGE} (collections search, $2.50 / 1k)"),
    )
}


def tool_fees_usd(calls: Mapping[str, int]) -> float | None:
    """The fees of billed server-side tool calls (``Usage.server_side_tool_calls``), or None
    when a tool with calls has no known fee.

    >>> tool_fees_usd({"web_search": 2}), tool_fees_usd({}), tool_fees_usd({"mcp": 1})
    (0.01, 0.0, None)
    """
    total = 0.0
    for tool, count in calls.items():
        if not count:
            continue
        fee = TOOL_FEES.get(tool)
        if fee is None:
            return None
        total += count * fee.usd_per_call
    return total


def answered_by(model_id: str, created_at: float | None) -> Model | None:
    """The model that answered a call to ``model_id`` made at ``created_at`` (Unix seconds),
    when that is another model: a retired id's successor (``served_by``) from its retirement
    date on. None when ``model_id`` answered itself (or is unknown).

    xAI's response may still name the retired id (tests/real/16 says
    grok-4-fast-non-reasoning; its fingerprint and bill are grok-4.3's). A ``created_at`` of 0
    or None counts as after the retirement: that same recording says ``created_at: 0`` and was
    billed at grok-4.3's prices, and this catalog was written after the retirement date, so a
    call it prices without a date is a recent one.

    >>> answered_by("grok-4-fast", 1785220807).id, answered_by("grok-4-fast", 0).id
    ('grok-4.3', 'grok-4.3')
    >>> answered_by("grok-4-fast", 1762189566) is None, answered_by("grok-4.3", None) is None
    (True, True)
    """
    record = get(model_id)
    if record is None or not record.retired or not record.served_by:
        return None
    if created_at is not None and created_at > 0:
        try:
            day = datetime.fromtimestamp(created_at, UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):  # not a date: as if none was sent
            day = record.retired
        if day < record.retired:
            return None
    return get(record.served_by)


_lock = threading.Lock()
_models: dict[str, Model] = {}
_by_name: dict[str, str] = {}


def _answered_as(model: Model) -> Model:
    """A retired record takes the efforts of the model that answers its calls now (xAI sends
    them there), with the effort that model applies to them as its default."""
    if not (model.retired and model.served_by):
        return model
    successor = _models.get(_by_name.get(model.served_by.lower(), ""))
    if successor is None or successor.retired or successor.id == model.id:
        return model
    default = (
        model.served_effort
        if model.served_effort in successor.efforts
        else successor.default_effort
    )
    return replace(model, efforts=successor.efforts, default_effort=default)


def _index(model: Model) -> None:
    _models[model.id] = _answered_as(model)
    for name in model.names:
        _by_name[name.lower()] = model.id
    names = {name.lower() for name in model.names}
    for other in list(_models.values()):  # retired records this one answers follow it
        if other.retired and other.served_by and other.served_by.lower() in names:
            _models[other.id] = _answered_as(other)


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
    """Context windows in one style: ``131K``, ``500K``, ``2M`` (thousands rounded)."""
    if tokens is None:
        return "?"
    if tokens >= 1_000_000:
        millions = tokens / 1_000_000
        return f"{millions:g}M" if round(millions, 1) == millions else f"{tokens / 1000:,.0f}K"
    return f"{tokens / 1000:,.0f}K" if tokens >= 1000 else str(tokens)


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


# -- default efforts and Batch API terms (issue 21) ---------------------------------------------
#: The label of "no effort sent" (also ``grokbook._columns.DEFAULT_EFFORT_LABEL``).
_DEFAULT_LABEL = "default"


def resolve_effort(model_id: str, effort: str | None) -> str | None:
    """The effort a request applies: ``effort`` itself, or for ``None`` / ``"default"`` the
    model's documented default (None when the catalog documents none, e.g. an unknown model,
    a retired id or a model that rejects the parameter).

    Sweeps resolve "default" before building their grid, so a grid never sends one request
    twice under two names:

    >>> resolve_effort("grok-4.3", "default"), resolve_effort("grok-4.7", None)
    ('low', 'high')
    >>> resolve_effort("grok-3-mini-beta", None), resolve_effort("grok-4.3", "none")
    (None, 'none')
    """
    if effort is not None and effort != _DEFAULT_LABEL:
        return effort
    record = get(model_id)
    if record is None or record.retired:
        return None
    return record.default_effort


def default_effort_note(model_id: str) -> str | None:
    """One line when sending no effort makes ``model_id`` reason at a high price (its default
    is its most expensive effort, or ``high``), else None.

    >>> default_effort_note("grok-4.5")
    "grok-4.5: no effort means 'high', its most expensive effort; pass a lower one to spend less."
    >>> default_effort_note("grok-4.3") is None
    True
    """
    record = get(model_id)
    if record is None or record.retired or record.default_effort is None:
        return None
    default = record.default_effort
    above = record.efforts[record.efforts.index(default) + 1 :]
    if not above:
        how = ", its most expensive effort"
    elif default == "high":
        how = f" (only {' and '.join(repr(e) for e in above)} costs more)"
    else:
        return None
    return f"{record.id}: no effort means {default!r}{how}; pass a lower one to spend less."


@dataclass(frozen=True)
class BatchTerms:
    """What xAI says about a model on the Batch API, with the source and the date it was read.

    Unknown stays unknown: ``supported`` is None when no page says, ``discount`` is None
    when no page states one for the model (grokbook never assumes a discount).
    """

    #: The model whose terms these are (for a retired id: the model that answers it).
    model: str
    #: True / False as xAI's page for the model says; None when none says.
    supported: bool | None
    #: Fraction off the live price (0.2 = a 20% discount); None when unknown.
    discount: float | None
    source: str
    #: ISO date the source was read.
    checked: str

    @property
    def discount_label(self) -> str:
        """``"20% discount (source, checked date)"`` or ``"discount unknown (...)"``."""
        head = "discount unknown" if self.discount is None else f"{self.discount:.0%} discount"
        return f"{head} for {self.model} ({self.source}; checked {self.checked})"


_BATCH_GUIDE = "docs.x.ai/developers/advanced-api-usage/batch-api"
_NOT_SUPPORTED = "docs.x.ai/developers/models/{id}: 'Batch API: Not supported'"
#: Per model, from xAI's model pages. The batch guide once stated one flat discount for every
#: model and now says only "reduced pricing" (details per model); a model whose page states
#: no discount has ``discount=None``.
_BATCH_TERMS: dict[str, BatchTerms] = {
    "grok-4.20-0309-reasoning": BatchTerms(
        "grok-4.20-0309-reasoning",
        supported=True,
        discount=0.20,
        source="docs.x.ai/developers/models/grok-4.20-0309: 'Batch API: Supported', 'Batch "
        "API requests are billed at a 20% discount to standard rates'",
        checked="2026-12-07",
    ),
    **{
        model_id: BatchTerms(
            model_id,
            supported=False,
            discount=None,
            source=_NOT_SUPPORTED.format(id=model_id),
            checked="2026-12-07",
        )
        for model_id in ("grok-4.7", "grok-4.6", "grok-4.5", "grok-build-0.1")
    },
    "grok-4.3": BatchTerms(
        "grok-4.3",
        supported=None,
        discount=None,
        source=f"docs.x.ai/developers/models/grok-4.3 states no batch discount; {_BATCH_GUIDE} "
        "says 'reduced pricing'",
        checked="2026-12-07",
    ),
}


def batch_terms(model_id: str) -> BatchTerms:
    """The Batch API terms of ``model_id`` (an id or alias; a retired id takes the terms of
    the model that answers it).

    >>> batch_terms("grok-4.20-reasoning").discount, batch_terms("grok-4.7").supported
    (0.2, False)
    >>> terms = batch_terms("grok-4-0709")          # retired: answered by grok-4.3
    >>> terms.model, terms.supported, terms.discount
    ('grok-4.3', None, None)
    """
    record = get(model_id)
    if record is not None and record.retired and record.served_by:
        record = get(record.served_by) or record
    key = record.id if record is not None else _strip_vendor(model_id).lower()
    found = _BATCH_TERMS.get(key)
    if found is not None:
        return found
    return BatchTerms(
        key,
        supported=None,
        discount=None,
        source=f"no xAI page grokbook knows states batch terms for {key}; {_BATCH_GUIDE} says "
        "'reduced pricing'",
        checked="2026-12-07",
    )


def batch_models() -> list[str]:
    """The models xAI's pages mark as served by the Batch API."""
    return [model_id for model_id, terms in _BATCH_TERMS.items() if terms.supported]
