"""14. effort_summary on 100,000 rows that include default efforts vs a plain groupby().agg on
the same frame: the frame as gb.usage_frame makes it (default efforts labelled "default") and
the same frame with those efforts None (as a frame built by hand or read back from a file).

Issue 24's target: at most 1.5x (3.2x when it was set; the fast path covered only explicit
efforts).
Alone: ``python bench/case_summary.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys
import time

from _report import Report, run_alone, s, x
from case_tables import completions

NUMBER = 14
NAME = "summary"
TITLE = "14. effort_summary with default efforts"
QUICK = {"n": 3_000, "rounds": 2}

SUMMARY_TARGET = 1.5


def measure(report: Report, n: int = 100_000, rounds: int = 5) -> None:

    import grokbook as gb

    labelled = gb.usage_frame(completions(n))
    frames = {
        "efforts None": labelled.assign(
            reasoning_effort=labelled["reasoning_effort"].replace({"default": None})
        ),
        'efforts labelled "default" by usage_frame': labelled,
    }
    keys = ["model", "reasoning_effort"]
    for name, frame in frames.items():
        defaults = int(
            (frame["reasoning_effort"].isna() | (frame["reasoning_effort"] == "default")).sum()
        )
        numeric = frame[keys + list(frame.select_dtypes("number").columns)]
        ours_s: list[float] = []
        peer_s: list[float] = []
        for _ in range(rounds):  # interleaved: grokbook, then its peer, each round
            started = time.perf_counter()
            summary = gb.effort_summary(frame)
            ours_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            numeric.groupby(keys, dropna=False).agg(["mean", "std", "count"])
            peer_s.append(time.perf_counter() - started)
        assert len(summary) == 9, len(summary)
        mine, base = min(ours_s), min(peer_s)
        report.row(
            TITLE,
            f"groupby(model, effort, dropna=False).agg(mean, std, count), {n:,} rows, {name}",
            s(base),
            "1.00x",
            f"the same frame's {numeric.shape[1] - 2} numeric columns",
        )
        report.row(
            TITLE,
            f"gb.effort_summary, {n:,} rows, {name}",
            s(mine),
            x(mine / base),
            f"{defaults:,} rows at the default effort",
        )
        report.target(
            TITLE,
            f"effort_summary on {n:,} rows, a third at the default effort ({name}), within "
            f"{SUMMARY_TARGET}x of a plain groupby().agg",
            x(mine / base),
            mine / base <= SUMMARY_TARGET,
            "effort_summary labels every row's model and effort as text, fills the default "
            "effort's label, masks failed calls and runs 17 named aggregations (three "
            "medians); profile it (python -m cProfile -s cumulative bench/run.py --only "
            "summary --no-write) before changing it.",
        )
    report.notes.append(
        f"14: best of {rounds} interleaved rounds on {n:,} synthetic completions (case 5's: "
        "three models, efforts low, high and default, a third each) as gb.usage_frame makes "
        "them, and the same frame with the default efforts None; the peer groups the same "
        "frame's numeric columns by model and effort (dropna=False, so the default rows are "
        "counted too)."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
