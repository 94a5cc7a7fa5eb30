"""The one table formatter: every table the magic, the CLI, the widgets and reports show.

A :class:`Table` is display text (headers, rows of strings, a caption) with one plain-text
layout (columns padded, a rule of dashes under the headers, numbers right-aligned) and one
HTML layout (every cell escaped). The cells come from the formatters here, so an unknown value
reads the same everywhere: :data:`MISSING` (``-``), never 0 and never a second spelling.

The tables grokbook shows are built here too: :func:`models_table` (``%grok models``,
``grokbook models``), :func:`run_log_table` (``%grok history``, ``grokbook history``) and
:func:`effort_table` / :func:`accuracy_table` (``grokbook compare``, reports, notebooks).

Not imported by ``import grokbook.render`` (it imports the catalog's effort rules and the
providers, which ``%load_ext grokbook`` does not need): import it where a table is shown.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import catalog, providers
from .._core import effort_label
from ._bundles import format_cost, format_latency
from ._terminal import terminal_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: What every table shows for a value that is not known (a count the server did not send, a
#: cost the catalog cannot price): never 0.
MISSING = "-"

# A cell that reads as a number (counts, decimals, dollars, percentages, seconds, "2/3",
# "1.2 ± 0.3", "18-57%"): its column is right-aligned.
_NUMBER = re.compile(r"^[-+]?\$?[\d,.]+[%s]?(?:\s*(?:±|-|/)\s*\$?[\d,.]+[%s]?)?$")


def is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pd.NA refuses bool()
        return True


def count_cell(value: Any) -> str:
    """A count: ``1,234`` (or :data:`MISSING`)."""
    return MISSING if is_missing(value) else f"{int(value):,}"


def number_cell(value: Any, pattern: str = "{:,.1f}") -> str:
    """A number through ``pattern`` (``"{:.3f}"``, ``"{:.6f}"``...), or :data:`MISSING`."""
    return MISSING if is_missing(value) else pattern.format(value)


def percent_cell(value: Any) -> str:
    """A share in [0, 1] as ``12.3%`` (or :data:`MISSING`)."""
    return MISSING if is_missing(value) else f"{100 * value:.1f}%"


def text_cell(value: Any, limit: int | None = None) -> str:
    """Text on one line (white space collapsed), cut to ``limit`` characters with ``…``;
    empty when missing."""
    text = "" if is_missing(value) else " ".join(str(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _inert(cell: str) -> str:
    """A cell on one line, with nothing a terminal would act on."""
    return " ".join(terminal_text(cell).split())


def _numeric(column: Sequence[str]) -> bool:
    cells = [cell for cell in column if cell != MISSING]
    return bool(cells) and all(_NUMBER.match(cell) for cell in cells)


@dataclass(frozen=True)
class Table:
    """Display text: ``headers``, ``rows`` of strings and a ``caption`` (shown below).

    A column whose every known cell is a number is right-aligned in both layouts, except the
    first, which names the row (an id, a model) and starts each line.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""

    @classmethod
    def of(cls, headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> Table:
        """A table of any cells (each shown as ``str``)."""
        return cls(tuple(headers), tuple(tuple(str(c) for c in row) for row in rows), caption)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, caption: str = "") -> Table:
        """A DataFrame of display text (e.g. :func:`effort_table`): its index levels first."""
        names = [str(name) for name in frame.index.names if name is not None]
        headers = (*names, *(str(c) for c in frame.columns))
        rows = []
        for key, values in zip(frame.index, frame.itertuples(index=False), strict=True):
            index = key if isinstance(key, tuple) else (key,)
            rows.append((*index[: len(names)], *values))
        return cls.of(headers, rows, caption)

    def _right(self) -> list[bool]:
        return [i > 0 and _numeric([row[i] for row in self.rows]) for i in range(len(self.headers))]

    def text(self) -> str:
        """Columns padded two spaces apart, a rule under the headers, then the caption; every
        cell inert in a terminal (:func:`~grokbook.render.terminal_text`: a model id or a
        prompt may be a server's or anyone's)."""
        right = self._right()
        table = [tuple(_inert(c) for c in row) for row in (self.headers, *self.rows)]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.headers))]

        def line(cells: Sequence[str]) -> str:
            padded = (
                cell.rjust(width) if r else cell.ljust(width)
                for cell, width, r in zip(cells, widths, right, strict=True)
            )
            return "  ".join(padded).rstrip()

        lines = [line(table[0]), "  ".join("-" * w for w in widths)]
        lines += [line(row) for row in table[1:]]
        if self.caption:
            lines.append(terminal_text(self.caption))
        return "\n".join(lines)

    def html(self, css_class: str = "grokbook-table") -> str:
        """An HTML table, every cell escaped; text columns carry ``text-align: left`` (numbers
        keep the notebook's and the report's default, right)."""
        left = ["" if r else ' style="text-align: left;"' for r in self._right()]
        head = "".join(
            f"<th{a}>{html.escape(h)}</th>" for h, a in zip(self.headers, left, strict=True)
        )
        body = "".join(
            "<tr>"
            + "".join(f"<td{a}>{html.escape(c)}</td>" for c, a in zip(row, left, strict=True))
            + "</tr>"
            for row in self.rows
        )
        caption = (
            '<caption style="caption-side: bottom; text-align: left; font-size: 0.85em;">'
            f"{html.escape(self.caption)}</caption>"
            if self.caption
            else ""
        )
        return (
            f'<table class="{html.escape(css_class)}">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def bundle(self) -> dict[str, str]:
        """``text/plain`` and ``text/html`` for a notebook display."""
        return {"text/plain": self.text(), "text/html": self.html()}


# -- the models -------------------------------------------------------------------------------
def has_key(provider: str) -> bool:
    """Whether ``provider`` has a key: one from ``%grok login``, or its environment variable."""
    if providers.session_key(provider) is not None:
        return True
    env = providers.PROVIDERS[provider].key_env
    return bool(env and os.environ.get(env))


def models_table() -> Table:
    """The catalog (efforts, default, prices, status), and which providers have a key."""
    keys = []
    for name, profile in providers.PROVIDERS.items():
        if not profile.needs_key and not profile.key_env:
            keys.append(f"{name}: no key needed")
        else:
            keys.append(f"{name}: {'key set' if has_key(name) else 'no key'}")
    caption = "Providers — " + "; ".join(keys) + ". Prices are USD per 1M tokens."
    return Table.of(catalog.TABLE_HEADERS, catalog.table_rows(), caption)


# -- the run log ------------------------------------------------------------------------------
#: The columns of the run-log table (times are local; "sim" marks a call grokbook's offline
#: simulator answered; "source" is what made the call: magic, widget, cli, sweep...).
RUN_LOG_HEADERS = (
    *("id", "time", "model", "effort", "reasoning tok", "answer tok"),
    *("latency", "cost", "status", "sim", "source", "prompt"),
)


def time_cell(value: Any) -> str:
    """A logged time (an ISO string or a datetime, UTC) as local ``YYYY-MM-DD HH:MM:SS``."""
    if is_missing(value):
        return MISSING
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    # Through the timestamp: a pandas Timestamp's astimezone() needs a zone.
    return datetime.fromtimestamp(when.timestamp()).strftime("%Y-%m-%d %H:%M:%S")


def run_log_row(row: Mapping[Any, Any]) -> tuple[str, ...]:
    """One run-log row (a ``store.rows()`` dict or a ``gb.history()`` record) as cells."""

    def get(name: str) -> Any:
        value = row.get(name)
        return None if is_missing(value) else value

    status = str(get("status") or "")
    return (
        text_cell(get("id")),
        time_cell(get("time")),
        text_cell(get("model")),
        effort_label(get("model"), get("reasoning_effort"), get("status")),
        count_cell(get("reasoning_tokens")),
        count_cell(get("completion_tokens")),
        format_latency(get("latency_s")) or MISSING,
        format_cost(get("cost_usd")) or MISSING,
        "cached" if get("cached") else "ERROR" if status == "error" else status,
        "sim" if get("simulated") else "",
        text_cell(get("source")),
        text_cell(get("prompt"), 40),
    )


def run_log_table(rows: Sequence[Mapping[Any, Any]], caption: str = "") -> Table:
    """The run log, newest first, one line per call; the caption says how many calls the
    offline simulator answered, when any did."""
    simulated = sum(1 for row in rows if row.get("simulated") and not is_missing(row["simulated"]))
    if simulated:
        note = (
            f"simulated: {simulated} of {len(rows)} calls were answered by grokbook's offline "
            "simulator (sim); their figures are its model, not Grok's."
        )
        caption = f"{caption} {note}".strip()
    return Table.of(RUN_LOG_HEADERS, [run_log_row(row) for row in rows], caption)


# -- the effort and accuracy summaries --------------------------------------------------------
#: The columns :func:`effort_table` shows, from :func:`grokbook.effort_summary`, with labels.
EFFORT_TABLE_COLUMNS: dict[str, str] = {
    "calls": "calls",
    "cached": "cached",
    "errors": "errors",
    "reasoning_tokens_mean": "reasoning",
    "completion_tokens_mean": "completion",
    "output_tokens_mean": "output",
    "reasoning_share": "reasoning %",
    "latency_mean_s": "latency s",
    "cost_per_call_usd": "$/call",
    "billed_total_usd": "$ billed",
}

#: What the effort table's numbers are (printed under it by the CLI and in reports).
EFFORT_TABLE_NOTE = (
    "mean tokens per successful call; latency in seconds; cost in USD; "
    "$ billed = what this run spent"
)

#: What the accuracy table's numbers are.
ACCURACY_TABLE_NOTE = (
    "accuracy = correct / scored, with its 95% Wilson interval; $/call and latency are means "
    "over successful calls; $/correct = total cost / correct answers"
)


def _cells(pattern: str) -> Callable[[Any], str]:
    def cell(value: Any) -> str:
        return number_cell(value, pattern)

    return cell


def effort_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`grokbook.effort_summary` as display text: the columns worth reading, labelled
    and rounded (tokens to 0.1, latency to ms, dollars to 6 decimals; ``-`` when unknown).

    The one formatter of the effort summary: ``grokbook compare`` prints it, reports show it.
    """
    import pandas as pd

    formats: dict[str, Callable[[Any], str]] = {
        "calls": count_cell,
        "cached": count_cell,
        "errors": count_cell,
        "reasoning_tokens_mean": _cells("{:,.1f}"),
        "completion_tokens_mean": _cells("{:,.1f}"),
        "output_tokens_mean": _cells("{:,.1f}"),
        "reasoning_share": percent_cell,
        "latency_mean_s": _cells("{:.3f}"),
        "cost_per_call_usd": _cells("{:.6f}"),
        "billed_total_usd": _cells("{:.6f}"),
    }
    return pd.DataFrame(
        {
            label: [formats[name](v) for v in summary[name]]
            for name, label in EFFORT_TABLE_COLUMNS.items()
        },
        index=summary.index,
    )


def accuracy_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`grokbook.accuracy_summary` as display text: calls, errors, scored, correct,
    accuracy with its 95% interval, cost per call and per correct answer, latency and mean
    reasoning tokens (``-`` when unknown)."""
    import pandas as pd

    def interval(low: Any, high: Any) -> str:
        if is_missing(low) or is_missing(high):
            return MISSING
        return f"{100 * low:.0f}-{100 * high:.0f}%"

    return pd.DataFrame(
        {
            "calls": [count_cell(v) for v in summary["calls"]],
            "errors": [count_cell(v) for v in summary["errors"]],
            "scored": [count_cell(v) for v in summary["scored"]],
            "correct": [count_cell(v) for v in summary["correct"]],
            "accuracy": [percent_cell(v) for v in summary["accuracy"]],
            "95% interval": [
                interval(low, high)
                for low, high in zip(summary["accuracy_low"], summary["accuracy_high"], strict=True)
            ],
            "$/call": [number_cell(v, "{:.6f}") for v in summary["cost_per_call_usd"]],
            "$/correct": [number_cell(v, "{:.6f}") for v in summary["cost_per_correct_usd"]],
            "latency s": [number_cell(v, "{:.3f}") for v in summary["latency_mean_s"]],
            "reasoning": [number_cell(v) for v in summary["reasoning_tokens_mean"]],
        },
        index=summary.index,
    )
