"""Untrusted model text as HTML, Markdown and plain text: escape first, then a tiny subset.

Markdown images become inert links; ``text/markdown`` carries no raw HTML and no link with a
scheme other than http, https or mailto (see :mod:`grokbook.render`).
"""

from __future__ import annotations

import html
import re

from ._styles import PRE


def escape(text: str, *, quote: bool = True) -> str:
    """HTML-escape ``text`` (``&``, ``<``, ``>`` and, by default, quotes)."""
    return html.escape(text, quote=quote)


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


CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>\"']+)\)")
_BOLD = re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def _inline_html(line: str) -> str:
    out: list[str] = []
    pos = 0
    for match in CODE_SPAN.finditer(line):
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
            blocks.append(f'<pre style="{PRE}"><code{cls}>{escape(body)}</code></pre>')
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


def plain(text: str, *, escape_html: bool = True) -> str:
    """Untrusted text for ``text/plain``: HTML escaped, images neutralized."""
    text = neutralize_images(text)
    return html.escape(text, quote=False) if escape_html else text
