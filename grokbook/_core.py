"""The one implementation of request building and response parsing that Client and
AsyncClient share (they differ only in how bytes move). Everything here is pure.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .errors import (
    APIError,
    IncompleteStreamError,
    ResponseParseError,
    UnsupportedParameterError,
    make_status_error,
    redact,
)
from .providers import Provider
from .result import Completion, StreamEvent, Usage

__all__ = [
    "ChatRequest",
    "StreamAccumulator",
    "build_request",
    "compute_cost",
    "parse_completion",
    "parse_json_body",
]

Messages = str | Sequence[Mapping[str, Any]]

_VALID_ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})


@dataclass(frozen=True)
class ChatRequest:
    """A validated request, ready to send (the key is added by the client at send time)."""

    provider: Provider
    base_url: str
    model: str
    reasoning_effort: str | None
    messages: tuple[dict[str, Any], ...]
    body: dict[str, Any]
    #: The parameters that change the answer (for the run log and the cache key).
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


def normalize_messages(prompt: Messages, system: str | None) -> tuple[dict[str, Any], ...]:
    """A prompt string or a messages list, validated, as a tuple of message dicts."""
    if isinstance(prompt, str):
        if not prompt.strip():
            raise UnsupportedParameterError(
                "The prompt is empty. Pass the question as a non-empty string "
                "or a list of {'role': ..., 'content': ...} messages."
            )
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
            role = message.get("role")
            if role not in _VALID_ROLES:
                raise UnsupportedParameterError(
                    f"messages[{index}] has role {role!r}; use one of "
                    f"{', '.join(sorted(_VALID_ROLES))}."
                )
            if "content" not in message:
                raise UnsupportedParameterError(f"messages[{index}] has no 'content'.")
            messages.append(dict(message))
        last_text = messages[-1].get("content")
        if isinstance(last_text, str) and not last_text.strip() and len(messages) == 1:
            raise UnsupportedParameterError("The prompt is empty.")
    else:
        raise UnsupportedParameterError(
            f"prompt must be a string or a list of messages, not {type(prompt).__name__}."
        )
    if system is not None:
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


def build_request(
    provider: Provider,
    base_url: str,
    prompt: Messages,
    *,
    model: str,
    reasoning_effort: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    stream: bool = False,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """Validate everything and build the provider's request body; nothing is sent here."""
    if not isinstance(model, str) or not model.strip():
        raise UnsupportedParameterError(
            "model must be a non-empty string, e.g. 'grok-3-mini-beta'."
        )
    messages = normalize_messages(prompt, system)
    validate_effort(model, reasoning_effort)
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise UnsupportedParameterError(f"temperature must be a number, not {temperature!r}.")
        if not (0 <= temperature <= 2) or math.isnan(temperature):
            raise UnsupportedParameterError(
                f"temperature must be between 0 and 2; got {temperature}."
            )
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, int | float) or not 0 <= top_p <= 1
    ):
        raise UnsupportedParameterError(f"top_p must be between 0 and 1; got {top_p!r}.")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0
    ):
        raise UnsupportedParameterError(
            f"max_tokens must be a positive integer; got {max_tokens!r}."
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise UnsupportedParameterError(f"seed must be an integer; got {seed!r}.")

    body: dict[str, Any] = {"model": provider.wire_model(model), "messages": list(messages)}
    if temperature is not None:
        body["temperature"] = temperature
    if top_p is not None:
        body["top_p"] = top_p
    if max_tokens is not None:
        body[provider.max_tokens_field] = max_tokens
    if seed is not None:
        body["seed"] = seed
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    body = provider.build_body(provider, body, reasoning_effort)
    extras = dict(extra_body or {})
    for reserved in ("model", "messages", "stream"):
        if reserved in extras:
            raise UnsupportedParameterError(
                f"extra_body may not set {reserved!r}; use the named argument instead."
            )
    body.update(extras)
    params: dict[str, Any] = {
        "temperature": temperature,
        "max_tokens": max_tokens,
        "top_p": top_p,
        "seed": seed,
    }
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
    )


def parse_json_body(content: bytes, status_code: int, secrets: tuple[str, ...] = ()) -> Any:
    """JSON from a 2xx body, or ResponseParseError (e.g. a proxy's HTML page).

    The error keeps a short snippet of the body, with ``secrets`` (the API key) redacted.
    """
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = redact(content[:200].decode("utf-8", errors="replace"), secrets)
        kind = "an HTML page" if snippet.lstrip().startswith("<") else "a body that is not JSON"
        raise ResponseParseError(
            f"The server answered HTTP {status_code} with {kind} instead of a chat completion. "
            "Check base_url (a proxy or captive portal may be in the way).",
            status_code=status_code,
            snippet=snippet,
        ) from exc


def compute_cost(
    raw_usage: Mapping[str, Any] | None, usage: Usage, served_model: str, asked_model: str
) -> float | None:
    """USD cost: the server's ``cost_in_usd_ticks`` when sent (1 USD = 1e10 ticks), else the
    catalog prices of the model that answered (else the one asked for), else None."""
    if isinstance(raw_usage, Mapping):
        ticks = raw_usage.get("cost_in_usd_ticks")
        if isinstance(ticks, int | float) and not isinstance(ticks, bool):
            return float(ticks) / 1e10
        # OpenRouter reports dollars directly.
        cost = raw_usage.get("cost")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            return float(cost)
    record = catalog.get(served_model) or catalog.get(asked_model)
    if record is None:
        return None
    return record.cost_usd(
        prompt_tokens=usage.prompt_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens,
        output_tokens=usage.output_tokens,
    )


def _reasoning_text(provider: Provider, message: Mapping[str, Any]) -> str | None:
    for name in provider.reasoning_fields:
        value = message.get(name)
        if isinstance(value, str):
            return value
    return None


def _bad_shape(what: str, status_code: int, data: Any) -> ResponseParseError:
    snippet = json.dumps(data)[:200] if not isinstance(data, str) else data[:200]
    return ResponseParseError(
        f"The server's response is not a chat completion ({what}).",
        status_code=status_code,
        snippet=snippet,
    )


def parse_completion(
    request: ChatRequest, data: Any, *, latency_s: float, status_code: int = 200
) -> Completion:
    """A Completion from a non-streamed 2xx body."""
    if not isinstance(data, dict):
        raise _bad_shape("not a JSON object", status_code, data)
    if "error" in data and "choices" not in data:
        # Some proxies answer 200 with an error object.
        raise make_status_error(502, json.dumps(data).encode())
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _bad_shape("no choices", status_code, data)
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise _bad_shape("no message in the first choice", status_code, data)
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise _bad_shape("message content is not text", status_code, data)
    raw_usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
    usage = request.provider.read_usage(request.provider, raw_usage)
    served_value = data.get("model")
    served = served_value if isinstance(served_value, str) else request.model
    return Completion(
        content=content or "",
        reasoning=_reasoning_text(request.provider, message),
        model=_unprefixed(served),
        requested_model=request.model,
        reasoning_effort=request.reasoning_effort,
        usage=usage,
        latency_s=latency_s,
        cost_usd=compute_cost(raw_usage, usage, served, request.model),
        id=data.get("id") if isinstance(data.get("id"), str) else None,
        provider=request.provider.name,
        raw=data,
        finish_reason=choices[0].get("finish_reason"),
        system_fingerprint=data.get("system_fingerprint"),
        messages=request.messages,
        params=request.params,
    )


def _unprefixed(model: str) -> str:
    return model.split("/", 1)[1] if model.lower().startswith("x-ai/") else model


class StreamAccumulator:
    """Turns decoded SSE payloads into StreamEvents and, at the end, one Completion."""

    def __init__(self, request: ChatRequest, started: float) -> None:
        self.request = request
        self.started = started
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.done = False
        self.finish_reason: str | None = None
        self.raw_usage: dict[str, Any] | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self.chunks = 0
        self.first_token_s: float | None = None

    def feed(self, payload: str) -> list[StreamEvent]:
        """One SSE data payload in; the events it carries out."""
        if payload.strip() == "[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(payload)
        except ValueError as exc:
            raise self.incomplete(
                "The stream carried a chunk that is not JSON; the answer so far is kept "
                "on this error (partial_content)."
            ) from exc
        if not isinstance(chunk, dict):
            raise self.incomplete("The stream carried a chunk that is not a JSON object.")
        if "error" in chunk and not chunk.get("choices"):
            err = make_status_error(502, payload.encode())
            raise IncompleteStreamError(
                f"The provider reported an error mid-stream: {err.server_message or err}",
                partial_content="".join(self.content),
                partial_reasoning="".join(self.reasoning),
            )
        self.chunks += 1
        if isinstance(chunk.get("id"), str):
            self.id = chunk["id"]
        if isinstance(chunk.get("model"), str):
            self.model = chunk["model"]
        if isinstance(chunk.get("system_fingerprint"), str):
            self.system_fingerprint = chunk["system_fingerprint"]
        if isinstance(chunk.get("usage"), dict):
            self.raw_usage = chunk["usage"]
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta, dict):
                reasoning = _reasoning_text(self.request.provider, delta)
                if reasoning:
                    self.reasoning.append(reasoning)
                    events.append(StreamEvent("reasoning", reasoning))
                text = delta.get("content")
                if isinstance(text, str) and text:
                    self.content.append(text)
                    events.append(StreamEvent("content", text))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if events and self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.started
        return events

    def incomplete(self, message: str) -> IncompleteStreamError:
        return IncompleteStreamError(
            message,
            partial_content="".join(self.content),
            partial_reasoning="".join(self.reasoning),
        )

    def finish(self) -> Completion:
        """The Completion, or IncompleteStreamError when the stream never ended properly."""
        if not self.done:
            got = len("".join(self.content))
            raise self.incomplete(
                f"The stream ended before [DONE] after {self.chunks} chunks ({got} characters "
                "of answer); the partial answer is on this error as partial_content. "
                "Streams are not retried once started: call again."
            )
        usage = self.request.provider.read_usage(self.request.provider, self.raw_usage)
        served = self.model or self.request.model
        reasoning = "".join(self.reasoning)
        raw: dict[str, Any] = {
            "id": self.id,
            "model": self.model,
            "system_fingerprint": self.system_fingerprint,
            "usage": self.raw_usage,
            "finish_reason": self.finish_reason,
            "streamed": True,
        }
        return Completion(
            content="".join(self.content),
            reasoning=reasoning if reasoning else None,
            model=_unprefixed(served),
            requested_model=self.request.model,
            reasoning_effort=self.request.reasoning_effort,
            usage=usage,
            latency_s=time.perf_counter() - self.started,
            cost_usd=compute_cost(self.raw_usage, usage, served, self.request.model),
            id=self.id,
            provider=self.request.provider.name,
            raw=raw,
            finish_reason=self.finish_reason,
            system_fingerprint=self.system_fingerprint,
            messages=self.request.messages,
            params=self.request.params,
        )


def describe_error(exc: BaseException) -> str:
    """A short, user-facing one-liner for any error (used by displays and sweep rows)."""
    if isinstance(exc, APIError) and exc.retries:
        return f"{exc} (after {exc.retries} retries)"
    return str(exc)
