"""4. Streaming display: a 4,000-token answer through %%grok's display path (fake display sink),
as fast as it arrives and paced over 2 s, beside the same stream read with no display.

Alone: ``python bench/case_stream.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

from _common import MODEL
from _magic import Sink, grok_magic, sse_answer, stream_client
from _report import Report, run_alone, s, x

NUMBER = 4
NAME = "stream"
TITLE = "4. streaming display"
QUICK = {"tokens": 400, "paced_s": 0.3}


def measure(report: Report, tokens: int = 4000, paced_s: float = 2.0) -> None:
    events = sse_answer(tokens)

    def body_for(pace: float) -> Iterator[bytes]:
        per_batch = pace / (len(events) / 20) if pace else 0.0
        for i, event in enumerate(events):
            if pace and i % 20 == 0:
                time.sleep(per_batch)
            yield event

    # The floor: the same stream read with no display at all.
    prompt = f"Write {tokens} words."
    started = time.perf_counter()
    with stream_client(lambda: body_for(0.0)) as client:
        stream = client.stream(prompt, model=MODEL)
        chunks = sum(1 for _ in stream)
        assert len(stream.completion.content) > tokens
    floor = time.perf_counter() - started

    results: dict[str, tuple[float, Sink]] = {}
    with grok_magic() as magic:
        for label, pace in (("as fast as it arrives", 0.0), (f"paced over {paced_s:g} s", paced_s)):
            sink = Sink()
            magic.use(sink, lambda provider, key, pace=pace: stream_client(lambda: body_for(pace)))
            started = time.perf_counter()
            magic.cell("--no-cache", prompt)
            results[label] = (time.perf_counter() - started, sink)
    report.row(TITLE, f"client.stream, no display ({chunks} content chunks)", s(floor), "1.00x")
    for label, (elapsed, sink) in results.items():
        live_updates = sink.updates - 1  # the last update empties the live area
        report.row(
            TITLE,
            f"%%grok {tokens}-token answer, {label}",
            s(elapsed),
            x(elapsed / floor) + " of no display" if "fast" in label else "",
            f"{live_updates} display updates for {chunks} chunks, {sink.displays} outputs",
        )
    paced_elapsed, paced_sink = results[f"paced over {paced_s:g} s"]
    allowed = paced_elapsed * 10 + 2
    report.target(
        TITLE,
        "at most 10 display updates per second (+ first and last)",
        f"{paced_sink.updates - 1} updates in {s(paced_elapsed)}",
        paced_sink.updates - 1 <= allowed,
    )
    report.notes.append(
        f"4: the %%grok cell magic in a real InteractiveShell (rich frontend) with IPython's "
        f"display() replaced by a counting sink; the answer is {tokens} SSE content chunks from "
        "an httpx.MockTransport, once as fast as possible and once spread over "
        f"{paced_s:g} s as a model would send it. Updates show the end of a long answer "
        "(grokbook.render.LiveAnswer; case 7 measures the bytes)."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
