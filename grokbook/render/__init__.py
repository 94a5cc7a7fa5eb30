"""Rendering of completions, streams, errors and tables for notebooks and terminals.

Shared by ``%%grok`` (:mod:`grokbook.magic`), the widgets, the ``grokbook`` command and
``Completion._repr_mimebundle_``. :class:`LiveAnswer` is the one live-answer renderer every
streaming display uses; :func:`terminal_text` makes model text safe for a terminal. Nothing
here imports IPython; every function returns strings.

The modules: ``_markdown`` (untrusted text as HTML / Markdown / plain), ``_bundles`` (what a
finished or streaming answer displays as, the usage footer), ``_live`` (:class:`LiveAnswer`),
``_terminal`` (:func:`terminal_text`), ``_errors`` (one line per failed call) and ``_table``
(:class:`~grokbook.render._table.Table`: the one table formatter of the magic, the CLI, the
widgets and reports; imported by who needs it, not here, so ``%load_ext grokbook`` stays light).

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

from ._bundles import (
    DEFAULT_REASONING_MODE,
    REASONING_MODES,
    completion_bundle,
    completion_text,
    estimate_tokens,
    format_cost,
    format_latency,
    stream_html,
    stream_text,
    usage_footer_html,
    usage_footer_markdown,
    usage_footer_text,
    usage_parts,
)
from ._errors import error_bundle, error_html, error_message, error_text
from ._live import LiveAnswer, bundle_size
from ._markdown import answer_html, answer_markdown, escape, markdown_text, neutralize_images
from ._terminal import terminal_text

__all__ = [
    "DEFAULT_REASONING_MODE",
    "REASONING_MODES",
    "LiveAnswer",
    "answer_html",
    "answer_markdown",
    "bundle_size",
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
