"""Scripted faults: what the simulator does wrong, one request at a time.

A fault list is consumed one entry per request (any endpoint); when it runs out, requests are
answered normally. Each entry is a :class:`Fault` or a string in this mini-syntax::

    ok                 answer normally (useful to place a fault later in the script)
    429                an xAI-shaped JSON error with that status (any 4xx / 5xx: 500, 503, ...)
    429:retry-after=1  ... with a Retry-After header (seconds; 429 defaults to 1)
    html502            a 502 HTML error page, as a proxy would send (html503, html504 too)
    cut                a stream closed mid-answer, before chat's [DONE] or Responses'
                       response.completed (cut:after=3 -> after 3 SSE events);
                       a non-streamed body is cut half-way
    slow:5             wait 5 seconds (literal, never scaled) before the first byte, then answer
    notjson            HTTP 200 with a body that is not JSON
    truncated          HTTP 200 with a JSON body cut in half
    reset              drop the connection before answering (connection reset)
    503*2              any entry followed by *N is repeated N times

>>> [str(f) for f in parse_faults("429:retry-after=0, 503*2, cut, ok")]
['429:retry-after=0', '503', '503', 'cut', 'ok']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Fault", "FaultKind", "parse_fault", "parse_faults"]

FaultKind = Literal["ok", "status", "html", "cut", "slow", "notjson", "truncated", "reset"]

_SIMPLE: dict[str, FaultKind] = {
    "ok": "ok",
    "cut": "cut",
    "notjson": "notjson",
    "truncated": "truncated",
    "reset": "reset",
    "slow": "slow",
}


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour (see the module docstring for the string form).

    ``Fault("status", status=429, retry_after=1)``, ``Fault("cut", after_chunks=3)``,
    ``Fault("slow", delay_s=5)``, ``Fault("html", status=502)``, ``Fault("reset")``.
    """

    kind: FaultKind = "ok"
    status: int = 200
    retry_after: float | None = None
    delay_s: float = 0.0
    #: For "cut": how many SSE events to send before closing (None: mid-way through the answer).
    after_chunks: int | None = None

    def __str__(self) -> str:
        if self.kind == "status":
            text = str(self.status)
            if self.retry_after is not None:
                text += f":retry-after={self.retry_after:g}"
            return text
        if self.kind == "html":
            return f"html{self.status}"
        if self.kind == "slow":
            return f"slow:{self.delay_s:g}"
        if self.kind == "cut" and self.after_chunks is not None:
            return f"cut:after={self.after_chunks}"
        return self.kind


def _bad(spec: str, why: str) -> ValueError:
    return ValueError(
        f"Bad fault {spec!r}: {why}. Use e.g. '429:retry-after=1', '503', 'cut', 'html502', "
        "'slow:5', 'notjson', 'truncated', 'reset', 'ok', or 'KIND*N' to repeat."
    )


def _number(spec: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _bad(spec, f"{value!r} is not a number") from None
    if not number >= 0 or number == float("inf"):
        raise _bad(spec, f"{value!r} must be a finite number >= 0")
    return number


def parse_fault(spec: str) -> Fault:
    """One fault from its string form (no ``*N`` repetition here)."""
    text = spec.strip().lower()
    head, _, rest = text.partition(":")
    params: dict[str, str] = {}
    positional: str | None = None
    for part in filter(None, rest.split(":")):
        key, eq, value = part.partition("=")
        if eq:
            params[key.strip()] = value.strip()
        else:
            positional = key.strip()
    if head.isdigit() and len(head) == 3:
        status = int(head)
        if not 400 <= status <= 599:
            raise _bad(spec, "an error status must be between 400 and 599")
        raw_after = params.pop("retry-after", positional)
        retry_after = _number(spec, raw_after) if raw_after is not None else None
        if retry_after is None and status == 429:
            retry_after = 1.0
        fault = Fault("status", status=status, retry_after=retry_after)
    elif re.fullmatch(r"html(\d{3})?", head):
        status = int(head[4:] or positional or 502)
        fault = Fault("html", status=status)
    elif head in _SIMPLE:
        kind = _SIMPLE[head]
        if kind == "slow":
            raw = params.pop("seconds", positional)
            if raw is None:
                raise _bad(spec, "say how long, e.g. 'slow:5' (seconds)")
            fault = Fault("slow", delay_s=_number(spec, raw))
        elif kind == "cut":
            raw = params.pop("after", positional)
            after = None if raw is None else int(_number(spec, raw))
            fault = Fault("cut", after_chunks=after)
        else:
            fault = Fault(kind)
    else:
        raise _bad(spec, f"unknown kind {head!r}")
    params.pop("retry-after", None)
    if params:
        raise _bad(spec, f"unknown option(s) {', '.join(sorted(params))}")
    return fault


def parse_faults(faults: str | Iterable[str | Fault] | None) -> list[Fault]:
    """A fault script from a comma-separated string or a list of strings / Faults."""
    if faults is None:
        return []
    items: Iterable[str | Fault] = [faults] if isinstance(faults, str) else faults
    out: list[Fault] = []
    for item in items:
        if isinstance(item, Fault):
            out.append(item)
            continue
        if not isinstance(item, str):
            raise TypeError(f"A fault is a string or a Fault, not {type(item).__name__}.")
        for part in item.split(","):
            spec = part.strip()
            if not spec:
                continue
            repeat = 1
            match = re.fullmatch(r"(.+?)\s*\*\s*(\d+)", spec)
            if match:
                spec, repeat = match.group(1), int(match.group(2))
            out.extend([parse_fault(spec)] * repeat)
    return out
