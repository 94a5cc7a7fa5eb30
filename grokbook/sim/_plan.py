"""What the simulator sends, and the helpers every endpoint shares: plans, errors, request
bodies. Pure: no clock, no randomness beyond ids.

>>> plan = error_plan(404, "No such thing.")
>>> plan.status, plan.body
(404, b'{"code":"Some requested entity was not found","error":"No such thing."}')
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "FINGERPRINT",
    "Piece",
    "Plan",
    "Reject",
    "error_plan",
    "json_plan",
    "new_id",
    "number",
    "parse_body",
    "split_words",
]

#: Every response carries this, so no one mistakes the simulator for Grok.
FINGERPRINT = "fp_grokbook_sim"

# gRPC-style codes as xAI sends them in {"code": ..., "error": ...}.
_CODES = {
    400: "Client specified an invalid argument",
    401: "The request does not have valid authentication credentials",
    403: "The caller does not have permission to execute the specified operation",
    404: "Some requested entity was not found",
    405: "Method not allowed",
    422: "Failed to deserialize the JSON body into the target type",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "The service is currently unavailable",
    504: "Deadline exceeded",
}


@dataclass(frozen=True)
class Piece:
    """Bytes to send after waiting ``delay_s`` seconds."""

    delay_s: float
    data: bytes


@dataclass(frozen=True)
class Plan:
    """What to send: status and headers (after ``head_delay_s``), then the body pieces.

    ``streaming`` bodies are sent piece by piece (SSE, chunked); others in one go with a
    Content-Length (``declared_length`` when a fault lies about it). ``abort_before_headers``
    drops the connection instead of answering; ``abort_after_pieces`` drops it after the
    pieces instead of ending the body cleanly.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    pieces: tuple[Piece, ...] = ()
    streaming: bool = False
    head_delay_s: float = 0.0
    declared_length: int | None = None
    abort_before_headers: bool = False
    abort_after_pieces: bool = False
    #: For SSE plans: how many events a "cut" fault lets through by default (mid-answer).
    cut_at: int = 0

    @property
    def body(self) -> bytes:
        return b"".join(piece.data for piece in self.pieces)

    @property
    def content_length(self) -> int:
        return self.declared_length if self.declared_length is not None else len(self.body)


class Reject(Exception):
    """A request the simulator refuses, as xAI would: the status and the error message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_plan(
    status: int, payload: Any, delay_s: float = 0.0, headers: Mapping[str, str] | None = None
) -> Plan:
    data = json.dumps(payload, separators=(",", ":")).encode()
    head = (("content-type", "application/json"), *(headers or {}).items())
    return Plan(status, head, (Piece(0.0, data),), head_delay_s=delay_s)


def error_plan(status: int, message: str, **headers: str) -> Plan:
    """xAI's error shape: ``{"code": "...", "error": "..."}``."""
    body = {"code": _CODES.get(status, "Error"), "error": message}
    return json_plan(status, body, headers=headers)


def number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    """The optional number ``body[name]``, which must lie in [low, high] (422 / 400 if not)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise Reject(422, f"invalid type for field `{name}`: expected a number, got {value!r}")
    if not low <= value <= high:
        raise Reject(400, f"`{name}` must be between {low:g} and {high:g}; got {value}.")
    return float(value)


def parse_body(request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Reject(422, f"Failed to parse the request body as JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Reject(422, "The request body must be a JSON object.")
    return body


def split_words(text: str, words: int) -> list[str]:
    """``text`` in pieces of ``words`` words (whitespace kept), for stream deltas."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [text]


def new_id(prefix: str = "sim") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"
