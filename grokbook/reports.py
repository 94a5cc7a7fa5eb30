"""Reports people can share: a sweep as one self-contained HTML file.

>>> import grokbook as gb
>>> df = gb.sweep(["What is 101*3?", "What is 7*8?"], models="grok-3-mini-beta",
...               expected=[303, 56], repeats=2, progress=False)
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     path = gb.report(df, f"{folder}/report.html")      # or df.grok.report(...)
...     text = path.read_text(encoding="utf-8")
>>> path.name
'report.html'
>>> "Cheapest option with accuracy" in text, "data:image/png;base64," in text
(True, True)

The file needs nothing but a browser: the styles are inline, the plots are PNGs embedded as
``data:`` URIs, and there is no script, web font, stylesheet or image to fetch. It says what
was run (models, efforts, prompts, repeats, provider, whether the answers were simulated, when,
and the grokbook version), then the effort summary table (:func:`effort_table`, the table
``grokbook compare`` prints), and for a scored sweep the accuracy table
(:func:`accuracy_table`) and :func:`grokbook.recommend`'s recommendation, then the plots and
the answers. Every text that came from a model or a prompt is HTML-escaped, and any API key
found in the environment (``XAI_API_KEY``, ``AIMLAPI_KEY``, ``OPENROUTER_API_KEY``,
``OPENAI_API_KEY``) or passed as ``secrets=`` is replaced by ``[redacted]``
(:func:`grokbook.errors.redact`).

Without ``path`` the report is written to ``grokbook-report-YYYYMMDD-HHMMSS.html`` in the
current folder (a ``-2``, ``-3`` ... suffix when that name is taken).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from ._columns import DEFAULT_EFFORT_LABEL
from ._version import __version__
from .errors import redact
from .providers import PROVIDERS

# The table formatters (with every other table grokbook shows) are this module's names too.
from .render._table import ACCURACY_TABLE_NOTE as ACCURACY_TABLE_NOTE
from .render._table import EFFORT_TABLE_COLUMNS as EFFORT_TABLE_COLUMNS
from .render._table import EFFORT_TABLE_NOTE as EFFORT_TABLE_NOTE
from .render._table import MISSING, Table, accuracy_table, effort_table, is_missing

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["accuracy_table", "default_report_path", "effort_table", "report"]


# -- what was run ------------------------------------------------------------------------------
def _environment_secrets() -> list[str]:
    """The API keys set in this process's environment (for every provider grokbook knows)."""
    names = {p.key_env for p in PROVIDERS.values() if p.key_env}
    return [os.environ[name] for name in sorted(names) if os.environ.get(name)]


def _distinct(values: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if not is_missing(v)))


def _run_log_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """This sweep's rows in the run log (by its sweep id), or [] when unknown."""
    meta = df.attrs.get("sweep")
    sweep_id = meta.get("sweep_id") if isinstance(meta, dict) else None
    if not sweep_id:
        return []
    db = store.get_store()
    return db.rows(sweep_id=str(sweep_id)) if db is not None else []


def _facts(df: pd.DataFrame) -> dict[str, str]:
    """What was run, as label -> text, read defensively from what the frame carries."""
    from .tables._frames import order_efforts  # pandas

    attrs_sweep = df.attrs.get("sweep")
    meta: dict[str, Any] = attrs_sweep if isinstance(attrs_sweep, dict) else {}
    logged = _run_log_rows(df)
    providers = (
        _distinct(df["provider"])
        if "provider" in df.columns
        else _distinct([meta.get("provider")] if meta.get("provider") else [])
        or _distinct(row.get("provider") for row in logged)
    )
    if "simulated" in df.columns:
        flags = [bool(v) for v in df["simulated"] if not is_missing(v)]
        simulated = (
            "unknown"
            if not flags
            else "yes: grokbook's offline simulator, not Grok"
            if all(flags)
            else "no"
            if not any(flags)
            else f"partly: {sum(flags)} of {len(flags)} calls on the simulator"
        )
    elif isinstance(meta.get("simulated"), bool):
        simulated = "yes: grokbook's offline simulator, not Grok" if meta["simulated"] else "no"
    elif providers:
        simulated = (
            "yes: grokbook's offline simulator, not Grok"
            if providers == ["sim"]
            else "no"
            if "sim" not in providers
            else "partly"
        )
    else:
        simulated = "unknown"
    times = (
        [str(t) for t in df["time"] if not is_missing(t)]
        if "time" in df.columns
        else [str(row["time"]) for row in logged if row.get("time")]
    )
    when = "not recorded"
    if times:
        first, last = min(times)[:19].replace("T", " "), max(times)[:19].replace("T", " ")
        when = first if first == last else f"{first} to {last}"
    efforts = order_efforts(
        df["reasoning_effort"].fillna(DEFAULT_EFFORT_LABEL)
        if "reasoning_effort" in df.columns
        else []
    )
    repeats = MISSING
    if "repeat" in df.columns and len(df):
        known = [int(v) for v in df["repeat"] if not is_missing(v)]
        repeats = str(max(known) + 1) if known else MISSING
    ok = int((df["status"] == "ok").sum()) if "status" in df.columns else len(df)
    cached = (
        int(df["cached"].astype("boolean").fillna(False).astype(bool).sum())
        if "cached" in df.columns
        else 0
    )
    via = _distinct(df["via"]) if "via" in df.columns else []
    calls = f"{len(df):,} ({ok:,} answered, {len(df) - ok:,} failed, {cached:,} from the cache)"
    facts = {
        "models": ", ".join(_distinct(df["model"])) if "model" in df.columns else MISSING,
        "efforts": ", ".join(efforts) or MISSING,
        "prompts": f"{len(_distinct(df['prompt'])):,}" if "prompt" in df.columns else MISSING,
        "repeats": repeats,
        "calls": calls,
        "provider": ", ".join(providers) or "unknown",
        "simulated": simulated,
        "run": when + (" (UTC)" if times else ""),
        "report written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "grokbook": __version__,
    }
    if via:
        facts["engine"] = ", ".join(via)
    return facts


# -- plots -------------------------------------------------------------------------------------
def _png(draw: Callable[[Axes], Any], size: tuple[float, float] = (7.5, 4.2)) -> str:
    """A plot as a base64 PNG (drawn on a Figure of its own: no pyplot, no backend chosen)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    # No "Software" entry: the file carries nothing but pixels.
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(df: pd.DataFrame, scored: bool, target: float) -> list[tuple[str, str]]:
    """(title, base64 PNG or an HTML-escaped note) for each plot."""
    from . import plots

    wanted: list[tuple[str, Callable[[Axes], Any]]] = [
        ("Reasoning vs completion tokens", lambda ax: plots.plot_efforts(df, ax=ax)),
        ("Latency vs output tokens", lambda ax: plots.plot_latency(df, ax=ax)),
        ("Cost per call", lambda ax: plots.plot_cost(df, ax=ax)),
    ]
    if scored:
        wanted += [
            ("Accuracy vs cost", lambda ax: plots.plot_frontier(df, ax=ax, target=target)),
            (
                "Accuracy vs latency",
                lambda ax: plots.plot_accuracy_latency(df, ax=ax, target=target),
            ),
        ]
    return [(title, _png(draw)) for title, draw in wanted]


# -- the page ----------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#1a1a1a;line-height:1.45}
h1{font-size:1.5em;margin-bottom:0.2em}h2{font-size:1.15em;margin-top:1.6em;
border-bottom:1px solid #ddd;padding-bottom:0.2em}
table{border-collapse:collapse;font-size:0.9em;margin:0.4em 0}
th,td{padding:0.25em 0.7em;border-bottom:1px solid #e4e4e4;text-align:right;vertical-align:top;
white-space:nowrap}
th{font-weight:600;background:#f6f6f6}td.text,th.text{text-align:left}
table.facts th{text-align:left;background:none}table.facts td{text-align:left}
.answers td{text-align:left;max-width:40em;white-space:pre-wrap;word-break:break-word}
.answers th{text-align:left}
.note{color:#555;font-size:0.85em}.sim{background:#fff4d6;border-left:4px solid #e0a000;
padding:0.4em 0.8em}.pick{background:#eef6ee;border-left:4px solid #2e7d32;
padding:0.5em 0.9em;white-space:pre-wrap}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.85em;color:#555}
"""

#: How many answers the answers table shows at most (the first repeat of each cell).
MAX_ANSWER_ROWS = 200
#: Characters of a prompt or answer shown in tables.
MAX_TEXT = 400


def _short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table_html(table: pd.DataFrame, css_class: str = "") -> str:
    # Every label and cell is HTML-escaped (model names, prompts, answers).
    return Table.from_frame(table).html(css_class or "grokbook-table")


def _answers(df: pd.DataFrame, clean: Callable[[Any], str]) -> tuple[str, int]:
    """The first repeat of each (model, effort, prompt): a table's HTML and the cells shown."""
    import pandas as pd

    if not {"model", "reasoning_effort", "prompt"} <= set(df.columns):
        return "", 0
    rows = df
    if "repeat" in df.columns:
        rows = df[pd.to_numeric(df["repeat"], errors="coerce").fillna(0) == 0]
    rows = rows.head(MAX_ANSWER_ROWS)
    table = pd.DataFrame(
        {
            "model": [clean(v) for v in rows["model"]],
            "effort": [clean(v) for v in rows["reasoning_effort"].fillna(DEFAULT_EFFORT_LABEL)],
            "prompt": [_short(clean(v)) for v in rows["prompt"]],
            "answer": [
                _short(clean(a)) if s == "ok" else f"error: {_short(clean(e))}"
                for a, s, e in zip(
                    rows["answer"] if "answer" in rows.columns else [None] * len(rows),
                    rows["status"] if "status" in rows.columns else ["ok"] * len(rows),
                    rows["error"] if "error" in rows.columns else [None] * len(rows),
                    strict=True,
                )
            ],
        }
    )
    if "expected" in rows.columns:
        table["expected"] = [clean(v) for v in rows["expected"]]
    if "correct" in rows.columns:
        table["correct"] = [
            MISSING if is_missing(v) else ("yes" if bool(v) else "no") for v in rows["correct"]
        ]
    return _table_html(table.set_index(["model", "effort"]), "answers"), len(table)


def _render(df: pd.DataFrame, *, target: float, title: str, secrets: list[str]) -> str:
    from .accuracy import accuracy_summary, recommend
    from .tables._frames import effort_summary

    def clean(value: Any) -> str:
        return "" if is_missing(value) else redact(str(value), secrets)

    def esc(value: Any) -> str:
        return html.escape(clean(value))

    facts = _facts(df)
    scored = "correct" in df.columns and bool(df["correct"].notna().any())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if facts["simulated"].startswith(("yes", "partly")):
        parts.append(
            '<p class="sim">These answers come from grokbook\'s offline simulator: its token '
            "counts, latencies, costs and accuracy are the simulator's model, not measurements "
            "of Grok. Set XAI_API_KEY and run again to measure the real API.</p>"
        )
    parts.append('<h2>What was run</h2><table class="facts">')
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts.items()]
    parts.append("</table>")
    prompts = _distinct(df["prompt"]) if "prompt" in df.columns else []
    if prompts:
        shown = "".join(f"<li>{html.escape(_short(clean(p)))}</li>" for p in prompts[:100])
        more = (
            f"<p class='note'>... and {len(prompts) - 100:,} more.</p>"
            if len(prompts) > 100
            else ""
        )
        parts.append(
            f"<details><summary>The {len(prompts):,} prompt{'s' if len(prompts) != 1 else ''}"
            f"</summary><ol>{shown}</ol>{more}</details>"
        )
    parts.append("<h2>Tokens, latency and cost per model and effort</h2>")
    if {"model", "reasoning_effort", "status"} <= set(df.columns) and len(df):
        parts.append(_table_html(effort_table(effort_summary(df))))
        parts.append(f'<p class="note">{html.escape(EFFORT_TABLE_NOTE)}.</p>')
    else:
        parts.append('<p class="note">No calls in this frame.</p>')
    if scored:
        parts.append("<h2>Accuracy</h2>")
        parts.append(_table_html(accuracy_table(accuracy_summary(df))))
        parts.append(f'<p class="note">{html.escape(ACCURACY_TABLE_NOTE)}.</p>')
        parts.append("<h2>Recommendation</h2>")
        try:
            note = recommend(df, target=target).note
        except ValueError as exc:
            note = str(exc)
        parts.append(f'<p class="pick">{esc(note)}</p>')
    errors = df[df["status"] != "ok"] if "status" in df.columns else df.iloc[0:0]
    if len(errors) and "error" in errors.columns:
        first = esc(_short(clean(errors["error"].iloc[0])))
        parts.append(
            f'<p class="note">{len(errors):,} of {len(df):,} calls failed; the first error: '
            f"{first}</p>"
        )
    ok = df[df["status"] == "ok"] if "status" in df.columns else df
    parts.append("<h2>Plots</h2>")
    if len(ok):
        for caption, png in _plots(df, scored, target):
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" '
                f'src="data:image/png;base64,{png}"><figcaption>{html.escape(caption)}'
                "</figcaption></figure>"
            )
    else:
        parts.append('<p class="note">No call succeeded: nothing to plot.</p>')
    answers, shown_rows = _answers(df, clean)
    if answers:
        first = f", the first {MAX_ANSWER_ROWS}" if shown_rows == MAX_ANSWER_ROWS else ""
        parts.append(
            "<h2>Answers</h2><details><summary>The first repeat of each model, effort and "
            f"prompt ({shown_rows:,} rows{first})</summary>{answers}</details>"
        )
    parts.append(
        f'<p class="note">Written by grokbook {esc(facts["grokbook"])} on '
        f"{esc(facts['report written'])}. This file is self-contained: it loads nothing from "
        "the network.</p></body></html>"
    )
    return "\n".join(parts) + "\n"


def default_report_path(folder: str | Path = ".") -> Path:
    """``grokbook-report-YYYYMMDD-HHMMSS.html`` in ``folder`` (local time), with ``-2``,
    ``-3`` ... added when that file exists."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(folder) / f"grokbook-report-{stamp}.html"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"grokbook-report-{stamp}-{n}.html")
    return candidate


def report(
    df: pd.DataFrame,
    path: str | Path | None = None,
    *,
    target: float = 0.9,
    title: str = "grokbook report",
    secrets: Iterable[str] = (),
) -> Path:
    """Write ``df`` (a usage frame: ``gb.sweep``, ``gb.usage_frame``, ``gb.history``) as one
    self-contained HTML file and return its path.

    ``path`` defaults to ``grokbook-report-YYYYMMDD-HHMMSS.html`` in the current folder;
    missing folders are created. A scored frame also gets the accuracy table and the
    recommendation for ``target`` (see :func:`grokbook.recommend`). ``secrets`` are more
    strings to redact, besides the API keys set in the environment. Also ``df.grok.report()``.
    """
    if not 0 <= target <= 1:
        raise ValueError(f"target is an accuracy between 0 and 1, not {target!r}.")
    missing = [c for c in ("model", "reasoning_effort", "status") if c not in df.columns]
    if missing:
        raise ValueError(
            f"report needs a usage frame (from gb.sweep or gb.usage_frame); this DataFrame has "
            f"no {', '.join(missing)} column(s)."
        )
    destination = default_report_path() if path is None else Path(path)
    text = _render(df, target=target, title=title, secrets=[*_environment_secrets(), *secrets])
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(text, encoding="utf-8")
    return destination
