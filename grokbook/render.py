"""Rendering of completions, streams and errors for notebooks and terminals (pure functions).

Shared by ``%%grok`` (:mod:`grokbook.magic`), the widgets, the ``grokbook`` command and
``Completion._repr_mimebundle_``. :class:`LiveAnswer` is the one live-answer renderer every
streaming display uses; :func:`terminal_text` makes model text safe for a terminal. Nothing
here imports IPython; every function returns strings.

Model output is untrusted. In every mimetype this module produces:

* HTML in the answer, the reasoning, the model id or a notice is escaped, never executed
  (``text/plain`` escapes it too, as exporters and some frontends treat it loosely; the raw
  text stays on ``Completion.content`` and ``str(completion)``);
* Markdown images (``![alt](url)``) become an inert ``[image not loaded: alt](url)`` link, so
  nothing is fetched automatically; raw ``<img>`` is escaped like any other tag;
* ``text/markdown`` carries no raw HTML from the model (``<``, ``>`` and ``&`` are entities
  outside code blocks, code blocks are re-fenced so they cannot be closed early) and no link
  with a scheme other than http, https or mailto.

The answer is rendered to HTML with a tiny, escape-first Markdown subset: paragraphs, line
breaks, fenced code blocks, inline code, ``**bold**``, ``#`` headings and http(s) links.

Reasoning display modes (:data:`REASONING_MODES`): ``"collapse"`` (default: a ``<details>``
block whose summary shows the reasoning token count), ``"show"`` (expanded) and ``"hide"``
(only the token count).
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .result import hidden_reasoning_line

if TYPE_CHECKING:  # pragma: no cover
    from .result import Completion

__all__ = [
    "DEFAULT_REASONING_MODE",
    "REASONING_MODES",
    "LiveAnswer",
    "answer_html",
    "answer_markdown",
    "completion_bundle",
    "completion_text",
    "error_bundle",
    "error_html",
    "error_message",
    "error_text",
    "escape",
    "estimate_tokens",
    "format_cost",
    "format_latency",
    "markdown_text",
    "neutralize_images",
    "stream_html",
    "stream_text",
    "terminal_text",
    "usage_footer_html",
    "usage_footer_markdown",
    "usage_footer_text",
    "usage_parts",
]

REASONING_MODES = ("collapse", "show", "hide")
DEFAULT_REASONING_MODE = "collapse"

_MUTED = "color: var(--jp-ui-font-color2, #666); font-size: 0.85em;"
_BOX = (
    "border-left: 3px solid var(--jp-border-color1, #ccc); padding: 0.2em 0.6em; margin: 0.3em 0;"
)
_PRE = (
    "white-space: pre-wrap; word-break: break-word; margin: 0.3em 0; "
    "font-family: var(--jp-code-font-family, monospace); font-size: 0.9em;"
)
_NOTICE = (
    "border-left: 3px solid var(--jp-warn-color1, #e0a000); padding: 0.2em 0.6em; "
    "margin: 0.3em 0; font-size: 0.9em;"
)
_ERROR = (
    "border-left: 3px solid var(--jp-error-color1, #d32f2f); padding: 0.4em 0.8em; "
    "margin: 0.3em 0; background: var(--jp-error-color3, #fdecea); color: #1a1a1a;"
)


def escape(text: str, *, quote: bool = True) -> str:
    """HTML-escape ``text`` (``&``, ``<``, ``>`` and, by default, quotes)."""
    return html.escape(text, quote=quote)


def _check_mode(mode: str) -> str:
    if mode not in REASONING_MODES:
        raise ValueError(f"reasoning display must be one of {', '.join(REASONING_MODES)}; {mode!r}")
    return mode


# -- untrusted Markdown ------------------------------------------------------------------------

# ![alt](url "title") and ![alt][ref]; alt may hold one level of brackets.
_IMAGE = re.compile(r"!\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]\(\s*<?([^()\s<>]*)>?(?:\s+[^)]*)?\)")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)


def neutralize_images(text: str) -> str:
    """Turn Markdown images into inert links that nothing fetches automatically.

    ``![chart](https://x/p.png)`` becomes ``[image not loaded: chart](https://x/p.png)`` (a
    link the reader may click); a non-http(s) target is dropped.
    """

    def repl(match: re.Match[str]) -> str:
        alt = match.group(1).replace("[", "(").replace("]", ")").strip() or "image"
        url = match.group(2)
        if url and _SAFE_URL.match(url) and not url.lower().startswith("mailto:"):
            return f"[image not loaded: {alt}]({url})"
        return f"[image not loaded: {alt}]"

    return _IMAGE.sub(repl, text)


_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _split_fences(text: str) -> list[tuple[str, str, str]]:
    """Split Markdown into ``("text", body, "")`` and ``("code", body, info)`` segments."""
    segments: list[tuple[str, str, str]] = []
    buf: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
            if buf:
                segments.append(("text", "\n".join(buf), ""))
                buf = []
            fence = match.group(1)
            close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            info = match.group(2).strip()
            code: list[str] = []
            i += 1
            while i < len(lines) and not close.match(lines[i]):
                code.append(lines[i])
                i += 1
            i += 1  # the closing fence (or past the end when unterminated)
            segments.append(("code", "\n".join(code), info))
            continue
        buf.append(lines[i])
        i += 1
    if buf:
        segments.append(("text", "\n".join(buf), ""))
    return segments


def _info_word(info: str) -> str:
    word = info.split()[0] if info.split() else ""
    return re.sub(r"[^\w+.#-]", "", word)[:30]


_UNSAFE_LINK = re.compile(r"\]\(\s*(?!https?://|mailto:|#|/|\.)(?=[^)\s]*:)", re.IGNORECASE)
_UNSAFE_REF_DEF = re.compile(
    r"^( {0,3})\[([^\]\n]+)\]:(?!\s*(?:https?://|mailto:|#|/|\.))(?=\s*\S*:)", re.MULTILINE
)


def answer_markdown(text: str) -> str:
    """The answer as ``text/markdown`` with no raw HTML, no image and no unsafe link."""
    parts: list[str] = []
    for kind, body, info in _split_fences(neutralize_images(text)):
        if kind == "code":
            longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
            fence = "`" * max(3, longest + 1)
            parts.append(f"\n{fence}{_info_word(info)}\n{body}\n{fence}\n")
        else:
            safe = html.escape(body, quote=False).replace("![", "!\\[")
            safe = _UNSAFE_LINK.sub("]\\\\(", safe)
            safe = _UNSAFE_REF_DEF.sub(r"\1\\[\2]:", safe)
            parts.append(safe)
    return "\n".join(parts).strip("\n")


_MD_PUNCT = re.compile(r"([!\"#$%'()*+,\-./:;=?@\[\\\]^_`{|}~])")


def markdown_text(text: str) -> str:
    """Plain text as Markdown that renders literally (no structure, no HTML, no links)."""
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip(" \t")
        indent = "&#32;" * (len(line) - len(stripped))
        escaped = _MD_PUNCT.sub(r"\\\1", stripped)
        lines.append(indent + html.escape(escaped, quote=False))
    # A backslash at the end of a line is a hard line break.
    return "\\\n".join(lines)


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>\"']+)\)")
_BOLD = re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def _inline_html(line: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _CODE_SPAN.finditer(line):
        out.append(_inline_text_html(line[pos : match.start()]))
        out.append(f"<code>{escape(match.group(2).strip() or match.group(2))}</code>")
        pos = match.end()
    out.append(_inline_text_html(line[pos:]))
    return "".join(out)


def _inline_text_html(text: str) -> str:
    safe = escape(text)
    safe = _LINK.sub(
        lambda m: (
            f'<a href="{m.group(2)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{m.group(1)}</a>"
        ),
        safe,
    )
    return _BOLD.sub(r"<strong>\1</strong>", safe)


def answer_html(text: str) -> str:
    """The answer as HTML through an escape-first Markdown subset (see the module doc)."""
    blocks: list[str] = []
    for kind, body, info in _split_fences(neutralize_images(text)):
        if kind == "code":
            lang = _info_word(info)
            cls = f' class="language-{escape(lang)}"' if lang else ""
            blocks.append(f'<pre style="{_PRE}"><code{cls}>{escape(body)}</code></pre>')
            continue
        for paragraph in re.split(r"\n\s*\n", body):
            if not paragraph.strip():
                continue
            rendered = []
            for line in paragraph.strip("\n").split("\n"):
                heading = _HEADING.match(line)
                if heading:
                    rendered.append(f"<strong>{_inline_html(heading.group(1))}</strong>")
                else:
                    rendered.append(_inline_html(line))
            blocks.append(f'<p style="margin: 0.4em 0;">{"<br>".join(rendered)}</p>')
    return "\n".join(blocks)


def _plain(text: str, *, escape_html: bool = True) -> str:
    """Untrusted text for ``text/plain``: HTML escaped, images neutralized."""
    text = neutralize_images(text)
    return html.escape(text, quote=False) if escape_html else text


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
    return f'<div class="grokbook-usage" style="{_MUTED} margin-top: 0.4em;">{joined}</div>'


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
            return f'<div class="grokbook-reasoning" style="{_MUTED}">{line}</div>'
        return ""
    if mode == "hide":
        return f'<div class="grokbook-reasoning" style="{_MUTED}">{label} (hidden)</div>'
    body = (
        f'<pre style="{_PRE} {_MUTED}">{_earlier(earlier)}{escape(neutralize_images(text))}</pre>'
    )
    if mode == "show":
        return (
            f'<div class="grokbook-reasoning" style="{_BOX}">'
            f'<div style="{_MUTED}">{label}</div>{body}</div>'
        )
    is_open = " open" if open_ else ""
    return (
        f'<details class="grokbook-reasoning"{is_open} style="{_BOX}">'
        f'<summary style="{_MUTED} cursor: pointer;">{label}</summary>{body}</details>'
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
        return f"[{label}]\n{_plain(text.strip(), escape_html=escape_html)}\n[end of reasoning]"
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
    mode = _check_mode(reasoning)
    lines = []
    if c.model_notice:
        lines.append(f"Note: {_plain(c.model_notice, escape_html=escape_html)}")
    block = _reasoning_plain(c.reasoning, c.usage.reasoning_tokens, mode, escape_html=escape_html)
    if block:
        lines.append(block)
    content = c.content.strip()
    lines.append(_plain(content, escape_html=escape_html) if content else "(empty answer)")
    footer = " · ".join(usage_parts(c))
    lines.append(f"-- {_plain(footer, escape_html=escape_html)}")
    return "\n".join(lines)


def completion_bundle(c: Completion, *, reasoning: str = DEFAULT_REASONING_MODE) -> dict[str, str]:
    """``text/plain``, ``text/html`` and ``text/markdown`` for a finished call.

    The answer rendered as Markdown-safe content, reasoning per ``reasoning`` mode
    (``collapse`` | ``show`` | ``hide``), the one-line model notice when another model
    answered, and the usage footer. Every piece of model output is escaped.
    """
    mode = _check_mode(reasoning)
    tokens = c.usage.reasoning_tokens
    notice_html = ""
    notice_md = ""
    if c.model_notice:
        notice_html = (
            f'<div class="grokbook-notice" style="{_NOTICE}">{escape(c.model_notice)}</div>'
        )
        notice_md = f"> {markdown_text(c.model_notice)}\n\n"
    content = c.content if c.content.strip() else ""
    answer = answer_html(content) if content else f'<p style="{_MUTED}">(empty answer)</p>'
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
        f'<span style="{_MUTED}">[… {count:,} earlier characters, shown in full when the '
        "answer ends]</span>\n"
    )


def _phase(
    reasoning: bool, content: bool, *, reasons: bool = False, elapsed_s: float | None = None
) -> str:
    """``answering…``, ``reasoning…`` or ``waiting…`` (``reasons``: the model reasons before
    anything arrives), and the seconds since the call began when known."""
    phase = "answering" if content else "reasoning" if reasoning or reasons else "waiting"
    return f"{phase}…" + ("" if elapsed_s is None else f" {elapsed_s:.1f}s")


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
    mode = _check_mode(reasoning_mode)
    r_chars = len(reasoning) if reasoning_chars is None else reasoning_chars
    c_chars = len(content) if content_chars is None else content_chars
    parts = ['<div class="grokbook-stream">']
    if not done:
        phase = _phase(bool(reasoning), bool(content), reasons=reasons, elapsed_s=elapsed_s)
        who = f"{escape(model)} · " if model else ""
        parts.append(f'<div class="grokbook-phase" style="{_MUTED}">{who}{phase}</div>')
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
    mode = _check_mode(reasoning_mode)
    lines = []
    if model:
        lines.append(f"{_plain(model)} · {_phase(True, bool(content), elapsed_s=elapsed_s)}")
    if reasoning:
        lines.append(
            _reasoning_plain(reasoning, None, mode, streaming=True, live=True, summary=summary)
        )
    if content:
        lines.append(_plain(content))
    return "\n".join(lines)


# -- terminals ---------------------------------------------------------------------------------

_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC: title, links, clipboard
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)"  # DCS, SOS, PM, APC
    # Every other escape (character sets, keypad modes, reset); not the introducers above.
    r"|\x1b[ -/]*[0-OQ-WYZ\\`-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Where a sequence may begin: ESC and the C1 introducers.
_INTRODUCER = re.compile(r"[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
#: An unterminated sequence longer than this is not waited for (it is stripped as it is).
_HOLD_LIMIT = 256


def terminal_text(text: str) -> str:
    """Model text made safe for a terminal: escape sequences (ANSI CSI such as ``\\x1b[2J``,
    OSC such as ``\\x1b]0;title\\x07``, DCS, ...) removed whole, and every other control
    character (carriage return, backspace, BEL, C1) removed; tabs and newlines are kept."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def _size(bundle: dict[str, str]) -> int:
    """Bytes a display message carries for ``bundle`` (its values, UTF-8)."""
    return sum(len(value.encode("utf-8", "surrogatepass")) for value in bundle.values())


class LiveAnswer:
    """The display of one answer while it streams: one component for every frontend.

    It owns the streaming state (reasoning and answer so far), the throttle, the partial
    answer shown on an error, the final render, and what a terminal prints. The ``%%grok``
    magic (rich and plain), the Playground widget and the ``grokbook ask`` command all use it;
    they only move its output to a display, a widget or a stream.

    Rich displays (:meth:`update`) redraw one area in place, so every update re-sends what it
    shows. To keep the bytes published linear in the answer's length, a live update shows
    the end of the answer (:attr:`ANSWER_WINDOW` characters) and of the reasoning
    (:attr:`REASONING_WINDOW`), with a note counting the earlier characters, and an update is
    sent only when at least :attr:`interval` seconds have passed and the answer has grown by
    enough: an update of B bytes needs ``(B - FLOOR_BYTES) / BYTES_PER_CHAR`` new characters.
    The finished answer is rendered in full by :meth:`final_bundle`.

    Every text shown has ``secrets`` (the API key) replaced by ``[redacted]``
    (:func:`grokbook.errors.redact`): a server that echoes the key shows it redacted.

    Counts shown are only ones it has: until usage arrives with the finished answer, the
    reasoning is labelled by its length in characters and the status line by the seconds
    since the first update, never by an estimate of tokens (on the Responses API only a short
    summary streams: ``wire``, with the model, tells it to label the text a summary).
    """

    #: Characters at the end of the answer a live update shows.
    ANSWER_WINDOW = 3000
    #: Characters at the end of the reasoning a live update shows.
    REASONING_WINDOW = 1200
    #: Bytes an update may publish per character the answer grew by since the last one...
    BYTES_PER_CHAR = 40
    #: ... plus this many (status lines, the first words).
    FLOOR_BYTES = 1000

    def __init__(
        self,
        model: str | None = None,
        *,
        reasoning_mode: str = DEFAULT_REASONING_MODE,
        secrets: tuple[str, ...] = (),
        interval: float = 0.1,
        wire: str | None = None,
    ) -> None:
        self.model = model
        self.reasoning_mode = _check_mode(reasoning_mode)
        self.secrets = tuple(s for s in secrets if s)
        self.interval = interval
        #: The wire the answer comes over ("responses" | "chat"), once the caller knows it.
        self.wire = wire
        self._started_at: float | None = None
        self._elapsed: float | None = None
        self._parts: dict[str, list[str]] = {"reasoning": [], "content": []}
        self._chars = {"reasoning": 0, "content": 0}
        self._published_at: float | None = None
        self._chars_at_publish = 0
        #: Live updates sent, and the bytes they carried (see :meth:`update`).
        self.updates = 0
        self.bytes_published = 0
        # Terminal state: the kind printed last, and text held back per kind (the start of a
        # secret or of an escape sequence that the next piece may complete).
        self._printed: str | None = None
        self._held = {"reasoning": "", "content": ""}

    # -- state -------------------------------------------------------------------------------
    def add(self, kind: str, text: str) -> None:
        """One streamed piece: ``kind`` is "reasoning" or "content"."""
        key = "reasoning" if kind == "reasoning" else "content"
        self._parts[key].append(text)
        self._chars[key] += len(text)

    def text(self, kind: str) -> str:
        """The whole reasoning or answer so far (not redacted)."""
        parts = self._parts[kind]
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    @property
    def started(self) -> bool:
        """Whether anything has arrived."""
        return bool(self._chars["reasoning"] or self._chars["content"])

    def _end(self, kind: str, window: int) -> tuple[str, int | None]:
        """The last ``window`` characters of a text, redacted (a secret cut by the window's
        edge is not shown either), and the whole text's length when that is more."""
        text = self.text(kind)
        if len(text) <= window:
            return self.redact(text), None
        longest = max((len(s) for s in self.secrets), default=0)
        return self.redact(text[-(window + longest) :])[-window:], len(text)

    def redact(self, text: str) -> str:
        """``text`` with the secrets replaced by ``[redacted]`` (:func:`grokbook.errors.redact`)."""
        from .errors import redact

        return redact(text, self.secrets) if self.secrets else text

    def _record(self) -> Any:
        from . import catalog

        return catalog.get(self.model) if self.model else None

    @property
    def summary(self) -> bool:
        """Whether the reasoning that streams is a summary (the model on the wire says so)."""
        record = self._record()
        if record is None or self.wire not in ("responses", "chat"):
            return False
        return bool(record.readable_reasoning(self.wire) == "summary")

    @property
    def reasons(self) -> bool:
        """Whether the model reasons before it answers (the catalog says so)."""
        record = self._record()
        return bool(record is not None and record.reasoning)

    def terminal_status(self) -> str:
        """The line a terminal prints when the call starts: who is reasoning, and when the
        exact count comes (no count is shown before it exists)."""
        who = f"{terminal_text(self.model)} · " if self.model else ""
        shows = "a summary of the reasoning streams; " if self.summary else ""
        phase = "reasoning" if self.reasons else "waiting"
        return f"{who}{phase}… ({shows}tokens are counted when the answer ends)"

    # -- rich displays -----------------------------------------------------------------------
    def live_bundle(self) -> dict[str, str]:
        """What a live display shows now: the end of the reasoning and of the answer."""
        reasoning, reasoning_chars = self._end("reasoning", self.REASONING_WINDOW)
        content, content_chars = self._end("content", self.ANSWER_WINDOW)
        html_doc = stream_html(
            reasoning,
            content,
            reasoning_mode=self.reasoning_mode,
            model=self.model,
            reasoning_chars=reasoning_chars,
            content_chars=content_chars,
            elapsed_s=self._elapsed,
            summary=self.summary,
            reasons=self.reasons,
        )
        return {"text/html": html_doc, "text/plain": self._status()}

    def _status(self) -> str:
        who = f"{_plain(self.model)} · " if self.model else ""
        phase = _phase(
            bool(self._chars["reasoning"]),
            bool(self._chars["content"]),
            reasons=self.reasons,
            elapsed_s=self._elapsed,
        )
        if not self.started:
            return f"{who}{phase}"
        return f"{who}{phase} ({self._chars['content']:,} characters of answer so far)"

    def update(self, now: float, *, force: bool = False) -> dict[str, str] | None:
        """The bundle to publish at time ``now`` (seconds), or None while throttled.

        ``force`` publishes regardless (the first, "waiting" state).
        """
        if self._started_at is None:
            self._started_at = now
        self._elapsed = now - self._started_at if self.started else None
        published = self._published_at
        chars = self._chars["reasoning"] + self._chars["content"]
        grown = chars - self._chars_at_publish
        throttled = not force and published is not None
        if throttled and (now - (published or 0.0) < self.interval or not grown):
            return None  # too soon, or nothing new
        bundle = self.live_bundle()
        size = _size(bundle)
        if throttled and size > self.BYTES_PER_CHAR * grown + self.FLOOR_BYTES:
            return None  # not enough new text yet for an update this size
        self._published_at = now
        self._chars_at_publish = chars
        self.updates += 1
        self.bytes_published += size
        return bundle

    def partial_bundle(self, message: str) -> dict[str, str]:
        """The stream failed: what arrived (in full, redacted), then the error ``message``."""
        partial = ""
        if self.started:
            partial = stream_html(
                self.redact(self.text("reasoning")),
                self.redact(self.text("content")),
                reasoning_mode=self.reasoning_mode,
                model=self.model,
                done=True,
                summary=self.summary,
            )
        message = self.redact(message)
        return {"text/html": partial + error_html(message), "text/plain": error_text(message)}

    def final_bundle(self, completion: Completion) -> dict[str, str]:
        """The finished answer (:func:`completion_bundle`), redacted."""
        bundle = completion_bundle(self.redacted(completion), reasoning=self.reasoning_mode)
        return {k: self.redact(v) for k, v in bundle.items()} if self.secrets else bundle

    def redacted(self, completion: Completion) -> Completion:
        """``completion`` with the secrets replaced in its answer and reasoning (for display;
        the Completion a caller keeps is unchanged)."""
        if not self.secrets:
            return completion
        import dataclasses

        def redacted(value: str | None) -> str | None:
            return None if value is None else self.redact(value)

        return dataclasses.replace(
            completion,
            content=self.redact(completion.content),
            reasoning=redacted(completion.reasoning),
            reasoning_summary=redacted(completion.reasoning_summary),
        )

    # -- terminals ---------------------------------------------------------------------------
    def terminal(self, kind: str, text: str) -> list[tuple[str, str]]:
        """What a terminal prints for one streamed piece (which :meth:`add` records too):
        ``(kind, text)`` pairs, ``kind`` being "reasoning", "content" or "switch" (the
        reasoning ended and the answer starts). The text is safe for a terminal
        (:func:`terminal_text`) and redacted; the start of a secret or of an escape sequence
        is held back until the next piece shows what it is."""
        self.add(kind, text)
        key = "reasoning" if kind == "reasoning" else "content"
        out: list[tuple[str, str]] = []
        if key == "content" and self._printed == "reasoning":
            out.extend(self._release("reasoning"))
            out.append(("switch", ""))
        self._printed = key
        pending = self._held[key] + text
        cut = self._hold_from(pending)
        self._held[key] = pending[cut:]
        shown = self.redact(terminal_text(pending[:cut]))
        if shown:
            out.append((key, shown))
        return out

    def terminal_end(self) -> list[tuple[str, str]]:
        """The stream ended: whatever was held back."""
        return [*self._release("reasoning"), *self._release("content")]

    def _release(self, key: str) -> list[tuple[str, str]]:
        held, self._held[key] = self._held[key], ""
        shown = self.redact(terminal_text(held))
        return [(key, shown)] if shown else []

    def _hold_from(self, text: str) -> int:
        """Where the text that may still change meaning starts (``len(text)``: none)."""
        cut = len(text)
        done_until = 0
        for introducer in _INTRODUCER.finditer(text, max(0, len(text) - _HOLD_LIMIT)):
            if introducer.start() < done_until:
                continue  # inside a sequence already complete
            sequence = _ESCAPE_SEQUENCE.match(text, introducer.start())
            if sequence is None:
                cut = introducer.start()  # an escape sequence not finished yet
                break
            done_until = sequence.end()
        from .errors import secret_start

        return min(cut, secret_start(text, self.secrets))


# -- errors ------------------------------------------------------------------------------------


def error_message(exc: BaseException, *, secrets: tuple[str, ...] = ()) -> str:
    """One short, friendly line for a failed call, saying what to do next (key redacted)."""
    from . import errors

    text = str(exc).strip() or type(exc).__name__
    server = getattr(exc, "server_message", None) or ""
    lowered = f"{text} {server}".lower()
    if isinstance(exc, errors.MissingAPIKeyError):
        text += " In a notebook, `%grok login` asks for it without echoing it."
    elif isinstance(exc, errors.APIStatusError) and "reasoningeffort" in re.sub(
        r"[\s_-]", "", lowered
    ):
        text += " This model does not take reasoning_effort: drop -e, or use a model that does."
    elif isinstance(exc, errors.AuthenticationError) or (
        isinstance(exc, errors.APIStatusError) and re.search(r"api[ _-]?key", server, re.I)
    ):
        text = (
            "The provider rejected the API key. Set the right key in the provider's environment "
            "variable (e.g. XAI_API_KEY) and restart the kernel, or run `%grok login`. "
            f"(Server said: {server or text})"
        )
    elif isinstance(exc, errors.RateLimitError):
        text = (
            f"Rate limited (HTTP 429) after {exc.retries} "
            f"{'retry' if exc.retries == 1 else 'retries'}. Wait a minute and run the cell "
            "again, or use a smaller model or lower effort."
        )
    elif isinstance(exc, errors.APIError) and exc.retries:
        text += f" (retried {exc.retries} {'time' if exc.retries == 1 else 'times'})"
    return errors.redact(text, secrets)


def error_text(message: str) -> str:
    """``text/plain`` for an error: ``grokbook: <message>`` (escaped like model output)."""
    return "grokbook: " + html.escape(message, quote=False)


def error_html(message: str) -> str:
    """A short error box; ``message`` is escaped (it may quote the server), and a name in
    backticks (`%grok login`) is shown as code, not with literal backticks."""
    text = _CODE_SPAN.sub(lambda m: f"<code>{m.group(2)}</code>", escape(message))
    return f'<div class="grokbook-error" style="{_ERROR}"><strong>grokbook:</strong> {text}</div>'


def error_bundle(message: str) -> dict[str, str]:
    """``text/plain`` + ``text/html`` for an error."""
    return {"text/plain": error_text(message), "text/html": error_html(message)}
