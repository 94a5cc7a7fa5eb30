"""The effort comparer: one prompt at every effort the model takes, side by side.

Loaded on first use (``grokbook.widgets.EffortComparer``): it runs a sweep, so it brings
pandas; the picker and the playground do not.
"""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from .. import catalog
from ..client import AsyncClient
from ..errors import GrokbookError, UnsupportedParameterError
from ..render import error_html, format_cost
from ..render._table import MISSING, Table
from ..sweeps import asweep
from ..tables import effort_summary, frame_from_rows, order_efforts, simulated_note
from ._base import (
    NO_EFFORT,
    BackgroundRun,
    effort_reason,
    logger,
    make_client,
    notice_html,
    short_error,
)
from .picker import ModelPicker

if TYPE_CHECKING:  # pragma: no cover
    from ..scoring import Scorer

__all__ = ["EffortComparer"]

_CARD = (
    "flex: 1 1 0; min-width: 180px; border: 1px solid var(--jp-border-color2, #ddd); "
    "border-radius: 4px; padding: 0.3em 0.6em; margin: 0 0.3em 0.3em 0;"
)
_TABLE_CSS = (
    "<style>.grokbook-summary table{border-collapse:collapse;font-size:0.9em}"
    ".grokbook-summary th,.grokbook-summary td{padding:0.2em 0.6em;text-align:right;"
    "border-bottom:1px solid var(--jp-border-color2,#ddd)}"
    ".grokbook-summary th{font-weight:600}</style>"
)


def _spread(mean: float, sd: float, fmt: str) -> str:
    if mean != mean:  # NaN: no successful call reported it
        return MISSING
    text = format(mean, fmt)
    return text if sd != sd or sd == 0 else f"{text} ± {format(sd, fmt)}"


def _verdict_html(rows: pd.DataFrame) -> str:
    """' ✓ right' / ' ✗ wrong' / ' 2 of 3 right' for an effort's scored rows ('' unscored)."""
    if "correct" not in rows.columns:
        return ""
    flags = rows["correct"].astype("boolean").dropna().astype(bool)
    if flags.empty:
        return ""
    right = int(flags.sum())
    if right == len(flags):
        text, colour = "✓ right" if len(flags) == 1 else f"✓ all {right} right", "#2ca02c"
    elif right == 0:
        text, colour = "✗ wrong" if len(flags) == 1 else f"✗ all {len(flags)} wrong", "#d62728"
    else:
        text, colour = f"{right} of {len(flags)} right", "#ff7f0e"
    return (
        f' <span class="grokbook-verdict" style="color:{colour};font-weight:600">'
        f"{html.escape(text)}</span>"
    )


class EffortComparer(BackgroundRun[pd.DataFrame], widgets.VBox):  # type: ignore[misc]
    """One prompt at every effort the model takes, ``repeats`` times each, side by side.

    Shows the answers, a table of reasoning / completion tokens, latency and cost per effort
    (mean ± standard deviation over the repeats) and a bar chart of reasoning vs completion
    tokens. Given an ``expected`` answer (or one typed in its box), each effort's card and the
    table say how many of its answers were right, scored by ``scorer`` (default
    :func:`grokbook.scoring.auto`: numbers by value, else normalized text), and :attr:`frame`
    gains ``expected`` / ``score`` / ``correct``. Given a ``prompt``, it starts at once (on the
    running loop); otherwise type one and click Compare. ``await comparer.run()`` waits for
    the comparison and returns :attr:`frame`, the usage frame (``gb.usage_frame`` columns, one
    row per call).
    """

    def __init__(
        self,
        prompt: str | None = None,
        model: str | None = None,
        efforts: Sequence[str] | None = None,
        repeats: int = 3,
        *,
        client: AsyncClient | None = None,
        concurrency: int = 8,
        cache: bool = True,
        autorun: bool = True,
        expected: Any = None,
        scorer: Scorer | None = None,
    ) -> None:
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise UnsupportedParameterError(f"repeats must be an integer >= 1, not {repeats!r}.")
        self._efforts = tuple(efforts) if efforts is not None else None
        self.scorer = scorer
        self.expected = widgets.Text(
            value="" if expected is None else str(expected),
            placeholder="optional, e.g. 303",
            description="Expected",
            layout=widgets.Layout(width="260px"),
            style={"description_width": "64px"},
        )
        self.expected.add_class("grokbook-expected")
        self.concurrency = concurrency
        self.cache = cache
        self.picker = ModelPicker(model=model, show_effort=False)
        self.prompt = widgets.Textarea(
            value=prompt or "",
            placeholder="A prompt to run at every effort, e.g. What is 101*3?",
            layout=widgets.Layout(width="100%", max_width="720px", height="60px"),
        )
        self.prompt.add_class("grokbook-prompt")
        self.repeats = widgets.BoundedIntText(
            value=repeats,
            min=1,
            max=20,
            description="Repeats",
            layout=widgets.Layout(width="150px"),
            style={"description_width": "64px"},
        )
        self.run_button = widgets.Button(
            description="Compare", button_style="primary", icon="balance-scale"
        )
        self.run_button.add_class("grokbook-run")
        self.stop_button = widgets.Button(description="Stop", button_style="warning", icon="stop")
        self.stop_button.add_class("grokbook-stop")
        self.stop_button.layout.display = "none"
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=widgets.Layout(width="200px")
        )
        self.progress.add_class("grokbook-progress")
        self.status = widgets.HTML()
        self.status.add_class("grokbook-status")
        self.plan = widgets.HTML()
        self.message = widgets.HTML()
        self.message.add_class("grokbook-message")
        self.answers = widgets.HTML()
        self.answers.add_class("grokbook-answers")
        self.table = widgets.HTML()
        self.table.add_class("grokbook-summary")
        self.chart = widgets.Box(layout=widgets.Layout(min_width="0"))
        self.chart.add_class("grokbook-chart")
        super().__init__(
            children=[
                self.picker,
                self.prompt,
                widgets.HBox(
                    [
                        self.repeats,
                        self.expected,
                        self.run_button,
                        self.stop_button,
                        self.progress,
                        self.status,
                    ],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.plan,
                self.message,
                self.answers,
                widgets.HBox(
                    [self.table, self.chart],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
            ]
        )
        self.add_class("grokbook-comparer")
        self.task: asyncio.Task[pd.DataFrame | None] | None = None
        self._frame: pd.DataFrame | None = None
        self._client: AsyncClient | None = None
        try:
            self._client = make_client(client)
        except GrokbookError as exc:
            self.message.value = error_html(short_error(exc))
        self.picker.observe(self._show_plan, names="model")
        self._show_plan()
        self.run_button.on_click(self._on_run_click)
        self.stop_button.on_click(self._on_stop_click)
        if prompt and autorun:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass  # no loop (a script): call run() yourself
            else:
                self.start()

    # -- what will run ----------------------------------------------------------------------
    @property
    def efforts(self) -> list[str | None]:
        """The efforts compared for the chosen model (``[None]``: the model's default only).

        "default" is the model's documented default effort (grok-4.3: low), so it is one
        column with that effort, never a second request for the same answer.
        """
        model = self.picker.model
        if self._efforts is not None:
            resolved = (catalog.resolve_effort(model, e) for e in self._efforts)
            return list(dict.fromkeys(resolved))
        record = catalog.get(model)
        return list(record.efforts) if record is not None and record.efforts else [None]

    def _show_plan(self, _: Any = None) -> None:
        labels = [e or NO_EFFORT for e in self.efforts]
        notes = []
        if self.efforts == [None]:
            notes.append(effort_reason(self.picker.model) or "")
        if self._efforts is not None and any(e in (None, NO_EFFORT) for e in self._efforts):
            default = catalog.resolve_effort(self.picker.model, None)
            if default is not None:
                notes.append(
                    catalog.default_effort_note(self.picker.model)
                    or f"default = {default} for {self.picker.model}"
                )
        note = "".join(f" ({html.escape(n, quote=False)})" for n in notes if n)
        self.plan.value = (
            '<div style="font-size:0.85em;color:var(--jp-ui-font-color2,#666)">'
            f"Compares effort {html.escape(' vs '.join(labels))}{note}.</div>"
        )

    # -- public API ---------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The last comparison, one row per call (``gb.usage_frame`` columns); empty before."""
        if self._frame is None:
            return frame_from_rows([])
        return self._frame

    @property
    def summary(self) -> pd.DataFrame:
        """``gb.effort_summary(self.frame)``."""
        return effort_summary(self.frame)

    def _params(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt.value,
            "model": self.picker.model,
            "efforts": self.efforts,
            "repeats": int(self.repeats.value),
            "expected": self.expected.value.strip() or None,
        }

    def _show_error(self, message_html: str) -> None:
        self.message.value = message_html

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled = running
        self.stop_button.layout.display = None if running else "none"
        self.status.value = (
            '<span style="color:var(--jp-ui-font-color2,#666)">running…</span>' if running else ""
        )

    # -- the comparison -----------------------------------------------------------------------
    async def _run(
        self,
        *,
        prompt: str,
        model: str,
        efforts: list[str | None],
        repeats: int,
        expected: str | None = None,
    ) -> pd.DataFrame | None:
        try:
            if not prompt.strip():
                raise UnsupportedParameterError("Type a prompt first, then click Compare.")
            if self._client is None:
                self._client = make_client(None)
            # Made before %grok login: say here (once) that it still runs on the simulator.
            self.message.value = notice_html(self._client._login_notice("EffortComparer"))
            self.progress.max = len(efforts) * repeats
            self.progress.value = 0
            self.progress.bar_style = "info"

            def landed(row: dict[str, Any]) -> None:
                self.progress.value += 1

            frame = await asweep(
                prompt,
                models=[model],
                efforts=efforts,
                repeats=repeats,
                concurrency=self.concurrency,
                client=self._client,
                progress=False,
                cache=self.cache,
                on_result=landed,
                expected=None if expected is None else [expected],
                scorer=self.scorer if expected is not None else None,
            )
        except asyncio.CancelledError:
            self.message.value = error_html("Stopped: click Compare to run it again.")
            self.progress.bar_style = "warning"
            return None
        except Exception as exc:
            logger.debug("grokbook: effort comparison failed", exc_info=True)
            self.message.value = error_html(short_error(exc))
            self.progress.bar_style = "danger"
            return None
        finally:
            self._set_running(False)
        self._frame = frame
        try:
            self._render(frame)
        except Exception as exc:
            logger.debug("grokbook: rendering the comparison failed", exc_info=True)
            self.message.value = error_html(short_error(exc))
        return frame

    def _redact(self, text: str) -> str:
        """A server that echoes the key into an answer or an error: shown redacted."""
        return self._client.redact(text) if self._client is not None else text

    def _render(self, frame: pd.DataFrame) -> None:
        failed = frame[frame["status"] != "ok"]
        ok = frame[frame["status"] == "ok"]
        self.progress.bar_style = "success" if failed.empty else "warning"
        if not failed.empty:
            first = self._redact(str(failed["error"].iloc[0]))
            self.message.value = error_html(
                f"{len(failed)} of {len(frame)} calls failed; first error: {first}"
            )
        if ok.empty:
            self.answers.value = self.table.value = ""
            self.chart.children = []
            return
        efforts = order_efforts(ok["reasoning_effort"])
        cards = []
        for effort in efforts:
            rows = ok[ok["reasoning_effort"] == effort]
            answer = self._redact(str(rows["answer"].iloc[0] or ""))
            distinct = rows["answer"].nunique()
            same = (
                f"all {len(rows)} repeats agree"
                if distinct == 1
                else f"{distinct} different answers in {len(rows)} repeats"
            )
            verdict = _verdict_html(rows)
            cards.append(
                f'<div style="{_CARD}"><div style="font-weight:600">effort '
                f"{html.escape(effort)}{verdict}</div>"
                f'<div style="white-space:pre-wrap;max-height:12em;overflow:auto">'
                f"{html.escape(answer)}</div>"
                f'<div style="font-size:0.8em;color:var(--jp-ui-font-color2,#666)">{same}</div>'
                "</div>"
            )
        self.answers.value = f'<div style="display:flex;flex-wrap:wrap">{"".join(cards)}</div>'
        self.table.value = _TABLE_CSS + self._table_html(ok, effort_summary(frame))
        self.chart.children = [self._chart(frame)]

    @staticmethod
    def _table_html(ok: pd.DataFrame, summary: pd.DataFrame) -> str:
        columns = {
            "reasoning tokens": ("reasoning_tokens", ",.0f"),
            "completion tokens": ("completion_tokens", ",.0f"),
            "latency (s)": ("latency_s", ".2f"),
            "cost per call (USD)": ("cost_usd", ".6f"),
        }
        scored = "correct" in ok.columns
        headers = ["effort", "calls", *(["correct"] if scored else []), *columns]
        rows: list[list[str]] = []
        for key, stats in summary.iterrows():
            effort = str(key[1]) if isinstance(key, tuple) else str(key)
            group = ok[ok["reasoning_effort"] == effort]
            row = [effort, f"{int(stats['ok'])}/{int(stats['calls'])}"]
            if scored:
                flags = group["correct"].astype("boolean").dropna()
                row.append(f"{int(flags.astype(bool).sum())}/{len(flags)}")
            means = {
                "reasoning_tokens": stats["reasoning_tokens_mean"],
                "completion_tokens": stats["completion_tokens_mean"],
                "latency_s": stats["latency_mean_s"],
                "cost_usd": stats["cost_per_call_usd"],
            }
            for name, fmt in columns.values():
                values = pd.to_numeric(group[name], errors="coerce").astype("float64")
                sd = float(values.std()) if values.notna().sum() > 1 else float("nan")
                row.append(_spread(float(means[name]), sd, fmt))
            rows.append(row)
        html_table = Table.of(headers, rows).html()
        cached, calls = int(summary["cached"].sum()), int(summary["calls"].sum())
        billed = format_cost(float(summary["billed_total_usd"].sum())) or MISSING
        from_cache = (
            f"; {cached} of {calls} calls came from the cache (their original cost and "
            f"latency shown); this run billed {billed}"
            if cached
            else ""
        )
        simulated = simulated_note(ok)
        simulated_html = f"<br><b>{html.escape(simulated)}</b>" if simulated else ""
        note = (
            '<div style="font-size:0.8em;color:var(--jp-ui-font-color2,#666)">'
            f"mean ± standard deviation over the repeats{html.escape(from_cache)}"
            f"{simulated_html}</div>"
        )
        return html_table + note

    @staticmethod
    def _chart(frame: pd.DataFrame) -> widgets.Image:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from ..plots import plot_efforts

        figure = Figure(figsize=(5.2, 3.2), dpi=100)
        FigureCanvasAgg(figure)
        ax = figure.subplots()
        plot_efforts(frame, ax=ax)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return widgets.Image(value=buffer.getvalue(), format="png", width=520)

    def __repr__(self) -> str:
        return f"EffortComparer(model={self.picker.model!r}, efforts={self.efforts!r})"
