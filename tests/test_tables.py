"""Usage frames, effort summaries and the df.grok accessor."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import httpx
import pandas as pd
import pytest

import grokbook as gb
from grokbook._columns import TOKEN_COLUMNS, error_row
from grokbook.tables import FRAME_COLUMNS, effort_summary, frame_from_rows, order_efforts
from tests.conftest import FAKE_KEY, Recorder, chat_body


def row(model: str, effort: str, reasoning: int | None, completion: int | None, **extra: Any):
    output = None if reasoning is None or completion is None else reasoning + completion
    base: dict[str, Any] = {
        "model": model,
        "reasoning_effort": effort,
        "prompt": "p",
        "repeat": 0,
        "prompt_tokens": 10,
        "cached_prompt_tokens": None,
        "reasoning_tokens": reasoning,
        "completion_tokens": completion,
        "output_tokens": output,
        "total_tokens": None if output is None else 10 + output,
        "latency_s": 1.0,
        "cost_usd": 0.001,
        "cached": False,
        "status": "ok",
        "error": None,
    }
    base.update(extra)
    # what this run spent: a cache hit bills nothing and takes a lookup's time
    base.setdefault("billed_usd", 0.0 if base["cached"] else base["cost_usd"])
    base.setdefault("fetch_s", 0.0002 if base["cached"] else base["latency_s"])
    return base


def hand_built() -> pd.DataFrame:
    failed = error_row(model="m", reasoning_effort="low", prompt="p", repeat=2, error="boom")
    return frame_from_rows(
        [
            row("m", "high", 900, 20, latency_s=4.0, cost_usd=0.004),
            row("m", "low", 100, 10, latency_s=1.0, cost_usd=0.001),
            row("m", "low", 200, 30, latency_s=3.0, cost_usd=0.003, cached=True),
            failed,
            row("m", "default", 300, 10),
            row("m", "medium", None, 10, cost_usd=None),
            row("m", "none", 0, 12),
            row("other", "low", 50, 5),
        ]
    )


def test_summary_arithmetic_on_a_hand_built_frame() -> None:
    summary = effort_summary(hand_built())
    assert list(summary.index) == [
        ("m", "default"),
        ("m", "none"),
        ("m", "low"),
        ("m", "medium"),
        ("m", "high"),
        ("other", "low"),
    ]
    low = summary.loc[("m", "low")]
    assert (low["calls"], low["ok"], low["errors"], low["cached"]) == (3, 2, 1, 1)
    assert low["reasoning_tokens_mean"] == 150.0
    assert low["reasoning_tokens_median"] == 150.0
    assert low["completion_tokens_mean"] == 20.0
    assert low["output_tokens_mean"] == 170.0
    assert low["reasoning_share"] == pytest.approx(300 / 340)
    assert low["latency_mean_s"] == 2.0  # the failed call has no latency and is left out
    assert low["cost_total_usd"] == pytest.approx(0.004)  # what the two answers cost
    assert low["cost_per_call_usd"] == pytest.approx(0.002)
    assert low["billed_total_usd"] == pytest.approx(0.001)  # spent: the cached one billed 0
    assert summary.loc[("m", "high"), "billed_total_usd"] == pytest.approx(0.004)
    medium = summary.loc[("m", "medium")]
    assert math.isnan(medium["reasoning_tokens_mean"])  # missing stays missing, never 0
    assert math.isnan(medium["reasoning_share"]) and math.isnan(medium["cost_total_usd"])
    assert math.isnan(medium["billed_total_usd"])  # unknown cost, unknown spend
    assert summary.loc[("m", "none"), "reasoning_share"] == 0.0
    assert summary.loc[("m", "high"), "output_tokens_median"] == 920.0
    assert str(summary["calls"].dtype) == "int64"


def test_a_cached_rerun_summarizes_the_same_figures_and_bills_nothing() -> None:
    client = gb.Client(provider="sim")
    kwargs: dict[str, Any] = {"efforts": ["low", "high"], "repeats": 3, "progress": False}
    first = effort_summary(gb.sweep("What is 101*3?", client=client, **kwargs))
    again = effort_summary(gb.sweep("What is 101*3?", client=client, **kwargs))
    assert list(first["cached"]) == [0, 0] and list(again["cached"]) == [3, 3]
    same = ["reasoning_tokens_mean", "latency_mean_s", "cost_total_usd", "cost_per_call_usd"]
    pd.testing.assert_frame_equal(again[same], first[same], rtol=1e-12)
    assert (first["cost_total_usd"] > 0).all()
    assert list(first["billed_total_usd"]) == pytest.approx(list(first["cost_total_usd"]))
    assert list(again["billed_total_usd"]) == [0.0, 0.0]


def test_summary_median_differs_from_mean() -> None:
    frame = frame_from_rows([row("m", "low", r, 0) for r in (100, 200, 900)])
    low = effort_summary(frame).loc[("m", "low")]
    assert low["reasoning_tokens_mean"] == 400.0 and low["reasoning_tokens_median"] == 200.0


def test_summary_groups_by_the_text_of_model_and_effort() -> None:
    """A missing effort is the default one; a value groups by its text (1 and "1" are one
    model, a missing one is "None"); models keep their order of first appearance."""
    frame = frame_from_rows(
        [
            row(None, None, 100, 0),  # type: ignore[arg-type]
            row("m", "default", 300, 0),
            row(1, "low", 10, 0),  # type: ignore[arg-type]
            row("1", "low", 30, 0),
            row("m", None, 500, 0),  # type: ignore[arg-type]
            row(None, "high", 1, 0),  # type: ignore[arg-type]
        ]
    )
    summary = effort_summary(frame)
    assert list(summary.index) == [
        ("None", "default"),
        ("None", "high"),
        ("m", "default"),
        ("1", "low"),
    ]
    assert summary["calls"].tolist() == [1, 1, 2, 2]
    assert summary["reasoning_tokens_mean"].tolist() == [100.0, 1.0, 400.0, 20.0]


def test_order_efforts() -> None:
    assert order_efforts(["high", "zeta", "default", "low", None, "none", "medium", "alpha"]) == [
        "default",
        "none",
        "low",
        "medium",
        "high",
        "alpha",
        "zeta",
    ]


def test_frame_dtypes_and_missing_counts() -> None:
    frame = hand_built()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    for name in (*TOKEN_COLUMNS, "repeat"):
        assert str(frame[name].dtype) == "Int64", name
    assert str(frame["latency_s"].dtype) == "float64"
    assert str(frame["cached"].dtype) == "boolean"
    failed = frame[frame["status"] == "error"].iloc[0]
    assert failed[list(TOKEN_COLUMNS)].isna().all()
    assert frame["reasoning_tokens"].isna().sum() == 2  # the failure and the missing count
    empty = frame_from_rows([])
    assert list(empty.columns) == list(FRAME_COLUMNS) and len(empty) == 0


def test_usage_frame_from_completions() -> None:
    no_reasoning = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    recorder = Recorder(
        httpx.Response(200, json=chat_body()),
        httpx.Response(200, json=chat_body()),
        httpx.Response(
            200, json=chat_body(model="grok-3-beta", reasoning=None, usage=no_reasoning)
        ),
    )
    client = gb.Client(
        provider="xai", wire="chat", api_key=FAKE_KEY, transport=httpx.MockTransport(recorder)
    )
    calls = [
        client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high"),
        client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high"),
        client.chat("What is 101*3?", model="grok-3-beta"),
    ]
    df = gb.usage_frame(calls)
    assert list(df.columns) == list(FRAME_COLUMNS)
    assert list(df["repeat"]) == [0, 1, 0]
    # grok-3-beta is retired: grok-4.3 answers it at effort none (the effort actually used).
    assert list(df["reasoning_effort"]) == ["high", "high", "none"]
    assert list(df["model"]) == ["grok-3-mini-beta", "grok-3-mini-beta", "grok-3-beta"]
    assert df.loc[0, "reasoning_tokens"] == calls[0].usage.reasoning_tokens == 310
    assert df.loc[0, "output_tokens"] == 314 and df.loc[0, "answer"] == "303"
    assert df.loc[2, "prompt_tokens"] == 7
    for name in TOKEN_COLUMNS:
        value = getattr(calls[2].usage, name)
        assert (pd.isna(df.loc[2, name]) and value is None) or df.loc[2, name] == value
    assert len(gb.usage_frame(calls[0])) == 1
    with pytest.raises(TypeError, match="Completions"):
        gb.usage_frame(["not a completion"])  # type: ignore[list-item]


def test_accessor_summary_and_plot() -> None:
    frame = hand_built()
    pd.testing.assert_frame_equal(frame.grok.summary(), effort_summary(frame))
    ax = frame.grok.plot(kind="cost")
    assert ax.get_ylabel() == "cost per call (USD)"
    with pytest.raises(ValueError, match="efforts, latency, cost"):
        frame.grok.plot(kind="pie")


def test_summary_of_a_frame_that_is_not_a_usage_frame() -> None:
    with pytest.raises(ValueError, match="needs a usage frame"):
        effort_summary(pd.DataFrame({"x": [1]}))


def test_import_grokbook_does_not_import_pandas() -> None:
    code = (
        "import sys, grokbook\n"
        "grokbook.catalog.get('grok-3-mini-beta')\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'tqdm') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# -- the vectorized paths agree with the plain definitions --------------------------------------
def _completions(n: int, seed: int) -> list[gb.Completion]:
    import random

    from grokbook.result import Usage

    rng = random.Random(seed)
    out = []
    for i in range(n):
        hit = rng.random() < 0.3
        count = lambda: None if rng.random() < 0.2 else rng.randint(0, 5000)  # noqa: E731
        reasoning, completion = count(), count()
        out.append(
            gb.Completion(
                content=rng.choice(["303", "", "<b>x</b>"]),
                reasoning=None,
                model=rng.choice(["grok-4.3", "grok-3-mini-beta"]),
                requested_model=rng.choice(["grok-4.3", "grok-3-mini-beta"]),
                reasoning_effort=rng.choice(["low", "high", None]),
                usage=Usage(
                    prompt_tokens=count(),
                    cached_prompt_tokens=count(),
                    reasoning_tokens=reasoning,
                    completion_tokens=completion,
                    output_tokens=None if rng.random() < 0.2 else rng.randint(0, 9000),
                    total_tokens=count(),
                ),
                latency_s=rng.uniform(0.1, 3.0),
                cost_usd=None if rng.random() < 0.2 else rng.uniform(0, 0.01),
                cached=hit,
                cache_lookup_s=(None if rng.random() < 0.3 else 0.001) if hit else None,
                messages=({"role": "user", "content": f"prompt {rng.randint(0, 3)}"},),
                id=f"r{i}",
                provider="xai",
            )
        )
    return out


def test_usage_frame_of_completions_is_the_frame_of_their_rows() -> None:
    """The column-by-column build equals frame_from_rows of completion_row dicts."""
    from grokbook._columns import completion_row

    calls = _completions(300, seed=1)
    expected_rows = []
    seen: dict[tuple[str, str, str], int] = {}
    for c in calls:
        key = (c.requested_model, c.reasoning_effort or "default", c.prompt)
        row_ = completion_row(c, repeat=seen.get(key, 0))
        seen[key] = seen.get(key, 0) + 1
        expected_rows.append({**row_, "answer": c.content, "model_served": c.model})
    expected = frame_from_rows(expected_rows)
    pd.testing.assert_frame_equal(gb.usage_frame(calls), expected)
    # A mixed list (Completions and row dicts) takes the row path: the same Completion rows.
    failed = error_row(model="m", reasoning_effort="low", prompt="p", repeat=0, error="boom")
    mixed = gb.usage_frame([*calls, failed])
    pd.testing.assert_frame_equal(mixed.iloc[:-1], expected)
    # A count that is not an integer is no count: Usage keeps None, never a truncated 2.
    import dataclasses

    bad = dataclasses.replace(calls[0], usage=calls[0].usage.__class__(prompt_tokens=2.5))  # type: ignore[arg-type]
    assert pd.isna(gb.usage_frame([bad]).loc[0, "prompt_tokens"])


def _reference_summary(df: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
    """effort_summary's definitions, in plain Python over the records."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    nan = float("nan")

    def known(values: list[Any]) -> list[float]:
        return [float(v) for v in values if v is not None and not pd.isna(v)]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else nan

    def median(values: list[float]) -> float:
        v = sorted(values)
        if not v:
            return nan
        mid = len(v) // 2
        return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2

    records = df.to_dict("records")
    for key in {(str(r["model"]), str(r["reasoning_effort"])) for r in records}:
        group = [r for r in records if (str(r["model"]), str(r["reasoning_effort"])) == key]
        ok = [r for r in group if r["status"] == "ok"]
        stats: dict[str, float] = {
            "calls": len(group),
            "ok": len(ok),
            "errors": len(group) - len(ok),
            "cached": sum(bool(r["cached"]) for r in group if not pd.isna(r["cached"])),
        }
        for name in ("reasoning_tokens", "completion_tokens", "output_tokens"):
            values = known([r[name] for r in ok])
            stats[f"{name}_mean"], stats[f"{name}_median"] = mean(values), median(values)
        pairs = [
            (float(r["reasoning_tokens"]), float(r["output_tokens"]))
            for r in ok
            if not pd.isna(r["reasoning_tokens"]) and not pd.isna(r["output_tokens"])
        ]
        total_out = sum(o for _, o in pairs)
        stats["reasoning_share"] = sum(r for r, _ in pairs) / total_out if total_out > 0 else nan
        stats["latency_mean_s"] = mean(known([r["latency_s"] for r in ok]))
        costs = known([r["cost_usd"] for r in group])
        stats["cost_total_usd"] = sum(costs) if costs else nan
        stats["cost_per_call_usd"] = mean(costs)
        billed = known([r["billed_usd"] for r in group])
        stats["billed_total_usd"] = sum(billed) if billed else nan
        out[key] = stats
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_effort_summary_matches_its_definitions(seed: int) -> None:
    calls = _completions(400, seed=seed)
    failures = [
        error_row(model="grok-4.3", reasoning_effort=e, prompt="p", repeat=0, error="x")
        for e in ("low", "zeta", None)
    ]
    df = gb.usage_frame([*calls, *failures])
    summary = effort_summary(df)
    expected = _reference_summary(df)
    assert sorted(summary.index) == sorted(expected)
    models = list(dict.fromkeys(df["model"]))
    assert [m for m, _ in summary.index] == sorted([m for m, _ in summary.index], key=models.index)
    for model in models:
        efforts = [e for m, e in summary.index if m == model]
        assert efforts == order_efforts(efforts)
    for key, stats in expected.items():
        for name, value in stats.items():
            got = summary.loc[key, name]
            assert (math.isnan(value) and math.isnan(got)) or got == pytest.approx(value), (
                key,
                name,
            )
    assert list(summary.columns)[:4] == ["calls", "ok", "errors", "cached"]
    assert {str(t) for t in summary.dtypes.iloc[:4]} == {"int64"}
    assert {str(t) for t in summary.dtypes.iloc[4:-1]} == {"float64"}
    assert list(summary.columns)[-1] == "simulated" and str(summary.dtypes.iloc[-1]) == "bool"


def test_usage_frame_keeps_the_largest_plausible_counts_exact_and_drops_absurd_ones() -> None:
    import dataclasses

    from grokbook.errors import ImplausibleUsageWarning
    from grokbook.result import MAX_PLAUSIBLE_TOKENS

    calls = _completions(5, seed=4)
    usage = dataclasses.replace(
        calls[1].usage, reasoning_tokens=MAX_PLAUSIBLE_TOKENS, prompt_tokens=None
    )
    calls[1] = dataclasses.replace(calls[1], usage=usage)
    with pytest.warns(ImplausibleUsageWarning, match="reasoning_tokens"):
        absurd = dataclasses.replace(calls[2].usage, reasoning_tokens=2**60 + 1)
    calls[2] = dataclasses.replace(calls[2], usage=absurd)
    df = gb.usage_frame(calls)
    assert df.loc[1, "reasoning_tokens"] == MAX_PLAUSIBLE_TOKENS
    assert pd.isna(df.loc[2, "reasoning_tokens"])  # 2**60 is no count (issue 13)
    assert pd.isna(df.loc[1, "prompt_tokens"]) and str(df["reasoning_tokens"].dtype) == "Int64"
    for name in TOKEN_COLUMNS:  # the other columns took the same (per-column) path
        expected = [getattr(c.usage, name) for c in calls]
        assert [None if pd.isna(v) else v for v in df[name]] == expected, name
