"""The Chat Completions wire (``POST /chat/completions``): body, response and stream chunks.

Spoken by xAI (the spring-2025 path: grok-3-mini's ``reasoning_content``), AI/ML API,
OpenRouter and any OpenAI-compatible server. Pure: no I/O.

Stream: ``data: {chunk}`` lines with ``choices[0].delta`` (``reasoning_content`` /
``reasoning``, ``content``, ``tool_calls`` pieces), a last chunk with ``choices: []`` and
``usage``, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._core import ChatRequest, WireSettings, bad_shape
from ._wire import (
    Parts,
    StreamState,
    WrongShape,
    assemble,
    listed,
    load_payload,
    mapping_or_none,
    text_or_none,
)
from .errors import make_status_error, redact
from .providers import Provider
from .result import Completion, EventKind, StreamEvent, ToolCall

__all__ = ["Stream", "build_body", "parse"]


def build_body(
    provider: Provider, messages: tuple[dict[str, Any], ...], settings: WireSettings
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": settings.model, "messages": list(messages)}
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.top_p is not None:
        body["top_p"] = settings.top_p
    if settings.max_tokens is not None:
        body[provider.max_tokens_field] = settings.max_tokens
    if settings.seed is not None:
        body["seed"] = settings.seed
    if settings.tools:
        body["tools"] = [{"type": "function", "function": dict(t)} for t in settings.tools]
    if settings.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return provider.build_body(provider, body, settings.reasoning_effort)


def _reasoning_text(provider: Provider, message: Mapping[str, Any]) -> str | None:
    for name in provider.reasoning_fields:
        value = message.get(name)
        if isinstance(value, str):
            return value
    return None


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
    calls = []
    for call in listed(message.get("tool_calls"), "message.tool_calls"):
        if not isinstance(call, Mapping):
            continue
        function = call.get("function") if isinstance(call.get("function"), Mapping) else {}
        assert isinstance(function, Mapping)
        name = function.get("name")
        arguments = function.get("arguments")
        if isinstance(name, str):
            calls.append(
                ToolCall(
                    id=str(call.get("id") or ""),
                    name=name,
                    arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
                )
            )
    return calls


def _header(parts: Parts, data: Mapping[str, Any]) -> None:
    """The fields every chunk may repeat (the last value wins)."""
    value = data.get("id")
    if isinstance(value, str):
        parts.id = value
    value = data.get("model")
    if isinstance(value, str):
        parts.model = value
    value = data.get("system_fingerprint")
    if isinstance(value, str):
        parts.system_fingerprint = value
    value = data.get("created")
    if isinstance(value, int | float) and not isinstance(value, bool):
        parts.created_at = value
    value = data.get("usage")
    if isinstance(value, dict):
        parts.raw_usage = value
    citations = data.get("citations")
    if citations is not None:
        for url in listed(citations, "citations"):
            parts.cite(url.get("url") if isinstance(url, Mapping) else url)


def parse(
    request: ChatRequest,
    data: Any,
    *,
    latency_s: float,
    status_code: int = 200,
    secrets: tuple[str, ...] = (),
) -> Completion:
    """A Completion from a non-streamed 2xx body."""
    if not isinstance(data, dict):
        raise bad_shape("not a JSON object", status_code, data, secrets)
    if "error" in data and "choices" not in data:
        # Some proxies answer 200 with an error object.
        raise make_status_error(502, json.dumps(data).encode(), secrets=secrets)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise bad_shape("no choices", status_code, data, secrets)
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise bad_shape("no message in the first choice", status_code, data, secrets)
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise bad_shape("message content is not text", status_code, data, secrets)
    parts = Parts(content=[content or ""])
    try:
        parts.finish_reason = text_or_none(choices[0].get("finish_reason"), "finish_reason")
        _header(parts, data)
        reasoning = _reasoning_text(request.provider, message)
        if reasoning:
            parts.reasoning.append(reasoning)
        parts.tool_calls.extend(_tool_calls(message))
    except WrongShape as exc:
        raise bad_shape(str(exc), status_code, data, secrets) from None
    return assemble(request, parts, latency_s=latency_s, raw=data)


class Stream(StreamState):
    """Chat Completions chunks in, StreamEvents out."""

    END_MARKER = "[DONE]"

    def __init__(self, request: ChatRequest, started: float, secrets: tuple[str, ...] = ()):
        super().__init__(request, started, secrets)
        #: Tool calls arrive in pieces keyed by index: id and name first, arguments in parts.
        self._tools: dict[int, dict[str, str]] = {}
        self._reasoning_fields = request.provider.reasoning_fields

    def feed(self, payload: str) -> list[StreamEvent]:
        """One SSE data payload in; the events it carries out.

        The hot path of a stream (once per token): one ``json.loads`` and a few dict reads.
        """
        if self.done:
            return []  # nothing after [DONE] counts
        if payload[:1] != "{" and payload.strip() == "[DONE]":
            self.done = True
            self.progress += 1
            self._close_tools()
            return self._release()
        chunk = load_payload(payload, self)
        # Inline, one frame per token: the type checks (a reader is called only for a wrong
        # type, to raise WrongShape) and the redaction step bound once (StreamState.shown).
        try:
            choices = chunk.get("choices")
            if not choices and "error" in chunk:
                raise self.server_error(chunk)
            self.chunks += 1
            parts = self.parts
            _header(parts, chunk)
            events: list[StreamEvent] = []
            if type(choices) is not list:
                choices = listed(choices, "choices")
            shown = self.shown
            changed = False
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta")
                if delta is not None and type(delta) is not dict:
                    delta = mapping_or_none(delta, "choices[].delta")
                if delta:
                    for name in self._reasoning_fields:
                        reasoning = delta.get(name)
                        if isinstance(reasoning, str):
                            if reasoning:
                                changed = True
                                reasoning = shown("reasoning", reasoning)
                            if reasoning:
                                parts.reasoning.append(reasoning)
                                events.append(StreamEvent("reasoning", reasoning))
                            break
                    text = delta.get("content")
                    if text is not None and type(text) is not str:
                        text = text_or_none(text, "delta.content")
                    if text:
                        changed = True
                        text = shown("content", text)
                        if text:
                            parts.content.append(text)
                            events.append(StreamEvent("content", text))
                    pieces = delta.get("tool_calls")
                    if pieces is not None:
                        changed = self._tool_pieces(listed(pieces, "delta.tool_calls")) or changed
                finish = choice.get("finish_reason")
                if finish is not None and type(finish) is not str:
                    finish = text_or_none(finish, "finish_reason")
                if finish:
                    parts.finish_reason = finish
                    changed = True
            if changed or chunk.get("usage") or chunk.get("citations"):
                self.progress += 1
                if events and self.first_token_s is None:
                    self.emitted(events)
            return events
        except WrongShape as exc:
            raise self.wrong_shape(exc, payload) from None

    def _tool_pieces(self, pieces: list[Any]) -> bool:
        """Add tool-call pieces to their slots; whether there were any."""
        for piece in pieces:
            if not isinstance(piece, Mapping):
                continue
            index = piece.get("index", len(self._tools))
            slot = self._tools.setdefault(
                index if isinstance(index, int) else len(self._tools),
                {"id": "", "name": "", "arguments": ""},
            )
            if isinstance(piece.get("id"), str):
                slot["id"] = piece["id"]
            function = piece.get("function")
            if isinstance(function, Mapping):
                if isinstance(function.get("name"), str):
                    slot["name"] += function["name"]
                if isinstance(function.get("arguments"), str):
                    slot["arguments"] += function["arguments"]
        return bool(pieces)

    def _close_tools(self) -> None:
        secrets = self.secrets
        for _, slot in sorted(self._tools.items()):
            if slot["name"]:
                if secrets:  # pieces joined here: a secret split across them is whole now
                    slot = {name: redact(value, secrets) for name, value in slot.items()}
                self.parts.tool_calls.append(
                    ToolCall(id=slot["id"], name=slot["name"], arguments=slot["arguments"])
                )
        self._tools.clear()

    def _release(self) -> list[StreamEvent]:
        """The end of the stream: the ends of the reasoning and the answer held back."""
        events = []
        ends: tuple[tuple[EventKind, list[str]], ...] = (
            ("reasoning", self.parts.reasoning),
            ("content", self.parts.content),
        )
        for kind, fragments in ends:
            rest = self.release(kind)
            if rest:
                fragments.append(rest)
                events.append(StreamEvent(kind, rest))
        return events

    def raw(self) -> dict[str, Any]:
        parts = self.parts
        return {
            "id": parts.id,
            "model": parts.model,
            "system_fingerprint": parts.system_fingerprint,
            "usage": parts.raw_usage,
            "finish_reason": parts.finish_reason,
            "streamed": True,
        }
