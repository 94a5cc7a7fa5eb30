"""The pure half of every call: the call options declared once, validation, and the request
that a wire protocol turns into a body. No I/O here; the wires (``_wire_chat``,
``_wire_responses``) parse what comes back and :mod:`grokbook._pipeline` moves the bytes.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from . import catalog
from .errors import (
    APIError,
    ImplausibleUsageWarning,
    ResponseParseError,
    UnsupportedParameterError,
    redact,
    redact_json,
)
from .providers import Provider
from .result import Usage

__all__ = [
    "WIRES",
    "CallOptions",
    "ChatRequest",
    "RequestOptions",
    "Wire",
    "WireSettings",
    "build_request",
    "compute_cost",
    "describe_error",
    "parse_json_body",
    "split_options",
]

Messages = str | Sequence[Mapping[str, Any]]
Wire = Literal["responses", "chat"]
#: The two wire protocols: xAI's Responses API (``POST /responses``) and Chat Completions.
WIRES: tuple[Wire, ...] = ("responses", "chat")

_VALID_ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})
#: Typed Responses items a conversation passes back as input (never shown, never rewritten).
_RESPONSES_ITEM_TYPES = frozenset({"message", "reasoning", "function_call", "function_call_output"})


class RequestOptions(TypedDict, total=False):
    """What shapes the request: every keyword of ``chat()`` / ``stream()`` but the cache's.

    Declared once here; ``Client``, ``AsyncClient`` and ``Conversation`` take them with
    ``**options: Unpack[CallOptions]``.
    """

    #: Model id or alias (default: ``GROKBOOK_MODEL``, else ``grok-4.3``).
    model: str | None
    #: ``low`` | ``high`` | ... as the catalog lists for the model; None sends none (the model
    #: applies its default effort, which the Completion records).
    reasoning_effort: str | None
    system: str | None
    temperature: float | None
    #: Chat Completions: caps the visible answer. Responses: sent as ``max_output_tokens``,
    #: which xAI documents as answer plus reasoning, but real replies came back ``completed``
    #: past it (tests/real: grok-4.3 at 16 with 111 and 199 output tokens, grok-4.5 at 64 with
    #: 79): do not rely on it as a cap there.
    max_tokens: int | None
    top_p: float | None
    seed: int | None
    #: Extra body fields sent as they are (after grokbook's own).
    extra_body: Mapping[str, Any] | None
    #: Function tools, in either the Responses shape ``{"type": "function", "name": ...,
    #: "parameters": ...}`` or the Chat shape ``{"type": "function", "function": {...}}``.
    tools: Sequence[Mapping[str, Any]] | None
    #: ``"responses"`` or ``"chat"``; default: the client's (xAI: responses).
    wire: Wire | None
    #: Responses only: keep the response on the server (xAI keeps it 30 days; default true).
    store: bool | None
    #: Responses only: continue the stored response with this id.
    previous_response_id: str | None
    #: Responses only: ask for the encrypted reasoning (to pass back when store=False).
    include_encrypted_reasoning: bool | None
    #: Responses only: routes requests that share a prefix to the same cache.
    prompt_cache_key: str | None


class CallOptions(RequestOptions, total=False):
    """Request options plus the response cache and run-log options."""

    #: Answer from grokbook's response cache when an identical request was stored.
    cache: bool
    #: Repeat index (a sweep's repeats are distinct cache entries).
    repeat: int
    #: Extra fields for the run log (``sweep_id``, ``source``, ...).
    tags: Mapping[str, Any] | None


_CALL_ONLY = ("cache", "repeat", "tags")
_REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)


def split_options(
    options: Mapping[str, Any],
) -> tuple[dict[str, Any], bool, int, Mapping[str, Any] | None]:
    """(request options, cache, repeat, tags) of a ``chat()`` call's keywords."""
    request_options = {k: v for k, v in options.items() if k not in _CALL_ONLY}
    unknown = request_options.keys() - _REQUEST_OPTIONS
    if unknown:
        raise UnsupportedParameterError(
            f"Unknown option(s) {', '.join(sorted(unknown))}. Known: "
            f"{', '.join(sorted((*_REQUEST_OPTIONS, *_CALL_ONLY)))}; pass "
            "other body fields with extra_body={...}."
        )
    repeat = options.get("repeat", 0)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
        raise UnsupportedParameterError(f"repeat must be an integer >= 0; got {repeat!r}.")
    return request_options, bool(options.get("cache", False)), repeat, options.get("tags")


@dataclass(frozen=True)
class WireSettings:
    """The validated options a wire turns into body fields."""

    model: str
    reasoning_effort: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stream: bool = False
    tools: tuple[dict[str, Any], ...] = ()
    store: bool | None = None
    previous_response_id: str | None = None
    include_encrypted_reasoning: bool | None = None
    prompt_cache_key: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """A validated request, ready to send (the key is added by the client's auth at send time).

    ``messages`` is the conversation as grokbook logs and caches it (system first); ``body``
    is what the wire sends.
    """

    provider: Provider
    base_url: str
    model: str
    reasoning_effort: str | None
    messages: tuple[dict[str, Any], ...]
    body: dict[str, Any]
    #: The parameters that change the answer (for the run log and the cache key).
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    wire: Wire = "chat"

    @property
    def url(self) -> str:
        path = "/responses" if self.wire == "responses" else "/chat/completions"
        return self.base_url.rstrip("/") + path


def _check_text(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsupportedParameterError(
            f"{where} holds text that cannot be sent as UTF-8 (a lone surrogate at position "
            f"{exc.start}); remove it or decode the text properly first."
        ) from exc


def normalize_messages(
    prompt: Messages, system: str | None, wire: Wire = "chat"
) -> tuple[dict[str, Any], ...]:
    """A prompt string or a messages list, validated, as a tuple of message dicts.

    On the Responses wire a list may also hold typed output items of an earlier response
    (``{"type": "reasoning", ...}``, ``function_call``, ``function_call_output``), passed
    back unchanged.
    """
    if isinstance(prompt, str):
        if not prompt.strip():
            raise UnsupportedParameterError(
                "The prompt is empty. Pass the question as a non-empty string "
                "or a list of {'role': ..., 'content': ...} messages."
            )
        _check_text(prompt, "The prompt")
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    elif isinstance(prompt, list | tuple):
        if not prompt:
            raise UnsupportedParameterError("The messages list is empty; add a user message.")
        messages = []
        for index, message in enumerate(prompt):
            if not isinstance(message, Mapping):
                raise UnsupportedParameterError(
                    f"messages[{index}] is a {type(message).__name__}; each message must be "
                    "a dict like {'role': 'user', 'content': '...'}."
                )
            item_type = message.get("type")
            if "role" not in message and item_type in _RESPONSES_ITEM_TYPES:
                if wire != "responses":
                    raise UnsupportedParameterError(
                        f"messages[{index}] is a Responses {item_type!r} item; send it with "
                        "wire='responses', or give Chat Completions role/content messages."
                    )
                messages.append(dict(message))
                continue
            role = message.get("role")
            if not isinstance(role, str) or role not in _VALID_ROLES:
                raise UnsupportedParameterError(
                    f"messages[{index}] has role {role!r}; use one of "
                    f"{', '.join(sorted(_VALID_ROLES))}."
                )
            if "content" not in message:
                raise UnsupportedParameterError(f"messages[{index}] has no 'content'.")
            content = message["content"]
            if isinstance(content, str):
                _check_text(content, f"messages[{index}].content")
            messages.append(dict(message))
        last_text = messages[-1].get("content")
        if isinstance(last_text, str) and not last_text.strip() and len(messages) == 1:
            raise UnsupportedParameterError("The prompt is empty.")
    else:
        raise UnsupportedParameterError(
            f"prompt must be a string or a list of messages, not {type(prompt).__name__}."
        )
    if system is not None:
        if not isinstance(system, str):
            raise UnsupportedParameterError(f"system must be a string, not {system!r}.")
        _check_text(system, "system")
        if any(m.get("role") == "system" for m in messages):
            raise UnsupportedParameterError(
                "Both system= and a system message were given; use one of them."
            )
        messages.insert(0, {"role": "system", "content": system})
    return tuple(messages)


def validate_effort(model: str, reasoning_effort: str | None) -> None:
    """Reject an effort the catalog says ``model`` does not take (unknown models pass)."""
    if reasoning_effort is None:
        return
    if not isinstance(reasoning_effort, str) or not reasoning_effort:
        raise UnsupportedParameterError(
            f"reasoning_effort must be a string such as 'low' or 'high', not {reasoning_effort!r}."
        )
    record = catalog.get(model)
    if record is None:
        return
    name = model if model == record.id else f"{model} ({record.id})"
    if not record.efforts:
        raise UnsupportedParameterError(
            f"{name} does not take reasoning_effort (the API rejects it with HTTP 400). "
            "Leave reasoning_effort unset for this model, or pick a model that takes it, "
            "e.g. grok-3-mini-beta (low | high) or grok-4.3 (none | low | medium | high)."
        )
    if reasoning_effort not in record.efforts:
        raise UnsupportedParameterError(
            f"{name} takes reasoning_effort {' | '.join(record.efforts)}; got {reasoning_effort!r}."
        )


def _check_number(name: str, value: Any, low: float, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnsupportedParameterError(f"{name} must be a number, not {value!r}.")
    if math.isnan(value) or not low <= value <= high:
        raise UnsupportedParameterError(
            f"{name} must be between {low:g} and {high:g}; got {value}."
        )


def _check_json(name: str, value: Any) -> None:
    """``value`` must be plain, finite JSON (no NaN, sets, objects): what the server can read."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsupportedParameterError(
            f"{name} holds text that cannot be sent as UTF-8 (a lone surrogate)."
        ) from exc
    except (TypeError, ValueError) as exc:
        raise UnsupportedParameterError(
            f"{name} must hold plain JSON (strings, numbers, lists, dicts; no NaN or sets): {exc}."
        ) from exc
    except RecursionError as exc:
        raise UnsupportedParameterError(f"{name} is nested too deeply to send.") from exc


def normalize_tools(tools: Sequence[Mapping[str, Any]] | None) -> tuple[dict[str, Any], ...]:
    """Function tools in one neutral shape ``{"name", "description", "parameters"}``."""
    if tools is None:
        return ()
    if isinstance(tools, Mapping | str) or not isinstance(tools, Sequence):
        raise UnsupportedParameterError("tools must be a list of function tool dicts.")
    out: list[dict[str, Any]] = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise UnsupportedParameterError(f"tools[{index}] must be a dict.")
        spec = tool.get("function") if isinstance(tool.get("function"), Mapping) else tool
        assert isinstance(spec, Mapping)
        name = spec.get("name")
        if tool.get("type", "function") != "function" or not isinstance(name, str) or not name:
            raise UnsupportedParameterError(
                f"tools[{index}] must be a function tool with a name, e.g. {{'type': "
                "'function', 'name': 'get_weather', 'parameters': {...}}."
            )
        neutral: dict[str, Any] = {"name": name}
        if spec.get("description") is not None:
            neutral["description"] = spec["description"]
        neutral["parameters"] = spec.get("parameters") or {"type": "object", "properties": {}}
        out.append(neutral)
    _check_json("tools", out)
    return tuple(out)


def build_request(
    provider: Provider,
    base_url: str,
    prompt: Messages,
    *,
    model: str,
    stream: bool = False,
    wire: Wire | None = None,
    reasoning_effort: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    extra_body: Mapping[str, Any] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    store: bool | None = None,
    previous_response_id: str | None = None,
    include_encrypted_reasoning: bool | None = None,
    prompt_cache_key: str | None = None,
) -> ChatRequest:
    """Validate everything and build the wire's request body; nothing is sent here."""
    from . import _wire_chat, _wire_responses

    if not isinstance(model, str) or not model.strip():
        raise UnsupportedParameterError(
            "model must be a non-empty string, e.g. 'grok-4.3' (`grokbook models` lists them)."
        )
    _check_text(model, "model")
    chosen: Wire = wire or provider.default_wire
    if chosen not in WIRES:
        raise UnsupportedParameterError(f"wire must be 'responses' or 'chat'; got {chosen!r}.")
    if chosen not in provider.wires:
        raise UnsupportedParameterError(
            f"Provider {provider.name!r} speaks {' and '.join(provider.wires)} only; "
            f"wire={chosen!r} is not available there."
        )
    messages = normalize_messages(prompt, system, chosen)
    reasoning_effort = catalog.canonical_effort(reasoning_effort)  # "HIGH" is "high"
    validate_effort(model, reasoning_effort)
    _check_number("temperature", temperature, 0, 2)
    _check_number("top_p", top_p, 0, 1)
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0
    ):
        raise UnsupportedParameterError(
            f"max_tokens must be a positive integer; got {max_tokens!r}."
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise UnsupportedParameterError(f"seed must be an integer; got {seed!r}.")
    for name, flag in (
        ("store", store),
        ("include_encrypted_reasoning", include_encrypted_reasoning),
    ):
        if flag is not None and not isinstance(flag, bool):
            raise UnsupportedParameterError(f"{name} must be True or False; got {flag!r}.")
    for name, text in (
        ("previous_response_id", previous_response_id),
        ("prompt_cache_key", prompt_cache_key),
    ):
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise UnsupportedParameterError(f"{name} must be a non-empty string; got {text!r}.")
    if chosen == "chat":
        for name, value in (
            ("store", store),
            ("previous_response_id", previous_response_id),
            ("include_encrypted_reasoning", include_encrypted_reasoning),
            ("prompt_cache_key", prompt_cache_key),
        ):
            if value is not None:
                raise UnsupportedParameterError(
                    f"{name} is a Responses API option; use wire='responses' (xAI), or leave "
                    "it unset on Chat Completions."
                )
    if previous_response_id is not None and messages and messages[0].get("role") == "system":
        raise UnsupportedParameterError(
            "system= cannot be sent with previous_response_id: the stored conversation keeps "
            "its first system prompt. Leave system unset for follow-ups."
        )
    neutral_tools = normalize_tools(tools)
    extras = dict(extra_body or {})
    if extras:
        _check_json("extra_body", extras)
    reserved = ("model", "messages", "input", "stream")
    for name in reserved:
        if name in extras:
            raise UnsupportedParameterError(
                f"extra_body may not set {name!r}; use the named argument instead."
            )

    settings = WireSettings(
        model=provider.wire_model(model),
        reasoning_effort=reasoning_effort,
        temperature=temperature,
        max_tokens=max_tokens,
        top_p=top_p,
        seed=seed,
        stream=stream,
        tools=neutral_tools,
        store=store,
        previous_response_id=previous_response_id,
        include_encrypted_reasoning=include_encrypted_reasoning,
        prompt_cache_key=prompt_cache_key,
    )
    if chosen == "responses":
        body = _wire_responses.build_body(provider, messages, settings)
    else:
        body = _wire_chat.build_body(provider, messages, settings)
    body.update(extras)
    params: dict[str, Any] = {
        "temperature": temperature,
        "max_tokens": max_tokens,
        "top_p": top_p,
        "seed": seed,
    }
    # Only what differs from the defaults, so chat-wire cache keys stay as they were.
    if chosen != "chat":
        params["wire"] = chosen
    if neutral_tools:
        params["tools"] = list(neutral_tools)
    for name, value in (
        ("store", store),
        ("previous_response_id", previous_response_id),
        ("include_encrypted_reasoning", include_encrypted_reasoning),
    ):
        if value is not None:
            params[name] = value
    if extras:
        params["extra_body"] = extras
    return ChatRequest(
        provider=provider,
        base_url=base_url,
        model=model,
        reasoning_effort=reasoning_effort,
        messages=messages,
        body=body,
        params=params,
        stream=stream,
        wire=chosen,
    )


def parse_json_body(content: bytes, status_code: int, secrets: tuple[str, ...] = ()) -> Any:
    """JSON from a 2xx body, or ResponseParseError (e.g. a proxy's HTML page).

    The body's bytes were redacted as they arrived (:meth:`grokbook._pipeline.Policy.scrub`);
    JSON escapes that could spell a secret are looked into here. The error keeps a short
    snippet of the body, with ``secrets`` (the API key) redacted.
    """
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        snippet = redact(content[:200].decode("utf-8", errors="replace"), secrets)
        if isinstance(exc, RecursionError):
            kind = "JSON nested too deeply to read"
        elif snippet.lstrip().startswith("<"):
            kind = "an HTML page"
        else:
            kind = "a body that is not JSON"
        raise ResponseParseError(
            f"The server answered HTTP {status_code} with {kind} instead of the JSON answer "
            "it should send. Check base_url (a proxy or captive portal may be in the way).",
            status_code=status_code,
            snippet=snippet,
        ) from exc
    if secrets and b"\\u" in content:  # an escape may spell a secret the byte scan missed
        return redact_json(data, secrets)
    return data


#: The most one call can plausibly cost, in USD: far above any price in the catalog
#: (2M tokens at $12 per 1M is $24), far below garbage such as 2**70 ticks.
MAX_PLAUSIBLE_COST_USD = 10_000.0


def _plausible_cost(value: Any, field: str, units_per_usd: float) -> float | None:
    """A reported cost in USD, or None (with a warning naming ``field``) when it is not a
    finite number between 0 and :data:`MAX_PLAUSIBLE_COST_USD`."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        usd = float(value) / units_per_usd
    except OverflowError:  # an int too large for a float
        usd = math.inf
    if math.isfinite(usd) and 0.0 <= usd <= MAX_PLAUSIBLE_COST_USD:
        return usd
    warnings.warn(
        f"the server reported {field} = {value!r}, which cannot be right (a cost must be "
        f"between $0 and ${MAX_PLAUSIBLE_COST_USD:,.0f}); the catalog price is used instead",
        ImplausibleUsageWarning,
        stacklevel=3,
    )
    return None


def compute_cost(
    raw_usage: Mapping[str, Any] | None,
    usage: Usage,
    served_model: str,
    asked_model: str,
    *,
    created_at: float | None = None,
) -> float | None:
    """USD cost: the server's ``cost_in_usd_ticks`` when sent (1 USD = 1e10 ticks), else the
    catalog prices of the model that answered (else the one asked for), else None.

    The fallback reproduces xAI's bills (tests/real): tokens at the list prices (cached input
    at the cached price, the whole request at the long-context prices once the prompt reaches
    the threshold), plus each billed server-side tool call's fee
    (:data:`grokbook.catalog.TOOL_FEES`; an unknown fee makes the cost unknown). A retired id
    answered by its successor at ``created_at`` (the response's time) is priced at the
    successor (:func:`grokbook.catalog.answered_by`)."""
    if isinstance(raw_usage, Mapping):
        ticks = _plausible_cost(raw_usage.get("cost_in_usd_ticks"), "usage.cost_in_usd_ticks", 1e10)
        if ticks is not None:
            return ticks
        # OpenRouter reports dollars directly.
        cost = _plausible_cost(raw_usage.get("cost"), "usage.cost", 1.0)
        if cost is not None:
            return cost
    record = catalog.get(served_model) or catalog.get(asked_model)
    if record is None:
        return None
    record = catalog.answered_by(record.id, created_at) or record
    tokens = record.cost_usd(
        prompt_tokens=usage.prompt_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens,
        output_tokens=usage.output_tokens,
    )
    fees = catalog.tool_fees_usd(usage.server_side_tool_calls)
    return None if tokens is None or fees is None else tokens + fees


def bad_shape(
    what: str, status_code: int, data: Any, secrets: tuple[str, ...]
) -> ResponseParseError:
    """The error for a 2xx JSON body of the wrong shape (its snippet redacted)."""
    try:
        text = data[:200] if isinstance(data, str) else json.dumps(data)[:200]
    except (TypeError, ValueError, RecursionError):
        text = repr(data)[:200]
    return ResponseParseError(
        f"The server's response is not a chat completion ({what}).",
        status_code=status_code,
        snippet=redact(text, secrets),
    )


def unprefixed(model: str) -> str:
    """A reseller's ``x-ai/`` prefix removed."""
    return model.split("/", 1)[1] if model.lower().startswith("x-ai/") else model


def effort_used(request: ChatRequest, reported: Any = None) -> str | None:
    """The effort the model applied: the one sent, else the one the response reports, else
    the catalog's default for the model (never the word "default")."""
    if request.reasoning_effort is not None:
        return request.reasoning_effort
    if isinstance(reported, str) and reported:
        return reported
    return default_effort_for(request.model)


def default_effort_for(model: str) -> str | None:
    """The effort ``model`` applies when a request names none (a retired id: the one its
    successor applies to it), or None when the catalog does not know."""
    record = catalog.get(model)
    if record is None:
        return None
    if record.retired and record.served_effort:
        return record.served_effort
    return record.default_effort


def effort_label(model: Any, stored: Any, status: Any = "ok") -> str:
    """The effort to show for a logged call: the one sent, else (for an answered call) the
    default the model applied when the catalog knows it, else "default"."""
    if isinstance(stored, str) and stored and stored != "default":
        return stored
    if status == "ok" and isinstance(model, str):
        return default_effort_for(model) or "default"
    return "default"


def describe_error(exc: BaseException) -> str:
    """A short, user-facing one-liner for any error (used by displays and sweep rows)."""
    if isinstance(exc, APIError) and exc.retries:
        return f"{exc} (after {exc.retries} retries)"
    return str(exc)
