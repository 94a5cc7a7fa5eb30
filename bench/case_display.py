"""7. Live display: bytes %%grok's rich display publishes for 2k/10k/40k-token answers at model
pace (100 tokens/s of a virtual clock).

Alone: ``python bench/case_display.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

from _hooks import magic_clock
from _magic import ByteSink, grok_magic, sse_answer, stream_client
from _report import Report, run_alone, s, x

NUMBER = 7
NAME = "display"
TITLE = "7. live display"
QUICK = {"sizes": (200, 800)}


def measure(
    report: Report, sizes: tuple[int, ...] = (2_000, 10_000, 40_000), pace: float = 100.0
) -> None:
    """Bytes %%grok's rich display publishes for answers of 2k/10k/40k tokens at model pace.

    The stream arrives at ``pace`` tokens per second of a virtual clock (the transport advances
    it as it yields each chunk and the magic's throttle reads it), so a 40k-token answer takes
    400 virtual seconds and a fraction of that in real time.
    """
    clock = [0.0]

    def paced(events: list[bytes]) -> Iterator[bytes]:
        for event in events:
            clock[0] += 1.0 / pace
            yield event

    results: dict[int, tuple[ByteSink, float, float, int]] = {}
    with grok_magic() as magic, magic_clock(magic.magics, lambda: clock[0]) as virtual:
        for tokens in sizes:
            events = sse_answer(tokens)
            sink = ByteSink()
            magic.use(
                sink, lambda provider, key, events=events: stream_client(lambda: paced(events))
            )
            clock[0] = 0.0
            cpu = time.process_time()
            answer = magic.cell("--no-cache", f"Write {tokens} words.").content
            cpu = time.process_time() - cpu
            results[tokens] = (sink, cpu, clock[0], len(answer.encode()))
    if not virtual:
        report.notes.append(
            "7: the magic's clock could not be replaced (bench/_hooks.py: GrokMagics has no "
            "clock trait), so updates were throttled in real time and the per-second figures "
            "below are not at model pace."
        )
    for tokens, (sink, cpu, virtual_s, answer_bytes) in results.items():
        report.row(
            TITLE,
            f"%%grok rich, {tokens:,}-token answer at {pace:g} tokens/s",
            f"{sink.bytes / 1e6:.2f} MB",
            f"{sink.bytes / answer_bytes:.1f}x the answer",
            f"{sink.updates - 1} updates in {virtual_s:.0f} s of model time "
            f"({(sink.updates - 1) / virtual_s:.1f}/s); answer {answer_bytes / 1e3:.0f} KB",
            cpu=s(cpu),
        )
    largest = max(results)
    smallest = min(results)
    big = results[largest][0].bytes
    per_token = {t: results[t][0].bytes / t for t in results}
    report.target(
        TITLE,
        f"a {largest:,}-token answer at model pace publishes under 20 MB",
        f"{big / 1e6:.2f} MB",
        big < 20e6,
    )
    growth = per_token[largest] / per_token[smallest]
    report.target(
        TITLE,
        f"bytes grow linearly: per token at {largest:,} within 1.5x of at {smallest:,}",
        x(growth),
        growth <= 1.5,
    )
    sink, _, virtual_s, _ = results[largest]
    rate = (sink.updates - 1) / virtual_s
    report.target(
        TITLE,
        f"still live: at least 2 updates per second of a {largest:,}-token answer",
        f"{rate:.1f}/s",
        rate >= 2.0,
    )
    report.notes.append(
        f"7: the %%grok cell magic (rich frontend) in a real InteractiveShell, display() "
        f"replaced by a sink counting the bytes of every display and update (all mimetypes, "
        f"the final render included); answers of {', '.join(f'{t:,}' for t in sizes)} "
        f"content chunks arriving at {pace:g} per second of a virtual clock that the "
        "magic's throttle reads. A live update shows the end of the answer and of the "
        "reasoning and is sent when enough new text arrived for its size "
        "(grokbook.render.LiveAnswer), so bytes grow with the answer, not its square."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
