"""Plots of usage frames (matplotlib): what each reasoning effort spends.

Why one module (~500 lines): the five plots share one effort colour map, the grouping per
model and effort, the cached and simulated marks and the legends; apart they would import
each other's helpers.

>>> import grokbook as gb
>>> df = gb.sweep(["What is 101*3?"], repeats=3, progress=False)
>>> ax = gb.plot_efforts(df)      # stacked reasoning + completion tokens per effort
>>> ax = gb.plot_latency(df)      # latency vs output tokens, one colour per effort
>>> ax = gb.plot_cost(df)         # cost per call by effort
>>> [label.get_text() for label in ax.get_xticklabels()]   # one bar per effort
['none', 'low', 'medium', 'high']

Each function takes ``ax=None`` (a new Figure, without pyplot, when None) and returns the
Axes; none calls ``plt.show()`` or chooses a backend. An effort has the same colour in every
plot (:data:`EFFORT_COLORS`). Failed calls (``status != "ok"``) are left out.

Rows answered from grokbook's cache keep their original call's cost and latency, so a re-run
draws the same panels; their points are hollow and the legend says how many were cached.
When any row was answered by grokbook's offline simulator, the title gets a second line,
:data:`SIMULATED_SUBTITLE`: its figures are the simulator's model, not Grok's.

In a script::

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    gb.plot_efforts(df, ax=axes[0]); gb.plot_latency(df, ax=axes[1]); gb.plot_cost(df, ax=axes[2])
    fig.savefig("efforts.png")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ._columns import DEFAULT_EFFORT_LABEL
from .accuracy import accuracy_summary, check_scored
from .tables._frames import order_efforts, simulated_flags

__all__ = [
    "EFFORT_COLORS",
    "SIMULATED_SUBTITLE",
    "effort_color",
    "pareto_front",
    "plot_accuracy_latency",
    "plot_cost",
    "plot_efforts",
    "plot_frontier",
    "plot_latency",
]

#: One colour per effort, the same in every plot (light to dark with effort).
EFFORT_COLORS: dict[str, str] = {
    DEFAULT_EFFORT_LABEL: "#7f7f7f",  # grey: the model's own default
    "none": "#bcbd22",
    "minimal": "#17becf",
    "low": "#1f77b4",
    "medium": "#ff7f0e",
    "high": "#d62728",
}
_EXTRA_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#2ca02c")
#: The title's second line on a plot of simulated calls.
SIMULATED_SUBTITLE = "simulated: grokbook's offline simulator, not Grok"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def effort_color(effort: str) -> str:
    """The colour of ``effort`` (unknown efforts get a stable colour from a spare palette)."""
    if effort in EFFORT_COLORS:
        return EFFORT_COLORS[effort]
    return _EXTRA_COLORS[sum(effort.encode()) % len(_EXTRA_COLORS)]


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.5)) -> Axes:
    if ax is not None:
        return ax
    figure = Figure(figsize=figsize, layout="constrained")
    return figure.add_subplot()


def _ok(df: pd.DataFrame, what: str) -> pd.DataFrame:
    missing = [c for c in ("model", "reasoning_effort") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} needs a usage frame (from gb.sweep or gb.usage_frame); this DataFrame has "
            f"no {', '.join(missing)} column(s)."
        )
    ok = df if "status" not in df.columns else df[df["status"] == "ok"]
    ok = ok.copy()
    ok["reasoning_effort"] = ok["reasoning_effort"].fillna(DEFAULT_EFFORT_LABEL).astype(str)
    ok["model"] = ok["model"].astype(str)
    return ok


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _groups(df: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(model, effort, rows) in display order: models as they appear, efforts ordered."""
    out = []
    for model in dict.fromkeys(df["model"]):
        rows = df[df["model"] == model]
        for effort in order_efforts(rows["reasoning_effort"]):
            out.append((model, effort, rows[rows["reasoning_effort"] == effort]))
    return out


def _stats(values: pd.Series) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single call; NaN-free)."""
    clean = values.dropna()
    if clean.empty:
        return 0.0, 0.0
    std = float(clean.std(ddof=1)) if len(clean) > 1 else 0.0
    return float(clean.mean()), std


def _positions(groups: Sequence[tuple[str, str, Any]]) -> tuple[list[float], list[float]]:
    """Bar x positions with a gap between models, and each model's centre."""
    xs: list[float] = []
    centres: list[float] = []
    x = 0.0
    previous: str | None = None
    start = 0.0
    for model, _effort, _rows in groups:
        if previous is not None and model != previous:
            centres.append((start + xs[-1]) / 2)
            x += 0.6
            start = x
        elif previous is None:
            start = x
        xs.append(x)
        x += 1.0
        previous = model
    if xs:
        centres.append((start + xs[-1]) / 2)
    return xs, centres


def _label_models(ax: Axes, groups: Sequence[tuple[str, str, Any]], centres: list[float]) -> None:
    models = list(dict.fromkeys(model for model, _e, _r in groups))
    if len(models) == 1:
        ax.set_title(f"{ax.get_title()} · {models[0]}" if ax.get_title() else models[0])
        return
    transform = ax.get_xaxis_transform()
    for model, centre in zip(models, centres, strict=True):
        ax.text(centre, -0.14, model, transform=transform, ha="center", va="top", fontsize=9)


def _mark_simulated(ax: Axes, data: pd.DataFrame) -> None:
    """Add :data:`SIMULATED_SUBTITLE` under the title when any row of ``data`` is simulated."""
    if len(data) and simulated_flags(data).any():
        ax.set_title(f"{ax.get_title()}\n{SIMULATED_SUBTITLE}")


def _legend_for_efforts(efforts: Sequence[str]) -> list[Patch]:
    return [Patch(facecolor=effort_color(e), label=e) for e in efforts]


def _cached(rows: pd.DataFrame) -> np.ndarray:
    """True where a row came from grokbook's cache (drawn hollow)."""
    if "cached" not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    return np.asarray(rows["cached"].astype("boolean").fillna(False), dtype=bool)


def _cached_label(ok: pd.DataFrame) -> str | None:
    """The legend's note on cached rows ("3 of 15 calls cached ..."), None when there are none."""
    count = int(_cached(ok).sum())
    if not count:
        return None
    return f"{count} of {len(ok)} calls cached (original figures)"


def _cached_handles(ok: pd.DataFrame, *, marker: bool = True) -> list[Any]:
    """A legend entry for cached rows: a hollow marker (or no swatch when nothing is hollow)."""
    label = _cached_label(ok)
    if label is None:
        return []
    if not marker:
        return [Patch(facecolor="none", edgecolor="none", label=label)]
    hollow = Line2D(
        [], [], linestyle="none", marker="o", markerfacecolor="none", markeredgecolor="#555555"
    )
    hollow.set_label(label)
    return [hollow]


def plot_efforts(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked bars per (model, effort): mean reasoning tokens (solid) under mean completion
    tokens (hatched), with an error bar of one standard deviation of the whole stack over the
    calls (repeats, and prompts when there are several).

    Returns the Axes; its BarContainers are "reasoning" and "completion", with one bar per
    (model, effort); the completion bars carry the one error bar (the spread of reasoning +
    completion tokens per call, drawn at the top of the stack).
    """
    ok = _ok(df, "plot_efforts")
    ax = _axes(ax)
    groups = _groups(ok)
    xs, centres = _positions(groups)
    reasoning = [_stats(_num(rows["reasoning_tokens"])) for _m, _e, rows in groups]
    completion = [_stats(_num(rows["completion_tokens"])) for _m, _e, rows in groups]
    output = [_stats(_num(rows["output_tokens"])) for _m, _e, rows in groups]
    colors = [effort_color(effort) for _m, effort, _r in groups]
    r_mean = np.array([m for m, _s in reasoning])
    c_mean = np.array([m for m, _s in completion])
    error_style = {"ecolor": "#333333", "capsize": 3, "elinewidth": 1}
    # One error bar per bar, at the top of the stack: with both parts carrying one, the two
    # sat on top of each other (the answer part is a few tokens tall).
    ax.bar(xs, r_mean, width=0.8, color=colors, edgecolor="white", label="reasoning")
    ax.bar(
        xs,
        c_mean,
        width=0.8,
        bottom=r_mean,
        color=colors,
        alpha=0.45,
        hatch="//",
        edgecolor="white",
        yerr=[s for _m, s in output],  # spread of the whole stack (reasoning + completion)
        error_kw=error_style,
        label="completion",
    )
    ax.set_xticks(xs, [effort for _m, effort, _r in groups])
    ax.set_xlabel("reasoning effort")
    ax.set_ylabel("tokens per call (mean ± 1 sd over calls)")
    ax.set_title("Reasoning vs completion tokens")
    _label_models(ax, groups, centres)
    efforts = order_efforts(effort for _m, effort, _r in groups)
    handles = [
        *_legend_for_efforts(efforts),
        Patch(facecolor="#555555", label="reasoning tokens"),
        Patch(facecolor="#555555", alpha=0.45, hatch="//", label="completion tokens"),
        *_cached_handles(ok, marker=False),
    ]
    ax.legend(handles=handles, fontsize=8, loc="upper left", framealpha=0.9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    _mark_simulated(ax, ok)
    return ax


def plot_latency(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Latency (s) against output tokens, one point per call, coloured by effort.

    Models are told apart by marker shape when there are several; cached calls (their
    original latency) are hollow. Returns the Axes (one scatter collection per (model,
    effort)).
    """
    ok = _ok(df, "plot_latency")
    ax = _axes(ax)
    models = list(dict.fromkeys(ok["model"]))
    handles: list[Any] = []
    for model, effort, rows in _groups(ok):
        points = pd.DataFrame(
            {
                "x": _num(rows["output_tokens"]),
                "y": _num(rows["latency_s"]),
                "cached": _cached(rows),
            }
        ).dropna()
        hollow = points["cached"].to_numpy(dtype=bool)
        marker = _MARKERS[models.index(model) % len(_MARKERS)]
        label = effort if len(models) == 1 else f"{model} · {effort}"
        colour = to_rgba(effort_color(effort), 0.8)
        ax.scatter(
            points["x"],
            points["y"],
            marker=marker,
            facecolors=[(0.0, 0.0, 0.0, 0.0) if h else colour for h in hollow],
            edgecolors=[colour if h else "white" for h in hollow],
            linewidths=[1.2 if h else 0.5 for h in hollow],
            label=label,
        )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markerfacecolor=colour,
                markeredgecolor="white",
                markersize=7,
                label=label,
            )
        )
    ax.set_xlabel("output tokens per call (reasoning + completion)")
    ax.set_ylabel("latency (s)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title("Latency vs output tokens" + (f" · {models[0]}" if len(models) == 1 else ""))
    if models:
        handles += _cached_handles(ok)
        ax.legend(handles=handles, title="effort", fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    _mark_simulated(ax, ok)
    return ax


def _usd(value: float, _position: Any = None) -> str:
    if value == 0:
        return "$0"
    if abs(value) >= 0.01:
        return f"${value:,.2f}"
    return "$" + f"{value:.8f}".rstrip("0")


def plot_cost(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean cost per call (USD) per (model, effort), error bars of one standard deviation,
    with each call as a dot (hollow when it came from the cache, at its original cost).
    Returns the Axes (one BarContainer, one bar per group)."""
    ok = _ok(df, "plot_cost")
    ax = _axes(ax)
    groups = _groups(ok)
    xs, centres = _positions(groups)
    stats = [_stats(_num(rows["cost_usd"])) for _m, _e, rows in groups]
    colors = [effort_color(effort) for _m, effort, _r in groups]
    ax.bar(
        xs,
        [m for m, _s in stats],
        width=0.8,
        color=colors,
        alpha=0.85,
        yerr=[s for _m, s in stats],
        error_kw={"ecolor": "#333333", "capsize": 3, "elinewidth": 1},
        label="mean cost per call",
    )
    for x, (_model, _effort, rows) in zip(xs, groups, strict=True):
        costs = _num(rows["cost_usd"])
        known = costs.notna().to_numpy()
        values, hollow = costs.to_numpy()[known], _cached(rows)[known]
        if len(values):
            jitter = np.linspace(-0.2, 0.2, len(values)) if len(values) > 1 else np.zeros(1)
            for pick, face in ((~hollow, "#222222"), (hollow, "none")):
                if pick.any():
                    ax.plot(
                        (x + jitter)[pick],
                        values[pick],
                        linestyle="none",
                        marker="o",
                        markersize=3,
                        color="#222222",
                        markerfacecolor=face,
                        alpha=0.6,
                    )
    ax.set_xticks(xs, [effort for _m, effort, _r in groups])
    ax.set_xlabel("reasoning effort")
    ax.set_ylabel("cost per call (USD)")
    ax.yaxis.set_major_formatter(FuncFormatter(_usd))
    ax.set_title("Cost per call")
    _label_models(ax, groups, centres)
    efforts = order_efforts(effort for _m, effort, _r in groups)
    ax.legend(
        handles=[*_legend_for_efforts(efforts), *_cached_handles(ok)],
        fontsize=8,
        title="effort",
        title_fontsize=8,
    )
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    _mark_simulated(ax, ok)
    return ax


# -- accuracy: what each effort buys ------------------------------------------------------------
def _accuracy_points(data: pd.DataFrame, what: str) -> pd.DataFrame:
    """An accuracy summary (one row per model x effort) from a scored frame or a summary;
    errors name ``what`` (the plot the user called)."""
    if "accuracy" in data.columns and "cost_per_call_usd" in data.columns:
        summary = data
    else:
        check_scored(data, what)
        summary = accuracy_summary(data)
    if summary.index.nlevels != 2:
        raise ValueError(f"{what} needs a summary per model x effort (accuracy_summary(df)).")
    return summary[summary["accuracy"].notna()]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats: none is cheaper (lower x) and at least as
    accurate (y), or as cheap and more accurate. In order of x.

    >>> pareto_front([(1.0, 0.7), (2.0, 0.9), (3.0, 0.8), (4.0, 0.95)])
    [0, 1, 3]
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best = -np.inf
    for i in order:
        x, y = points[i]
        if np.isnan(x) or np.isnan(y):
            continue
        if y > best:
            front.append(i)
            best = y
    return front


def plot_frontier(
    data: pd.DataFrame,
    ax: Axes | None = None,
    *,
    x: str = "cost",
    target: float | None = None,
) -> Axes:
    """Accuracy (with its 95% Wilson interval) against cost per call, one point per model x
    effort, with the Pareto frontier (the options nothing beats on both) joined by a line.

    ``data`` is a scored usage frame (``gb.sweep(..., expected=...)`` / ``gb.score``) or
    ``gb.accuracy_summary(df)``. ``x="latency"`` puts mean latency on the x axis instead
    (:func:`plot_accuracy_latency`). ``target`` draws a dotted line at that accuracy. Colours
    are the efforts' (:data:`EFFORT_COLORS`), markers tell models apart; the cost axis is
    logarithmic when costs span more than 20x. Returns the Axes.
    """
    columns = {"cost": "cost_per_call_usd", "latency": "latency_mean_s"}
    if x not in columns:
        raise ValueError(f"x must be 'cost' or 'latency', not {x!r}.")
    summary = _accuracy_points(data, "plot_frontier" if x == "cost" else "plot_accuracy_latency")
    ax = _axes(ax)
    models = list(dict.fromkeys(str(m) for m, _e in summary.index))
    keys = list(summary.index)
    xs = summary[columns[x]].to_numpy(dtype=float)
    ys = summary["accuracy"].to_numpy(dtype=float)
    low = summary["accuracy_low"].to_numpy(dtype=float)
    high = summary["accuracy_high"].to_numpy(dtype=float)
    handles: list[Any] = []
    for i, (model, effort) in enumerate(keys):
        marker = _MARKERS[models.index(str(model)) % len(_MARKERS)]
        colour = effort_color(str(effort))
        label = str(effort) if len(models) == 1 else f"{model} · {effort}"
        ax.errorbar(
            [xs[i]],
            [ys[i]],
            yerr=[[max(0.0, ys[i] - low[i])], [max(0.0, high[i] - ys[i])]],
            fmt=marker,
            color=colour,
            markeredgecolor="white",
            markersize=8,
            ecolor=to_rgba(colour, 0.6),
            elinewidth=1.2,
            capsize=3,
            label=label,
        )
        ax.annotate(
            str(effort), (xs[i], ys[i]), xytext=(6, -10), textcoords="offset points", fontsize=8
        )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markerfacecolor=colour,
                markeredgecolor="white",
                markersize=8,
                label=label,
            )
        )
    front = pareto_front(list(zip(xs.tolist(), ys.tolist(), strict=True)))
    if front:
        (line,) = ax.plot(
            xs[front],
            ys[front],
            linestyle="--",
            color="#333333",
            linewidth=1.2,
            zorder=0,
            label="Pareto frontier",
        )
        handles.append(line)
    if target is not None:
        handles.append(
            ax.axhline(
                target, linestyle=":", color="#555555", linewidth=1, label=f"target {target:.0%}"
            )
        )
    finite = xs[np.isfinite(xs) & (xs > 0)]
    if x == "cost":
        if len(finite) and finite.max() / finite.min() > 20:
            ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_usd))
        ax.set_xlabel("mean cost per call (USD)")
        title = "Accuracy vs cost per call"
    else:
        ax.set_xlabel("mean latency per call (s)")
        title = "Accuracy vs latency"
    ax.set_ylabel("accuracy (95% Wilson interval)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    top = float(np.nanmax(high)) if len(high) else 1.0
    ax.set_ylim(max(0.0, float(np.nanmin(low)) - 0.05) if len(low) else 0.0, min(1.02, top + 0.02))
    ax.set_title(title + (f" · {models[0]}" if len(models) == 1 else ""))
    if handles:
        ax.legend(handles=handles, fontsize=8, title="model · effort", title_fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    _mark_simulated(ax, summary)
    return ax


def plot_accuracy_latency(
    data: pd.DataFrame, ax: Axes | None = None, *, target: float | None = None
) -> Axes:
    """Accuracy against mean latency per call: :func:`plot_frontier` with ``x="latency"``."""
    return plot_frontier(data, ax=ax, x="latency", target=target)
