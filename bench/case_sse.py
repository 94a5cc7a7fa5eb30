"""6. SSE stream: a 2,000-chunk stream through grokbook.Client.stream on both wires vs httpx's
iter_lines + json.loads.

Alone: ``python bench/case_sse.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from _common import KEY, MODEL
from _report import Report, ms, run_alone, x

NUMBER = 6
NAME = "sse"
TITLE = "6. SSE stream"
QUICK = {"chunks": 200, "rounds": 3}


def chat_stream_events(n: int) -> list[bytes]:
    base = {"id": "bench", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    chunks = []
    for i in range(n):
        field_name = "reasoning_content" if i < n // 2 else "content"
        chunks.append({**base, "choices": [{"index": 0, "delta": {field_name: f"w{i} "}}]})
    usage = {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": n + 10}
    chunks.append({**base, "choices": [], "usage": usage})
    return [*(f"data: {json.dumps(c)}\n\n".encode() for c in chunks), b"data: [DONE]\n\n"]


def responses_stream_events(n: int) -> list[bytes]:
    header = {"id": "bench", "model": "grok-4.3", "status": "in_progress"}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": header}]
    for i in range(n):
        kind = (
            "response.reasoning_summary_text.delta" if i < n // 2 else "response.output_text.delta"
        )
        events.append(
            {"type": kind, "item_id": "i", "output_index": 0, "summary_index": 0,
             "delta": f"w{i} ", "sequence_number": i}
        )  # fmt: skip
    usage = {
        "input_tokens": 10,
        "output_tokens": n,
        "total_tokens": n + 10,
        "output_tokens_details": {"reasoning_tokens": n // 2},
    }
    final = {**header, "status": "completed", "output": [], "usage": usage}
    events.append({"type": "response.completed", "response": final})
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def measure(report: Report, chunks: int = 2000, rounds: int = 25) -> None:
    import httpx

    from grokbook import Client

    def transport(events: list[bytes]) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=iter(events)
            )

        return httpx.MockTransport(handler)

    def peer(events: list[bytes]) -> int:
        """The floor: httpx's own line iterator and json.loads, nothing else."""
        count = 0
        with (
            httpx.Client(transport=transport(events)) as http,
            http.stream("POST", "http://bench/v1/stream", json={"stream": True}) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    count += 1
        return count

    def ours(events: list[bytes], wire: str, model: str) -> int:
        with Client(
            provider="xai", wire=wire, api_key=KEY, transport=transport(events), log=False,
            max_retries=0,
        ) as client:  # fmt: skip
            stream = client.stream("Write.", model=model)
            count = sum(1 for _ in stream)
            assert stream.completion.usage.total_tokens == chunks + 10
        return count

    wires = (
        ("Chat Completions", "chat", MODEL, chat_stream_events(chunks)),
        ("Responses", "responses", "grok-4.3", responses_stream_events(chunks)),
    )
    for label, wire, model, events in wires:
        assert ours(events, wire, model) == chunks and peer(events) >= chunks  # warm up
        theirs: list[float] = []
        mine: list[float] = []
        for _ in range(rounds):  # interleaved, best of each
            started = time.perf_counter()
            peer(events)
            theirs.append(time.perf_counter() - started)
            started = time.perf_counter()
            ours(events, wire, model)
            mine.append(time.perf_counter() - started)
        base, best = min(theirs), min(mine)
        report.row(
            TITLE,
            f"httpx iter_lines + json.loads, {chunks:,} chunks ({label} events)",
            ms(base),
            "1.00x",
            transport="httpx/MockTransport",
        )
        report.row(
            TITLE,
            f"grokbook client.stream, {chunks:,} chunks ({label})",
            ms(best),
            x(best / base),
            "SSE decoder + wire parser + StreamEvents + the Completion",
            transport="httpx/MockTransport",
        )
        report.target(
            TITLE,
            f"a {chunks:,}-chunk {label} stream within 1.5x of httpx iter_lines + json.loads",
            x(best / base),
            best / base <= 1.5,
        )
    report.notes.append(
        f"6: best of {rounds} interleaved rounds; one {chunks:,}-chunk stream (half reasoning, "
        "half answer deltas, then usage) served by an httpx.MockTransport one event per chunk, "
        "consumed by grokbook.Client.stream (run log off: the stream itself is measured) and "
        "by a bare httpx.Client reading lines and json.loads-ing each data line (no event "
        "framing, no answer assembled)."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
