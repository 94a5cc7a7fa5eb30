"""The ``grokbook`` command.

::

    grokbook ask "What is 101*3?" -m grok-3-mini-beta -e high   # stream reasoning, answer, usage
    grokbook models                                             # the catalog: efforts, prices
    grokbook models --remote                                    # what the provider lists
    grokbook compare --cases cases.csv --scorer numeric --report report.html

With no API key set, every command runs on the offline simulator. Errors print one line
(no traceback) and exit with status 1 (``compare`` too when every call failed, never for a low
accuracy); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

from . import __version__, catalog
from .errors import GrokbookError
from .render import terminal_text
from .result import Completion

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def _color(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _dim(text: str, stream: TextIO) -> str:
    return f"\033[2m{text}\033[0m" if _color(stream) else text


def format_usage_line(completion: Completion) -> str:
    """One line: model, effort, tokens, latency, cost, cached / simulated flags."""
    from .render import usage_parts

    return " · ".join(usage_parts(completion))


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
                print(terminal_text(model_id))  # what a server says is shown inert
        return 0
    rows = [catalog.TABLE_HEADERS, *catalog.table_rows()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    return 0


# -- grokbook ask ------------------------------------------------------------------------------
def _add_ask(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask once: streams reasoning (dimmed), the answer, then usage")
    p.add_argument("prompt", help="the question ('-' reads it from standard input)")
    p.add_argument("-m", "--model", help="model id (default: grok-4.3, or GROKBOOK_MODEL)")
    p.add_argument("-e", "--effort", help="reasoning effort, e.g. low | high")
    p.add_argument("-s", "--system", help="system prompt")
    p.add_argument("-t", "--temperature", type=float)
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--provider", help="xai | aimlapi | openrouter | openai | sim")
    p.add_argument(
        "--wire",
        choices=("responses", "chat"),
        help="protocol: responses (xAI's default) or chat (Chat Completions)",
    )
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
        "tags": {"source": "cli"},
    }
    from .render import LiveAnswer

    show_reasoning = not args.hide_reasoning
    with Client(provider=args.provider, wire=args.wire) as client:
        # Model output is shown safe for a terminal and with the key redacted (a server that
        # echoes it), by the renderer %%grok uses too.
        live = LiveAnswer(args.model, secrets=client._secrets())

        def write(pieces: list[tuple[str, str]]) -> None:
            for kind, text in pieces:
                if kind == "switch":
                    out.write("\n\n" if show_reasoning else "")
                elif kind == "content":
                    out.write(text)
                elif show_reasoning:
                    out.write(_dim(text, out))

        if args.no_stream:
            completion = client.chat(prompt, **options)
            shown = live.redacted(completion)
            if shown.reasoning and show_reasoning:
                out.write(_dim(terminal_text(shown.reasoning.rstrip()) + "\n\n", out))
            out.write(terminal_text(shown.content.rstrip()) + "\n")
        else:
            stream = client.stream(prompt, **options)
            live.model, live.wire = stream.request.model, stream.request.wire
            # What is known while it streams: no token count until usage arrives at the end.
            print(_dim(live.terminal_status(), sys.stderr), file=sys.stderr, flush=True)
            with stream:
                for event in stream:
                    write(live.terminal(event.kind, event.text))
                    out.flush()
            write(live.terminal_end())
            out.write("\n")
            completion = stream.completion
    if completion.model_notice:
        print(terminal_text(completion.model_notice), file=sys.stderr)
    if completion.reasoning_note and show_reasoning:
        print(_dim(terminal_text(completion.reasoning_note) + ".", sys.stderr), file=sys.stderr)
    print(_dim(terminal_text(format_usage_line(completion)), sys.stderr), file=sys.stderr)
    return 0


# -- grokbook history / grokbook cache (the run log and cache, grokbook.store) ----------------
def _add_history(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("history", help="recent calls from the run log, newest first")
    p.add_argument("--limit", type=int, help="at most N calls (default: 20 printed, all to CSV)")
    p.add_argument("--model", help="only calls that asked for (or were answered by) this model")
    p.add_argument("--csv", metavar="FILE", help="write the whole table as CSV ('-' = stdout)")
    p.set_defaults(func=_cmd_history)


#: The columns of ``grokbook history``: every one labelled (times are local; "sim" marks a
#: call grokbook's offline simulator answered).
HISTORY_HEADERS = (
    *("id", "time", "model", "effort", "reasoning tok", "answer tok"),
    *("latency s", "cost $", "status", "sim", "prompt"),
)


def _cmd_history(args: argparse.Namespace) -> int:
    from datetime import datetime

    from . import store
    from ._core import effort_label

    if args.limit is not None and args.limit < 0:
        print("grokbook: error: --limit must be 0 or more", file=sys.stderr)
        return 2
    if args.csv:
        frame = store.history(limit=args.limit, model=args.model)
        if args.csv == "-":
            frame.to_csv(sys.stdout, index=False)
        else:
            frame.to_csv(args.csv, index=False)
            print(f"Wrote {len(frame)} calls to {args.csv}", file=sys.stderr)
        return 0
    db = store.get_store()
    rows = db.rows(limit=20 if args.limit is None else args.limit, model=args.model) if db else []
    if not rows:
        if db is None:
            print(_UNREADABLE, file=sys.stderr)
            return 1
        print("No calls logged yet.")
        return 0

    def count(value: object) -> str:
        return "-" if value is None else f"{value:,}"

    def text(value: object) -> str:
        """A stored text (a prompt, a model id a server sent) on one inert line."""
        return " ".join(terminal_text(str(value or "")).split())

    table = [HISTORY_HEADERS]
    for row in rows:
        when = datetime.fromisoformat(row["time"]).astimezone().strftime("%m-%d %H:%M:%S")
        latency, cost = row["latency_s"], row["cost_usd"]
        flag = "cached" if row["cached"] else ("ERROR" if row["status"] == "error" else "ok")
        prompt = text(row["prompt"])
        table.append(
            (
                str(row["id"]),
                when,
                text(row["model"]),
                text(effort_label(row["model"], row["reasoning_effort"], row["status"])),
                count(row["reasoning_tokens"]),
                count(row["completion_tokens"]),
                "-" if latency is None else f"{latency:.2f}",
                "-" if cost is None else f"{cost:.6f}",
                flag,
                "sim" if row["simulated"] else "",
                prompt if len(prompt) <= 40 else prompt[:39] + "…",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for index, cells in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
    simulated = sum(1 for row in rows if row["simulated"])
    if simulated:
        print(
            f"simulated: {simulated} of {len(rows)} calls were answered by grokbook's offline "
            "simulator (sim); their figures are its model, not Grok's."
        )
    return 0


def _add_cache(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cache", help="the response cache: info | clear")
    p.add_argument("action", choices=("info", "clear"), help="show counts, or empty the cache")
    p.set_defaults(func=_cmd_cache)


def _cmd_cache(args: argparse.Namespace) -> int:
    from . import store

    db = store.get_store()
    if db is None:
        print(_UNREADABLE, file=sys.stderr)
        return 1
    if args.action == "clear":
        removed = db.cache_clear()
        print(f"Removed {removed} cached answer{'s' if removed != 1 else ''} from {db.path}")
        return 0
    info = db.stats()
    if info is None:
        print(_UNREADABLE, file=sys.stderr)
        return 1
    print(f"store          {info['path']}")
    print(f"cached answers {info['cache_entries']:,}")
    errors = f"{info['errors']:,} error{'' if info['errors'] == 1 else 's'}"
    print(
        f"logged calls   {info['calls']:,} ({errors}, "
        f"{info['cached_calls']:,} served from the cache)"
    )
    print(f"size           {info['bytes'] / 1e6:.2f} MB")
    return 0


# -- grokbook compare -----------------------------------------------------------------------
#: The scorers ``--scorer`` names (grokbook.scoring's functions that need no options).
SCORER_NAMES = ("auto", "numeric", "exact", "contains", "choice", "regex")


def _add_compare(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compare",
        help="sweep prompts x models x efforts; print the effort summary (and accuracy with "
        "--cases)",
        description="Run every prompt on every model at every effort (default: all the "
        "efforts each model takes), N times each, concurrently; 'default' is resolved to the "
        "model's documented effort, so no request is sent twice. Put the prompts first: "
        "grokbook compare 'What is 101*3?' -e low high -n 5. Or score a set of cases: "
        "grokbook compare --cases cases.csv --scorer numeric --report report.html",
    )
    p.add_argument(
        "prompts", nargs="*", metavar="PROMPT", help="one or more prompts (or --cases FILE)"
    )
    p.add_argument(
        "--cases",
        metavar="FILE",
        help="CSV or JSONL of cases (prompt, expected, any other columns): score every answer",
    )
    p.add_argument(
        "--scorer",
        choices=SCORER_NAMES,
        default="auto",
        help="how --cases answers are scored (grokbook.scoring; default auto: numeric for "
        "numbers, else exact)",
    )
    p.add_argument(
        "--target",
        type=float,
        default=0.9,
        help="accuracy the recommendation aims for (default 0.9)",
    )
    p.add_argument(
        "-m",
        "--model",
        dest="models",
        action="extend",
        nargs="+",
        metavar="MODEL",
        help="model id(s) (default: $GROKBOOK_MODEL, else grok-4.3)",
    )
    p.add_argument(
        "-e",
        "--effort",
        dest="efforts",
        action="extend",
        nargs="+",
        metavar="EFFORT",
        help="effort(s), e.g. -e low high; 'default' = the model's documented default, sent "
        "once as that effort (default: all)",
    )
    p.add_argument("-n", "--repeats", type=int, default=1, help="calls per cell (default 1)")
    p.add_argument("-c", "--concurrency", type=int, default=8, help="calls in flight (default 8)")
    p.add_argument("-s", "--system", help="system prompt")
    p.add_argument("-t", "--temperature", type=float)
    p.add_argument("--provider", help="xai | aimlapi | openrouter | openai | sim")
    p.add_argument("--wire", choices=("responses", "chat"), help="protocol (default: provider's)")
    p.add_argument(
        "--via",
        choices=("live", "batch", "auto"),
        default="live",
        help="live calls (default), the Batch API (results typically within a day; the discount "
        "is per model: grokbook models and the README), or "
        "auto: the Batch API from 1,000 calls up",
    )
    p.add_argument("--csv", metavar="FILE", help="write one row per call to this CSV file")
    p.add_argument("--plot", metavar="FILE.png", help="save tokens / latency / cost plots here")
    p.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report here")
    p.add_argument("--no-cache", action="store_true", help="call the API even for repeats seen")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    if bool(args.prompts) == bool(args.cases):
        print(
            "grokbook: error: give prompts or --cases FILE (one of them), e.g. grokbook "
            "compare 'What is 101*3?' or grokbook compare --cases cases.csv",
            file=sys.stderr,
        )
        return 2
    if not 0 <= args.target <= 1:
        print("grokbook: error: --target is an accuracy between 0 and 1", file=sys.stderr)
        return 2
    from . import scoring
    from .client import AsyncClient
    from .reports import EFFORT_TABLE_NOTE, effort_table
    from .sweeps import sweep
    from .tables import effort_summary

    prompts: object = args.prompts
    if args.cases:
        from .cases import load_cases

        prompts = load_cases(args.cases)
    client = AsyncClient(provider=args.provider, wire=args.wire)
    df = sweep(
        prompts,  # type: ignore[arg-type]
        models=args.models,
        efforts=args.efforts,
        repeats=args.repeats,
        concurrency=args.concurrency,
        client=client,
        system=args.system,
        temperature=args.temperature,
        progress=not args.no_progress,
        cache=not args.no_cache,
        scorer=getattr(scoring, args.scorer) if args.cases else None,
        via=args.via,
        accept_latency=args.via == "auto",
    )
    # What the report says was run, when the frame itself does not carry it.
    meta = df.attrs.setdefault("sweep", {})
    meta.setdefault("provider", client.provider.name)
    meta.setdefault("simulated", client.simulated)
    summary = effort_summary(df)
    print(terminal_text(effort_table(summary).to_string()))  # model ids may be a server's
    print(f"({EFFORT_TABLE_NOTE})", file=sys.stderr)
    cached = int(summary["cached"].sum())
    if cached:
        print(
            f"{cached} of {len(df)} calls came from the cache: their latency and $/call are the "
            "original calls', billed $0 now (--no-cache calls the API again).",
            file=sys.stderr,
        )
    from .tables import simulated_note

    note = simulated_note(df)  # also a `grokbook sim` server reached with --provider openai
    if note is not None:
        print(
            f"{note}: these numbers are the simulator's model; set XAI_API_KEY to measure "
            "the real API.",
            file=sys.stderr,
        )
    errors = df[df["status"] == "error"]
    all_failed = len(df) > 0 and len(errors) == len(df)
    if len(errors):
        first = terminal_text(str(errors["error"].iloc[0]))
        print(f"{len(errors)} of {len(df)} calls failed; first error: {first}", file=sys.stderr)
    if args.cases and not all_failed:
        from .accuracy import accuracy_summary, recommend
        from .reports import ACCURACY_TABLE_NOTE, accuracy_table

        print()
        print(accuracy_table(accuracy_summary(df)).to_string())
        print(f"({ACCURACY_TABLE_NOTE})", file=sys.stderr)
        print()
        print(recommend(df, target=args.target).note)
    if args.csv:
        df.to_csv(args.csv, index=False)
        print(f"wrote {len(df)} rows to {args.csv}", file=sys.stderr)
    if args.report:
        from .reports import report

        written = report(df, args.report, target=args.target)
        print(f"wrote the report to {written}", file=sys.stderr)
    if all_failed:
        not_plotted = f"; no plot written to {args.plot}" if args.plot else ""
        print(
            f"grokbook: error: every call failed{not_plotted}. Fix the first error above "
            "and run the comparison again.",
            file=sys.stderr,
        )
        return 1
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        from .plots import plot_cost, plot_efforts, plot_latency

        figure = Figure(figsize=(16, 4.8), layout="constrained")
        axes = figure.subplots(1, 3)
        plot_efforts(df, ax=axes[0])
        plot_latency(df, ax=axes[1])
        plot_cost(df, ax=axes[2])
        figure.savefig(args.plot, dpi=110)
        print(f"wrote the plots to {args.plot}", file=sys.stderr)
    return 0


# -- grokbook sim ------------------------------------------------------------------------------
def _add_sim(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sim",
        help="run the offline simulator as a local OpenAI-compatible server",
        description="Serve the offline Grok simulator on loopback for any OpenAI-compatible "
        'client: OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="sim").',
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--latency",
        help="demo (default: 25x faster than the simulator's modelled speed) | none | "
        "modelled | a factor such as 0.1 (default: $GROKBOOK_SIM_LATENCY)",
    )
    p.add_argument(
        "--faults",
        action="append",
        metavar="LIST",
        help="scripted faults, one per request: e.g. 429:retry-after=1,503*2,cut,html502,"
        "slow:5,notjson,truncated,reset,ok",
    )
    p.add_argument("--require-key", metavar="KEY", help="answer 401 unless this Bearer key")
    p.add_argument(
        "--batch-delay",
        type=float,
        metavar="S",
        help="seconds a Batch API batch takes (default: 2 s x the latency factor)",
    )
    p.add_argument(
        "--batch-failures",
        type=float,
        metavar="F",
        help="fraction of batch requests that fail (0..1, default 0)",
    )
    p.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")

    def run(args: argparse.Namespace) -> int:
        # Imported here so other commands never load the HTTP server.
        from .sim._server import run as serve

        return serve(
            host=args.host,
            port=args.port,
            latency=args.latency,
            faults=args.faults,
            require_key=args.require_key,
            allow_remote=args.allow_remote,
            verbose=args.verbose,
            batch_delay=args.batch_delay,
            batch_failures=args.batch_failures,
        )

    p.set_defaults(func=run)


# Each feature module adds its subcommand here (one `_add_*` function per command).
_REGISTRARS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_ask,
    _add_models,
    _add_history,
    _add_cache,
    _add_compare,
    _add_sim,
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


#: What every command prints when the run log cannot be used (after the one-line warning).
_UNREADABLE = "grokbook: error: the run log cannot be read (see the warning above)."


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings in a terminal: one line, no source location (grokbook's say what to do)."""
    text = terminal_text(str(message))  # a warning may quote a server's value
    if not text.startswith("grokbook"):
        text = f"grokbook: warning: {text}"
    print(text, file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        return _run(func, args)


def _run(func: Command, args: argparse.Namespace) -> int:
    try:
        return func(args)
    except GrokbookError as exc:  # its text may quote a server's: shown inert
        print(f"grokbook: error: {terminal_text(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grokbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
