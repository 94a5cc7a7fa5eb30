"""One short line for a failed call (what to do next, the key redacted), as text and HTML."""

from __future__ import annotations

import html
import re

from .. import errors
from ._markdown import CODE_SPAN, escape
from ._styles import ERROR_BOX


def error_message(exc: BaseException, *, secrets: tuple[str, ...] = ()) -> str:
    """One short, friendly line for a failed call, saying what to do next (key redacted)."""
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
    text = CODE_SPAN.sub(lambda m: f"<code>{m.group(2)}</code>", escape(message))
    return (
        f'<div class="grokbook-error" style="{ERROR_BOX}"><strong>grokbook:</strong> {text}</div>'
    )


def error_bundle(message: str) -> dict[str, str]:
    """``text/plain`` + ``text/html`` for an error."""
    return {"text/plain": error_text(message), "text/html": error_html(message)}
