"""``%%grok`` and ``%grok``: ask Grok from a notebook cell and watch the answer stream in.

::

    %load_ext grokbook

    %%grok -m grok-3-mini-beta -e high -o r
    What is 101*3? Explain briefly.

The cell body is the prompt, sent **exactly** as written: braces, ``$`` and JSON are never
interpolated. ``--format`` opts in to ``str.format`` interpolation from the notebook's
variables (``{name}``; write ``{{`` and ``}}`` for literal braces).

Cell options: ``-m MODEL``, ``-e EFFORT``, ``-s SYSTEM``, ``-t TEMPERATURE``,
``--max-tokens N``, ``--no-stream``, ``--reasoning show|hide|collapse``, ``-o NAME`` (store
the :class:`~grokbook.Completion` in the notebook, like ``%%timeit -o``), ``--no-cache``,
``--format``.

Line magic: ``%grok models`` (catalog, prices, which providers have keys),
``%grok config [key=value ...]`` (``model``, ``effort``, ``provider``, ``reasoning``),
``%grok usage`` (this session's calls and totals), ``%grok history`` (the run log),
``%grok login [provider]`` (asks for a key with ``getpass``; kept in memory only, and used by
every grokbook entry point in this kernel: ``gb.Client()``, ``gb.sweep``, ``gb.Conversation()``,
the widgets) and ``%grok logout [provider]`` (forgets it).

Defaults are traitlets too: ``%config GrokMagics.default_model = 'grok-4.3'`` (or
``c.GrokMagics.default_effort = 'high'`` in ``ipython_config.py``).

Display: in a kernel (JupyterLab, Notebook, VS Code) one display is updated in place while
the answer streams (at most ``1 / update_interval`` = 10 times a second, and only as often as
the new text pays for the update's size: :class:`grokbook.render.LiveAnswer`, which shows the
end of a long answer), then the finished answer is rendered below it by
:func:`grokbook.render.completion_bundle` (the streaming area is emptied). Saved notebooks
therefore hold exactly what a re-run emits, which keeps nbval stable. Terminal IPython
(``frontend="plain"``, automatic without a kernel) prints the text instead, with terminal
escape sequences removed (:func:`grokbook.render.terminal_text`). Every path shows an API key
that a server echoes as ``[redacted]``.

Calls go through :class:`grokbook.Client` (one per provider for the session), with the
response cache on unless ``--no-cache``, and ``tags={"source": "magic"}`` in the run log.
Loading the extension imports neither httpx nor pandas, matplotlib or ipywidgets: the client
is created on the first call.
The package: this module holds :class:`GrokMagics` (its settings, the session's state and
where output goes); ``_args`` parses a line into typed arguments; ``_cell`` runs a ``%%grok``
cell and ``_line`` one handler per ``%grok`` subcommand. Those two load on first use, with the
client: ``%load_ext grokbook`` imports neither.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from IPython import display as ipython_display
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Any as AnyTrait
from traitlets import Enum, Float, Unicode

from .. import providers, render
from ..errors import redact
from ._args import cell_arguments

if TYPE_CHECKING:  # pragma: no cover
    from ..client import Client
    from ..conversation import Conversation
    from ..render._table import Table
    from ..result import Completion

__all__ = ["GrokMagics", "load_ipython_extension", "unload_ipython_extension"]

#: The environment variables of the providers' keys (redacted from everything shown).
KEY_VARIABLES = ("XAI_API_KEY", "AIMLAPI_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY")


def _now() -> float:
    """The clock used to throttle display updates (tests replace it; see ``GrokMagics.clock``)."""
    return time.monotonic()


@magics_class
class GrokMagics(Magics):
    """The ``%%grok`` cell magic and the ``%grok`` line magic (see the module docstring)."""

    default_model = Unicode(
        None, allow_none=True, help="Model for %%grok when -m is not given (None: grokbook's)."
    ).tag(config=True)
    default_effort = Unicode(
        None, allow_none=True, help="reasoning_effort when -e is not given (None: the model's)."
    ).tag(config=True)
    provider = Unicode(
        None,
        allow_none=True,
        help="xai | aimlapi | openrouter | openai | sim (None: automatic, as grokbook.Client).",
    ).tag(config=True)
    reasoning = Enum(
        render.REASONING_MODES,
        default_value=render.DEFAULT_REASONING_MODE,
        help="How reasoning is displayed: collapse (default), show or hide.",
    ).tag(config=True)
    frontend = Enum(
        ("auto", "rich", "plain"),
        default_value="auto",
        help="rich: HTML displays updated in place (Jupyter, VS Code); plain: printed text "
        "(terminal IPython); auto: rich when running in a kernel.",
    ).tag(config=True)
    update_interval = Float(
        0.1, help="Minimum seconds between two updates of a streaming display (<= 10/s)."
    ).tag(config=True)
    client_factory = AnyTrait(
        None,
        allow_none=True,
        help="Callable (provider, api_key) -> grokbook.Client; None builds a Client. Tests "
        "inject a transport here.",
    )
    clock = AnyTrait(
        None,
        allow_none=True,
        help="Callable () -> seconds that throttles display updates; None: time.monotonic. "
        "Tests and benchmarks inject a virtual clock here.",
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        #: The session's clients, one per provider (made on first use).
        self.clients: dict[str, Client] = {}
        #: Whether %grok login chose ``provider`` (so %grok logout puts it back).
        self.provider_from_login = False
        #: The notebook's conversations (``%%grok --chat NAME``), by name.
        self.conversations: dict[str, Conversation] = {}
        #: This session's finished calls (what ``%grok usage`` shows).
        self.calls: list[Completion] = []
        #: This session's failed calls: (model, short message).
        self.failures: list[tuple[str, str]] = []

    # -- the magic ----------------------------------------------------------------------------
    @cell_arguments
    @line_cell_magic
    def grok(self, line: str, cell: str | None = None) -> None:
        """Ask Grok: the cell body is the prompt, sent exactly as written.

        Line magic: %grok models | config [key=value ...] | usage | history | login.
        """
        if cell is None:
            from . import _line  # the handlers load on first use

            _line.run(self, line)
        else:
            from . import _cell  # with the client: on the first cell

            _cell.run(self, line, cell)

    def now(self) -> float:
        """The display throttle's clock: :attr:`clock`, else the module's ``_now``."""
        clock: Callable[[], float] = self.clock or _now
        return clock()

    def resolved_provider(self) -> str:
        """The provider the next call uses (the configured one, else grokbook's choice)."""
        return providers.select(self.provider or None).name

    # -- redaction ----------------------------------------------------------------------------
    def _known_secrets(self) -> tuple[str, ...]:
        values = [*providers.session_secrets(), *(os.environ.get(v, "") for v in KEY_VARIABLES)]
        # Each shown redacted wherever it is a local (%xmode verbose).
        return tuple(providers.hidden_key(v) or "" for v in values if v)

    def redact(self, text: str) -> str:
        """``text`` with every key this session knows replaced by ``[redacted]``: keys from
        %grok login and the environment, and each client's own (:meth:`grokbook.Client.redact`)."""
        text = redact(text, self._known_secrets())
        for client in self.clients.values():
            text = client.redact(text)
        return text

    def live_answer(
        self, model: str | None, reasoning_mode: str, *, wire: str | None = None
    ) -> render.LiveAnswer:
        """The live-answer renderer for one call, redacting what :meth:`redact` does."""
        return render.LiveAnswer(
            model,
            reasoning_mode=reasoning_mode,
            secrets=self._known_secrets(),
            redactors=[client.redact for client in self.clients.values()],
            interval=self.update_interval,
            wire=wire,
        )

    def close(self) -> None:
        """Close the session's clients (called on unload)."""
        for client in self.clients.values():
            client.close()
        self.clients.clear()

    # -- output -------------------------------------------------------------------------------
    def rich(self) -> bool:
        """Whether output is rich displays (a kernel) rather than printed text."""
        if self.frontend == "auto":
            return getattr(self.shell, "kernel", None) is not None
        return bool(self.frontend == "rich")

    def display(self, bundle: Mapping[str, str], *, new: bool = False, handle: Any = None) -> Any:
        """Publish ``bundle``: a new display (``new``: one that can be updated), or an update
        of ``handle``'s."""
        if handle is not None:
            handle.update(dict(bundle), raw=True)
            return handle
        display: Callable[..., Any] = ipython_display.display  # looked up now: patchable
        return display(dict(bundle), raw=True, display_id=True if new else None)

    def display_object(self, obj: Any) -> None:
        """Display any object (its own rich representation)."""
        display: Callable[..., Any] = ipython_display.display
        display(obj)

    def show_error(self, message: str, *, exc: BaseException | None = None) -> None:
        """One error line (redacted), never a traceback."""
        message = self.redact(render.error_message(Exception(message)))
        if self.rich():
            self.display(render.error_bundle(message))
        else:
            print(render.terminal_text(f"grokbook: {message}"), file=sys.stderr)

    def show_text(self, message: str) -> None:
        """A line of text (escaped in HTML)."""
        if self.rich():
            self.display(
                {"text/plain": message, "text/html": f"<div>{render.escape(message)}</div>"}
            )
        else:
            print(message)

    def show_table(self, table: Table) -> None:
        """A table (:class:`grokbook.render._table.Table`): HTML in a kernel, text otherwise."""
        if self.rich():
            self.display(table.bundle())
        else:
            print(table.text())


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext grokbook``: register ``%%grok`` / ``%grok`` and make them configurable."""
    magics = GrokMagics(shell=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext grokbook``: remove the magics and close their clients."""
    manager = ipython.magics_manager
    magics = manager.registry.pop("GrokMagics", None)
    for kind in ("line", "cell"):
        table = manager.magics.get(kind, {})
        if getattr(table.get("grok"), "__self__", None) is magics:
            del table["grok"]
    if magics is not None:
        if magics in ipython.configurables:
            ipython.configurables.remove(magics)
        magics.close()
