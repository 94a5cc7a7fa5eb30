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
"""

from __future__ import annotations

import os
import re
import shlex
import string
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Any as AnyTrait
from traitlets import Enum, Float, Unicode

from . import catalog, render
from .errors import GrokbookError

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client
    from .conversation import Conversation
    from .result import Completion

__all__ = ["GrokMagics", "load_ipython_extension", "unload_ipython_extension"]

_KEY_VARS = ("XAI_API_KEY", "AIMLAPI_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY")
_TAGS = {"source": "magic"}
_SUBCOMMANDS = ("models", "config", "usage", "history", "login", "logout", "new")
_CONFIG_KEYS = {
    "model": "default_model",
    "default_model": "default_model",
    "effort": "default_effort",
    "default_effort": "default_effort",
    "provider": "provider",
    "reasoning": "reasoning",
}
_RESET = ("", "default", "auto")
# IPython's magic_arguments helpers are untyped: give them explicit (loose) types.
magic_arguments: Callable[..., Callable[[Any], Any]] = _magic_arguments.magic_arguments
argument: Callable[..., Callable[[Any], Any]] = _magic_arguments.argument

_USAGE_LINE = (
    "%%grok [-m MODEL] [-e EFFORT] [-s SYSTEM] [-t TEMPERATURE] [--max-tokens N] [--no-stream] "
    "[--reasoning show|hide|collapse] [-o NAME] [--no-cache] [--format] [--chat [NAME]]"
)
_LINE_HELP = (
    "%grok models | %grok config [key=value ...] | %grok usage | %grok history | "
    "%grok login [provider] | %grok logout [provider] | %grok new [NAME] (start a --chat "
    "conversation over). "
    "To ask a question, use the cell magic: " + _USAGE_LINE
)


def _now() -> float:
    """The clock used to throttle display updates (tests replace it)."""
    return time.monotonic()


def _default_client_factory(provider: str, api_key: str | None) -> Client:
    from .client import Client

    return Client(provider=provider, api_key=api_key)


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

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._clients: dict[str, Client] = {}
        #: Whether %grok login chose ``provider`` (so %grok logout puts it back).
        self._provider_from_login = False
        #: The notebook's conversations (``%%grok --chat NAME``), by name.
        self.conversations: dict[str, Conversation] = {}
        #: This session's finished calls (what ``%grok usage`` shows).
        self.calls: list[Completion] = []
        #: This session's failed calls: (model, short message).
        self.failures: list[tuple[str, str]] = []

    # -- the magic ----------------------------------------------------------------------------
    @magic_arguments()
    @argument("-m", "--model", help="model id, e.g. grok-4.3 (default: configured)")
    @argument("-e", "--effort", help="reasoning effort, e.g. low | high (model-dependent)")
    @argument("-s", "--system", help="system prompt")
    @argument("-t", "--temperature", type=float, help="sampling temperature, 0 to 2")
    @argument(
        "--max-tokens",
        type=int,
        help="max_tokens (Chat Completions: caps the answer; Responses: max_output_tokens, "
        "which real grok-4.3 and grok-4.5 replies have exceeded)",
    )
    @argument("--no-stream", action="store_true", help="wait for the whole answer")
    @argument(
        "--reasoning",
        choices=render.REASONING_MODES,
        help="reasoning display: collapse (default), show or hide",
    )
    @argument("-o", "--output", metavar="NAME", help="store the Completion in variable NAME")
    @argument("--no-cache", action="store_true", help="always call the API (skip the cache)")
    @argument(
        "--chat",
        nargs="?",
        const="default",
        metavar="NAME",
        help="continue the notebook's conversation NAME (default 'default'); %%grok new [NAME] "
        "starts it over",
    )
    @argument(
        "--format",
        action="store_true",
        help="interpolate {name} from the notebook's variables (off by default)",
    )
    @line_cell_magic
    def grok(self, line: str, cell: str | None = None) -> None:
        """Ask Grok: the cell body is the prompt, sent exactly as written.

        Line magic: %grok models | config [key=value ...] | usage | history | login.
        """
        if cell is None:
            self._line(line)
        else:
            self._cell(line, cell)

    # -- %%grok -------------------------------------------------------------------------------
    def _cell(self, line: str, cell: str) -> None:
        try:
            # shlex (POSIX) rather than IPython's arg_split, so -s "Be terse." loses its quotes.
            args = self.grok.parser.parse_args(shlex.split(line))
        except (UsageError, SystemExit, ValueError) as exc:
            detail = str(exc).strip() or "see %%grok? for the options"
            self._show_error(f"Invalid %%grok options: {detail}. Usage: {_USAGE_LINE}")
            return
        if args.output is not None and not args.output.isidentifier():
            self._show_error(f"-o needs a variable name such as `result`; got {args.output!r}.")
            return
        prompt = cell
        if args.format:
            try:
                prompt = self._interpolate(cell)
            except _FormatError as exc:
                self._show_error(str(exc))
                return
        if not prompt.strip():
            self._show_error("The cell is empty: write your question below the %%grok line.")
            return
        effort = catalog.canonical_effort(
            args.effort if args.effort is not None else self.default_effort
        )
        # The session's default effort, when this cell uses it (named in an error it causes).
        configured_effort = effort if args.effort is None and effort not in _RESET else None
        options: dict[str, Any] = {
            # -m '' is a mistake to report, not a request for the default.
            "model": args.model if args.model is not None else self.default_model or None,
            "reasoning_effort": None if effort in (None, "", "default") else effort,
            "system": args.system,
            "temperature": args.temperature,
            "max_tokens": args.max_tokens,
        }
        mode = args.reasoning or self.reasoning
        label = options["model"] or "grok"
        completion: Completion | None
        conversation: Conversation | None = None
        sent: Any = prompt
        try:
            client = self._client()
            if args.chat is not None:
                conversation = self._conversation(args.chat, client, options)
                sent, options = conversation.prepare(prompt, options)
            if args.no_stream:
                completion = self._ask(client, sent, options, mode, cache=not args.no_cache)
            else:
                completion = self._stream(
                    client, sent, options, mode, configured_effort, cache=not args.no_cache
                )
        except GrokbookError as exc:
            message = self._failure_message(exc, configured_effort)
            self.failures.append((label, message))
            self._show_error(message, exc=exc)
            return
        except KeyboardInterrupt:
            self._show_error("Interrupted; nothing was stored. Run the cell again to retry.")
            return
        if completion is None:
            return
        if conversation is not None:
            conversation.add_turn(prompt, completion)
        self.calls.append(completion)
        if args.output:
            self._user_ns()[args.output] = completion

    def _user_ns(self) -> dict[str, Any]:
        shell = self.shell
        if shell is None:
            raise RuntimeError("GrokMagics needs an IPython shell (use %load_ext grokbook).")
        namespace: dict[str, Any] = shell.user_ns
        return namespace

    def _interpolate(self, cell: str) -> str:
        namespace = self._user_ns()
        try:
            return string.Formatter().vformat(cell, (), namespace)
        except KeyError as exc:
            raise _FormatError(
                f"--format: {exc.args[0]!r} is not defined in the notebook. Define it, or "
                "write {{ and }} for literal braces (or drop --format to send the cell as is)."
            ) from None
        except IndexError:
            raise _FormatError(
                "--format: '{}' needs a variable name, e.g. {question}; write {{}} for "
                "literal braces."
            ) from None
        except (ValueError, AttributeError) as exc:
            raise _FormatError(
                f"--format could not fill in the prompt: {exc}. Write {{{{ and }}}} for literal "
                "braces, or drop --format to send the cell as is."
            ) from None

    def _conversation(self, name: str, client: Client, options: dict[str, Any]) -> Conversation:
        """The conversation called ``name``, started with this cell's model/effort/system."""
        from .conversation import Conversation

        conversation = self.conversations.get(name)
        if conversation is None:
            conversation = Conversation(
                client,
                options.get("model"),
                options.get("reasoning_effort"),
                system=options.get("system"),
                name=name,
            )
            self.conversations[name] = conversation
        return conversation

    def _ask(
        self, client: Client, prompt: Any, options: dict[str, Any], mode: str, *, cache: bool
    ) -> Completion:
        live = _Live(self) if self._rich() else None
        try:
            if live is not None:
                waiting = render.stream_html("", "", reasoning_mode=mode, model=options["model"])
                live.update({"text/html": waiting, "text/plain": "waiting…"})
            completion = client.chat(prompt, cache=cache, **{"tags": _TAGS, **options})
        finally:
            if live is not None:
                live.close()
        self._show_final(completion, mode)
        return completion

    def _failure_message(self, exc: GrokbookError, configured_effort: str | None) -> str:
        """The one line for a failed call; it names the session's default effort when that
        is what the model refused."""
        message = render.error_message(exc, secrets=self._secrets())
        if configured_effort is not None and _about_effort(message):
            message += _configured_effort_hint(configured_effort)
        return message

    def _stream(
        self,
        client: Client,
        prompt: str,
        options: dict[str, Any],
        mode: str,
        configured_effort: str | None,
        *,
        cache: bool,
    ) -> Completion | None:
        stream = client.stream(prompt, cache=cache, **{"tags": _TAGS, **options})
        model = stream.request.model
        if self._rich():
            return self._stream_rich(stream, model, mode, configured_effort)
        return self._stream_plain(stream, model, mode, configured_effort)

    def _stream_rich(
        self, stream: Any, model: str, mode: str, configured_effort: str | None
    ) -> Completion | None:
        live = render.LiveAnswer(
            model,
            reasoning_mode=mode,
            secrets=self._secrets(),
            interval=self.update_interval,
            wire=stream.request.wire,
        )
        view = _Live(self)
        error: GrokbookError | None = None
        try:
            view.update(live.update(_now(), force=True) or {})
            with stream:
                for event in stream:
                    live.add(event.kind, event.text)
                    bundle = live.update(_now())
                    if bundle is not None:
                        view.update(bundle)
                completion: Completion = stream.completion
        except GrokbookError as exc:
            error = exc
        finally:
            view.close()
        if error is not None:
            message = self._failure_message(error, configured_effort)
            self.failures.append((model, message))
            self._display(live.partial_bundle(message))
            return None
        self._display(live.final_bundle(completion))
        return completion

    def _stream_plain(
        self, stream: Any, model: str, mode: str, configured_effort: str | None
    ) -> Completion | None:
        out = sys.stdout
        live = render.LiveAnswer(
            model, reasoning_mode=mode, secrets=self._secrets(), wire=stream.request.wire
        )
        show = mode == "show"

        def write(pieces: list[tuple[str, str]]) -> None:
            for kind, text in pieces:
                if kind == "switch":
                    out.write("\n[end of reasoning]\n" if show else "")
                elif kind == "content" or show:
                    out.write(text)

        try:
            with stream:
                for event in stream:
                    if event.kind == "reasoning" and not live.started:
                        out.write("[reasoning]\n" if show else live.terminal_status() + "\n")
                    write(live.terminal(event.kind, event.text))
                    out.flush()
                completion: Completion = stream.completion
        except GrokbookError as exc:
            write(live.terminal_end())
            out.write("\n")
            message = self._failure_message(exc, configured_effort)
            self.failures.append((model, message))
            self._show_error(message)
            return None
        write(live.terminal_end())
        out.write("\n")
        if completion.model_notice:
            out.write(f"Note: {render.terminal_text(completion.model_notice)}\n")
        if completion.reasoning and mode != "show":
            tokens = completion.usage.reasoning_tokens
            count = f"{tokens:,} tokens" if tokens is not None else "not counted"
            out.write(f"[reasoning {count}, {'hidden' if mode == 'hide' else 'collapsed'}]\n")
        out.write(f"-- {render.terminal_text(' · '.join(render.usage_parts(completion)))}\n")
        out.flush()
        return completion

    def _show_final(self, completion: Completion, mode: str) -> None:
        live = render.LiveAnswer(completion.model, reasoning_mode=mode, secrets=self._secrets())
        if self._rich():
            self._display(live.final_bundle(completion))
        else:
            shown = live.redacted(completion)
            print(
                render.terminal_text(
                    render.completion_text(shown, reasoning=mode, escape_html=False)
                )
            )

    # -- %grok --------------------------------------------------------------------------------
    def _line(self, line: str) -> None:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self._show_error(f"Could not read the %grok arguments ({exc}). {_LINE_HELP}")
            return
        if not words:
            self._show_text(_LINE_HELP)
            return
        command, rest = words[0].lower(), words[1:]
        if command == "models":
            self._models()
        elif command == "config":
            self._config(rest)
        elif command == "usage":
            self._usage()
        elif command == "history":
            self._history(rest)
        elif command == "login":
            self._login(rest)
        elif command == "logout":
            self._logout(rest)
        elif command == "new":
            name = rest[0] if rest else "default"
            dropped = self.conversations.pop(name, None)
            turns = len(dropped.turns) if dropped is not None else 0
            self._show_text(
                f"Conversation {name!r} starts over ({turns} earlier turns kept in the run log"
                f"{f' as {dropped.id}' if dropped is not None else ''})."
            )
        else:
            self._show_error(f"Unknown %grok command {words[0]!r}. {_LINE_HELP}")

    def _models(self) -> None:
        from .providers import PROVIDERS

        headers = catalog.TABLE_HEADERS
        rows = catalog.table_rows()
        keys = []
        for name, profile in PROVIDERS.items():
            if not profile.needs_key and not profile.key_env:
                keys.append(f"{name}: no key needed")
            else:
                keys.append(f"{name}: {'key set' if self._has_key(name) else 'no key'}")
        note = "Providers — " + "; ".join(keys) + ". Prices are USD per 1M tokens."
        self._show_table(headers, rows, caption=note)

    def _has_key(self, provider: str) -> bool:
        from . import providers
        from .providers import PROVIDERS

        if providers.session_key(provider) is not None:
            return True
        env = PROVIDERS[provider].key_env
        return bool(env and os.environ.get(env))

    def _config(self, pairs: Sequence[str]) -> None:
        if not pairs:
            self._show_config()
            return
        changes: dict[str, Any] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            trait = _CONFIG_KEYS.get(key.strip().lower())
            if not sep or trait is None:
                self._show_error(
                    f"%grok config takes key=value pairs with keys model, effort, provider, "
                    f"reasoning; got {pair!r}. Example: %grok config model=grok-4.3 effort=high"
                )
                return
            value = value.strip()
            if trait == "reasoning":
                if value not in render.REASONING_MODES:
                    self._show_error(
                        f"reasoning must be one of {', '.join(render.REASONING_MODES)}; "
                        f"got {value!r}."
                    )
                    return
                changes[trait] = value
            elif value.lower() in _RESET:
                changes[trait] = None
            elif trait == "default_effort":
                changes[trait] = catalog.canonical_effort(value)
            elif trait == "provider":
                from .providers import get_provider

                try:
                    changes[trait] = get_provider(value).name
                except GrokbookError as exc:
                    self._show_error(str(exc))
                    return
            else:
                changes[trait] = value
        for trait, value in changes.items():
            setattr(self, trait, value)
        self._show_config(warning=self._config_warning())

    def _config_warning(self) -> str | None:
        from . import catalog

        model = self.default_model
        if model and catalog.get(model) is None:
            return f"{model!r} is not in grokbook's catalog; it will be sent as is."
        record = catalog.get(model or catalog.default_model())
        effort = self.default_effort
        if record is not None and effort and effort not in record.efforts:
            allowed = " | ".join(record.efforts) or "none (leave effort unset)"
            return f"{record.id} takes reasoning_effort {allowed}; {effort!r} will be rejected."
        return None

    def _show_config(self, warning: str | None = None) -> None:
        provider = self.provider or f"auto (now: {self._resolved_provider()})"
        rows = [
            ("model", self.default_model or f"{catalog.default_model()} (grokbook's default)"),
            ("effort", self.default_effort or "the model's default"),
            ("provider", provider),
            ("reasoning", self.reasoning),
        ]
        caption = (
            "Change with %grok config key=value (e.g. effort=high; effort=default resets), "
            "or %config GrokMagics.default_model = '...'."
        )
        if warning:
            caption = f"Warning: {warning} {caption}"
        self._show_table(("setting", "value"), rows, caption=caption)

    def _usage(self) -> None:
        if not self.calls and not self.failures:
            self._show_text("No %%grok calls yet in this session.")
            return
        headers = (
            "#",
            "model",
            "effort",
            "prompt",
            "reasoning",
            "completion",
            "latency",
            "cost",
            "billed",
            "flags",
        )
        rows: list[tuple[str, ...]] = []
        totals = {"prompt": 0, "reasoning": 0, "completion": 0}
        fetched = 0.0
        billed = 0.0
        cached = 0
        for index, c in enumerate(self.calls, 1):
            usage = c.usage
            flags = [f for f, on in (("cached", c.cached), ("simulated", c.simulated)) if on]
            rows.append(
                (
                    str(index),
                    c.model,
                    c.reasoning_effort or "default",
                    _count(usage.prompt_tokens),
                    _count(usage.reasoning_tokens),
                    _count(usage.completion_tokens),
                    render.format_latency(c.latency_s) or "?",
                    render.format_cost(c.cost_usd) or "?",
                    render.format_cost(c.billed_usd) or "?",
                    ", ".join(flags),
                )
            )
            fetched += c.fetch_s or 0.0
            billed += c.billed_usd or 0.0
            if c.cached:
                cached += 1
                continue  # served from the cache: no new tokens spent
            totals["prompt"] += usage.prompt_tokens or 0
            totals["reasoning"] += usage.reasoning_tokens or 0
            totals["completion"] += usage.completion_tokens or 0
        rows.append(
            (
                "total",
                f"{len(self.calls)} calls, {cached} cached",
                "",
                f"{totals['prompt']:,}",
                f"{totals['reasoning']:,}",
                f"{totals['completion']:,}",
                render.format_latency(fetched) or "",
                "",
                render.format_cost(billed) or "",
                "",
            )
        )
        caption = "This session's %%grok calls"
        if cached:
            caption += (
                f"; {cached} of {len(self.calls)} came from the cache (shown at the original "
                "call's latency and cost; billed $0 now)"
            )
        caption += (
            ". The total is what this session spent: tokens and billed USD of calls not "
            "cached, seconds spent fetching."
        )
        simulated = sum(1 for c in self.calls if c.simulated)
        if simulated:
            caption += (
                f" Simulated: {simulated} of {len(self.calls)} calls were answered by grokbook's "
                "offline simulator; their figures are its model, not Grok's."
            )
        if self.failures:
            caption += f" {len(self.failures)} call(s) failed; the last: {self.failures[-1][1]}"
        self._show_table(headers, rows, caption=caption)

    def _history(self, rest: Sequence[str]) -> None:
        limit = 20
        if rest:
            try:
                limit = int(rest[0])
            except ValueError:
                self._show_error(
                    f"%grok history takes a number of calls, e.g. 50; got {rest[0]!r}."
                )
                return
        try:
            from . import store

            history = store.history
        except (ImportError, AttributeError):
            self._show_text(
                "The run log is not available in this version of grokbook; "
                "%grok usage shows this session's calls."
            )
            return
        try:
            frame = history(limit=limit)
        except Exception as exc:  # the store is optional: never break the notebook over it
            self._show_error(
                f"Could not read the run log ({type(exc).__name__}: "
                f"{render.error_message(exc, secrets=self._secrets())}). "
                "%grok usage shows this session's calls."
            )
            return
        if frame is None or len(frame) == 0:
            self._show_text("The run log is empty: calls appear here once you make them.")
            return
        try:
            records = frame.to_dict("records")
        except AttributeError:  # not a DataFrame: show whatever the store returned
            self._display_object(frame)
            return
        headers = (
            *("time", "model", "effort", "prompt", "reasoning", "completion"),
            *("latency", "cost", "status", "source"),
        )
        rows = [_history_row(record) for record in records]
        caption = f"The {len(rows)} most recent calls of the run log (grokbook.history())."
        self._show_table(headers, rows, caption=caption)

    def _login(self, rest: Sequence[str]) -> None:
        from . import providers
        from .providers import PROVIDERS, get_provider

        if rest:
            try:
                profile = get_provider(rest[0])
            except GrokbookError as exc:
                self._show_error(str(exc))
                return
        else:
            # No simulator notice here: the next line asks for the key.
            current = providers.select(self.provider or None, notice=False).name
            profile = PROVIDERS["xai" if current == "sim" else current]
        if not profile.key_env:
            self._show_text(
                f"Provider {profile.name!r} needs no key. Use %grok login xai (or aimlapi, "
                "openrouter) to enter one."
            )
            return
        import getpass

        from .providers import hidden_key

        label = profile.label or profile.name
        key = hidden_key(  # shown redacted wherever it is a local (%xmode verbose)
            getpass.getpass(
                f"{label} API key ({profile.key_env}; input hidden, kept in memory only): "
            ).strip()
        )
        if not key:
            self._show_text("No key entered; nothing changed.")
            return
        try:
            providers.login(profile.name, key)
        except GrokbookError as exc:  # e.g. a character a header cannot carry (never echoed)
            self._show_error(str(exc))
            return
        finally:
            del key
        client = self._clients.pop(profile.name, None)
        if client is not None:
            client.close()
        message = (
            f"Key for {label} stored in memory for this session only (not saved, not shown): "
            "%%grok, gb.Client(), gb.sweep, gb.Conversation() and the widgets created from now "
            "on use it."
        )
        if not self.provider:
            self.provider = profile.name
            self._provider_from_login = True
            message += f" %%grok now uses provider {profile.name!r}."
        elif self.provider != profile.name:
            message += (
                f" %%grok still uses provider {self.provider!r}; "
                f"run %grok config provider={profile.name} to switch."
            )
        self._show_text(message + " %grok logout forgets the key.")

    def _logout(self, rest: Sequence[str]) -> None:
        from . import providers

        try:
            forgotten = providers.logout(rest[0] if rest else None)
        except GrokbookError as exc:
            self._show_error(str(exc))
            return
        if not forgotten:
            self._show_text("No key from %grok login to forget.")
            return
        for name in forgotten:
            client = self._clients.pop(name, None)
            if client is not None:
                client.close()
        if self._provider_from_login and self.provider in forgotten:
            self.provider = None
            self._provider_from_login = False
        labels = ", ".join(providers.PROVIDERS[name].label or name for name in forgotten)
        self._show_text(
            f"Forgot the key for {labels}; clients that were using it stop (they say so). "
            f"New calls use provider {self._resolved_provider()!r}."
        )

    # -- clients ------------------------------------------------------------------------------
    def _resolved_provider(self) -> str:
        from .providers import select

        return select(self.provider or None).name

    def _client(self) -> Client:
        from . import providers

        name = self._resolved_provider()
        client = self._clients.get(name)
        if client is None:
            factory: Callable[[str, str | None], Client] = (
                self.client_factory or _default_client_factory
            )
            secret = providers.session_key(name)
            client = factory(name, secret.reveal() if secret is not None else None)
            self._clients[name] = client
        return client

    def _secrets(self) -> tuple[str, ...]:
        from .providers import session_secrets

        values = [*session_secrets(), *(os.environ.get(v, "") for v in _KEY_VARS)]
        for client in self._clients.values():
            values.extend(client._secrets())
        from .providers import hidden_key

        return tuple(hidden_key(v) or "" for v in values if v)

    def close(self) -> None:
        """Close the session's clients (called on unload)."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- output -------------------------------------------------------------------------------
    def _rich(self) -> bool:
        if self.frontend == "auto":
            return getattr(self.shell, "kernel", None) is not None
        return bool(self.frontend == "rich")

    def _display(self, bundle: Mapping[str, str], *, new: bool = False, handle: Any = None) -> Any:
        display = _display_function()
        if handle is not None:
            handle.update(dict(bundle), raw=True)
            return handle
        return display(dict(bundle), raw=True, display_id=True if new else None)

    def _display_object(self, obj: Any) -> None:
        _display_function()(obj)

    def _show_error(self, message: str, *, exc: BaseException | None = None) -> None:
        message = render.error_message(Exception(message), secrets=self._secrets())
        if self._rich():
            self._display(render.error_bundle(message))
        else:
            print(render.terminal_text(f"grokbook: {message}"), file=sys.stderr)

    def _show_text(self, message: str) -> None:
        if self._rich():
            self._display(
                {
                    "text/plain": message,
                    "text/html": f"<div>{render.escape(message)}</div>",
                }
            )
        else:
            print(message)

    def _show_table(
        self, headers: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = ""
    ) -> None:
        rows = [tuple(str(cell) for cell in row) for row in rows]
        if self._rich():
            self._display(_table_bundle(headers, rows, caption))
        else:
            print(_table_text(headers, rows, caption))


class _FormatError(Exception):
    pass


#: What a live display holds before and after the call: nothing.
_EMPTY: dict[str, str] = {"text/html": "", "text/plain": ""}


class _Live:
    """The one display a call in progress updates in place (``display_id``).

    It starts and ends empty, and the final answer is a new ``display_data`` below it: so a
    saved notebook holds exactly what a re-run emits (nbval ignores display updates), while
    the reader watches one area fill and then give way to the answer.
    """

    def __init__(self, magics: GrokMagics) -> None:
        self._magics = magics
        self.handle = magics._display(_EMPTY, new=True)
        #: How many in-place updates were sent (the throttle keeps this <= 10/s).
        self.updates = 0

    def update(self, bundle: Mapping[str, str]) -> None:
        self._magics._display(bundle, handle=self.handle)
        self.updates += 1

    def close(self) -> None:
        self._magics._display(_EMPTY, handle=self.handle)


def _display_function() -> Callable[..., Any]:
    from IPython.display import display

    function: Callable[..., Any] = display
    return function


def _missing(value: Any) -> bool:
    """None, NaN or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pd.NA refuses bool()
        return True


def _history_row(record: Mapping[Any, Any]) -> tuple[str, ...]:
    """One run-log record as table cells (formatted like the usage footer)."""
    from ._core import effort_label

    def get(name: str) -> Any:
        value = record.get(name)
        return None if _missing(value) else value

    def count(name: str) -> str:
        value = get(name)
        return "?" if value is None else f"{int(value):,}"

    prompt = " ".join(str(get("prompt") or "").split())
    if len(prompt) > 48:
        prompt = prompt[:47] + "…"
    status = str(get("status") or "")
    if get("cached"):
        status = f"{status} (cached)"
    if get("simulated"):
        status = f"{status} (simulated)"
    latency = get("latency_s")
    return (
        str(get("time") or "")[:19],
        str(get("model") or ""),
        effort_label(get("model"), get("reasoning_effort"), get("status")),
        prompt,
        count("reasoning_tokens"),
        count("completion_tokens"),
        render.format_latency(None if latency is None else float(latency)) or "?",
        render.format_cost(get("cost_usd")) or "?",
        status,
        str(get("source") or ""),
    )


def _about_effort(message: str) -> bool:
    """Whether an error message is about the reasoning effort (grokbook's or a server's)."""
    return re.search(r"reasoning[\s_-]?effort", message, re.IGNORECASE) is not None


def _configured_effort_hint(effort: str) -> str:
    return (
        f" The effort {effort!r} is this session's default, set with %grok config (or "
        "%config GrokMagics.default_effort): run %grok config effort=default to clear it, or "
        "pass -e for this cell."
    )


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _table_bundle(
    headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str
) -> dict[str, str]:
    esc = render.escape
    head = "".join(f'<th style="text-align: left;">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td style="text-align: left;">{esc(cell)}</td>' for cell in row)
        + "</tr>"
        for row in rows
    )
    cap = (
        f'<caption style="caption-side: bottom; text-align: left; font-size: 0.85em;">'
        f"{esc(caption)}</caption>"
        if caption
        else ""
    )
    html_table = (
        f'<table class="grokbook-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
    return {"text/plain": _table_text(headers, rows, caption), "text/html": html_table}


def _table_text(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str) -> str:
    table = [tuple(headers), *[tuple(r) for r in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if caption:
        lines.append(caption)
    return "\n".join(lines)


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
