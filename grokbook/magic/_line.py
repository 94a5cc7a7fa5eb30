"""``%grok`` subcommands: one handler each (models, config, usage, history, login, logout,
new), given their parsed arguments (:mod:`grokbook.magic._args`)."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from .. import catalog, providers, render, store
from ..errors import GrokbookError
from ..render._table import (
    Table,
    count_cell,
    models_table,
    run_log_table,
)
from ._args import (
    LINE_HELP,
    ArgsError,
    Config,
    Help,
    History,
    Login,
    Logout,
    Models,
    New,
    Usage,
    parse_line,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._session import MagicSession


def run(magics: MagicSession, line: str) -> None:
    """Run one ``%grok`` line."""
    try:
        args = parse_line(line)
    except ArgsError as exc:
        magics.show_error(str(exc))
        return
    match args:
        case Help():
            magics.show_text(LINE_HELP)
        case Models():
            magics.show_table(models_table())
        case Config():
            config(magics, args)
        case Usage():
            usage(magics)
        case History():
            history(magics, args)
        case Login():
            login(magics, args)
        case Logout():
            logout(magics, args)
        case New():
            new(magics, args)


# -- settings ---------------------------------------------------------------------------------
def config(magics: MagicSession, args: Config) -> None:
    """``%grok config``: show the settings, or change them (then show them)."""
    for trait, value in args.changes:
        setattr(magics, trait, value)
    show_config(magics, warning=config_warning(magics) if args.changes else None)


def config_warning(magics: MagicSession) -> str | None:
    """What will go wrong with the configured model and effort, if anything."""
    model = magics.default_model
    if model and catalog.get(model) is None:
        return f"{model!r} is not in grokbook's catalog; it will be sent as is."
    record = catalog.get(model or catalog.default_model())
    effort = magics.default_effort
    if record is not None and effort and effort not in record.efforts:
        allowed = " | ".join(record.efforts) or "none (leave effort unset)"
        return f"{record.id} takes reasoning_effort {allowed}; {effort!r} will be rejected."
    return None


def show_config(magics: MagicSession, warning: str | None = None) -> None:
    provider = magics.provider or f"auto (now: {magics.resolved_provider()})"
    rows = [
        ("model", magics.default_model or f"{catalog.default_model()} (grokbook's default)"),
        ("effort", magics.default_effort or "the model's default"),
        ("provider", provider),
        ("reasoning", magics.reasoning),
    ]
    caption = (
        "Change with %grok config key=value (e.g. effort=high; effort=default resets), "
        "or %config GrokMagics.default_model = '...'."
    )
    if warning:
        caption = f"Warning: {warning} {caption}"
    magics.show_table(Table.of(("setting", "value"), rows, caption))


# -- this session's calls and the run log -----------------------------------------------------
USAGE_HEADERS = (
    *("#", "model", "effort", "prompt", "reasoning", "completion"),
    *("latency", "cost", "billed", "flags"),
)


def usage(magics: MagicSession) -> None:
    """``%grok usage``: this session's calls, and what they spent."""
    calls = magics.calls
    if not calls and not magics.failures:
        magics.show_text("No %%grok calls yet in this session.")
        return
    rows: list[tuple[str, ...]] = []
    totals = {"prompt": 0, "reasoning": 0, "completion": 0}
    fetched = 0.0
    billed = 0.0
    cached = 0
    for index, c in enumerate(calls, 1):
        tokens = c.usage
        flags = [f for f, on in (("cached", c.cached), ("simulated", c.simulated)) if on]
        rows.append(
            (
                str(index),
                c.model,
                c.reasoning_effort or "default",
                count_cell(tokens.prompt_tokens),
                count_cell(tokens.reasoning_tokens),
                count_cell(tokens.completion_tokens),
                render.format_latency(c.latency_s) or "-",
                render.format_cost(c.cost_usd) or "-",
                render.format_cost(c.billed_usd) or "-",
                ", ".join(flags),
            )
        )
        fetched += c.fetch_s or 0.0
        billed += c.billed_usd or 0.0
        if c.cached:
            cached += 1
            continue  # served from the cache: no new tokens spent
        totals["prompt"] += tokens.prompt_tokens or 0
        totals["reasoning"] += tokens.reasoning_tokens or 0
        totals["completion"] += tokens.completion_tokens or 0
    rows.append(
        (
            "total",
            f"{len(calls)} calls, {cached} cached",
            "",
            count_cell(totals["prompt"]),
            count_cell(totals["reasoning"]),
            count_cell(totals["completion"]),
            render.format_latency(fetched) or "",
            "",
            render.format_cost(billed) or "",
            "",
        )
    )
    magics.show_table(Table.of(USAGE_HEADERS, rows, usage_caption(magics, cached)))


def usage_caption(magics: MagicSession, cached: int) -> str:
    calls = magics.calls
    caption = "This session's %%grok calls"
    if cached:
        caption += (
            f"; {cached} of {len(calls)} came from the cache (shown at the original "
            "call's latency and cost; billed $0 now)"
        )
    caption += (
        ". The total is what this session spent: tokens and billed USD of calls not "
        "cached, seconds spent fetching."
    )
    simulated = sum(1 for c in calls if c.simulated)
    if simulated:
        caption += (
            f" Simulated: {simulated} of {len(calls)} calls were answered by grokbook's "
            "offline simulator; their figures are its model, not Grok's."
        )
    if magics.failures:
        caption += f" {len(magics.failures)} call(s) failed; the last: {magics.failures[-1][1]}"
    return caption


def history(magics: MagicSession, args: History) -> None:
    """``%grok history [N]``: the run log's newest calls (the table ``grokbook history``
    prints)."""
    try:
        read = store.history
    except AttributeError:
        magics.show_text(
            "The run log is not available in this version of grokbook; "
            "%grok usage shows this session's calls."
        )
        return
    try:
        frame = read(limit=args.limit)
    except Exception as exc:  # the store is optional: never break the notebook over it
        magics.show_error(
            f"Could not read the run log ({type(exc).__name__}: "
            f"{magics.redact(render.error_message(exc))}). "
            "%grok usage shows this session's calls."
        )
        return
    if frame is None or len(frame) == 0:
        magics.show_text("The run log is empty: calls appear here once you make them.")
        return
    try:
        records = frame.to_dict("records")
    except AttributeError:  # not a DataFrame: show whatever the store returned
        magics.display_object(frame)
        return
    caption = f"The {len(records)} most recent calls of the run log (grokbook.history())."
    magics.show_table(run_log_table(records, caption))


# -- keys -------------------------------------------------------------------------------------
def login(magics: MagicSession, args: Login) -> None:
    """``%grok login [provider]``: ask for a key without echoing it; keep it in memory."""
    if args.provider is not None:
        try:
            profile = providers.get_provider(args.provider)
        except GrokbookError as exc:
            magics.show_error(str(exc))
            return
    else:
        # No simulator notice here: the next line asks for the key.
        current = providers.select(magics.provider or None, notice=False).name
        profile = providers.PROVIDERS["xai" if current == "sim" else current]
    if not profile.key_env:
        magics.show_text(
            f"Provider {profile.name!r} needs no key. Use %grok login xai (or aimlapi, "
            "openrouter) to enter one."
        )
        return
    label = profile.label or profile.name
    key = providers.hidden_key(  # shown redacted wherever it is a local (%xmode verbose)
        getpass.getpass(
            f"{label} API key ({profile.key_env}; input hidden, kept in memory only): "
        ).strip()
    )
    if not key:
        magics.show_text("No key entered; nothing changed.")
        return
    try:
        providers.login(profile.name, key)
    except GrokbookError as exc:  # e.g. a character a header cannot carry (never echoed)
        magics.show_error(str(exc))
        return
    finally:
        del key
    client = magics.clients.pop(profile.name, None)
    if client is not None:
        client.close()
    message = (
        f"Key for {label} stored in memory for this session only (not saved, not shown): "
        "%%grok, gb.Client(), gb.sweep, gb.Conversation() and the widgets created from now "
        "on use it."
    )
    if not magics.provider:
        magics.provider = profile.name
        magics.provider_from_login = True
        message += f" %%grok now uses provider {profile.name!r}."
    elif magics.provider != profile.name:
        message += (
            f" %%grok still uses provider {magics.provider!r}; "
            f"run %grok config provider={profile.name} to switch."
        )
    magics.show_text(message + " %grok logout forgets the key.")


def logout(magics: MagicSession, args: Logout) -> None:
    """``%grok logout [provider]``: forget the key(s) %grok login stored."""
    try:
        forgotten = providers.logout(args.provider)
    except GrokbookError as exc:
        magics.show_error(str(exc))
        return
    if not forgotten:
        magics.show_text("No key from %grok login to forget.")
        return
    for name in forgotten:
        client = magics.clients.pop(name, None)
        if client is not None:
            client.close()
    if magics.provider_from_login and magics.provider in forgotten:
        magics.provider = None
        magics.provider_from_login = False
    labels = ", ".join(providers.PROVIDERS[name].label or name for name in forgotten)
    magics.show_text(
        f"Forgot the key for {labels}; clients that were using it stop (they say so). "
        f"New calls use provider {magics.resolved_provider()!r}."
    )


# -- conversations ----------------------------------------------------------------------------
def new(magics: MagicSession, args: New) -> None:
    """``%grok new [NAME]``: the conversation NAME starts over (its turns stay logged)."""
    dropped = magics.conversations.pop(args.name, None)
    turns = len(dropped.turns) if dropped is not None else 0
    magics.show_text(
        f"Conversation {args.name!r} starts over ({turns} earlier turns kept in the run log"
        f"{f' as {dropped.id}' if dropped is not None else ''})."
    )
