"""What the two wire protocols share: the Completion they assemble and the stream state they
accumulate. Pure: no I/O, no clock but ``time.perf_counter`` for latencies.

A wire is a module with ``build_body(provider, messages, settings)``,
``parse(request, data, latency_s=..., status_code=..., secrets=...)`` and a ``Stream(request,
started, secrets)`` state that is fed SSE payloads and ``finish()``-ed into a Completion.
:func:`wire_for` picks the module for a request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from . import catalog
from ._core import ChatRequest, compute_cost, effort_used, unprefixed
from .errors import (
    IncompleteStreamError,
    PieceRedactor,
    StreamParseError,
    make_status_error,
    redact,
    redact_json,
    spellings,
)
from .result import Completion, StreamEvent, ToolCall

__all__ = [
    "Parts",
    "StreamState",
    "WrongShape",
    "assemble",
    "listed",
    "load_payload",
    "mapping_or_none",
    "text_or_none",
    "wire_for",
]


def wire_for(request: ChatRequest) -> ModuleType:
    """The protocol module for ``request.wire``."""
    from . import _wire_chat, _wire_responses

    return _wire_responses if request.wire == "responses" else _wire_chat


class WrongShape(Exception):
    """A field a wire reads has the wrong JSON type (``citations: 5``). The readers raise it;
    ``parse`` turns it into ResponseParseError, a stream into StreamParseError (with the
    partial answer), so a server's garbage never escapes as a TypeError."""


_JSON_TYPE_NAMES = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}


def _json_type(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def listed(value: Any, what: str) -> list[Any]:
    """A list field: the list, ``[]`` when absent or null, else :class:`WrongShape`."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    raise WrongShape(f"{what} is {_json_type(value)}, not a list")


def text_or_none(value: Any, what: str) -> str | None:
    """A text field: the text, None when absent or null, else :class:`WrongShape`."""
    if value is None or isinstance(value, str):
        return value
    raise WrongShape(f"{what} is {_json_type(value)}, not text")


def mapping_or_none(value: Any, what: str) -> Mapping[str, Any] | None:
    """An object field: the object, None when absent or null, else :class:`WrongShape`."""
    if value is None or isinstance(value, Mapping):
        return value
    raise WrongShape(f"{what} is {_json_type(value)}, not an object")


@dataclass
class Parts:
    """Everything a response says, gathered by either wire, before it becomes a Completion."""

    #: Text fragments, each list joined with "" (paragraph breaks are fragments too).
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    reasoning_items: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    server_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    raw_usage: dict[str, Any] | None = None
    id: str | None = None
    model: str | None = None
    system_fingerprint: str | None = None
    finish_reason: str | None = None
    reported_effort: str | None = None
    #: When the server made the response (Unix seconds, as sent; 0 or None: unknown).
    created_at: float | None = None

    def cite(self, url: Any) -> None:
        if isinstance(url, str) and url and url not in self.citations:
            self.citations.append(url)


def assemble(
    request: ChatRequest, parts: Parts, *, latency_s: float, raw: dict[str, Any]
) -> Completion:
    """The Completion of a finished response (streamed or not)."""
    usage = request.provider.read_usage(request.provider, parts.raw_usage)
    served = parts.model or request.model
    # A retired id answered by its successor may still name itself (tests/real/16).
    successor = catalog.answered_by(served, parts.created_at)
    reasoning_text = "".join(parts.reasoning) or None
    summary = "".join(parts.summary) or None
    return Completion(
        content="".join(parts.content),
        # Raw reasoning text when the model sends it, else its summary (shown as reasoning).
        reasoning=reasoning_text or summary,
        model=unprefixed(served),
        requested_model=request.model,
        reasoning_effort=effort_used(request, parts.reported_effort),
        usage=usage,
        latency_s=latency_s,
        cost_usd=compute_cost(
            parts.raw_usage, usage, served, request.model, created_at=parts.created_at
        ),
        id=parts.id,
        provider=request.provider.name,
        raw=raw,
        finish_reason=parts.finish_reason,
        system_fingerprint=parts.system_fingerprint,
        messages=request.messages,
        params=request.params,
        wire=request.wire,
        reasoning_summary=summary,
        reasoning_items=tuple(parts.reasoning_items),
        tool_calls=tuple(parts.tool_calls),
        server_tool_calls=tuple(parts.server_tool_calls),
        citations=tuple(parts.citations),
        answered_by=None if successor is None else successor.id,
    )


#: ``raw_decode`` skips the two Python frames and two regex scans of ``json.loads``: this runs
#: once per streamed token.
_raw_decode = json.JSONDecoder().raw_decode
_JSON_SPACE = " \t\n\r"


def load_payload(payload: str, state: StreamState) -> dict[str, Any]:
    """One SSE data payload as a JSON object, or the stream's :class:`StreamParseError`
    (quoting the bad chunk as its ``snippet``). The pipeline redacted the payload's text;
    JSON escapes that could spell a secret are looked into here."""
    try:
        try:
            data, end = _raw_decode(payload)
        except ValueError:  # leading whitespace (json.loads allows it), or not JSON at all
            data, end = json.loads(payload), len(payload)
        if end != len(payload) and payload[end:].strip(_JSON_SPACE):
            raise ValueError("extra data after the JSON value")
    except RecursionError:
        problem, cause = "an event nested too deeply to read", None
    except ValueError as exc:
        problem, cause = "a chunk that is not JSON", exc
    else:
        if isinstance(data, dict):
            if state.spellings and "\\u" in payload:  # an escape may spell a secret
                redacted: dict[str, Any] = redact_json(data, state.secrets)
                return redacted
            return data
        problem, cause = "a chunk that is not a JSON object", None
    error = state.incomplete(
        f"The stream carried {problem}; the answer so far is kept on this error (partial_content).",
        StreamParseError,
    )
    assert isinstance(error, StreamParseError)
    error.snippet = redact(payload[:200], state.secrets)
    raise error from cause


def _unchanged(key: str, text: str) -> str:
    return text


class StreamState:
    """The accumulating state of one streamed response (subclassed per wire)."""

    #: What ends a well-formed stream, for the error when it never came.
    END_MARKER = "its final event"

    def __init__(self, request: ChatRequest, started: float, secrets: tuple[str, ...] = ()):
        self.request = request
        self.started = started
        self.secrets = secrets
        self.parts = Parts()
        #: The terminal event came (response.completed / [DONE]): later events are ignored.
        self.done = False
        self.chunks = 0
        #: Counts events that carried output or changed the state: the idle limit's activity.
        self.progress = 0
        self.first_token_s: float | None = None
        #: The spellings of the secrets (what the pipeline redacts from every payload).
        self.spellings = spellings(secrets)
        #: Answer and reasoning deltas go through it: a secret the server echoes is redacted
        #: even when split across events (None without secrets: nothing to do per token).
        self.redactor = PieceRedactor(secrets) or None
        #: ``shown(key, text)``: the part of a delta of ``key`` ("content", "reasoning",
        #: "summary") to keep and show now: all of it, unless it may end with the start of
        #: a secret (bound once: this runs once per token).
        self.shown: Callable[[str, str], str] = (
            _unchanged if self.redactor is None else self.redactor.piece
        )

    # -- the partial answer, kept on every error ------------------------------------------
    @property
    def content(self) -> list[str]:
        return self.parts.content

    @property
    def reasoning(self) -> list[str]:
        """Reasoning text so far (raw text, else the summary)."""
        return self.parts.reasoning or self.parts.summary

    def incomplete(
        self, message: str, kind: type[IncompleteStreamError] = IncompleteStreamError
    ) -> IncompleteStreamError:
        content, reasoning = "".join(self.content), "".join(self.reasoning)
        redactor = self.redactor
        if redactor is not None:  # what the redactor holds back ends the partial answer
            content += redactor.held("content")
            reasoning += redactor.held("reasoning" if self.parts.reasoning else "summary")
        return kind(message, partial_content=content, partial_reasoning=reasoning)

    def release(self, key: str) -> str:
        """At the end of ``key``'s text: what :meth:`shown` held back (a cut secret shown as
        [redacted])."""
        redactor = self.redactor
        return "" if redactor is None else redactor.rest(key)

    def wrong_shape(self, exc: WrongShape, payload: str) -> StreamParseError:
        """The error for an event with a wrong-typed field, with the partial answer."""
        error = self.incomplete(
            f"The stream carried an event of the wrong shape ({exc}); the answer so far is "
            "kept on this error (partial_content).",
            StreamParseError,
        )
        assert isinstance(error, StreamParseError)
        error.snippet = redact(payload[:200], self.secrets)
        return error

    def server_error(self, payload: Mapping[str, Any] | str) -> IncompleteStreamError:
        """An error the provider reported mid-stream, redacted, with the partial answer."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        err = make_status_error(502, body.encode(), secrets=self.secrets)
        said = str(err.server_message or err).rstrip(".")
        return self.incomplete(
            f"The provider reported an error mid-stream: {said}. "
            "The partial answer is on this error as partial_content."
        )

    def emitted(self, events: list[StreamEvent]) -> list[StreamEvent]:
        if events and self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.started
        return events

    def feed(self, payload: str) -> list[StreamEvent]:  # pragma: no cover - abstract
        raise NotImplementedError

    def raw(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> Completion:
        """The Completion, or IncompleteStreamError when the stream never ended properly."""
        if not self.done:
            got = len("".join(self.content))
            raise self.incomplete(
                f"The stream ended before {self.END_MARKER} after {self.chunks} chunks ({got} "
                "characters of answer); the partial answer is on this error as "
                "partial_content. Streams are not retried once started: call again."
            )
        return assemble(
            self.request, self.parts, latency_s=time.perf_counter() - self.started, raw=self.raw()
        )
