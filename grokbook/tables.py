"""Usage frames and effort summaries (pandas).

One row per call, with the public usage columns plus ``answer`` (the visible
answer text) and ``model_served`` (the model the response says answered)::

    >>> import grokbook as gb
    >>> client = gb.Client(provider="sim")
    >>> calls = [client.chat("What is 101*3?", reasoning_effort=e) for e in ("low", "high")]
    >>> df = gb.usage_frame(calls)
    >>> list(df["reasoning_effort"])
    ['low', 'high']
    >>> summary = gb.effort_summary(df)          # one row per model x effort
    >>> summary["calls"]
    model     reasoning_effort
    grok-4.3  low                 1
              high                1
    Name: calls, dtype: int64
    >>> low, high = summary["reasoning_tokens_mean"]
    >>> high > low                               # high effort thinks longer
    True

Token columns are nullable integers (``Int64``): a count the server did not send is
``<NA>``, never 0. Importing this module registers a ``grok`` accessor on DataFrames::

    >>> df.grok.summary().equals(summary)         # gb.effort_summary(df)
    True
    >>> ax = df.grok.plot()                       # gb.plot_efforts(df); kind="latency" | "cost"

This module (with :mod:`grokbook.sweeps` and :mod:`grokbook.plots`) is the only place grokbook
imports pandas; ``import grokbook`` alone never does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._columns import DEFAULT_EFFORT_LABEL, TOKEN_COLUMNS, USAGE_COLUMNS, completion_row
from .result import Completion

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "EFFORT_ORDER",
    "FRAME_COLUMNS",
    "GrokAccessor",
    "effort_summary",
    "frame_from_rows",
    "order_efforts",
    "usage_frame",
]

#: The columns of a usage frame and of a sweep's rows, in order.
FRAME_COLUMNS: tuple[str, ...] = (*USAGE_COLUMNS, "answer", "model_served")

#: How efforts sort in tables and plots; unknown efforts follow, alphabetically.
EFFORT_ORDER: tuple[str, ...] = (DEFAULT_EFFORT_LABEL, "none", "minimal", "low", "medium", "high")

_FLOAT_COLUMNS = ("latency_s", "cost_usd", "billed_usd", "fetch_s")
_FRAME_COLUMN_SET = frozenset(FRAME_COLUMNS)
_TYPED_COLUMNS = frozenset((*TOKEN_COLUMNS, "repeat", *_FLOAT_COLUMNS, "cached"))


def order_efforts(efforts: Iterable[Any]) -> list[str]:
    """The distinct efforts in display order: default, none, minimal, low, medium, high, rest."""
    seen = {str(e) for e in efforts if e is not None and not (isinstance(e, float) and e != e)}
    known = [e for e in EFFORT_ORDER if e in seen]
    return known + sorted(seen - set(EFFORT_ORDER))


def frame_from_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A usage frame from row dicts (``_columns.completion_row`` / ``error_row`` shapes).

    Columns: :data:`FRAME_COLUMNS` first, then any extra keys the rows carry. Token counts and
    ``repeat`` become ``Int64`` (missing = ``<NA>``), latency, cost, billed and fetch time
    ``float64``, ``cached`` a nullable boolean.
    """
    records = [row if isinstance(row, dict) else dict(row) for row in rows]
    # Extra keys in order of first appearance, gathered at C speed.
    keys = dict.fromkeys(itertools.chain.from_iterable(records))
    extra = [k for k in keys if k not in _FRAME_COLUMN_SET]
    columns = [*FRAME_COLUMNS, *extra]
    frame = pd.DataFrame.from_records(records, columns=columns)
    if frame.empty:
        frame = frame.astype(object)
    for name in (*TOKEN_COLUMNS, "repeat"):
        frame[name] = frame[name].astype("Int64")
    for name in _FLOAT_COLUMNS:
        frame[name] = frame[name].astype("float64")
    frame["cached"] = frame["cached"].astype("boolean")
    for name in columns:
        if name not in _TYPED_COLUMNS:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def usage_frame(completions: Iterable[Completion | Mapping[str, Any]] | Completion) -> pd.DataFrame:
    """One row per Completion, with the same columns as :func:`grokbook.sweep` returns.

    ``repeat`` counts earlier completions of the same (model, effort, prompt) in the list, so a
    list of five identical calls gets repeats 0..4. Row dicts (e.g. a sweep's error rows) are
    accepted too and kept as they are.
    """
    items: Sequence[Completion | Mapping[str, Any]]
    items = [completions] if isinstance(completions, Completion) else list(completions)
    counts: dict[tuple[str, str, str], int] = {}
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Completion):
            prompt = item.prompt
            key = (item.requested_model, item.reasoning_effort or DEFAULT_EFFORT_LABEL, prompt)
            repeat = counts.get(key, 0)
            counts[key] = repeat + 1
            row = completion_row(item, prompt=prompt, repeat=repeat)
            row["answer"] = item.content
            row["model_served"] = item.model
            rows.append(row)
        elif isinstance(item, Mapping):
            rows.append(dict(item))
        else:
            raise TypeError(
                f"usage_frame takes Completions (what client.chat returns), not "
                f"{type(item).__name__}."
            )
    return frame_from_rows(rows)


_REQUIRED = ("model", "reasoning_effort", "status")


def _check_frame(df: pd.DataFrame, what: str) -> None:
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} needs a usage frame (from gb.sweep or gb.usage_frame); this DataFrame has "
            f"no {', '.join(missing)} column(s)."
        )


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def effort_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Aggregates per model x effort (index), efforts ordered default/none/low/medium/high.

    Columns:

    - ``calls`` rows; ``ok`` successful calls; ``errors`` failed calls; ``cached`` how many
      rows came from grokbook's cache (their cost and latency are the original calls').
    - ``{reasoning,completion,output}_tokens_{mean,median}`` over successful calls with a count
      (NaN when the server sent none).
    - ``reasoning_share``: reasoning / output tokens, summed over calls that have both.
    - ``latency_mean_s``: mean latency of successful calls, seconds.
    - ``cost_total_usd`` (sum of known costs) and ``cost_per_call_usd`` (their mean): what
      the calls cost, the same on a re-run from the cache.
    - ``billed_total_usd``: the money this run spent (sum of ``billed_usd``; a cache hit
      bills 0).
    """
    _check_frame(df, "effort_summary")
    columns = [
        "calls",
        "ok",
        "errors",
        "cached",
        "reasoning_tokens_mean",
        "reasoning_tokens_median",
        "completion_tokens_mean",
        "completion_tokens_median",
        "output_tokens_mean",
        "output_tokens_median",
        "reasoning_share",
        "latency_mean_s",
        "cost_total_usd",
        "cost_per_call_usd",
        "billed_total_usd",
    ]
    models = list(dict.fromkeys(str(m) for m in df["model"]))
    records: list[dict[str, Any]] = []
    index: list[tuple[str, str]] = []
    effort_col = df["reasoning_effort"].fillna(DEFAULT_EFFORT_LABEL).astype(str)
    for model in models:
        in_model = df[df["model"].astype(str) == model]
        for effort in order_efforts(effort_col[in_model.index]):
            group = in_model[effort_col[in_model.index] == effort]
            ok = group[group["status"] == "ok"]
            record: dict[str, Any] = {
                "calls": len(group),
                "ok": len(ok),
                "errors": len(group) - len(ok),
                "cached": int(group["cached"].astype("boolean").fillna(False).astype(bool).sum())
                if "cached" in group
                else 0,
            }
            for name in ("reasoning_tokens", "completion_tokens", "output_tokens"):
                values = _numeric(ok[name]).dropna() if name in ok else pd.Series(dtype="float64")
                record[f"{name}_mean"] = float(values.mean()) if len(values) else float("nan")
                record[f"{name}_median"] = float(values.median()) if len(values) else float("nan")
            if "reasoning_tokens" in ok and "output_tokens" in ok:
                both = pd.DataFrame(
                    {"r": _numeric(ok["reasoning_tokens"]), "o": _numeric(ok["output_tokens"])}
                ).dropna()
                total_out = float(both["o"].sum())
                record["reasoning_share"] = (
                    float(both["r"].sum()) / total_out if total_out > 0 else float("nan")
                )
            else:
                record["reasoning_share"] = float("nan")
            latency = _numeric(ok["latency_s"]).dropna() if "latency_s" in ok else pd.Series()
            record["latency_mean_s"] = float(latency.mean()) if len(latency) else float("nan")
            cost = _numeric(group["cost_usd"]).dropna() if "cost_usd" in group else pd.Series()
            record["cost_total_usd"] = float(cost.sum()) if len(cost) else float("nan")
            record["cost_per_call_usd"] = float(cost.mean()) if len(cost) else float("nan")
            billed = (
                _numeric(group["billed_usd"]).dropna() if "billed_usd" in group else pd.Series()
            )
            record["billed_total_usd"] = float(billed.sum()) if len(billed) else float("nan")
            records.append(record)
            index.append((model, effort))
    summary = pd.DataFrame.from_records(records, columns=columns)
    summary.index = pd.MultiIndex.from_tuples(index, names=["model", "reasoning_effort"])
    for name in ("calls", "ok", "errors", "cached"):
        summary[name] = summary[name].astype("int64")
    return summary


@pd.api.extensions.register_dataframe_accessor("grok")
class GrokAccessor:
    """``df.grok.summary()`` and ``df.grok.plot(kind="efforts" | "latency" | "cost")``."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def summary(self) -> pd.DataFrame:
        """The effort summary of this usage frame (:func:`effort_summary`)."""
        return effort_summary(self._df)

    def plot(self, kind: str = "efforts", ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot this usage frame: ``kind`` is "efforts", "latency" or "cost"; returns the Axes."""
        from . import plots

        functions = {
            "efforts": plots.plot_efforts,
            "latency": plots.plot_latency,
            "cost": plots.plot_cost,
        }
        if kind not in functions:
            raise ValueError(f"kind must be one of {', '.join(functions)}; got {kind!r}.")
        return functions[kind](self._df, ax=ax, **kwargs)
