"""5. Tables: usage_frame and effort_summary on 100,000 and 1,000,000 synthetic completions, vs
DataFrame.from_records and groupby().agg.

Alone: ``python bench/case_tables.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from _report import Report, run_alone, s, x

NUMBER = 5
NAME = "tables"
TITLE = "5. tables"
QUICK = {"sizes": (3_000,)}


def completions(n: int) -> list[Any]:
    """``n`` synthetic Completions: three models, efforts low / high / default (None)."""
    import grokbook as gb

    rng = random.Random(7)
    models = ("grok-3-mini-beta", "grok-3-mini-fast-beta", "grok-4.3")
    efforts = ("low", "high", None)
    out = []
    for i in range(n):
        prompt_tokens = rng.randint(8, 200)
        reasoning = rng.randint(50, 3000)
        completion = rng.randint(5, 400)
        usage = gb.Usage(
            prompt_tokens=prompt_tokens,
            cached_prompt_tokens=None if i % 7 == 0 else rng.randint(0, prompt_tokens),
            reasoning_tokens=reasoning,
            completion_tokens=completion,
            output_tokens=reasoning + completion,
            total_tokens=prompt_tokens + reasoning + completion,
            convention="reasoning-excluded",
        )
        model = models[i % 3]
        out.append(
            gb.Completion(
                content=f"answer {i}",
                reasoning=None,
                model=model,
                requested_model=model,
                reasoning_effort=efforts[(i // 3) % 3],
                usage=usage,
                latency_s=rng.uniform(0.2, 9.0),
                cost_usd=rng.uniform(1e-5, 1e-2),
                id=f"r{i}",
                provider="xai",
                messages=({"role": "user", "content": f"prompt {i % 100}"},),
            )
        )
    return out


def measure(report: Report, sizes: tuple[int, ...] = (100_000, 1_000_000)) -> None:
    import pandas as pd

    import grokbook as gb

    for n in sizes:
        rounds = 5 if n <= 100_000 else 3
        items = completions(n)
        records = [
            {
                "model": c.model,
                "reasoning_effort": c.reasoning_effort or "default",
                "prompt": c.prompt,
                **c.usage.as_dict(),
                "latency_s": c.latency_s,
                "cost_usd": c.cost_usd,
            }
            for c in items
        ]
        plain = pd.DataFrame.from_records(records)
        numeric = plain.drop(columns=["prompt", "convention"])
        frame_times, summary_times, base_frame, base_summary = [], [], [], []
        for _ in range(rounds):  # interleaved: grokbook, then its peer, each round
            started = time.perf_counter()
            df = gb.usage_frame(items)
            frame_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            pd.DataFrame.from_records(records)
            base_frame.append(time.perf_counter() - started)
            started = time.perf_counter()
            summary = gb.effort_summary(df)
            summary_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            numeric.groupby(["model", "reasoning_effort"]).agg(["mean", "std", "count"])
            base_summary.append(time.perf_counter() - started)
        assert len(df) == n and len(summary) == 9, (len(df), len(summary))
        uf, es = min(frame_times), min(summary_times)
        bf, bs = min(base_frame), min(base_summary)
        del items, records, plain, numeric, df
        report.row(TITLE, f"pd.DataFrame.from_records, {n:,} plain dicts", s(bf), "1.00x")
        report.row(
            TITLE,
            f"gb.usage_frame, {n:,} Completions",
            s(uf),
            x(uf / bf),
            "typed columns (Int64 counts, float64, boolean) read from Completion objects",
        )
        report.row(
            TITLE, f"groupby(model, effort).agg(mean, std, count), {n:,} rows", s(bs), "1.00x"
        )
        report.row(
            TITLE,
            f"gb.effort_summary, {n:,} rows",
            s(es),
            x(es / bs),
            "one groupby().agg: 17 named aggregations, three of them medians",
        )
        report.target(
            TITLE,
            f"usage_frame on {n:,} completions within 1.5x of DataFrame.from_records",
            x(uf / bf),
            uf / bf <= 1.5,
            "usage_frame reads each field from Completion objects in Python (one "
            "comprehension per column, then numpy and pandas in C); the peer hands pandas "
            "ready-made dicts. On a machine shared with other work, the 1M-row figure "
            "varies most: rerun `make bench` on an idle machine before acting on it.",
        )
        if n <= 100_000:
            report.target(TITLE, f"effort_summary on {n:,} rows < 1 s", s(es), es < 1.0)
    report.notes.append(
        "5: best of 5 (100,000 rows) or 3 (1,000,000 rows) interleaved rounds; usage_frame "
        "builds typed columns (nullable Int64 counts, float latency and cost, boolean cached) "
        "from Completion objects, effort_summary aggregates per model x effort in one "
        "groupby().agg; the peers are the plain pandas equivalents on ready-made dicts."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
