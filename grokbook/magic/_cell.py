"""``%%grok``: one cell, one call; the answer streams into one display (or a terminal).

Loaded on the first cell, with the client (``%load_ext grokbook`` imports neither).
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import catalog, providers, render
from ..client import Client
from ..conversation import Conversation
from ..errors import GrokbookError
from ._args import RESET, ArgsError, CellArgs, parse_cell

if TYPE_CHECKING:  # pragma: no cover
    from ..result import Completion
    from ._session import MagicSession

#: The run-log tags of every call a cell makes.
TAGS = {"source": "magic"}


class FormatError(Exception):
    """``--format`` could not fill in the prompt (the message says why)."""


def run(magics: MagicSession, line: str, cell: str) -> None:
    """Run one ``%%grok`` cell: parse its line, ask, show the answer, record the call."""
    try:
        args = parse_cell(magics.grok.parser, line)
        prompt = interpolate(magics, cell) if args.format else cell
    except (ArgsError, FormatError) as exc:
        magics.show_error(str(exc))
        return
    if not prompt.strip():
        magics.show_error("The cell is empty: write your question below the %%grok line.")
        return
    effort = catalog.canonical_effort(
        args.effort if args.effort is not None else magics.default_effort
    )
    # The session's default effort, when this cell uses it (named in an error it causes).
    configured_effort = effort if args.effort is None and effort not in RESET else None
    options: dict[str, Any] = {
        # -m '' is a mistake to report, not a request for the default.
        "model": args.model if args.model is not None else magics.default_model or None,
        "reasoning_effort": None if effort in (None, "", "default") else effort,
        "system": args.system,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
    }
    mode = args.reasoning or magics.reasoning
    label = options["model"] or "grok"
    completion: Completion | None
    conversation: Conversation | None = None
    sent: Any = prompt
    try:
        client = client_for(magics)
        if args.chat is not None:
            conversation = conversation_for(magics, args.chat, client, options)
            sent, options = conversation.prepare(prompt, options)
        if args.stream:
            completion = stream(magics, client, sent, options, mode, configured_effort, args)
        else:
            completion = ask(magics, client, sent, options, mode, args)
    except GrokbookError as exc:
        message = failure_message(magics, exc, configured_effort)
        magics.failures.append((label, message))
        magics.show_error(message, exc=exc)
        return
    except KeyboardInterrupt:
        magics.show_error("Interrupted; nothing was stored. Run the cell again to retry.")
        return
    if completion is None:
        return
    if conversation is not None:
        conversation.add_turn(prompt, completion)
    magics.calls.append(completion)
    if args.output:
        user_namespace(magics)[args.output] = completion


def user_namespace(magics: MagicSession) -> dict[str, Any]:
    shell = magics.shell
    if shell is None:
        raise RuntimeError("GrokMagics needs an IPython shell (use %load_ext grokbook).")
    namespace: dict[str, Any] = shell.user_ns
    return namespace


def interpolate(magics: MagicSession, cell: str) -> str:
    """``--format``: the cell with ``{name}`` filled in from the notebook's variables."""
    namespace = user_namespace(magics)
    try:
        return string.Formatter().vformat(cell, (), namespace)
    except KeyError as exc:
        raise FormatError(
            f"--format: {exc.args[0]!r} is not defined in the notebook. Define it, or "
            "write {{ and }} for literal braces (or drop --format to send the cell as is)."
        ) from None
    except IndexError:
        raise FormatError(
            "--format: '{}' needs a variable name, e.g. {question}; write {{}} for literal braces."
        ) from None
    except (ValueError, AttributeError) as exc:
        raise FormatError(
            f"--format could not fill in the prompt: {exc}. Write {{{{ and }}}} for literal "
            "braces, or drop --format to send the cell as is."
        ) from None


# -- clients and conversations ---------------------------------------------------------------
def default_client_factory(provider: str, api_key: str | None) -> Client:
    return Client(provider=provider, api_key=api_key)


def client_for(magics: MagicSession) -> Client:
    """The session's client for the provider the next call uses (made on first use, with
    the key from %grok login when there is one)."""
    name = magics.resolved_provider()
    client = magics.clients.get(name)
    if client is None:
        factory = magics.client_factory or default_client_factory
        secret = providers.session_key(name)  # from %grok login; None: the environment's
        client = factory(name, secret.reveal() if secret is not None else None)
        magics.clients[name] = client
    return client


def conversation_for(
    magics: MagicSession, name: str, client: Client, options: Mapping[str, Any]
) -> Conversation:
    """The conversation called ``name``, started with this cell's model/effort/system."""
    conversation = magics.conversations.get(name)
    if conversation is None:
        conversation = Conversation(
            client,
            options.get("model"),
            options.get("reasoning_effort"),
            system=options.get("system"),
            name=name,
        )
        magics.conversations[name] = conversation
    return conversation


# -- asking ----------------------------------------------------------------------------------
def ask(
    magics: MagicSession,
    client: Client,
    prompt: Any,
    options: dict[str, Any],
    mode: str,
    args: CellArgs,
) -> Completion:
    """``--no-stream``: a "waiting" placeholder, then the whole answer."""
    live = Live(magics) if magics.rich() else None
    try:
        if live is not None:
            waiting = render.stream_html("", "", reasoning_mode=mode, model=options["model"])
            live.update({"text/html": waiting, "text/plain": "waiting…"})
        completion = client.chat(prompt, cache=args.cache, **{"tags": TAGS, **options})
    finally:
        if live is not None:
            live.close()
    show_final(magics, completion, mode)
    return completion


def failure_message(magics: MagicSession, exc: GrokbookError, configured_effort: str | None) -> str:
    """The one line for a failed call; it names the session's default effort when that is
    what the model refused."""
    message = magics.redact(render.error_message(exc))
    if configured_effort is not None and about_effort(message):
        message += configured_effort_hint(configured_effort)
    return message


def stream(
    magics: MagicSession,
    client: Client,
    prompt: Any,
    options: dict[str, Any],
    mode: str,
    configured_effort: str | None,
    args: CellArgs,
) -> Completion | None:
    """Stream the answer into one display updated in place, or into the terminal."""
    streamed = client.stream(prompt, cache=args.cache, **{"tags": TAGS, **options})
    live = magics.live_answer(streamed.request.model, mode, wire=streamed.request.wire)
    if magics.rich():
        return stream_rich(magics, streamed, live, configured_effort)
    return stream_plain(magics, streamed, live, configured_effort)


def stream_rich(
    magics: MagicSession, streamed: Any, live: render.LiveAnswer, configured_effort: str | None
) -> Completion | None:
    view = Live(magics)
    error: GrokbookError | None = None
    try:
        view.update(live.update(magics.now(), force=True) or {})
        with streamed:
            for event in streamed:
                live.add(event.kind, event.text)
                bundle = live.update(magics.now())
                if bundle is not None:
                    view.update(bundle)
            completion: Completion = streamed.completion
    except GrokbookError as exc:
        error = exc
    finally:
        view.close()
    if error is not None:
        message = failure_message(magics, error, configured_effort)
        magics.failures.append((live.model or "grok", message))
        magics.display(live.partial_bundle(message))
        return None
    magics.display(live.final_bundle(completion))
    return completion


def stream_plain(
    magics: MagicSession, streamed: Any, live: render.LiveAnswer, configured_effort: str | None
) -> Completion | None:
    out = sys.stdout
    mode = live.reasoning_mode
    show = mode == "show"

    def write(pieces: list[tuple[str, str]]) -> None:
        for kind, text in pieces:
            if kind == "switch":
                out.write("\n[end of reasoning]\n" if show else "")
            elif kind == "content" or show:
                out.write(text)

    try:
        with streamed:
            for event in streamed:
                if event.kind == "reasoning" and not live.started:
                    out.write("[reasoning]\n" if show else live.terminal_status() + "\n")
                write(live.terminal(event.kind, event.text))
                out.flush()
            completion: Completion = streamed.completion
    except GrokbookError as exc:
        write(live.terminal_end())
        out.write("\n")
        message = failure_message(magics, exc, configured_effort)
        magics.failures.append((live.model or "grok", message))
        magics.show_error(message)
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


def show_final(magics: MagicSession, completion: Completion, mode: str) -> None:
    live = magics.live_answer(completion.model, mode)
    if magics.rich():
        magics.display(live.final_bundle(completion))
    else:
        shown = live.redacted(completion)
        text = render.completion_text(shown, reasoning=mode, escape_html=False)
        print(render.terminal_text(text))


#: What a live display holds before and after the call: nothing.
EMPTY: dict[str, str] = {"text/html": "", "text/plain": ""}


class Live:
    """The one display a call in progress updates in place (``display_id``).

    It starts and ends empty, and the final answer is a new ``display_data`` below it: so a
    saved notebook holds exactly what a re-run emits (nbval ignores display updates), while
    the reader watches one area fill and then give way to the answer.
    """

    def __init__(self, magics: MagicSession) -> None:
        self.magics = magics
        self.handle = magics.display(EMPTY, new=True)
        #: How many in-place updates were sent (the throttle keeps this <= 10/s).
        self.updates = 0

    def update(self, bundle: Mapping[str, str]) -> None:
        self.magics.display(bundle, handle=self.handle)
        self.updates += 1

    def close(self) -> None:
        self.magics.display(EMPTY, handle=self.handle)


def about_effort(message: str) -> bool:
    """Whether an error message is about the reasoning effort (grokbook's or a server's)."""
    return re.search(r"reasoning[\s_-]?effort", message, re.IGNORECASE) is not None


def configured_effort_hint(effort: str) -> str:
    return (
        f" The effort {effort!r} is this session's default, set with %grok config (or "
        "%config GrokMagics.default_effort): run %grok config effort=default to clear it, or "
        "pass -e for this cell."
    )
