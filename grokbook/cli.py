"""The ``grokbook`` command.

::

    grokbook ask "What is 101*3?" -m grok-3-mini-beta -e high   # stream reasoning, answer, usage
    grokbook models                                             # the catalog: efforts, prices
    grokbook models --remote                                    # what the provider lists

With no API key set, every command runs on the offline simulator. Errors print one line
(no traceback) and exit with status 1; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from . import __version__, catalog
from .errors import GrokbookError

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def _color(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _dim(text: str, stream: TextIO) -> str:
    return f"\033[2m{text}\033[0m" if _color(stream) else text


def format_usage_line(completion: object) -> str:
    """One line: model, effort, tokens, latency, cost, cached / simulated flags."""
    from .result import Completion

    assert isinstance(completion, Completion)
    parts = [completion.model]
    if completion.reasoning_effort:
        parts.append(f"effort {completion.reasoning_effort}")
    parts.append(completion.usage.summary())
    if completion.latency_s is not None:
        parts.append(f"{completion.latency_s:.2f}s")
    if completion.cost_usd is not None:
        parts.append(f"${completion.cost_usd:.6f}")
    if completion.cached:
        parts.append("cached")
    if completion.simulated:
        parts.append("simulated")
    return " · ".join(parts)


# -- grokbook models ---------------------------------------------------------------------------
def _add_models(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="list models: efforts they take, prices, retirement")
    p.add_argument("--remote", action="store_true", help="ask the provider (GET /v1/models)")
    p.add_argument("--provider", help="provider for --remote (default: auto)")
    p.set_defaults(func=_cmd_models)


def _cmd_models(args: argparse.Namespace) -> int:
    if args.remote:
        from .client import Client

        with Client(provider=args.provider) as client:
            for model_id in client.models():
                print(model_id)
        return 0
    rows = [("model", "efforts", "reasoning text", "$/1M in", "cached", "out", "status")]
    for model in catalog.all_models():
        status = f"retired {model.retired} -> {model.served_by}" if model.retired else "available"
        rows.append(
            (
                model.id,
                " | ".join(model.efforts) if model.efforts else "(rejected)",
                "yes" if model.returns_reasoning_text else "no",
                _price(model.input_price),
                _price(model.cached_input_price),
                _price(model.output_price),
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    return 0


def _price(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


# -- grokbook ask ------------------------------------------------------------------------------
def _add_ask(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask once: streams reasoning (dimmed), the answer, then usage")
    p.add_argument("prompt", help="the question ('-' reads it from standard input)")
    p.add_argument("-m", "--model", help="model id (default: grok-3-mini-beta)")
    p.add_argument("-e", "--effort", help="reasoning effort, e.g. low | high")
    p.add_argument("-s", "--system", help="system prompt")
    p.add_argument("-t", "--temperature", type=float)
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--provider", help="xai | aimlapi | openrouter | openai | sim")
    p.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    p.add_argument("--hide-reasoning", action="store_true", help="do not print reasoning text")
    p.set_defaults(func=_cmd_ask)


def _cmd_ask(args: argparse.Namespace) -> int:
    from .client import Client

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    out = sys.stdout
    options = {
        "model": args.model,
        "reasoning_effort": args.effort,
        "system": args.system,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
    }
    with Client(provider=args.provider) as client:
        if args.no_stream:
            completion = client.chat(prompt, **options)
            if completion.reasoning and not args.hide_reasoning:
                out.write(_dim(completion.reasoning.rstrip() + "\n\n", out))
            out.write(completion.content.rstrip() + "\n")
        else:
            stream = client.stream(prompt, **options)
            last = None
            with stream:
                for event in stream:
                    if event.kind == "reasoning":
                        if not args.hide_reasoning:
                            out.write(_dim(event.text, out))
                    else:
                        if last == "reasoning" and not args.hide_reasoning:
                            out.write("\n\n")
                        out.write(event.text)
                    last = event.kind
                    out.flush()
            out.write("\n")
            completion = stream.completion
    if completion.model_notice:
        print(completion.model_notice, file=sys.stderr)
    print(_dim(format_usage_line(completion), sys.stderr), file=sys.stderr)
    return 0


# Each feature module adds its subcommand here (one `_add_*` function per command).
_REGISTRARS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_ask,
    _add_models,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grokbook",
        description="Ask Grok, compare reasoning efforts, and see what reasoning costs. "
        "Without an API key everything runs on the offline simulator.",
    )
    parser.add_argument("--version", action="version", version=f"grokbook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for register in _REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except GrokbookError as exc:
        print(f"grokbook: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grokbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
