"""Accuracy summaries, the Wilson interval and the paired test (checked against scipy), and
the recommendation."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from scipy.stats import binomtest

import grokbook as gb
from grokbook.accuracy import mcnemar_exact, wilson_interval


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (8, 10), (10, 10), (38, 50), (1, 1)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(ci.low, abs=1e-9)
    assert high == pytest.approx(ci.high, abs=1e-9)


def test_wilson_by_hand_and_edges() -> None:
    # 8 of 10 by hand: p=0.8, z^2=3.8415; centre=(0.8+0.19207)/1.38415=0.71674;
    # half=1.95996/1.38415*sqrt(0.016+0.009604)=0.22654.
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson_interval(11, 10)


@pytest.mark.parametrize(("a", "b"), [(0, 0), (1, 9), (9, 1), (3, 4), (0, 6), (10, 12), (2, 20)])
def test_mcnemar_matches_scipy_sign_test(a: int, b: int) -> None:
    expected = 1.0 if a + b == 0 else binomtest(a, a + b, 0.5).pvalue
    assert mcnemar_exact(a, b) == pytest.approx(expected, rel=1e-12)


def _frame(rows: list[tuple[str, str, str, bool | None]], cost: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": [m for m, _e, _p, _c in rows],
            "reasoning_effort": [e for _m, e, _p, _c in rows],
            "prompt": [p for _m, _e, p, _c in rows],
            "repeat": [0] * len(rows),
            "status": ["ok" if c is not None else "error" for *_x, c in rows],
            "cost_usd": [cost[e] for _m, e, _p, _c in rows],
            "latency_s": [1.0] * len(rows),
            "reasoning_tokens": [10] * len(rows),
            "score": [math.nan if c is None else float(c) for *_x, c in rows],
            "correct": pd.array(list(c for *_x, c in rows), dtype="boolean"),
        }
    )


def _cases(low: list[bool], high: list[bool]) -> pd.DataFrame:
    rows: list[Any] = [("m", "low", f"p{i}", c) for i, c in enumerate(low)]
    rows += [("m", "high", f"p{i}", c) for i, c in enumerate(high)]
    return _frame(rows, {"low": 0.001, "high": 0.004})


def test_accuracy_summary_columns_and_numbers() -> None:
    df = _cases([True] * 7 + [False] * 3, [True] * 9 + [None])
    summary = gb.accuracy_summary(df)
    assert list(summary.index) == [("m", "low"), ("m", "high")]
    low = summary.loc[("m", "low")]
    assert (low["scored"], low["correct"], low["accuracy"]) == (10, 7, 0.7)
    ci = binomtest(7, 10).proportion_ci(method="wilson")
    assert low["accuracy_low"] == pytest.approx(ci.low)
    assert low["accuracy_high"] == pytest.approx(ci.high)
    assert low["cost_per_call_usd"] == pytest.approx(0.001)
    assert low["cost_per_correct_usd"] == pytest.approx(0.01 / 7)
    high = summary.loc[("m", "high")]
    assert (high["calls"], high["errors"], high["scored"], high["accuracy"]) == (10, 1, 9, 1.0)
    with pytest.raises(ValueError, match=r"gb\.score"):
        gb.accuracy_summary(df.drop(columns=["correct"]))


def test_paired_test_counts_discordant_pairs() -> None:
    low = [True, False, False, False, True, True, False, True, False, False]
    high = [True, True, True, True, True, False, True, True, True, True]
    df = _cases(low, high)
    test = gb.paired_test(df, "high", "low")
    assert (test.pairs, test.a_only, test.b_only) == (10, 6, 1)
    assert test.p_value == pytest.approx(binomtest(1, 7, 0.5).pvalue)
    assert test.within_noise  # p = 0.125: 6 vs 1 over 10 prompts is not enough
    assert "within noise" in str(test)
    strong = gb.paired_test(_cases([False] * 12, [True] * 12), ("m", "high"), ("m", "low"))
    assert not strong.within_noise and strong.p_value < 0.001
    with pytest.raises(ValueError, match="No rows"):
        gb.paired_test(df, "medium", "low")


def test_recommend_cheapest_meeting_target_and_noise() -> None:
    low = [True] * 8 + [False] * 2
    high = [True] * 10
    df = _cases(low, high)
    pick = gb.recommend(df, target=0.9)
    assert (pick.model, pick.effort, pick.met) == ("m", "high", True)
    assert pick.vs_cheaper is not None and pick.vs_cheaper.b == ("m", "low")
    assert pick.vs_cheaper.within_noise  # 2 discordant pairs: within noise
    assert "within noise" in pick.note and "95% interval" in pick.note
    cheap = gb.recommend(df, target=0.8)
    assert cheap.effort == "low" and cheap.vs_cheaper is None
    assert cheap.vs_best is not None and cheap.vs_best.b == ("m", "high")
    # From a summary: the same pick, no paired tests (no rows to pair).
    from_summary = gb.recommend(gb.accuracy_summary(df), target=0.9)
    assert from_summary.effort == "high" and from_summary.vs_cheaper is None
    perfect = gb.recommend(df, target=1.0)
    assert perfect.met and perfect.effort == "high"
    nothing = gb.recommend(_cases([False] * 4, [True, False, False, False]), target=0.9)
    assert not nothing.met and nothing.effort == "high"
    assert "No option reached 90%" in nothing.note
    with pytest.raises(ValueError, match="between 0 and 1"):
        gb.recommend(df, target=90)


def test_the_simulated_trade_off_on_the_built_in_set() -> None:
    """Done-when: accuracy rises with effort on multi-step problems, flat on one-step ones;
    re-scoring with a second scorer makes zero requests."""
    from grokbook.sim import SimTransport

    transport = SimTransport(latency="none")
    client = gb.Client(provider="sim", transport=transport)
    df = gb.sweep(gb.problems(), models="grok-4.3", client=client, progress=False)
    # grok-4.3's default is low: already in the grid, not a second "default" request
    assert set(df["reasoning_effort"]) == {"none", "low", "medium", "high"}
    by_steps = gb.accuracy_summary(df, by="steps")["accuracy"].unstack("steps")
    efforts = ["none", "low", "medium", "high"]
    one_step = by_steps.loc[[("grok-4.3", e) for e in efforts], 1]
    assert list(one_step) == [1.0] * 4
    assert list(by_steps.loc[[("grok-4.3", e) for e in efforts], 2]) == [1.0] * 4
    multi = df[df["steps"] >= 3].groupby("reasoning_effort")["correct"].mean()
    assert multi["none"] < multi["low"] < multi["medium"] <= multi["high"]
    served = transport.requests_served
    rescored = gb.score(df, gb.scoring.contains)
    assert transport.requests_served == served
    assert rescored["correct"].sum() == df["correct"].sum()
    pick = gb.recommend(df, target=0.9)
    assert pick.met and pick.accuracy >= 0.9
