"""The Responses wire's SSE stream: typed events with sequence numbers, timed like the answer.

Each event is ``event: <type>`` + ``data: {"type", "sequence_number", ...}``; there is no
``[DONE]``. The order (listed in :mod:`._responses`) follows the openai SDK's ``responses``
stream types, whose accumulator checks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ._behaviour import Answer
from ._plan import Piece, Plan, split_words

__all__ = ["Output", "stream_plan"]

_SSE_HEADERS = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))


@dataclass(frozen=True)
class Output:
    """The output items of one call, and the parts streaming sends piece by piece."""

    reasoning: dict[str, Any] | None
    message: dict[str, Any] | None
    summary: str
    raw: str | None

    @property
    def items(self) -> list[dict[str, Any]]:
        return [item for item in (self.reasoning, self.message) if item is not None]


class _Events:
    """SSE events with ``type`` and an increasing ``sequence_number``, and their timing."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self._sequence = 0
        self.pending = 0.0

    def add(self, kind: str, delay: float = 0.0, **fields: Any) -> None:
        data = json.dumps(
            {"type": kind, "sequence_number": self._sequence, **fields}, separators=(",", ":")
        )
        self._sequence += 1
        self.pieces.append(Piece(self.pending + delay, f"event: {kind}\ndata: {data}\n\n".encode()))
        self.pending = 0.0


def _in_progress(response: dict[str, Any]) -> dict[str, Any]:
    return {
        **response,
        "status": "in_progress",
        "output": [],
        "usage": None,
        "completed_at": None,
        "incomplete_details": None,
    }


def _deltas(events: _Events, kind: str, text: str, seconds: float, words: int, **ids: Any) -> None:
    parts = split_words(text, words) if text else []
    for part in parts:
        extra: dict[str, Any] = {"logprobs": []} if kind == "response.output_text.delta" else {}
        events.add(kind, seconds / len(parts), **ids, delta=part, **extra)


def stream_plan(
    answer: Answer, response: dict[str, Any], output: Output, *, incomplete: bool
) -> Plan:
    """The SSE plan sending ``response`` (its ``output`` built from ``output``) event by event."""
    events = _Events()
    events.pending = answer.first_token_s
    start = _in_progress(response)
    events.add("response.created", response=start)
    events.add("response.in_progress", response=start)
    index = 0
    reasoning = output.reasoning
    if reasoning is not None:
        item_id = reasoning["id"]
        ids = {"item_id": item_id, "output_index": index}
        opened = {"id": item_id, "type": "reasoning", "summary": [], "status": "in_progress"}
        events.add("response.output_item.added", output_index=index, item=opened)
        summary_s = answer.reasoning_s
        if output.raw is not None:
            # Raw reasoning text streams as the model thinks; its summary follows quickly.
            raw_ids = {**ids, "content_index": 0}
            _deltas(
                events,
                "response.reasoning_text.delta",
                output.raw,
                answer.reasoning_s,
                4,
                **raw_ids,
            )
            events.add("response.reasoning_text.done", **ids, content_index=0, text=output.raw)
            summary_s = 0.0
        elif not output.summary:
            events.pending += answer.reasoning_s  # hidden reasoning still takes its time
        if output.summary:
            part = {"type": "summary_text", "text": ""}
            events.add("response.reasoning_summary_part.added", **ids, summary_index=0, part=part)
            sum_ids = {**ids, "summary_index": 0}
            _deltas(
                events,
                "response.reasoning_summary_text.delta",
                output.summary,
                summary_s,
                4,
                **sum_ids,
            )
            events.add(
                "response.reasoning_summary_text.done", **ids, summary_index=0, text=output.summary
            )
            done_part = {"type": "summary_text", "text": output.summary}
            events.add(
                "response.reasoning_summary_part.done", **ids, summary_index=0, part=done_part
            )
        events.add("response.output_item.done", output_index=index, item=reasoning)
        index += 1
    cut_at = len(events.pieces)
    message = output.message
    if message is not None:
        item_id = message["id"]
        ids = {"item_id": item_id, "output_index": index, "content_index": 0}
        opened = {**message, "status": "in_progress", "content": []}
        events.add("response.output_item.added", output_index=index, item=opened)
        empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        events.add("response.content_part.added", **ids, part=empty)
        before = len(events.pieces)
        _deltas(events, "response.output_text.delta", answer.content, answer.content_s, 2, **ids)
        cut_at = before + max(1, (len(events.pieces) - before) // 2)
        events.add("response.output_text.done", **ids, text=answer.content, logprobs=[])
        events.add("response.content_part.done", **ids, part=message["content"][0])
        events.add("response.output_item.done", output_index=index, item=message)
    final = "response.incomplete" if incomplete else "response.completed"
    events.add(final, response=response)
    return Plan(200, _SSE_HEADERS, tuple(events.pieces), streaming=True, cut_at=cut_at)
