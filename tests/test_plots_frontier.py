"""plot_frontier / plot_accuracy_latency: accuracy vs cost (or latency) with the frontier."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import grokbook as gb
from grokbook.plots import effort_color, pareto_front


def _scored() -> pd.DataFrame:
    return gb.sweep(
        gb.problems().iloc[::5],  # 10 problems, every tier
        models=["grok-4.3", "grok-3-mini-beta"],
        efforts=["low", "high"],
        progress=False,
    )


def test_pareto_front() -> None:
    assert pareto_front([(1.0, 0.7), (2.0, 0.9), (3.0, 0.8), (4.0, 0.95)]) == [0, 1, 3]
    assert pareto_front([(2.0, 0.9), (1.0, 0.9)]) == [1]  # as accurate and cheaper wins
    assert pareto_front([(1.0, float("nan")), (2.0, 0.5)]) == [1]
    assert pareto_front([]) == []


def test_plot_frontier_points_interval_and_frontier() -> None:
    df = _scored()
    summary = gb.accuracy_summary(df)
    ax = gb.plot_frontier(df, target=0.9)
    assert isinstance(ax.figure, Figure)
    lines = {line.get_label(): line for line in ax.get_lines()}
    front = lines["Pareto frontier"]
    xs = list(front.get_xdata())
    assert xs == sorted(xs)
    expected = pareto_front(
        list(zip(summary["cost_per_call_usd"], summary["accuracy"], strict=True))
    )
    assert len(xs) == len(expected)
    assert "target 90%" in lines
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "grok-4.3 · high" in legend and "grok-3-mini-beta · low" in legend
    # One errorbar container per model x effort, coloured by effort.
    assert len(ax.containers) == len(summary)
    for container, (_model, effort) in zip(ax.containers, summary.index, strict=True):
        assert to_hex(container.lines[0].get_color()) == to_hex(effort_color(effort))
    assert ax.get_xlabel() == "mean cost per call (USD)"
    # From the summary, the same plot.
    again = gb.plot_frontier(summary)
    assert len(again.containers) == len(summary)


def test_plot_accuracy_latency_and_bad_input() -> None:
    df = _scored()
    ax = gb.plot_accuracy_latency(df)
    assert ax.get_xlabel() == "mean latency per call (s)"
    assert ax.get_title().splitlines()[0] == "Accuracy vs latency"
    with pytest.raises(ValueError, match="'cost' or 'latency'"):
        gb.plot_frontier(df, x="tokens")
    with pytest.raises(ValueError, match=r"gb\.score"):
        gb.plot_frontier(df.drop(columns=["correct"]))
