"""What a finished or streaming answer displays as: ``text/plain``, ``text/html`` and
``text/markdown`` bundles, the usage footer and the reasoning block (every piece escaped)."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from ..result import hidden_reasoning_line
from ._markdown import answer_html, answer_markdown, escape, markdown_text, neutralize_images, plain
from ._styles import BOX, MUTED, NOTICE, PRE

if TYPE_CHECKING:  # pragma: no cover
    from ..result import Completion

REASONING_MODES = ("collapse", "show", "hide")
DEFAULT_REASONING_MODE = "collapse"


def check_mode(mode: str) -> str:
    if mode not in REASONING_MODES:
        raise ValueError(f"reasoning display must be one of {', '.join(REASONING_MODES)}; {mode!r}")
    return mode


# -- usage footer ------------------------------------------------------------------------------


def format_latency(seconds: float | None) -> str | None:
    """``0.42s`` (or None)."""
    return None if seconds is None else f"{seconds:.2f}s"


def format_cost(usd: float | None) -> str | None:
    """``$0.000165`` (six decimals below a cent, four above), or None when unknown."""
    if usd is None:
        return None
    if usd == 0:
        return "$0"
    return f"${usd:.6f}" if abs(usd) < 0.01 else f"${usd:.4f}"


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def usage_parts(c: Completion) -> list[str]:
    """The footer's pieces (unescaped): model, effort, tokens, latency, cost, flags."""
    usage = c.usage
    parts = [c.model or c.requested_model]
    if c.reasoning_effort:
        parts.append(f"effort {c.reasoning_effort}")
    tokens = f"prompt {_count(usage.prompt_tokens)}"
    if usage.reasoning_tokens is not None:
        tokens += f" · reasoning {_count(usage.reasoning_tokens)}"
    tokens += f" · completion {_count(usage.completion_tokens)} tokens"
    parts.append(tokens)
    latency = format_latency(c.latency_s)
    if latency:
        parts.append(latency)
    cost = format_cost(c.cost_usd)
    parts.append(cost if cost else "cost unknown")
    if c.cached:  # latency and cost above are the original call's
        parts.append("cached: $0 billed now")
    if c.simulated:
        parts.append("simulated")
    return parts


def usage_footer_text(c: Completion) -> str:
    """One line: ``grok-3-mini-beta · effort high · prompt 12 · ... · $0.000165 · simulated``."""
    return html.escape(" · ".join(usage_parts(c)), quote=False)


def usage_footer_html(c: Completion) -> str:
    """The footer as a small muted ``<div>`` (every piece escaped)."""
    pieces = []
    for part in usage_parts(c):
        piece = escape(part)
        if part == "simulated" or part.startswith("cached:"):
            piece = f"<strong>{piece}</strong>"
        pieces.append(piece)
    joined = " · ".join(pieces)
    return f'<div class="grokbook-usage" style="{MUTED} margin-top: 0.4em;">{joined}</div>'


_MD_PLAIN_PART = re.compile(r"^[A-Za-z0-9 .,·$()?:-]*$")


def usage_footer_markdown(c: Completion) -> str:
    """The footer as one literal Markdown line (untrusted pieces such as the model escaped)."""
    parts = [p if _MD_PLAIN_PART.match(p) else markdown_text(p) for p in usage_parts(c)]
    return "*" + " · ".join(parts) + "*"


# -- reasoning ---------------------------------------------------------------------------------


#: Characters per token: a common rule of thumb for English text (:func:`estimate_tokens`).
_CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A rough token count for a text: ~4 characters a token.

    Live displays do not show it: while an answer streams, the reasoning text is often not
    what the model reasons with (on the Responses API only a short summary streams, 20x shorter
    than the reasoning tokens billed), so they show its length in characters and the exact
    ``usage.reasoning_tokens`` once the answer ends.
    """
    return -(-len(text) // _CHARS_PER_TOKEN) if text else 0


def _characters(count: int) -> str:
    return f"{count:,} character{'' if count == 1 else 's'}"


def _reasoning_label(
    tokens: int | None,
    text: str | None,
    *,
    streaming: bool = False,
    live: bool = False,
    chars: int | None = None,
    summary: bool = False,
) -> str:
    """``tokens`` is the exact count from usage. ``live`` (no usage yet: an answer streaming,
    or stopped) labels the text by what is known, its length in characters, never a token
    count it does not have (``chars``: the whole text's length, when ``text`` is only its
    end); ``summary``: the text is a summary of the reasoning (the Responses API's)."""
    if tokens is not None:
        return f"Reasoning · {tokens:,} tokens"
    if not text:
        return "Reasoning · no text"
    if live:
        what = "Reasoning summary" if summary else "Reasoning"
        count = _characters(len(text) if chars is None else chars)
        if streaming:
            return f"{what} · {count} so far · tokens counted when the answer ends"
        return f"{what} · {count} · no token count (the answer did not finish)"
    return f"Reasoning · {len(text.split()):,} words"


def _reasoning_html(
    text: str | None,
    tokens: int | None,
    mode: str,
    *,
    streaming: bool = False,
    live: bool = False,
    open_: bool = False,
    chars: int | None = None,
    earlier: int = 0,
    summary: bool = False,
) -> str:
    label = escape(
        _reasoning_label(tokens, text, streaming=streaming, live=live, chars=chars, summary=summary)
    )
    if not text:
        if tokens:
            line = escape(hidden_reasoning_line(tokens))
            return f'<div class="grokbook-reasoning" style="{MUTED}">{line}</div>'
        return ""
    if mode == "hide":
        return f'<div class="grokbook-reasoning" style="{MUTED}">{label} (hidden)</div>'
    body = f'<pre style="{PRE} {MUTED}">{_earlier(earlier)}{escape(neutralize_images(text))}</pre>'
    if mode == "show":
        return (
            f'<div class="grokbook-reasoning" style="{BOX}">'
            f'<div style="{MUTED}">{label}</div>{body}</div>'
        )
    is_open = " open" if open_ else ""
    return (
        f'<details class="grokbook-reasoning"{is_open} style="{BOX}">'
        f'<summary style="{MUTED} cursor: pointer;">{label}</summary>{body}</details>'
    )


def _reasoning_plain(
    text: str | None,
    tokens: int | None,
    mode: str,
    *,
    escape_html: bool = True,
    streaming: bool = False,
    live: bool = False,
    summary: bool = False,
) -> str:
    label = _reasoning_label(tokens, text, streaming=streaming, live=live, summary=summary)
    if not text:
        return f"[{hidden_reasoning_line(tokens)}]" if tokens else ""
    if mode == "show":
        return f"[{label}]\n{plain(text.strip(), escape_html=escape_html)}\n[end of reasoning]"
    state = "hidden" if mode == "hide" else "collapsed"
    return f"[{label}, {state}]"


def _reasoning_markdown(text: str | None, tokens: int | None, mode: str) -> str:
    label = markdown_text(_reasoning_label(tokens, text))
    if not text:
        return f"*{markdown_text(hidden_reasoning_line(tokens))}*" if tokens else ""
    if mode == "hide":
        return f"*{label}* (hidden)"
    if mode == "show":
        return f"**{label}**\n\n{markdown_text(neutralize_images(text.strip()))}"
    return (
        f"<details><summary>{escape(_reasoning_label(tokens, text))}</summary>\n\n"
        f"{markdown_text(neutralize_images(text.strip()))}\n\n</details>"
    )


# -- completions -------------------------------------------------------------------------------


def completion_text(
    c: Completion, *, reasoning: str = DEFAULT_REASONING_MODE, escape_html: bool = True
) -> str:
    """``text/plain``: notice, reasoning per mode, the answer, then the usage line.

    ``escape_html=False`` is for terminals, which never interpret HTML.
    """
    mode = check_mode(reasoning)
    lines = []
    if c.model_notice:
        lines.append(f"Note: {plain(c.model_notice, escape_html=escape_html)}")
    block = _reasoning_plain(c.reasoning, c.usage.reasoning_tokens, mode, escape_html=escape_html)
    if block:
        lines.append(block)
    content = c.content.strip()
    lines.append(plain(content, escape_html=escape_html) if content else "(empty answer)")
    footer = " · ".join(usage_parts(c))
    lines.append(f"-- {plain(footer, escape_html=escape_html)}")
    return "\n".join(lines)


def completion_bundle(c: Completion, *, reasoning: str = DEFAULT_REASONING_MODE) -> dict[str, str]:
    """``text/plain``, ``text/html`` and ``text/markdown`` for a finished call.

    The answer rendered as Markdown-safe content, reasoning per ``reasoning`` mode
    (``collapse`` | ``show`` | ``hide``), the one-line model notice when another model
    answered, and the usage footer. Every piece of model output is escaped.
    """
    mode = check_mode(reasoning)
    tokens = c.usage.reasoning_tokens
    notice_html = ""
    notice_md = ""
    if c.model_notice:
        notice_html = (
            f'<div class="grokbook-notice" style="{NOTICE}">{escape(c.model_notice)}</div>'
        )
        notice_md = f"> {markdown_text(c.model_notice)}\n\n"
    content = c.content if c.content.strip() else ""
    answer = answer_html(content) if content else f'<p style="{MUTED}">(empty answer)</p>'
    html_doc = (
        '<div class="grokbook-completion">'
        f"{notice_html}{_reasoning_html(c.reasoning, tokens, mode)}"
        f'<div class="grokbook-answer">{answer}</div>{usage_footer_html(c)}</div>'
    )
    reasoning_md = _reasoning_markdown(c.reasoning, tokens, mode)
    markdown = notice_md
    if reasoning_md:
        markdown += reasoning_md + "\n\n"
    markdown += (answer_markdown(content) if content else "*(empty answer)*") + "\n\n"
    markdown += "---\n\n" + usage_footer_markdown(c) + "\n"
    return {
        "text/plain": completion_text(c, reasoning=mode),
        "text/html": html_doc,
        "text/markdown": markdown,
    }


# -- streams -----------------------------------------------------------------------------------


def _earlier(count: int) -> str:
    """The note before the end of a text a live display shows (``count`` characters omitted)."""
    if count <= 0:
        return ""
    return (
        f'<span style="{MUTED}">[… {count:,} earlier characters, shown in full when the '
        "answer ends]</span>\n"
    )


def phase(
    reasoning: bool, content: bool, *, reasons: bool = False, elapsed_s: float | None = None
) -> str:
    """``answering…``, ``reasoning…`` or ``waiting…`` (``reasons``: the model reasons before
    anything arrives), and the seconds since the call began when known."""
    state = "answering" if content else "reasoning" if reasoning or reasons else "waiting"
    return f"{state}…" + ("" if elapsed_s is None else f" {elapsed_s:.1f}s")


def stream_html(
    reasoning: str,
    content: str,
    *,
    reasoning_mode: str = DEFAULT_REASONING_MODE,
    reasoning_tokens: int | None = None,
    model: str | None = None,
    done: bool = False,
    reasoning_chars: int | None = None,
    content_chars: int | None = None,
    elapsed_s: float | None = None,
    summary: bool = False,
    reasons: bool = False,
) -> str:
    """HTML for an answer still arriving (cheap: the answer is shown as escaped text).

    While only reasoning has arrived, a collapsed block is open so it can be watched; it
    closes once the answer starts. ``done`` drops the "streaming" status line (a stopped,
    partial answer). ``reasoning_tokens`` is the exact count from usage when it has arrived;
    without it the label says what is known, the reasoning's length in characters (a
    ``summary`` on the Responses API), never an estimate of tokens. The status line shows the
    phase (``reasons``: "reasoning…" before anything arrives) and ``elapsed_s``.

    ``reasoning`` and ``content`` may be the ends of longer texts (a live display shows only
    the end, see :class:`LiveAnswer`): ``reasoning_chars`` and ``content_chars`` are then the
    whole texts' lengths, and a note says how many earlier characters are not shown.
    """
    mode = check_mode(reasoning_mode)
    r_chars = len(reasoning) if reasoning_chars is None else reasoning_chars
    c_chars = len(content) if content_chars is None else content_chars
    parts = ['<div class="grokbook-stream">']
    if not done:
        status = phase(bool(reasoning), bool(content), reasons=reasons, elapsed_s=elapsed_s)
        who = f"{escape(model)} · " if model else ""
        parts.append(f'<div class="grokbook-phase" style="{MUTED}">{who}{status}</div>')
    if reasoning:
        parts.append(
            _reasoning_html(
                reasoning,
                reasoning_tokens,
                mode,
                streaming=not done,
                live=True,
                open_=not content and not done,
                chars=r_chars,
                earlier=r_chars - len(reasoning),
                summary=summary,
            )
        )
    if content:
        parts.append(
            f'<div class="grokbook-answer" style="white-space: pre-wrap;">'
            f"{_earlier(c_chars - len(content))}{escape(neutralize_images(content))}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def stream_text(
    reasoning: str,
    content: str,
    *,
    reasoning_mode: str = DEFAULT_REASONING_MODE,
    model: str | None = None,
    elapsed_s: float | None = None,
    summary: bool = False,
) -> str:
    """``text/plain`` companion of :func:`stream_html`."""
    mode = check_mode(reasoning_mode)
    lines = []
    if model:
        lines.append(f"{plain(model)} · {phase(True, bool(content), elapsed_s=elapsed_s)}")
    if reasoning:
        lines.append(
            _reasoning_plain(reasoning, None, mode, streaming=True, live=True, summary=summary)
        )
    if content:
        lines.append(plain(content))
    return "\n".join(lines)
