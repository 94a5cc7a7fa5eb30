"""Plots: Axes with the expected bars, points, labels and colours (Agg, no pyplot)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

import grokbook as gb
from grokbook._columns import error_row
from grokbook.plots import EFFORT_COLORS, effort_color
from grokbook.tables import frame_from_rows
from tests.test_tables import row

MINI_EFFORTS = ("default", "low", "high")
G43_EFFORTS = ("none", "low", "medium", "high")


def sample():
    rows = []
    for effort, reasoning in zip(MINI_EFFORTS, (150, 150, 600), strict=True):
        for repeat, jitter in enumerate((-10, 0, 10)):
            rows.append(
                row(
                    "mini",
                    effort,
                    reasoning + jitter,
                    20,
                    repeat=repeat,
                    latency_s=reasoning / 100,
                    cost_usd=reasoning * 1e-6,
                )
            )
    for effort, reasoning in zip(G43_EFFORTS, (0, 100, 200, 500), strict=True):
        rows.append(row("g43", effort, reasoning, 30, latency_s=1 + reasoning / 100))
    rows.append(error_row(model="mini", reasoning_effort="high", prompt="p", repeat=3, error="x"))
    return frame_from_rows(rows)


def bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def test_plot_efforts_stacks_reasoning_under_completion_per_model_and_effort() -> None:
    ax = gb.plot_efforts(sample())
    reasoning, completion = bars(ax)
    assert reasoning.get_label() == "reasoning" and completion.get_label() == "completion"
    assert len(reasoning.patches) == len(completion.patches) == 7
    assert len(ax.patches) == 14
    heights = [p.get_height() for p in reasoning.patches]
    assert heights == [150, 150, 600, 0, 100, 200, 500]
    assert [p.get_y() for p in completion.patches] == heights  # stacked on top
    assert [p.get_height() for p in completion.patches] == [20] * 3 + [30] * 4
    assert [t.get_text() for t in ax.get_xticklabels()] == [*MINI_EFFORTS, *G43_EFFORTS]
    # One error bar per bar, at the top of the stack (two used to sit on top of each other):
    # the sd of output tokens over repeats, (160, 170, 180) -> 10 on the first mini bar.
    assert reasoning.errorbar is None and completion.errorbar is not None
    segments = completion.errorbar.lines[2][0].get_segments()
    assert len(segments) == 7
    (_x0, low), (_x1, high) = segments[0]
    assert (low + high) / 2 == pytest.approx(170.0) and high - low == pytest.approx(20.0)
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 1
    assert to_hex(reasoning.patches[2].get_facecolor()) == EFFORT_COLORS["high"]
    assert "tokens" in ax.get_ylabel() and ax.get_xlabel() == "reasoning effort"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:5] == ["default", "none", "low", "medium", "high"]
    assert {"reasoning tokens", "completion tokens"} <= set(labels)
    assert {t.get_text() for t in ax.texts} == {"mini", "g43"}  # model group labels


def test_plot_latency_one_colour_per_effort() -> None:
    ax = gb.plot_latency(sample())
    assert len(ax.collections) == 7
    first = ax.collections[0]
    assert len(first.get_offsets()) == 3
    assert to_hex(first.get_facecolor()[0]) == EFFORT_COLORS["default"]
    assert ax.get_ylabel() == "latency (s)" and "output tokens" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "mini · default" and len(labels) == 7


def test_plot_cost_bars_are_mean_cost_per_call() -> None:
    ax = gb.plot_cost(sample())
    (cost,) = bars(ax)
    assert len(cost.patches) == 7
    assert cost.patches[2].get_height() == pytest.approx(600e-6)
    assert ax.get_ylabel() == "cost per call (USD)"
    assert ax.yaxis.get_major_formatter()(0.00015, 0) == "$0.00015"
    strips = [line for line in ax.lines if line.get_marker() == "o"]
    assert [len(line.get_xdata()) for line in strips] == [3, 3, 3, 1, 1, 1, 1]  # one dot a call


def test_plots_draw_on_a_given_axes_and_never_use_pyplot() -> None:
    figure = Figure()
    axes = figure.subplots(1, 3)
    df = sample()
    assert gb.plot_efforts(df, ax=axes[0]) is axes[0]
    assert gb.plot_latency(df, ax=axes[1]) is axes[1]
    assert gb.plot_cost(df, ax=axes[2]) is axes[2]
    assert gb.plot_efforts(df).figure is not figure


def test_single_model_goes_in_the_title_and_colours_are_shared() -> None:
    df = sample()
    one = df[df["model"] == "mini"]
    efforts_ax = gb.plot_efforts(one)
    cost_ax = gb.plot_cost(one)
    assert efforts_ax.get_title().endswith("mini") and not efforts_ax.texts
    for index, effort in enumerate(MINI_EFFORTS):
        colour = effort_color(effort)
        assert to_hex(bars(efforts_ax)[0].patches[index].get_facecolor()) == colour
        assert to_hex(bars(cost_ax)[0].patches[index].get_facecolor()) == colour
    assert effort_color("turbo") == effort_color("turbo") != effort_color("high")


def test_plot_needs_a_usage_frame() -> None:
    import pandas as pd

    with pytest.raises(ValueError, match="usage frame"):
        gb.plot_efforts(pd.DataFrame({"x": [1]}))


def _as_cached(df):
    """The frame a cached re-run gives: the same figures, cached, billed 0."""
    again = df.copy()
    ok = again["status"] == "ok"
    again.loc[ok, "cached"] = True
    again.loc[ok, "billed_usd"] = 0.0
    again.loc[ok, "fetch_s"] = 0.0002
    return again


def test_a_cached_rerun_draws_the_same_cost_and_latency_with_hollow_points() -> None:
    df = sample()
    fresh, rerun = gb.plot_cost(df), gb.plot_cost(_as_cached(df))
    assert [p.get_height() for p in bars(rerun)[0].patches] == [
        p.get_height() for p in bars(fresh)[0].patches
    ]
    dots = [line for line in rerun.lines if line.get_marker() == "o"]
    assert [len(line.get_xdata()) for line in dots] == [3, 3, 3, 1, 1, 1, 1]
    assert {line.get_markerfacecolor() for line in dots} == {"none"}  # hollow: from the cache
    fresh_dots = [line for line in fresh.lines if line.get_marker() == "o"]
    assert "none" not in {line.get_markerfacecolor() for line in fresh_dots}
    labels = [t.get_text() for t in rerun.get_legend().get_texts()]
    assert labels[-1] == "13 of 13 calls cached (original figures)"
    assert not any("cached" in t.get_text() for t in fresh.get_legend().get_texts())

    fresh, rerun = gb.plot_latency(df), gb.plot_latency(_as_cached(df))
    for a, b in zip(fresh.collections, rerun.collections, strict=True):
        assert a.get_offsets().tolist() == b.get_offsets().tolist()
        assert (a.get_facecolors()[:, 3] > 0).all()  # filled
        assert (b.get_facecolors()[:, 3] == 0).all()  # hollow, edged in the effort's colour
        assert to_hex(b.get_edgecolors()[0]) == to_hex(a.get_facecolors()[0])
    labels = [t.get_text() for t in rerun.get_legend().get_texts()]
    assert labels[0] == "mini · default" and labels[-1].startswith("13 of 13 calls cached")
    efforts = gb.plot_efforts(_as_cached(df))
    assert "13 of 13 calls cached" in efforts.get_legend().get_texts()[-1].get_text()


def test_some_cached_rows_are_counted_and_drawn_hollow() -> None:
    df = sample()
    first = df.index[0]  # mini · default, repeat 0
    df.loc[first, "cached"] = True
    ax = gb.plot_latency(df)
    faces = ax.collections[0].get_facecolors()[:, 3]
    assert faces.tolist() == [0.0, 0.8, 0.8]
    assert ax.get_legend().get_texts()[-1].get_text() == "1 of 13 calls cached (original figures)"
    cost = gb.plot_cost(df)
    dots = [line for line in cost.lines if line.get_marker() == "o"]
    assert [len(line.get_xdata()) for line in dots] == [2, 1, 3, 3, 1, 1, 1, 1]
    assert [line.get_markerfacecolor() for line in dots][:2] == ["#222222", "none"]
