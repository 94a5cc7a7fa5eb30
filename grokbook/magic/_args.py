"""What ``%%grok`` and ``%grok`` are given, parsed into typed values: a frozen dataclass per
command, so the handlers never see an argparse Namespace or a raw word.

The cell options are declared once (:func:`cell_arguments`), with IPython's
``magic_arguments``, which also writes ``%%grok?``'s help; :func:`parse_cell` reads a cell's
line with them into :class:`CellArgs`. :func:`parse_line` reads ``%grok``'s subcommands into
one of :data:`LineArgs`. A line that cannot be read raises :class:`ArgsError`, whose message
is what the magic shows.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError

from .. import catalog, providers, render
from ..errors import GrokbookError

USAGE_LINE = (
    "%%grok [-m MODEL] [-e EFFORT] [-s SYSTEM] [-t TEMPERATURE] [--max-tokens N] [--no-stream] "
    "[--reasoning show|hide|collapse] [-o NAME] [--no-cache] [--format] [--chat [NAME]]"
)
LINE_HELP = (
    "%grok models | %grok config [key=value ...] | %grok usage | %grok history | "
    "%grok login [provider] | %grok logout [provider] | %grok new [NAME] (start a --chat "
    "conversation over). "
    "To ask a question, use the cell magic: " + USAGE_LINE
)

#: What ``%grok config`` takes: key -> the GrokMagics trait it sets.
CONFIG_KEYS = {
    "model": "default_model",
    "default_model": "default_model",
    "effort": "default_effort",
    "default_effort": "default_effort",
    "provider": "provider",
    "reasoning": "reasoning",
}
#: Values that put a setting back to its default.
RESET = ("", "default", "auto")


class ArgsError(Exception):
    """A line the magic cannot read; the message says what it takes."""


# -- %%grok -----------------------------------------------------------------------------------
# IPython's magic_arguments helpers are untyped: give them explicit (loose) types.
_argument: Callable[..., Callable[[Any], Any]] = magic_arguments.argument

#: The cell options, in the order ``%%grok?`` lists them.
_CELL_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    _argument("-m", "--model", help="model id, e.g. grok-4.3 (default: configured)"),
    _argument("-e", "--effort", help="reasoning effort, e.g. low | high (model-dependent)"),
    _argument("-s", "--system", help="system prompt"),
    _argument("-t", "--temperature", type=float, help="sampling temperature, 0 to 2"),
    _argument(
        "--max-tokens",
        type=int,
        help="max_tokens (Chat Completions: caps the answer; Responses: max_output_tokens, "
        "which real grok-4.3 and grok-4.5 replies have exceeded)",
    ),
    _argument("--no-stream", action="store_true", help="wait for the whole answer"),
    _argument(
        "--reasoning",
        choices=render.REASONING_MODES,
        help="reasoning display: collapse (default), show or hide",
    ),
    _argument("-o", "--output", metavar="NAME", help="store the Completion in variable NAME"),
    _argument("--no-cache", action="store_true", help="always call the API (skip the cache)"),
    _argument(
        "--chat",
        nargs="?",
        const="default",
        metavar="NAME",
        help="continue the notebook's conversation NAME (default 'default'); %%grok new [NAME] "
        "starts it over",
    ),
    _argument(
        "--format",
        action="store_true",
        help="interpolate {name} from the notebook's variables (off by default)",
    ),
)

_magic_arguments: Callable[[], Callable[[Any], Any]] = magic_arguments.magic_arguments


def cell_arguments(magic: Callable[..., Any]) -> Any:
    """Declare the ``%%grok`` options on ``magic`` (its ``.parser`` and its help)."""
    decorated: Any = magic
    for option in reversed(_CELL_OPTIONS):  # decorators apply bottom-up
        decorated = option(decorated)
    return _magic_arguments()(decorated)


@dataclass(frozen=True)
class CellArgs:
    """A ``%%grok`` line, parsed (None: not given, the session's default applies)."""

    model: str | None = None
    effort: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stream: bool = True
    reasoning: str | None = None
    output: str | None = None
    cache: bool = True
    chat: str | None = None
    format: bool = False


def parse_cell(parser: argparse.ArgumentParser, line: str) -> CellArgs:
    """The ``%%grok`` line's options (``parser``: the magic's, from :func:`cell_arguments`)."""
    try:
        # shlex (POSIX) rather than IPython's arg_split, so -s "Be terse." loses its quotes.
        parsed = parser.parse_args(shlex.split(line))
    except (UsageError, SystemExit, ValueError) as exc:
        detail = str(exc).strip() or "see %%grok? for the options"
        raise ArgsError(f"Invalid %%grok options: {detail}. Usage: {USAGE_LINE}") from None
    if parsed.output is not None and not parsed.output.isidentifier():
        raise ArgsError(f"-o needs a variable name such as `result`; got {parsed.output!r}.")
    return CellArgs(
        model=parsed.model,
        effort=parsed.effort,
        system=parsed.system,
        temperature=parsed.temperature,
        max_tokens=parsed.max_tokens,
        stream=not parsed.no_stream,
        reasoning=parsed.reasoning,
        output=parsed.output,
        cache=not parsed.no_cache,
        chat=parsed.chat,
        format=parsed.format,
    )


# -- %grok ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Help:
    """``%grok`` alone: what it takes."""


@dataclass(frozen=True)
class Models:
    """``%grok models``."""


@dataclass(frozen=True)
class Config:
    """``%grok config [key=value ...]``: (trait, value) pairs, validated (None resets)."""

    changes: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Usage:
    """``%grok usage``."""


@dataclass(frozen=True)
class History:
    """``%grok history [N]``."""

    limit: int = 20


@dataclass(frozen=True)
class Login:
    """``%grok login [provider]``."""

    provider: str | None = None


@dataclass(frozen=True)
class Logout:
    """``%grok logout [provider]``."""

    provider: str | None = None


@dataclass(frozen=True)
class New:
    """``%grok new [NAME]``: the conversation NAME starts over."""

    name: str = "default"


LineArgs = Help | Models | Config | Usage | History | Login | Logout | New


def parse_line(line: str) -> LineArgs:
    """A ``%grok`` line as its subcommand's arguments."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise ArgsError(f"Could not read the %grok arguments ({exc}). {LINE_HELP}") from None
    if not words:
        return Help()
    command, rest = words[0].lower(), words[1:]
    first = rest[0] if rest else None
    if command == "models":
        return Models()
    if command == "config":
        return Config(tuple(_config_change(pair) for pair in rest))
    if command == "usage":
        return Usage()
    if command == "history":
        if first is None:
            return History()
        try:
            return History(int(first))
        except ValueError:
            raise ArgsError(
                f"%grok history takes a number of calls, e.g. 50; got {first!r}."
            ) from None
    if command == "login":
        return Login(first)
    if command == "logout":
        return Logout(first)
    if command == "new":
        return New(first or "default")
    raise ArgsError(f"Unknown %grok command {words[0]!r}. {LINE_HELP}")


def _config_change(pair: str) -> tuple[str, str | None]:
    """``key=value`` as (trait, value), the value checked and made canonical."""
    key, sep, value = pair.partition("=")
    trait = CONFIG_KEYS.get(key.strip().lower())
    if not sep or trait is None:
        raise ArgsError(
            f"%grok config takes key=value pairs with keys model, effort, provider, "
            f"reasoning; got {pair!r}. Example: %grok config model=grok-4.3 effort=high"
        )
    value = value.strip()
    if trait == "reasoning":
        if value not in render.REASONING_MODES:
            raise ArgsError(
                f"reasoning must be one of {', '.join(render.REASONING_MODES)}; got {value!r}."
            )
        return trait, value
    if value.lower() in RESET:
        return trait, None
    if trait == "default_effort":
        return trait, catalog.canonical_effort(value)
    if trait == "provider":
        try:
            return trait, providers.get_provider(value).name
        except GrokbookError as exc:
            raise ArgsError(str(exc)) from None
    return trait, value
