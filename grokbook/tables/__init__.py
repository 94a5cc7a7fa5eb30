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
imports pandas; ``import grokbook`` alone never does. Its core is ``_frames`` (what accuracy,
plots and reports build on); the ``df.grok`` accessor is here, the one part that reaches up to
plots and reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import reports
from ._frames import (
    EFFORT_ORDER,
    FRAME_COLUMNS,
    effort_summary,
    frame_from_rows,
    order_efforts,
    simulated_flags,
    simulated_note,
    usage_frame,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "EFFORT_ORDER",
    "FRAME_COLUMNS",
    "GrokAccessor",
    "effort_summary",
    "frame_from_rows",
    "order_efforts",
    "simulated_flags",
    "simulated_note",
    "usage_frame",
]


@pd.api.extensions.register_dataframe_accessor("grok")
class GrokAccessor:
    """``df.grok.summary()``, ``df.grok.plot(kind="efforts" | "latency" | "cost")`` and
    ``df.grok.report()``."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def summary(self) -> pd.DataFrame:
        """The effort summary of this usage frame (:func:`effort_summary`)."""
        return effort_summary(self._df)

    def plot(self, kind: str = "efforts", ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot this usage frame: ``kind`` is "efforts", "latency" or "cost"; returns the Axes."""
        from .. import plots  # matplotlib: loaded on the first plot

        functions = {
            "efforts": plots.plot_efforts,
            "latency": plots.plot_latency,
            "cost": plots.plot_cost,
        }
        if kind not in functions:
            raise ValueError(f"kind must be one of {', '.join(functions)}; got {kind!r}.")
        return functions[kind](self._df, ax=ax, **kwargs)

    def report(self, path: str | Path | None = None, **kwargs: Any) -> Path:
        """This usage frame as a self-contained HTML report (:func:`grokbook.report`)."""
        return reports.report(self._df, path, **kwargs)
