"""What every widget shares: the Run / Stop life cycle on the kernel's event loop, the
client, one-line errors and notices, and why a model's effort control is disabled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from .. import catalog
from ..client import AsyncClient
from ..errors import GrokbookError
from ..render import error_html, error_message, escape

logger = logging.getLogger("grokbook")

#: The effort control's label for a model that takes none.
NO_EFFORT = "default"


def effort_reason(model_id: str) -> str | None:
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


def short_error(exc: BaseException) -> str:
    """One short line for an exception, never a traceback."""
    if isinstance(exc, GrokbookError):
        return error_message(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def kernel_loop() -> asyncio.AbstractEventLoop:
    """The kernel's event loop (running inside a cell or a widget callback)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def make_client(client: AsyncClient | None) -> AsyncClient:
    return client if client is not None else AsyncClient()


ResultT = TypeVar("ResultT")


class BackgroundRun(Generic[ResultT]):
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
        self.task = kernel_loop().create_task(self._run(**params))
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
            self._show_error(error_html(short_error(exc)))

    def _on_stop_click(self, _: Any) -> None:
        self.stop()


def notice_html(notice: str | None) -> str:
    """A one-line notice for a status area (escaped), or nothing."""
    if not notice:
        return ""
    return f'<span class="grokbook-notice">{escape(notice)}</span>'
