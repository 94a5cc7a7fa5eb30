"""What each effort buys: accuracy with a 95% interval, cost per correct answer, a paired test
and the cheapest (model, effort) that is accurate enough.

>>> import grokbook as gb
>>> df = gb.sweep(gb.problems(), models="grok-4.3", efforts=["none", "high"], progress=False)
>>> summary = gb.accuracy_summary(df)
>>> summary[["scored", "correct", "accuracy"]]
                           scored  correct  accuracy
model    reasoning_effort
grok-4.3 none                  50       38      0.76
         high                  50       50      1.00
>>> pick = gb.recommend(df, target=0.9)
>>> pick.model, pick.effort, pick.met
('grok-4.3', 'high', True)

The interval is Wilson's score interval (:func:`wilson_interval`), which stays inside [0, 1]
and behaves at 0 or n correct. :func:`paired_test` compares two (model, effort) options on
the same prompts and repeats with an exact McNemar test (a two-sided sign test on the pairs
where exactly one was right): a large p-value means the difference is within noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._columns import DEFAULT_EFFORT_LABEL
from .tables._frames import order_efforts, simulated_flags

__all__ = [
    "PairedTest",
    "Recommendation",
    "accuracy_summary",
    "mcnemar_exact",
    "paired_test",
    "recommend",
    "wilson_interval",
]

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054

SUMMARY_COLUMNS = (
    "calls",
    "errors",
    "scored",
    "correct",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "mean_score",
    "cost_per_call_usd",
    "cost_per_correct_usd",
    "latency_mean_s",
    "reasoning_tokens_mean",
    "simulated",
)


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for ``correct`` successes in ``n`` trials (NaNs when n is 0).

    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be between 0 and n={n}, not {correct}.")
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: a sign test on the discordant pairs.

    ``a_only`` pairs where only A was right, ``b_only`` where only B was; 1.0 when there are
    none.

    >>> round(mcnemar_exact(1, 9), 5)
    0.02148
    """
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def check_scored(df: pd.DataFrame, what: str) -> None:
    """Raise a ValueError naming ``what`` unless ``df`` is a scored usage frame."""
    missing = [c for c in ("model", "reasoning_effort", "correct") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} needs a scored usage frame; this DataFrame has no "
            f"{', '.join(missing)} column(s). Score it first: gb.sweep(..., expected=...) or "
            "gb.score(df, scorer)."
        )


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _efforts(df: pd.DataFrame) -> pd.Series:
    return df["reasoning_effort"].fillna(DEFAULT_EFFORT_LABEL).astype(str)


def _record(group: pd.DataFrame, z: float) -> dict[str, Any]:
    ok = group[group["status"] == "ok"] if "status" in group.columns else group
    flags = group["correct"].astype("boolean")
    scored = int(flags.notna().sum())
    correct = int(flags.fillna(False).astype(bool).sum())
    low, high = wilson_interval(correct, scored, z)
    scores = _numeric(group["score"]).dropna() if "score" in group.columns else pd.Series()
    cost = _numeric(ok["cost_usd"]).dropna() if "cost_usd" in ok.columns else pd.Series()
    latency = _numeric(ok["latency_s"]).dropna() if "latency_s" in ok.columns else pd.Series()
    reasoning = (
        _numeric(ok["reasoning_tokens"]).dropna()
        if "reasoning_tokens" in ok.columns
        else pd.Series()
    )
    return {
        "calls": len(group),
        "errors": len(group) - len(ok),
        "scored": scored,
        "correct": correct,
        "accuracy": correct / scored if scored else math.nan,
        "accuracy_low": low,
        "accuracy_high": high,
        "mean_score": float(scores.mean()) if len(scores) else math.nan,
        "cost_per_call_usd": float(cost.mean()) if len(cost) else math.nan,
        "cost_per_correct_usd": float(cost.sum()) / correct if correct and len(cost) else math.nan,
        "latency_mean_s": float(latency.mean()) if len(latency) else math.nan,
        "reasoning_tokens_mean": float(reasoning.mean()) if len(reasoning) else math.nan,
        "simulated": bool(simulated_flags(group).any()),
    }


def accuracy_summary(
    df: pd.DataFrame, by: str | Sequence[str] | None = None, *, z: float = Z95
) -> pd.DataFrame:
    """Per model x effort (x each of ``by``, e.g. ``"steps"``): what the answers were worth.

    Columns: ``calls``; ``errors`` (failed calls, not scored); ``scored`` (rows with a score);
    ``correct``; ``accuracy`` (correct / scored) with its Wilson interval ``accuracy_low`` /
    ``accuracy_high`` (95% for the default ``z``); ``mean_score``; ``cost_per_call_usd`` and
    ``latency_mean_s`` (means over successful calls; cached rows keep their original cost);
    ``cost_per_correct_usd`` (the calls' total cost / correct answers; NaN with none right);
    ``reasoning_tokens_mean``; ``simulated`` (True when any of the group's calls was answered
    by grokbook's offline simulator: its accuracy is the simulator's model, not Grok's).
    Efforts are in the usual order (default, none, low, ...).
    """
    check_scored(df, "accuracy_summary")
    extra = [by] if isinstance(by, str) else list(by or [])
    missing = [c for c in extra if c not in df.columns]
    if missing:
        raise ValueError(f"by names no column of this frame: {', '.join(missing)}.")
    efforts = _efforts(df)
    records: list[dict[str, Any]] = []
    index: list[tuple[Any, ...]] = []
    for model in dict.fromkeys(str(m) for m in df["model"]):
        in_model = df[df["model"].astype(str) == model]
        for effort in order_efforts(efforts[in_model.index]):
            group = in_model[efforts[in_model.index] == effort]
            if not extra:
                records.append(_record(group, z))
                index.append((model, effort))
                continue
            for key, sub in group.groupby(extra, sort=True, dropna=False):
                keys = key if isinstance(key, tuple) else (key,)
                records.append(_record(sub, z))
                index.append((model, effort, *keys))
    summary = pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))
    names = ["model", "reasoning_effort", *extra]
    summary.index = (
        pd.MultiIndex.from_tuples(index, names=names)
        if index
        else pd.MultiIndex.from_arrays([[]] * len(names), names=names)
    )
    for name in ("calls", "errors", "scored", "correct"):
        summary[name] = summary[name].astype("int64")
    summary["simulated"] = summary["simulated"].astype(bool)
    summary.attrs["simulated"] = bool(summary["simulated"].any())
    return summary


# -- the paired test --------------------------------------------------------------------------
@dataclass(frozen=True)
class PairedTest:
    """Two options on the same prompts and repeats: exact McNemar (see :func:`paired_test`)."""

    a: tuple[str, str]
    b: tuple[str, str]
    #: Prompt-and-repeat pairs both options scored.
    pairs: int
    #: Pairs only A got right, and only B.
    a_only: int
    b_only: int
    accuracy_a: float
    accuracy_b: float
    p_value: float
    alpha: float
    #: Distinct prompts among the pairs (``pairs`` counts prompt x repeat).
    prompts: int | None = None

    @property
    def within_noise(self) -> bool:
        """True when the difference is not significant at ``alpha`` (p >= alpha)."""
        return self.p_value >= self.alpha

    def __str__(self) -> str:
        a, b = " ".join(self.a), " ".join(self.b)
        verdict = "within noise" if self.within_noise else f"significant at {self.alpha:g}"
        return (
            f"{a} {self.accuracy_a:.0%} vs {b} {self.accuracy_b:.0%} over {self._paired()}: "
            f"{self.a_only} right only for {a}, {self.b_only} only for {b}; exact "
            f"McNemar p = {self.p_value:.3g} ({verdict})."
        )

    def _paired(self) -> str:
        """``15 pairs (5 prompts x 3 repeats)``, or ``5 paired prompts`` with one repeat."""
        prompts = self.prompts
        if prompts is None or prompts == self.pairs:
            return f"{self.pairs} paired prompt{'s' if self.pairs != 1 else ''}"
        if prompts and self.pairs % prompts == 0:
            return f"{self.pairs} pairs ({prompts} prompts x {self.pairs // prompts} repeats)"
        return f"{self.pairs} pairs (prompt x repeat) from {prompts} prompts"


def _option(df: pd.DataFrame, option: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(option, tuple):
        return str(option[0]), str(option[1])
    models = list(dict.fromkeys(str(m) for m in df["model"]))
    if len(models) != 1:
        raise ValueError(
            f"This frame has {len(models)} models: name the options as (model, effort) tuples, "
            f"e.g. ({models[0]!r}, 'low')."
        )
    return models[0], str(option)


def paired_test(
    df: pd.DataFrame,
    a: str | tuple[str, str],
    b: str | tuple[str, str],
    *,
    alpha: float = 0.05,
) -> PairedTest:
    """Is option ``a`` more accurate than ``b`` on the same prompts, or is it noise?

    ``a`` and ``b`` are (model, effort) tuples, or efforts when the frame has one model. Rows
    are paired on (prompt, repeat); pairs where either is unscored are dropped. The test is
    exact McNemar (:func:`mcnemar_exact`).
    """
    check_scored(df, "paired_test")
    first, second = _option(df, a), _option(df, b)
    efforts = _efforts(df)
    sides = []
    for model, effort in (first, second):
        rows = df[(df["model"].astype(str) == model) & (efforts == effort)]
        if rows.empty:
            raise ValueError(f"No rows for model {model!r} at effort {effort!r} in this frame.")
        repeat = rows["repeat"] if "repeat" in rows.columns else pd.Series(0, index=rows.index)
        keyed = pd.DataFrame(
            {
                "prompt": rows["prompt"].astype(str),
                "repeat": repeat.astype("int64"),
                "correct": rows["correct"].astype("boolean"),
            }
        ).dropna(subset=["correct"])
        sides.append(keyed.drop_duplicates(["prompt", "repeat"]))
    paired = sides[0].merge(sides[1], on=["prompt", "repeat"], suffixes=("_a", "_b"))
    right_a = paired["correct_a"].astype(bool)
    right_b = paired["correct_b"].astype(bool)
    a_only, b_only = int((right_a & ~right_b).sum()), int((right_b & ~right_a).sum())
    n = len(paired)
    return PairedTest(
        a=first,
        b=second,
        pairs=n,
        a_only=a_only,
        b_only=b_only,
        accuracy_a=float(right_a.mean()) if n else math.nan,
        accuracy_b=float(right_b.mean()) if n else math.nan,
        p_value=mcnemar_exact(a_only, b_only),
        alpha=alpha,
        prompts=int(paired["prompt"].nunique()),
    )


# -- the recommendation -----------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Recommendation:
    """The cheapest (model, effort) whose accuracy meets the target (see :func:`recommend`)."""

    model: str
    effort: str
    accuracy: float
    accuracy_low: float
    accuracy_high: float
    cost_per_call_usd: float
    cost_per_correct_usd: float
    target: float
    #: False when no option reached the target (then this is the most accurate one).
    met: bool
    #: The paired test against the next cheaper option (None without one, or from a summary).
    vs_cheaper: PairedTest | None = None
    #: The paired test against the most accurate option, when that is another one.
    vs_best: PairedTest | None = None
    #: True when the figures come from grokbook's offline simulator (the note says so first).
    simulated: bool = False

    @property
    def note(self) -> str:
        """The recommendation in words, with its interval and the paired tests."""
        head = (
            f"{self.model} at effort {self.effort}: accuracy {self.accuracy:.0%} (95% interval "
            f"{self.accuracy_low:.0%}-{self.accuracy_high:.0%}), "
            f"${self.cost_per_call_usd:.6f} per call, "
            f"${self.cost_per_correct_usd:.6f} per correct answer."
        )
        lines = (
            ["Simulated: these figures come from grokbook's offline simulator, not Grok."]
            if self.simulated
            else []
        )
        if self.met:
            lines.append(f"Cheapest option with accuracy >= {self.target:.0%}: {head}")
        else:
            lines.append(f"No option reached {self.target:.0%}; the most accurate is {head}")
        if self.vs_cheaper is not None:
            cheaper = " ".join(self.vs_cheaper.b)
            if self.vs_cheaper.within_noise:
                lines.append(
                    f"The cheaper {cheaper} missed the target, but the difference is within "
                    f"noise: {self.vs_cheaper}"
                )
            else:
                lines.append(f"The cheaper {cheaper} is worse beyond noise: {self.vs_cheaper}")
        if self.vs_best is not None:
            best = " ".join(self.vs_best.b)
            how = "within noise" if self.vs_best.within_noise else "a real difference"
            lines.append(f"Against the most accurate, {best} ({how}): {self.vs_best}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.note

    def __repr__(self) -> str:
        simulated = ", simulated=True" if self.simulated else ""
        return (
            f"Recommendation({self.model!r}, {self.effort!r}, met={self.met}{simulated})\n"
            f"{self.note}"
        )


def recommend(data: pd.DataFrame, target: float = 0.9, *, alpha: float = 0.05) -> Recommendation:
    """The cheapest (model, effort) by mean cost per call whose accuracy point estimate is at
    least ``target``, with its Wilson interval.

    ``data`` is a scored usage frame (then the pick is also compared, with :func:`paired_test`
    over the same prompts, with the next cheaper option and with the most accurate one) or an
    :func:`accuracy_summary`. When no option reaches ``target``, the most accurate one is
    returned with ``met=False``.
    """
    if not 0 <= target <= 1:
        raise ValueError(f"target is an accuracy between 0 and 1, not {target!r}.")
    frame: pd.DataFrame | None = None
    if "accuracy" in data.columns and "cost_per_call_usd" in data.columns:
        summary = data
    else:
        frame = data
        summary = accuracy_summary(data)
    if summary.index.nlevels != 2:
        raise ValueError("recommend needs a summary per model x effort (accuracy_summary(df)).")
    options = summary[summary["accuracy"].notna()].copy()
    if options.empty:
        raise ValueError("Nothing was scored: no accuracy to recommend from.")
    options["_cost"] = options["cost_per_call_usd"].fillna(math.inf)
    by_cost = options.sort_values(["_cost", "accuracy"], ascending=[True, False], kind="stable")
    meeting = by_cost[by_cost["accuracy"] >= target - 1e-12]
    best = options.sort_values(["accuracy", "_cost"], ascending=[False, True], kind="stable")
    met = not meeting.empty
    chosen = meeting.index[0] if met else best.index[0]
    row = options.loc[chosen]
    vs_cheaper = vs_best = None
    if frame is not None:
        position = list(by_cost.index).index(chosen)
        cheaper = [k for k in by_cost.index[:position] if by_cost.loc[k, "_cost"] < row["_cost"]]
        if cheaper:
            vs_cheaper = paired_test(frame, chosen, cheaper[-1], alpha=alpha)
        if best.index[0] != chosen:
            vs_best = paired_test(frame, chosen, best.index[0], alpha=alpha)
    return Recommendation(
        model=str(chosen[0]),
        effort=str(chosen[1]),
        accuracy=float(row["accuracy"]),
        accuracy_low=float(row["accuracy_low"]),
        accuracy_high=float(row["accuracy_high"]),
        cost_per_call_usd=float(row["cost_per_call_usd"]),
        cost_per_correct_usd=float(row["cost_per_correct_usd"]),
        target=target,
        met=met,
        vs_cheaper=vs_cheaper,
        vs_best=vs_best,
        simulated=bool(summary["simulated"].any()) if "simulated" in summary.columns else False,
    )
