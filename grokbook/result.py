"""What a call returns: :class:`Completion`, its normalized :class:`Usage`, and
:class:`StreamEvent` pieces of a streamed answer.

Token counts have one meaning whatever the provider and wire (each response's arithmetic is
checked against its ``total_tokens``): ``completion_tokens`` is the visible answer only,
``reasoning_tokens`` the thinking, ``output_tokens = completion + reasoning`` (both billed at
the output rate), and ``total_tokens = prompt + output``. On the wire, xAI's Responses
``output_tokens`` already holds the reasoning; Chat Completions' ``completion_tokens`` does not
(see :func:`grokbook.providers.normalize_usage`). A count the server did not send is ``None``,
never 0.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from . import catalog
from .errors import ImplausibleUsageWarning

__all__ = ["Completion", "StreamEvent", "ToolCall", "Usage", "is_simulated"]

#: What grokbook's simulator writes into its ``system_fingerprint`` (``fp_grokbook_sim``).
SIM_FINGERPRINT_MARK = "grokbook_sim"
#: The shape of the simulator's response ids (``grokbook.sim``: ``sim-`` and 24 hex digits).
SIM_ID = re.compile(r"sim-[0-9a-f]{24}")


def is_simulated(provider: str | None, fingerprint: str | None, response_id: str | None) -> bool:
    """True when grokbook's offline simulator answered: the ``sim`` provider, or a server
    whose replies carry the simulator's fingerprint or ids (``grokbook sim`` reached through
    ``provider="openai"``, on either wire).

    >>> is_simulated("openai", None, "sim-0123456789abcdef01234567")
    True
    >>> is_simulated("openai", "fp_grokbook_sim", None), is_simulated("xai", None, "resp_1")
    (True, False)
    """
    return (
        provider == "sim"
        or SIM_FINGERPRINT_MARK in (fingerprint or "")
        or (isinstance(response_id, str) and SIM_ID.fullmatch(response_id) is not None)
    )


EventKind = Literal["reasoning", "content"]

#: The largest token count one call can plausibly report. The biggest context window in the
#: catalog is 2M tokens; 100x that leaves room for any future model while still catching
#: garbage (2**70, a negative count) before it reaches a frame, a cost or the run log.
MAX_PLAUSIBLE_TOKENS = 200_000_000


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def plausible_count(value: Any, field: str) -> int | None:
    """``value`` as a token count, or None when it is not one; a negative count or one above
    :data:`MAX_PLAUSIBLE_TOKENS` also becomes None, with an :class:`ImplausibleUsageWarning`
    naming ``field``: a server's garbage is never trusted."""
    count = _as_int(value)
    if count is None or 0 <= count <= MAX_PLAUSIBLE_TOKENS:
        return count
    warnings.warn(
        f"{field} = {count} cannot be right (a token count is "
        f"between 0 and {MAX_PLAUSIBLE_TOKENS:,}); it is recorded as unknown (None)",
        ImplausibleUsageWarning,
        stacklevel=3,
    )
    return None


@dataclass(frozen=True)
class Usage:
    """Normalized token counts of one call (None where the server sent nothing)."""

    prompt_tokens: int | None = None
    cached_prompt_tokens: int | None = None
    reasoning_tokens: int | None = None
    completion_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    #: How the server counted: "reasoning-included" (the answer count holds the reasoning:
    #: xAI's Responses API, OpenRouter, AI/ML API), "reasoning-excluded" (xAI's Chat
    #: Completions; the 2025 Responses example in xAI's OpenAPI file), or "unknown" when
    #: there was no answer count.
    convention: str = "unknown"
    #: Search sources read and server-side tool calls made (xAI reports both).
    num_sources_used: int | None = None
    num_server_side_tools_used: int | None = None
    #: Billed server-side tool calls by tool, from xAI's ``server_side_tool_usage_details``:
    #: the non-zero counts keyed by xAI's names without ``_calls``, e.g. ``{"web_search": 2}``.
    #: Each call is billed on top of the tokens (:data:`grokbook.catalog.TOOL_FEES`).
    server_side_tool_calls: dict[str, int] = field(default_factory=dict, hash=False)
    #: xAI's ``context_details`` (``input_tokens`` / ``output_tokens`` of the final turn when
    #: a server-side tool loop ran; the counts above are cumulative), as sent; None if absent.
    context_details: dict[str, int] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        # Every way in (a server, the cache, a user) gets the same check, so a frame, a cost
        # or the run log never holds a count that cannot be right (2**70 overflows int64).
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, plausible_count(value, f"Usage.{name}"))
        object.__setattr__(
            self,
            "server_side_tool_calls",
            _counts(self.server_side_tool_calls, "Usage.server_side_tool_calls", nonzero=True),
        )
        if self.context_details is not None:
            details = _counts(self.context_details, "Usage.context_details", nonzero=False)
            object.__setattr__(self, "context_details", details)

    @property
    def reasoning_share(self) -> float | None:
        """Reasoning tokens as a fraction of output tokens."""
        if self.reasoning_tokens is None or not self.output_tokens:
            return None
        return self.reasoning_tokens / self.output_tokens

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def summary(self) -> str:
        """One line: ``prompt 12 · reasoning 310 · completion 14 tokens``."""

        def fmt(value: int | None) -> str:
            return "?" if value is None else f"{value:,}"

        parts = [f"prompt {fmt(self.prompt_tokens)}"]
        if self.reasoning_tokens is not None:
            parts.append(f"reasoning {fmt(self.reasoning_tokens)}")
        parts.append(f"completion {fmt(self.completion_tokens)} tokens")
        return " · ".join(parts)


_COUNT_FIELDS = tuple(
    f.name
    for f in fields(Usage)
    if f.name not in ("convention", "server_side_tool_calls", "context_details")
)


def _counts(value: Any, where: str, *, nonzero: bool) -> dict[str, int]:
    """A ``{name: count}`` dict of plausible counts (others dropped; zeros too if ``nonzero``)."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, int] = {}
    for name, raw in value.items():
        count = plausible_count(raw, f"{where}[{name!r}]") if isinstance(name, str) else None
        if count is not None and (count or not nonzero):
            out[name] = count
    return out


@dataclass(frozen=True)
class StreamEvent:
    """A piece of a streamed answer: ``kind`` is "reasoning" or "content"."""

    kind: EventKind
    text: str


def hidden_reasoning_line(reasoning_tokens: int) -> str:
    """The one line shown for a model that reasoned but sent no readable reasoning."""
    return f"{reasoning_tokens:,} reasoning tokens; this model does not show its reasoning"


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asks for (both wires; streamed ones are assembled).

    ``id`` is what the tool's result must name (``call_id`` on Responses, ``tool_call_id`` on
    Chat Completions); ``arguments`` is the JSON text the model wrote (see :meth:`parsed`).
    """

    id: str
    name: str
    arguments: str

    def parsed(self) -> Any:
        """The arguments as Python data (raises ValueError when the model wrote bad JSON)."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


@dataclass(frozen=True)
class Completion:
    """One finished chat call.

    ``model`` is the model that answered (as the response says); ``requested_model`` the one
    asked for. They differ when an alias resolved or a retired model was served by its
    successor; :attr:`model_notice` says so in one line. When the response still names a
    retired id its successor answered, :attr:`answered_by` names the successor.
    """

    content: str
    reasoning: str | None
    model: str
    requested_model: str
    reasoning_effort: str | None
    usage: Usage
    latency_s: float | None
    cost_usd: float | None
    id: str | None
    provider: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    finish_reason: str | None = None
    system_fingerprint: str | None = None
    created: float = field(default_factory=time.time)
    #: Served from grokbook's response cache: ``cost_usd`` and ``latency_s`` stay the
    #: original call's; :attr:`billed_usd` is 0 and :attr:`fetch_s` the lookup's time.
    cached: bool = False
    #: For a cached result: how long this lookup took, seconds (None for a live call).
    cache_lookup_s: float | None = None
    #: The request's messages and parameters, kept for the run log and the cache.
    messages: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: The wire protocol used: "responses" or "chat".
    wire: str = "chat"
    #: The model's summary of its reasoning (Responses); :attr:`reasoning` falls back to it
    #: when the model sends no raw reasoning text.
    reasoning_summary: str | None = None
    #: The response's reasoning items as sent (with ``encrypted_content`` when asked for),
    #: passed back unchanged by a Conversation with ``store=False``; never displayed.
    reasoning_items: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    #: Function calls the model asks for.
    tool_calls: tuple[ToolCall, ...] = ()
    #: Server-side tool calls (web / X search, code interpreter, MCP), as sent.
    server_tool_calls: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    #: Source URLs the answer cites (``citations`` and ``url_citation`` annotations).
    citations: tuple[str, ...] = ()
    #: The model that answered when the response's ``model`` names another: a retired id
    #: that xAI answered with its successor after the retirement date (the response still
    #: says the retired id; its fingerprint and its bill are the successor's). The fallback
    #: cost uses this model's prices and :attr:`model_notice` says so. None otherwise.
    answered_by: str | None = None

    @property
    def billed_usd(self) -> float | None:
        """What this call billed now: ``cost_usd`` for a live call, 0.0 for a cache hit."""
        return 0.0 if self.cached else self.cost_usd

    @property
    def fetch_s(self) -> float | None:
        """Wall time spent getting this answer now: the latency, or a cache hit's lookup."""
        return self.cache_lookup_s if self.cached else self.latency_s

    @property
    def original_latency_s(self) -> float | None:
        """For a cached result, the original call's latency (== ``latency_s``); else None.

        Kept for compatibility: ``latency_s`` is now always the original call's latency.
        """
        return self.latency_s if self.cached else None

    @property
    def simulated(self) -> bool:
        """True when the offline simulator answered (never mistaken for Grok), also through
        ``provider="openai"`` at a ``grokbook sim`` server (:func:`is_simulated`)."""
        return is_simulated(self.provider, self.system_fingerprint, self.id)

    @property
    def encrypted_reasoning(self) -> str | None:
        """The opaque encrypted reasoning of the last reasoning item, if the server sent it."""
        for item in reversed(self.reasoning_items):
            value = item.get("encrypted_content")
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def num_sources_used(self) -> int | None:
        return self.usage.num_sources_used

    @property
    def reasoning_is_summary(self) -> bool:
        """True when :attr:`reasoning` is the model's summary, not its raw reasoning text."""
        return self.reasoning is not None and self.reasoning == self.reasoning_summary

    @property
    def reasoning_note(self) -> str | None:
        """One line when the model reasoned but sent nothing readable, else None."""
        tokens = self.usage.reasoning_tokens
        if self.reasoning or not tokens:
            return None
        return hidden_reasoning_line(tokens)

    @property
    def model_notice(self) -> str | None:
        """One line when the answering model is not the one asked for, else None."""
        asked = catalog.get(self.requested_model)
        served = catalog.get(self.model)
        if self.answered_by is not None and served is not None:
            return (
                f"Asked for {self.requested_model}; answered by {self.answered_by} "
                f"({served.id} was retired on {served.retired}; billed at "
                f"{self.answered_by}'s prices)."
            )
        if asked is not None and served is not None:
            if asked.id == served.id:
                return None
            note = f"Asked for {self.requested_model}; answered by {served.id}"
            if asked.retired:
                note += f" ({asked.id} was retired on {asked.retired})"
            return note + "."
        if self.model and _bare(self.model) != _bare(self.requested_model):
            return f"Asked for {self.requested_model}; answered by {self.model}."
        return None

    @property
    def prompt(self) -> str:
        """The last user message's text (what a table shows as the prompt)."""
        for message in reversed(self.messages):
            if message.get("role") == "user" and isinstance(message.get("content"), str):
                return str(message["content"])
        return ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the run log and the cache; never holds a key)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["usage"] = self.usage.as_dict()
        data["messages"] = list(self.messages)
        data["tool_calls"] = [asdict(call) for call in self.tool_calls]
        for name in ("reasoning_items", "server_tool_calls", "citations"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if values.get("cached") and data.get("original_latency_s") is not None:
            # an older cached result: latency_s held the hit's own time, this the original
            values["latency_s"] = data["original_latency_s"]
        values["usage"] = Usage.from_dict(values.get("usage") or {})
        values["messages"] = tuple(values.get("messages") or ())
        values["tool_calls"] = tuple(
            ToolCall(**call) if isinstance(call, dict) else call
            for call in values.get("tool_calls") or ()
        )
        for name in ("reasoning_items", "server_tool_calls", "citations"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)

    def replace(self, **changes: Any) -> Completion:
        return replace(self, **changes)

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        text = self.content if len(self.content) <= 60 else self.content[:57] + "..."
        effort = f", reasoning_effort={self.reasoning_effort!r}" if self.reasoning_effort else ""
        return (
            f"Completion(model={self.model!r}{effort}, content={text!r}, "
            f"{self.usage.summary()}, cost_usd={self.cost_usd!r}"
            f"{', cached=True, billed_usd=0.0' if self.cached else ''}"
            f"{', simulated=True' if self.simulated else ''})"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """The same rendering as ``%%grok`` (answer as Markdown, reasoning, usage footer)."""
        from .render import completion_bundle

        return completion_bundle(self)


def _bare(model_id: str) -> str:
    return model_id.split("/", 1)[-1].lower()
