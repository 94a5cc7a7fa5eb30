"""The playground: type a prompt, click Run, watch the reasoning and the answer stream in."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ipywidgets as widgets

from ..client import AsyncClient
from ..conversation import Conversation
from ..errors import GrokbookError, UnsupportedParameterError
from ..render import LiveAnswer, error_html
from ..result import Completion
from ._base import BackgroundRun, logger, make_client, notice_html, short_error
from .picker import ModelPicker

__all__ = ["HISTORY_SIZE", "REDRAW_INTERVAL_S", "Playground"]

#: How many finished runs a Playground keeps in ``.results``.
HISTORY_SIZE = 20
#: Seconds between two redraws of a streaming answer (every event would flood the frontend).
REDRAW_INTERVAL_S = 0.1


class Playground(BackgroundRun[Completion], widgets.VBox):  # type: ignore[misc]
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
            self._client = make_client(client)
        except GrokbookError as exc:  # e.g. a provider chosen without its key
            self.output.value = error_html(str(exc))
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
        live = LiveAnswer(model, reasoning_mode=self.reasoning_mode, interval=REDRAW_INTERVAL_S)
        if self._client is not None:  # a server that echoes the key shows it redacted
            live.redactors = (self._client.redact,)
        notice: str | None = None
        try:
            if not prompt.strip():
                raise UnsupportedParameterError("Type a prompt first, then click Run.")
            if self._client is None:
                self._client = make_client(None)
                live.redactors = (self._client.redact,)
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
            self.status.value = notice_html(notice)
            return None
        except Exception as exc:
            logger.debug("grokbook: playground run failed", exc_info=True)
            self.output.value = error_html(live.redact(short_error(exc)))
            self.status.value = notice_html(notice)
            return None
        finally:
            self._set_running(False)
        self.results.append(completion)
        del self.results[:-HISTORY_SIZE]
        self.output.value = live.final_bundle(completion)["text/html"]
        self.status.value = notice_html(notice)
        if conversation is not None:
            conversation.add_turn(prompt, completion)
            turn = conversation.turns[-1]
            self.status.value = notice_html(notice) + (
                '<span style="color:var(--jp-ui-font-color2,#666)">'
                f"turn {turn.index + 1} · conversation ${turn.cumulative_cost_usd:.6f}</span>"
            )
        return completion

    def __repr__(self) -> str:
        return f"Playground({self.picker!r}, results={len(self.results)})"


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
