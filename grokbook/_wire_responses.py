"""xAI's Responses wire (``POST /responses``), the one xAI recommends: body, response, events.

Request mapping from grokbook's options (the same for every model)::

    messages            -> input (role/content items; typed items passed back unchanged)
    system=             -> instructions (not with previous_response_id: the stored
                           conversation keeps its first system prompt)
    max_tokens          -> max_output_tokens (documented as answer plus reasoning; real
                           grok-4.3 / grok-4.5 replies came back completed past it:
                           tests/real 04, 05, 13)
    reasoning_effort    -> reasoning: {"effort": ...}
    tools               -> [{"type": "function", "name", "description", "parameters"}]
    store, previous_response_id, prompt_cache_key -> as named
    include_encrypted_reasoning -> include: ["reasoning.encrypted_content"]
    seed                -> metadata: {"grokbook_seed": "..."} (the Responses API has no seed;
                           xAI accepts metadata for compatibility and ignores it; the
                           simulator seeds its draws from the whole request)

The response's ``output`` is a list of typed items: ``reasoning`` (``summary`` texts, raw
``content`` texts on models that send them, ``encrypted_content``), ``message`` (``output_text``
parts with ``annotations``), ``function_call``, and server-side tool calls
(``web_search_call``, ``x_search_call``, ``code_interpreter_call``, ``mcp_call``, ...).

Stream: ``event:``/``data:`` pairs whose data carries ``type``; grokbook reads
``response.created``, ``response.reasoning_summary_text.delta``, ``response.reasoning_text.delta``,
``response.output_text.delta``, ``response.output_text.annotation.added``,
``response.output_item.done``, ``response.completed`` / ``response.incomplete`` (the whole
response with usage), ``response.failed`` and ``error``; unknown types are ignored.
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
from .errors import make_status_error
from .providers import Provider
from .result import Completion, StreamEvent, ToolCall

__all__ = ["Stream", "build_body", "parse"]

#: The ``include`` value that asks for the encrypted reasoning.
ENCRYPTED_REASONING = "reasoning.encrypted_content"


def _input_item(message: Mapping[str, Any]) -> dict[str, Any]:
    if "role" not in message:
        return dict(message)  # a typed item of an earlier response, passed back unchanged
    if message["role"] == "tool":
        return {
            "type": "function_call_output",
            "call_id": str(message.get("tool_call_id") or ""),
            "output": message["content"]
            if isinstance(message["content"], str)
            else json.dumps(message["content"]),
        }
    return {"role": message["role"], "content": message["content"]}


def build_body(
    provider: Provider, messages: tuple[dict[str, Any], ...], settings: WireSettings
) -> dict[str, Any]:
    items = list(messages)
    body: dict[str, Any] = {"model": settings.model}
    first = items[0] if items else None
    if first is not None and first.get("role") == "system" and isinstance(first["content"], str):
        body["instructions"] = first["content"]
        items = items[1:]
    body["input"] = [_input_item(m) for m in items]
    if settings.reasoning_effort is not None:
        body["reasoning"] = {"effort": settings.reasoning_effort}
    if settings.max_tokens is not None:
        body["max_output_tokens"] = settings.max_tokens
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.top_p is not None:
        body["top_p"] = settings.top_p
    if settings.seed is not None:
        body["metadata"] = {"grokbook_seed": str(settings.seed)}
    if settings.tools:
        body["tools"] = [{"type": "function", **t} for t in settings.tools]
    if settings.store is not None:
        body["store"] = settings.store
    if settings.previous_response_id is not None:
        body["previous_response_id"] = settings.previous_response_id
    if settings.include_encrypted_reasoning:
        body["include"] = [ENCRYPTED_REASONING]
    if settings.prompt_cache_key is not None:
        body["prompt_cache_key"] = settings.prompt_cache_key
    if settings.stream:
        body["stream"] = True
    return body


def _texts(items: Any, kind: str, what: str) -> list[str]:
    texts = []
    for part in listed(items, what):
        if isinstance(part, Mapping) and part.get("type") == kind:
            text = text_or_none(part.get("text"), f"a {kind}'s text")
            if text is not None:
                texts.append(text)
    return texts


def _annotations(parts: Parts, annotations: Any) -> None:
    for note in listed(annotations, "annotations"):
        if isinstance(note, Mapping):
            parts.cite(note.get("url"))


def _tool_call(item: Mapping[str, Any]) -> ToolCall | None:
    name = item.get("name")
    if not isinstance(name, str):
        return None
    arguments = item.get("arguments")
    return ToolCall(
        id=str(item.get("call_id") or item.get("id") or ""),
        name=name,
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
    )


def _append_paragraphs(fragments: list[str], texts: list[str]) -> None:
    """Append whole texts to a list of fragments that is joined with ``""``."""
    for text in texts:
        if fragments:
            fragments.append("\n\n")
        fragments.append(text)


def _read_item(parts: Parts, item: Any, *, texts: bool = True) -> None:
    """Add one output item to ``parts`` (``texts=False``: its text came as deltas already)."""
    if not isinstance(item, Mapping):
        return
    kind = item.get("type")
    if kind == "message":
        for part in listed(item.get("content"), "a message's content"):
            if not isinstance(part, Mapping) or not texts:
                continue
            if part.get("type") == "output_text":
                text = text_or_none(part.get("text"), "an output_text's text")
                if text is not None:
                    parts.content.append(text)
            _annotations(parts, part.get("annotations"))
    elif kind == "reasoning":
        reasoning = _texts(item.get("content"), "reasoning_text", "a reasoning item's content")
        summary = _texts(item.get("summary"), "summary_text", "a reasoning item's summary")
        if texts:
            _append_paragraphs(parts.reasoning, reasoning)
            _append_paragraphs(parts.summary, summary)
        parts.reasoning_items.append(dict(item))
    elif kind == "function_call":
        call = _tool_call(item)
        if call is not None:
            parts.tool_calls.append(call)
    elif isinstance(kind, str) and kind.endswith("_call"):
        parts.server_tool_calls.append(dict(item))


def _finish_reason(data: Mapping[str, Any], parts: Parts) -> str | None:
    status = data.get("status")
    if status == "incomplete":
        details = data.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return "length" if reason in (None, "max_output_tokens") else str(reason)
    if parts.tool_calls:
        return "tool_calls"
    return "stop" if status in (None, "completed") else str(status)


def _read_header(parts: Parts, data: Mapping[str, Any]) -> None:
    if isinstance(data.get("id"), str):
        parts.id = data["id"]
    if isinstance(data.get("model"), str):
        parts.model = data["model"]
    if isinstance(data.get("usage"), dict):
        parts.raw_usage = data["usage"]
    created = data.get("created_at")
    if isinstance(created, int | float) and not isinstance(created, bool):
        parts.created_at = created
    # xAI sends the fingerprint in metadata (tests/real 04, 13, 16); read the top level too.
    metadata = data.get("metadata")
    for holder in (metadata if isinstance(metadata, Mapping) else {}, data):
        fingerprint = holder.get("system_fingerprint")
        if isinstance(fingerprint, str) and fingerprint:
            parts.system_fingerprint = fingerprint
            break
    reasoning = data.get("reasoning")
    if isinstance(reasoning, Mapping) and isinstance(reasoning.get("effort"), str):
        parts.reported_effort = reasoning["effort"]
    for url in listed(data.get("citations"), "citations"):
        parts.cite(url.get("url") if isinstance(url, Mapping) else url)


def _failure(data: Mapping[str, Any]) -> bytes:
    error = data.get("error")
    body = {"error": error} if error is not None else dict(data)
    return json.dumps(body).encode()


def parse(
    request: ChatRequest,
    data: Any,
    *,
    latency_s: float,
    status_code: int = 200,
    secrets: tuple[str, ...] = (),
) -> Completion:
    """A Completion from a non-streamed 2xx ``ModelResponse`` body."""
    if not isinstance(data, dict):
        raise bad_shape("not a JSON object", status_code, data, secrets)
    if data.get("status") == "failed" or ("error" in data and "output" not in data):
        raise make_status_error(502, _failure(data), secrets=secrets)
    output = data.get("output")
    if not isinstance(output, list):
        raise bad_shape("no output list", status_code, data, secrets)
    parts = Parts()
    try:
        _read_header(parts, data)
        for item in output:
            _read_item(parts, item)
    except WrongShape as exc:
        raise bad_shape(str(exc), status_code, data, secrets) from None
    parts.finish_reason = _finish_reason(data, parts)
    return assemble(request, parts, latency_s=latency_s, raw=data)


#: The events whose ``delta`` is answer or reasoning text.
_TEXT_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.reasoning_text.delta",
        "response.reasoning_summary_text.delta",
    }
)


class Stream(StreamState):
    """Responses streaming events in, StreamEvents out."""

    END_MARKER = "response.completed"

    def __init__(self, request: ChatRequest, started: float, secrets: tuple[str, ...] = ()):
        super().__init__(request, started, secrets)
        self._final: dict[str, Any] = {}
        self._summary_index: tuple[Any, Any] | None = None
        self._last_number = -1

    def feed(self, payload: str) -> list[StreamEvent]:
        if self.done:
            return []  # nothing after response.completed / response.incomplete counts
        if payload[:1] != "{" and payload.strip() in ("", "[DONE]"):
            # xAI's spec says a Responses stream may end with `data: [DONE]` (after
            # response.completed, which is what ends it here): nothing to read in it.
            return []
        event = load_payload(payload, self)
        # Inline, one frame per token: the type checks (a reader is called only for a wrong
        # type, to raise WrongShape).
        try:
            kind = event.get("type")
            if kind is not None and type(kind) is not str:
                kind = text_or_none(kind, "an event's type")
            self.chunks += 1
            number = event.get("sequence_number")
            if type(number) is int:
                if number <= self._last_number:
                    return []  # an event sent again (xAI numbers its events 0, 1, 2, ...)
                self._last_number = number
            if kind != "response.in_progress":  # a restatement, not progress (idle limit)
                self.progress += 1
            parts = self.parts
            events: list[StreamEvent] = []
            if kind in _TEXT_DELTAS:
                text = event.get("delta")
                if text is not None and type(text) is not str:
                    text = text_or_none(text, f"{kind}'s delta")
                if not text:
                    pass
                elif kind == "response.output_text.delta":
                    text = self.shown("content", text)
                    if text:
                        parts.content.append(text)
                        events.append(StreamEvent("content", text))
                elif kind == "response.reasoning_text.delta":
                    text = self.shown("reasoning", text)
                    if text:
                        parts.reasoning.append(text)
                        events.append(StreamEvent("reasoning", text))
                else:
                    index = (event.get("item_id"), event.get("summary_index"))
                    if self._summary_index is not None and index != self._summary_index:
                        self._summary_piece(self.release("summary"), events)  # a part ended
                        parts.summary.append("\n\n")
                    self._summary_index = index
                    self._summary_piece(self.shown("summary", text), events)
            elif kind in ("response.created", "response.in_progress"):
                response = event.get("response")
                if isinstance(response, Mapping):
                    _read_header(parts, response)
            elif kind == "response.output_text.annotation.added":
                note = mapping_or_none(event.get("annotation"), f"{kind}'s annotation")
                _annotations(parts, [note])
            elif kind == "response.output_item.done":
                item = mapping_or_none(event.get("item"), f"{kind}'s item")
                _read_item(parts, item, texts=False)
            elif kind in ("response.completed", "response.incomplete"):
                response = mapping_or_none(event.get("response"), f"{kind}'s response")
                if response is None:
                    raise WrongShape(f"{kind} carried no response object")
                self._complete(response, events)
            elif kind == "response.failed":
                response = event.get("response")
                error = response.get("error") if isinstance(response, Mapping) else None
                raise self.server_error({"error": error} if error is not None else event)
            elif kind == "error":
                raise self.server_error(event)
            return self.emitted(events)
        except WrongShape as exc:
            raise self.wrong_shape(exc, payload) from None

    def _summary_piece(self, text: str, events: list[StreamEvent]) -> None:
        if text:
            self.parts.summary.append(text)
            # The summary is the reasoning shown, unless the model streams its raw text.
            if not self.parts.reasoning:
                events.append(StreamEvent("reasoning", text))

    def _complete(self, response: Mapping[str, Any], events: list[StreamEvent]) -> None:
        """The final response: the truth for the answer's text, usage, ids and items (the
        deltas were a preview: one lost or sent twice on the way changes nothing here)."""
        parts = self.parts
        # What the redactor held back ends the live answer (the final text replaces it).
        for kind, fragments in (("reasoning", parts.reasoning), ("content", parts.content)):
            rest = self.release(kind)
            if rest:
                fragments.append(rest)
                events.append(StreamEvent("content" if kind == "content" else "reasoning", rest))
        self._summary_piece(self.release("summary"), events)
        _read_header(parts, response)
        output = listed(response.get("output"), "the final response's output")
        final = Parts()
        for item in output:
            _read_item(final, item)
        # Items the stream already delivered (output_item.done) are replaced by the final list.
        if final.reasoning_items or final.tool_calls or final.server_tool_calls:
            parts.reasoning_items = final.reasoning_items
            parts.tool_calls = final.tool_calls
            parts.server_tool_calls = final.server_tool_calls
        # A final response that lists its message holds the answer's text; one without any
        # (a server that omits output here) leaves the streamed text as it is.
        if any(isinstance(item, Mapping) and item.get("type") == "message" for item in output):
            parts.content = final.content
        if final.reasoning:
            parts.reasoning = final.reasoning
        if final.summary:
            parts.summary = final.summary
        for url in final.citations:
            parts.cite(url)
        parts.finish_reason = _finish_reason(response, parts)
        self._final = dict(response)
        self.done = True

    def raw(self) -> dict[str, Any]:
        return {**self._final, "streamed": True}
