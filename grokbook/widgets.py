"""Notebook widgets: pick a model and effort, play with a prompt, compare efforts side by side.

>>> from grokbook.widgets import ModelPicker, Playground, EffortComparer
>>> picker = ModelPicker(model="grok-4.3")
>>> picker.model, picker.reasoning_effort
('grok-4.3', 'low')
>>> Playground()                  # in a notebook: type a prompt, click Run
Playground(ModelPicker(model='grok-4.3', reasoning_effort='low'), results=0)
>>> EffortComparer("What is 101*3?", model="grok-3-mini-beta", repeats=3)   # click Compare
EffortComparer(model='grok-3-mini-beta', efforts=['low', 'high'])

From code (in a notebook cell, ``await`` the run directly)::

    >>> import asyncio
    >>> asyncio.run(Playground("What is 101*3?").run()).content
    '101 * 3 = 303'

Every widget is an ``ipywidgets`` box: display it as the last expression of a cell. Runs go
through :class:`grokbook.AsyncClient` on the kernel's running event loop, so the kernel stays
responsive while an answer streams in. In code, ``await playground.run()`` and
``await comparer.run()`` wait for a run and return its result; ``.task`` is the run in flight.

This module (and only it) imports ipywidgets; pandas and matplotlib load on a comparer's first
run. Without an API key every widget runs on the offline simulator.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import ipywidgets as widgets
import traitlets

from . import catalog
from .catalog import default_model
from .client import AsyncClient
from .errors import GrokbookError, UnsupportedParameterError, redact
from .result import Completion

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .conversation import Conversation
    from .scoring import Scorer

__all__ = ["EffortComparer", "ModelPicker", "Playground"]

logger = logging.getLogger("grokbook")

#: How many finished runs a Playground keeps in ``.results``.
HISTORY_SIZE = 20
#: Seconds between two redraws of a streaming answer (every event would flood the frontend).
REDRAW_INTERVAL_S = 0.1

_NO_EFFORT = "default"


# -- small helpers -------------------------------------------------------------------------
def _price(value: float | None) -> str:
    if value is None:
        return "?"
    return f"${value:.2f}" if value >= 0.1 else f"${value:g}"


def model_label(model: catalog.Model) -> str:
    """The dropdown label of a catalog record: id, reasoning or not, price hint, retirement."""
    if model.efforts:
        kind = f"reasoning, effort {' | '.join(model.efforts)}"
    elif model.reasoning:
        kind = "reasoning, fixed effort"
    else:
        kind = "no reasoning"
    label = f"{model.id} · {kind}"
    if model.input_price is not None or model.output_price is not None:
        label += f" · {_price(model.input_price)} in / {_price(model.output_price)} out per 1M"
    if model.retired:
        label = f"⚠ {label} · RETIRED {model.retired}"
        if model.served_by:
            label += f" → {model.served_by}"
    return label


def _effort_reason(model_id: str) -> str | None:
    """Why the effort control is disabled for ``model_id`` (None when it takes efforts)."""
    record = catalog.get(model_id)
    if record is None:
        return (
            f"{model_id} is not in grokbook's catalog, so its efforts are unknown: pass "
            "reasoning_effort=... in code to try one."
        )
    if record.efforts:
        return None
    if record.reasoning:
        return (
            f"{record.id} rejects reasoning_effort (HTTP 400): it always reasons at its own "
            "fixed level."
        )
    return f"{record.id} is not a reasoning model: it rejects reasoning_effort (HTTP 400)."


def _short_error(exc: BaseException) -> str:
    """One short line for an exception, never a traceback."""
    from .render import error_message

    if isinstance(exc, GrokbookError):
        return error_message(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error_html(message: str) -> str:
    from .render import error_html

    return error_html(message)


def _loop() -> asyncio.AbstractEventLoop:
    """The kernel's event loop (running inside a cell or a widget callback)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _make_client(client: AsyncClient | None) -> AsyncClient:
    return client if client is not None else AsyncClient()


# -- ModelPicker ---------------------------------------------------------------------------
ResultT = TypeVar("ResultT")


class _BackgroundRun(Generic[ResultT]):
    """The Run / Stop life cycle both Playground and EffortComparer share: one task at a time
    on the kernel's running loop, so the kernel never blocks while a run is in flight."""

    task: asyncio.Task[ResultT | None] | None
    _run: Callable[..., Coroutine[Any, Any, ResultT | None]]
    _params: Callable[[], dict[str, Any]]
    _set_running: Callable[[bool], None]
    _show_error: Callable[[str], None]

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> asyncio.Task[ResultT | None]:
        """Start a run on the running event loop and return its task (what Run does)."""
        if self.task is not None and not self.task.done():
            return self.task
        params = self._params()
        self._set_running(True)
        self.task = _loop().create_task(self._run(**params))
        return self.task

    async def run(self) -> ResultT | None:
        """Wait for the run in flight (or start one): its result, or None after an error or
        Stop."""
        return await self.start()

    def stop(self) -> None:
        """Cancel the run in flight (what Stop does); what arrived so far stays on screen."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    # -- callbacks (never raise: an exception here would print a traceback to the log) --
    def _on_run_click(self, _: Any) -> None:
        try:
            self.start()
        except Exception as exc:
            self._set_running(False)
            self._show_error(_error_html(_short_error(exc)))

    def _on_stop_click(self, _: Any) -> None:
        self.stop()


class ModelPicker(widgets.VBox):  # type: ignore[misc]
    """A model dropdown fed by the catalog and an effort toggle that follows the model.

    ``.model`` and ``.reasoning_effort`` (None when the model takes no effort) are traitlets:
    set them from code, or watch them with ``picker.observe(handler, names="model")``.
    ``show_effort=False`` hides the effort row (the comparer runs every effort anyway).
    """

    model = traitlets.Unicode("")
    reasoning_effort = traitlets.Unicode(None, allow_none=True)

    def __init__(
        self,
        model: str | None = None,
        reasoning_effort: str | None = None,
        *,
        include_retired: bool = True,
        show_effort: bool = True,
        **kwargs: Any,
    ) -> None:
        self._include_retired = include_retired
        self.model_dropdown = widgets.Dropdown(
            options=self._options(),
            description="Model",
            layout=widgets.Layout(width="100%", max_width="720px"),
            style={"description_width": "64px"},
        )
        self.model_dropdown.add_class("grokbook-model")
        self.effort_buttons = widgets.ToggleButtons(
            options=[_NO_EFFORT], style={"button_width": "76px"}
        )
        self.effort_buttons.add_class("grokbook-effort")
        self.effort_label = widgets.HTML(
            '<div style="text-align:right;padding-right:8px">Effort</div>',
            layout=widgets.Layout(width="72px"),
        )
        self.effort_row = widgets.HBox(
            [self.effort_label, self.effort_buttons], layout=widgets.Layout(align_items="center")
        )
        self.note = widgets.HTML()
        self.note.add_class("grokbook-model-note")
        if not show_effort:
            self.effort_row.layout.display = "none"
        super().__init__(children=[self.model_dropdown, self.effort_row, self.note], **kwargs)
        self.add_class("grokbook-picker")
        self.model_dropdown.observe(self._on_dropdown, names="value")
        self.effort_buttons.observe(self._on_toggle, names="value")
        self.model = model or default_model()
        if reasoning_effort is not None:
            self.reasoning_effort = reasoning_effort

    # -- options ------------------------------------------------------------------------
    def _options(self) -> list[tuple[str, str]]:
        models = catalog.all_models(include_retired=self._include_retired)
        active = [m for m in models if not m.retired]
        retired = [m for m in models if m.retired]
        return [(model_label(m), m.id) for m in (*active, *retired)]

    @property
    def efforts(self) -> tuple[str, ...]:
        """The efforts the chosen model takes (empty when it rejects reasoning_effort)."""
        record = catalog.get(self.model)
        return record.efforts if record is not None else ()

    # -- trait plumbing -----------------------------------------------------------------
    @traitlets.validate("model")
    def _valid_model(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if not value:
            raise UnsupportedParameterError("model must be a model id such as 'grok-3-mini-beta'.")
        return catalog.resolve(value) or value

    @traitlets.validate("reasoning_effort")
    def _valid_effort(self, proposal: dict[str, Any]) -> str | None:
        value = catalog.canonical_effort(proposal["value"])  # "HIGH" is "high"
        if value is None:
            return None
        efforts = self.efforts
        if value not in efforts:
            allowed = " | ".join(efforts) if efforts else "none (leave it None)"
            raise UnsupportedParameterError(
                f"{self.model} does not take reasoning_effort={value!r}; allowed: {allowed}."
            )
        return str(value)

    @traitlets.observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        model_id: str = change["new"]
        values = [value for _, value in self.model_dropdown.options]
        if model_id not in values:
            self.model_dropdown.options = [
                *self.model_dropdown.options,
                (f"{model_id} · not in catalog", model_id),
            ]
        self.model_dropdown.value = model_id
        self._sync_efforts()

    @traitlets.observe("reasoning_effort")
    def _effort_changed(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if value is not None and self.effort_buttons.value != value:
            self.effort_buttons.value = value

    def _on_dropdown(self, change: dict[str, Any]) -> None:
        if change["new"] is not None and change["new"] != self.model:
            self.model = change["new"]

    def _on_toggle(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if value is not None and value != _NO_EFFORT and value in self.efforts:
            self.reasoning_effort = value

    def _sync_efforts(self) -> None:
        efforts = self.efforts
        record = catalog.get(self.model)
        reason = _effort_reason(self.model)
        buttons = self.effort_buttons
        if efforts:
            previous = self.reasoning_effort
            choice = (
                previous if previous in efforts else ("low" if "low" in efforts else efforts[0])
            )
            # Options first, value second: the traits validate against the new options.
            self.set_trait("reasoning_effort", None)
            buttons.options = list(efforts)
            buttons.tooltips = [f"reasoning_effort={e!r}" for e in efforts]
            buttons.tooltip = f"reasoning_effort for {self.model}"
            self.effort_label.tooltip = buttons.tooltip
            buttons.disabled = False
            buttons.value = choice
            self.reasoning_effort = choice
        else:
            self.reasoning_effort = None
            buttons.options = [_NO_EFFORT]
            buttons.tooltips = [reason or ""]
            buttons.tooltip = reason
            self.effort_label.tooltip = reason
            buttons.value = _NO_EFFORT
            buttons.disabled = True
        notes: list[str] = []
        if record is not None and record.description:
            notes.append(html.escape(record.description))
        if record is not None and record.retired:
            served = f" by {html.escape(record.served_by)}" if record.served_by else ""
            notes.append(
                f"<b>Retired on {html.escape(record.retired)}</b>: calls are served{served} "
                "at its prices."
            )
        if reason and (record is None or record.reasoning or not record.description):
            notes.append(html.escape(reason))
        self.note.value = (
            '<div style="font-size:0.85em;color:var(--jp-ui-font-color2,#666);'
            f'margin-left:72px">{" ".join(notes)}</div>'
        )

    # -- conveniences -------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """``{"model": ..., "reasoning_effort": ...}``, ready for ``client.chat(**...)``."""
        return {"model": self.model, "reasoning_effort": self.reasoning_effort}

    def __repr__(self) -> str:
        return f"ModelPicker(model={self.model!r}, reasoning_effort={self.reasoning_effort!r})"


# -- Playground ----------------------------------------------------------------------------
class Playground(_BackgroundRun[Completion], widgets.VBox):  # type: ignore[misc]
    """Type a prompt, click Run, watch the reasoning and the answer stream in.

    ``.results`` keeps the last finished Completions (newest last). ``await pg.run()`` runs
    the current prompt and returns its Completion (None after an error or Stop); ``.task``
    is the run in flight, ``.stop()`` cancels it. With ``cache=True`` (the default) running
    the same prompt and settings again replays the stored answer at no cost.

    **Follow up** (``follow_up=True`` or the checkbox) makes each run the next turn of one
    :class:`~grokbook.Conversation` (``.conversation``), so "now double it" knows the last
    answer; the status line shows the turn and the conversation's cost so far. **New
    conversation** (or changing the model or effort) starts over.
    """

    def __init__(
        self,
        prompt: str = "",
        *,
        model: str | None = None,
        reasoning_effort: str | None = None,
        system: str = "",
        client: AsyncClient | None = None,
        reasoning: str = "collapse",
        cache: bool = True,
        follow_up: bool = False,
    ) -> None:
        #: Replay an identical earlier answer instead of calling the API (footer: "cached").
        self.cache = cache
        #: The conversation follow-up runs continue (None until the first one).
        self.conversation: Conversation | None = None
        self.picker = ModelPicker(model=model, reasoning_effort=reasoning_effort)
        self.prompt = widgets.Textarea(
            value=prompt,
            placeholder="Ask Grok something, e.g. What is 101*3?",
            layout=widgets.Layout(width="100%", max_width="720px", height="80px"),
        )
        self.prompt.add_class("grokbook-prompt")
        self.system = widgets.Textarea(
            value=system,
            placeholder="Optional system prompt",
            layout=widgets.Layout(width="100%", height="60px"),
        )
        self.system.add_class("grokbook-system")
        self.system_box = widgets.Accordion(
            children=[self.system],
            titles=("System prompt",),
            selected_index=None,
            layout=widgets.Layout(max_width="720px"),
        )
        self.run_button = widgets.Button(
            description="Run", button_style="primary", icon="play", tooltip="Ask (streams)"
        )
        self.run_button.add_class("grokbook-run")
        self.stop_button = widgets.Button(
            description="Stop", button_style="warning", icon="stop", tooltip="Cancel this run"
        )
        self.stop_button.add_class("grokbook-stop")
        self.stop_button.layout.display = "none"
        self.follow_up = widgets.Checkbox(
            value=follow_up,
            description="Follow up",
            indent=False,
            tooltip="Each run continues the conversation (the model sees earlier turns)",
            layout=widgets.Layout(width="auto"),
        )
        self.follow_up.add_class("grokbook-follow-up")
        self.new_button = widgets.Button(
            description="New conversation",
            icon="refresh",
            tooltip="Forget earlier turns",
            # The default button width (148px) cut the label to "New conversat...".
            layout=widgets.Layout(width="auto", min_width="max-content"),
        )
        self.new_button.add_class("grokbook-new")
        self.status = widgets.HTML()
        self.status.add_class("grokbook-status")
        self.output = widgets.HTML()
        self.output.add_class("grokbook-output")
        super().__init__(
            children=[
                self.picker,
                self.prompt,
                self.system_box,
                widgets.HBox(
                    [
                        self.run_button,
                        self.stop_button,
                        self.follow_up,
                        self.new_button,
                        self.status,
                    ]
                ),
                self.output,
            ]
        )
        self.add_class("grokbook-playground")
        self.reasoning_mode = reasoning
        self.results: list[Completion] = []
        self.task: asyncio.Task[Completion | None] | None = None
        self._client: AsyncClient | None = None
        try:
            self._client = _make_client(client)
        except GrokbookError as exc:  # e.g. a provider chosen without its key
            self.output.value = _error_html(str(exc))
        self.run_button.on_click(self._on_run_click)
        self.stop_button.on_click(self._on_stop_click)
        self.new_button.on_click(lambda _button: self.new_conversation())

    # -- what the shared Run / Stop life cycle needs ----------------------------------------
    def _params(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt.value,
            "system": self.system.value.strip() or None,
            **self.picker.settings(),
        }

    def _show_error(self, message_html: str) -> None:
        self.output.value = message_html

    def new_conversation(self) -> None:
        """Forget the follow-up conversation: the next follow-up run starts a new one."""
        self.conversation = None

    def _next_turn(
        self, prompt: str, options: dict[str, Any]
    ) -> tuple[Any, dict[str, Any], Conversation | None]:
        """(what to send, options, the conversation) for this run: with Follow up, the next
        turn of the conversation (made on first use with this run's settings)."""
        if not self.follow_up.value:
            return prompt, options, None
        from .conversation import Conversation

        settings = (options.get("model"), options.get("reasoning_effort"))
        current = self.conversation
        if current is None or (current.model, current.reasoning_effort) != settings:
            assert self._client is not None
            current = Conversation(
                self._client, *settings, system=options.get("system"), name="playground"
            )
            self.conversation = current
        sent, call = current.prepare(prompt, options)
        return sent, call, current

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled = running
        self.stop_button.layout.display = None if running else "none"
        if running:
            self.status.value = (
                '<span style="color:var(--jp-ui-font-color2,#666)">streaming…</span>'
            )

    # -- the run itself -------------------------------------------------------------------
    async def _run(
        self,
        *,
        prompt: str,
        system: str | None,
        model: str,
        reasoning_effort: str | None,
    ) -> Completion | None:
        from .render import LiveAnswer

        secrets = self._client._secrets() if self._client is not None else ()
        live = LiveAnswer(
            model, reasoning_mode=self.reasoning_mode, secrets=secrets, interval=REDRAW_INTERVAL_S
        )
        notice: str | None = None
        try:
            if not prompt.strip():
                raise UnsupportedParameterError("Type a prompt first, then click Run.")
            if self._client is None:
                self._client = _make_client(None)
                live.secrets = self._client._secrets()
            # Made before %grok login: say here (once) that it still runs on the simulator.
            notice = self._client._login_notice("Playground")
            waiting = live.update(time.monotonic(), force=True)  # starts the throttle's clock
            self.output.value = waiting["text/html"] if waiting else ""
            sent, options, conversation = self._next_turn(
                prompt,
                {
                    "model": model,
                    "reasoning_effort": reasoning_effort,
                    "system": system,
                    "cache": self.cache,
                    "tags": {"source": "widget"},
                },
            )
            stream = self._client.stream(sent, **options)
            live.wire = stream.request.wire  # labels a Responses summary as one
            async with stream:
                async for event in stream:
                    live.add(event.kind, event.text)
                    bundle = live.update(time.monotonic())
                    if bundle is not None:
                        self.output.value = bundle["text/html"]
                        await asyncio.sleep(0)  # let the kernel handle a Stop click
            completion = stream.completion
        except asyncio.CancelledError:
            stopped = _stopped_message(live.text("reasoning"), live.text("content"))
            self.output.value = live.partial_bundle(stopped)["text/html"]
            self.status.value = _notice_html(notice)
            return None
        except Exception as exc:
            logger.debug("grokbook: playground run failed", exc_info=True)
            self.output.value = _error_html(live.redact(_short_error(exc)))
            self.status.value = _notice_html(notice)
            return None
        finally:
            self._set_running(False)
        self.results.append(completion)
        del self.results[:-HISTORY_SIZE]
        self.output.value = live.final_bundle(completion)["text/html"]
        self.status.value = _notice_html(notice)
        if conversation is not None:
            conversation.add_turn(prompt, completion)
            turn = conversation.turns[-1]
            self.status.value = _notice_html(notice) + (
                '<span style="color:var(--jp-ui-font-color2,#666)">'
                f"turn {turn.index + 1} · conversation ${turn.cumulative_cost_usd:.6f}</span>"
            )
        return completion

    def __repr__(self) -> str:
        return f"Playground({self.picker!r}, results={len(self.results)})"


def _notice_html(notice: str | None) -> str:
    """A one-line notice for a status area (escaped), or nothing."""
    if not notice:
        return ""
    from .render import escape

    return f'<span class="grokbook-notice">{escape(notice)}</span>'


def _stopped_message(reasoning: str, content: str) -> str:
    """What Stop leaves below the partial output: what arrived, and where it is."""
    if content:
        return "Stopped: the partial answer above is all that arrived. Click Run to ask again."
    if reasoning:
        return (
            "Stopped while the model was reasoning, before any answer: the reasoning so far "
            "is above. Click Run to ask again."
        )
    return "Stopped before anything arrived. Click Run to ask again."


# -- EffortComparer --------------------------------------------------------------------------
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
        return "–"
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


class EffortComparer(_BackgroundRun["pd.DataFrame"], widgets.VBox):  # type: ignore[misc]
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
            self._client = _make_client(client)
        except GrokbookError as exc:
            self.message.value = _error_html(_short_error(exc))
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
        labels = [e or _NO_EFFORT for e in self.efforts]
        notes = []
        if self.efforts == [None]:
            notes.append(_effort_reason(self.picker.model) or "")
        if self._efforts is not None and any(e in (None, _NO_EFFORT) for e in self._efforts):
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
            from .tables import frame_from_rows

            return frame_from_rows([])
        return self._frame

    @property
    def summary(self) -> pd.DataFrame:
        """``gb.effort_summary(self.frame)``."""
        from .tables import effort_summary

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
            from .sweeps import asweep

            if self._client is None:
                self._client = _make_client(None)
            # Made before %grok login: say here (once) that it still runs on the simulator.
            self.message.value = _notice_html(self._client._login_notice("EffortComparer"))
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
            self.message.value = _error_html("Stopped: click Compare to run it again.")
            self.progress.bar_style = "warning"
            return None
        except Exception as exc:
            logger.debug("grokbook: effort comparison failed", exc_info=True)
            self.message.value = _error_html(_short_error(exc))
            self.progress.bar_style = "danger"
            return None
        finally:
            self._set_running(False)
        self._frame = frame
        try:
            self._render(frame)
        except Exception as exc:
            logger.debug("grokbook: rendering the comparison failed", exc_info=True)
            self.message.value = _error_html(_short_error(exc))
        return frame

    def _render(self, frame: pd.DataFrame) -> None:
        from .tables import effort_summary, order_efforts

        # A server that echoes the key into an answer or an error: shown redacted.
        secrets = self._client._secrets() if self._client is not None else ()
        failed = frame[frame["status"] != "ok"]
        ok = frame[frame["status"] == "ok"]
        self.progress.bar_style = "success" if failed.empty else "warning"
        if not failed.empty:
            first = redact(str(failed["error"].iloc[0]), secrets)
            self.message.value = _error_html(
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
            answer = redact(str(rows["answer"].iloc[0] or ""), secrets)
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
        import pandas as pd

        columns = {
            "reasoning tokens": ("reasoning_tokens", ",.0f"),
            "completion tokens": ("completion_tokens", ",.0f"),
            "latency (s)": ("latency_s", ".2f"),
            "cost per call (USD)": ("cost_usd", ".6f"),
        }
        rows: dict[str, dict[str, str]] = {}
        for key, stats in summary.iterrows():
            effort = str(key[1]) if isinstance(key, tuple) else str(key)
            group = ok[ok["reasoning_effort"] == effort]
            row = {"calls": f"{int(stats['ok'])}/{int(stats['calls'])}"}
            if "correct" in group.columns:
                flags = group["correct"].astype("boolean").dropna()
                row["correct"] = f"{int(flags.astype(bool).sum())}/{len(flags)}"
            means = {
                "reasoning_tokens": stats["reasoning_tokens_mean"],
                "completion_tokens": stats["completion_tokens_mean"],
                "latency_s": stats["latency_mean_s"],
                "cost_usd": stats["cost_per_call_usd"],
            }
            for label, (name, fmt) in columns.items():
                values = pd.to_numeric(group[name], errors="coerce").astype("float64")
                sd = float(values.std()) if values.notna().sum() > 1 else float("nan")
                row[label] = _spread(float(means[name]), sd, fmt)
            rows[effort] = row
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.insert(0, "effort", list(table.index))
        html_table: str = table.to_html(escape=True, border=0, index=False)
        from .render import format_cost

        cached, calls = int(summary["cached"].sum()), int(summary["calls"].sum())
        billed = format_cost(float(summary["billed_total_usd"].sum())) or "?"
        from_cache = (
            f"; {cached} of {calls} calls came from the cache (their original cost and "
            f"latency shown); this run billed {billed}"
            if cached
            else ""
        )
        from .tables import simulated_note

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

        from .plots import plot_efforts

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
