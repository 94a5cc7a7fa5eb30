"""The one exception tree of grokbook.

Every failure a user can meet is one of these; httpx and json exceptions are converted at the
boundary (``raise ... from exc``) and never escape. Messages say what to do next, and never
contain the API key.

::

    GrokbookError
     ├── MissingAPIKeyError
     ├── UnsupportedParameterError      (also a ValueError: bad input, nothing was sent)
     ├── ScoringError                   (also a ValueError: a scorer could not score an answer)
     └── APIError
          ├── APIStatusError            (status_code, request_id, server message)
          │    ├── BadRequestError              400
          │    ├── AuthenticationError          401
          │    ├── PermissionDeniedError        403
          │    ├── NotFoundError                404
          │    ├── UnprocessableEntityError     422
          │    ├── RateLimitError               429
          │    └── InternalServerError          5xx
          ├── APIConnectionError
          │    └── APITimeoutError      (past the deadline, a stream's idle or total limit)
          ├── ResponseParseError        (a 200 that is not the JSON we expect, e.g. an HTML page)
          │    └── ResponseTooLargeError        (a body or stream past max_response_bytes)
          └── IncompleteStreamError     (a stream cut before its end; carries the partial text)
               ├── StreamTimeoutError   (also an APITimeoutError: a stream that went silent)
               └── StreamParseError     (also a ResponseParseError: an event that is not JSON,
                                         or has a wrong-typed field)

Warnings (never raised; a call goes on): :class:`ImplausibleUsageWarning` when a server
reports a token count or cost that cannot be right (it is recorded as unknown instead);
:class:`SimulatorNotice` when calls run on the offline simulator for want of a key.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "REDACTED",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchRequestError",
    "GrokbookError",
    "ImplausibleUsageWarning",
    "IncompleteStreamError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "PieceRedactor",
    "RateLimitError",
    "ResponseParseError",
    "ResponseTooLargeError",
    "ScoringError",
    "SimulatorNotice",
    "StreamParseError",
    "StreamTimeoutError",
    "UnprocessableEntityError",
    "UnsupportedParameterError",
    "redact",
    "redact_bytes",
    "redact_json",
    "secret_start",
    "spellings",
    "status_error_class",
]


class ImplausibleUsageWarning(UserWarning):
    """A server reported usage that cannot be right (a negative or astronomically large
    count, a negative cost); grokbook records it as unknown (None) and goes on."""


class SimulatorNotice(UserWarning):
    """Calls run on the offline simulator for want of a key (once per process), or a client
    created before ``%grok login`` still does (once per client). Shown as one plain line
    (stdout in a notebook); ``warnings.filterwarnings("ignore", category=SimulatorNotice)``
    silences it."""


class GrokbookError(Exception):
    """Base class of every error grokbook raises."""


class MissingAPIKeyError(GrokbookError):
    """No API key was found for a provider that needs one."""

    def __init__(self, provider: str, env_var: str, console_url: str) -> None:
        self.provider = provider
        self.env_var = env_var
        super().__init__(
            f"No API key for provider {provider!r}. Set the {env_var} environment variable "
            f"(create a key at {console_url}) or pass api_key=... . Without any key, grokbook "
            f"uses its offline simulator by default (provider='sim')."
        )


class UnsupportedParameterError(GrokbookError, ValueError):
    """A request parameter was rejected before sending anything (bad input)."""


class ScoringError(GrokbookError, ValueError):
    """A scorer could not score one answer (e.g. the judge's reply has no verdict line). In
    a scored frame it is that row's ``score_error``; the other rows are scored."""


class APIError(GrokbookError):
    """A request to the provider failed."""

    #: How many times the request was retried before this error was raised.
    retries: int = 0


class APIStatusError(APIError):
    """The server answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        server_message: str | None = None,
        body: Any = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.server_message = server_message
        self.body = body
        self.retry_after_s = retry_after_s


class BadRequestError(APIStatusError):
    """HTTP 400: invalid request, unsupported parameter, or (on xAI) a wrong API key."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing or invalid."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key has no permission or the team has no credits."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown model or endpoint."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: a field of the request body is missing or malformed."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests or tokens per minute."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: the provider failed; usually transient."""


class APIConnectionError(APIError):
    """The server could not be reached or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class ResponseParseError(APIError):
    """A successful status whose body is not the JSON we expect (e.g. an HTML proxy page)."""

    def __init__(self, message: str, *, status_code: int | None = None, snippet: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.snippet = snippet


class ResponseTooLargeError(ResponseParseError):
    """A response body or stream grew past the client's ``max_response_bytes`` (decoded)."""

    def __init__(self, message: str, *, status_code: int | None = None, limit: int = 0) -> None:
        super().__init__(message, status_code=status_code)
        self.limit = limit


class BatchRequestError(APIError):
    """A request of a Batch API batch failed, was cancelled or expired (its row says which).

    ``code`` is the provider's error code for the request (a google.rpc code on xAI), or None.
    Re-running the same sweep submits the failed requests again; finished ones come from the
    cache.
    """

    def __init__(self, message: str, *, code: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code


class IncompleteStreamError(APIError):
    """A streamed response ended before ``data: [DONE]`` or its final chunk.

    ``partial_content`` and ``partial_reasoning`` keep what had arrived, so nothing is lost.
    """

    def __init__(self, message: str, *, partial_content: str = "", partial_reasoning: str = ""):
        super().__init__(message)
        self.partial_content = partial_content
        self.partial_reasoning = partial_reasoning


class StreamTimeoutError(IncompleteStreamError, APITimeoutError):
    """A stream that went silent past the idle timeout, or ran past its total limit.

    Both an :class:`IncompleteStreamError` (the partial answer is kept) and an
    :class:`APITimeoutError` (``except APITimeoutError`` catches every timeout)."""


class StreamParseError(IncompleteStreamError, ResponseParseError):
    """A stream event that is not the JSON we expect (not JSON, not an object, nested too
    deeply, a field of the wrong type). Both an :class:`IncompleteStreamError` (the partial
    answer is kept) and a :class:`ResponseParseError`."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


_HINTS: dict[type[APIStatusError], str] = {
    BadRequestError: "Check the model id and parameters (on xAI a wrong API key is also a 400).",
    AuthenticationError: "Check your API key (grokbook reads it from the provider's env var).",
    PermissionDeniedError: "The key lacks permission or the team has no credits left; "
    "check the provider's console.",
    NotFoundError: "Check the model id (grokbook models, in a notebook %grok models, lists "
    "them) and the base URL.",
    UnprocessableEntityError: "A field of the request is missing or malformed.",
    RateLimitError: "Rate limited: wait a little, lower concurrency, or raise max_retries.",
    InternalServerError: "The provider failed; this is usually transient, try again shortly.",
}


def server_message(body: Any) -> str | None:
    """The human message inside an error body of any provider's shape.

    xAI: ``{"code": ..., "error": "..."}``; OpenAI / OpenRouter: ``{"error": {"message": ...}}``;
    AI/ML API: ``{"message": ..., "statusCode": ...}``.
    """
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str) and error:
            return error
        if isinstance(error, dict):
            message = error.get("message")
            if isinstance(message, str) and message:
                return message
        for key in ("message", "detail", "msg"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, list) and value:
                return "; ".join(str(item) for item in value)
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return None


def make_status_error(
    status_code: int,
    raw_body: bytes,
    *,
    request_id: str | None = None,
    retry_after_s: float | None = None,
    secrets: tuple[str, ...] = (),
    hint: str | None = None,
) -> APIStatusError:
    """Build the typed error for an HTTP error response (body parsed, secrets redacted).

    ``hint`` (what to do next) replaces the status's generic one, e.g. the closest model ids
    on a 404 for an unknown model.

    Raises :class:`ResponseParseError` for a body nested too deeply to parse."""
    text = raw_body.decode("utf-8", errors="replace")
    body: Any
    try:
        body = json.loads(text) if text.strip() else None
    except RecursionError as exc:  # a hostile body: no status error can describe it
        raise ResponseParseError(
            f"The server answered HTTP {status_code} with JSON nested too deeply to read. "
            "Check base_url (a proxy or a broken server may be in the way).",
            status_code=status_code,
            snippet=redact(text[:200], secrets),
        ) from exc
    except ValueError:
        # An HTML error page from a proxy: keep a short, tag-free excerpt.
        body = re.sub(r"<[^>]+>", " ", text)
        body = re.sub(r"\s+", " ", body).strip()[:200]
    body = redact_json(body, secrets)  # .body is kept for callers: no key in it either
    message = server_message(body)
    message = redact(message, secrets) if message else None
    cls = status_error_class(status_code)
    text_parts = [f"HTTP {status_code}"]
    if message:
        text_parts.append(f": {message}")
    # One full stop between the server's sentence and the hint, even when it ends with one.
    stop = "" if message and message.endswith((".", "!", "?")) else "."
    text_parts.append(f"{stop} {hint or _HINTS.get(cls, 'The request failed.')}")
    if request_id:
        text_parts.append(f" (request id {request_id})")
    return cls(
        redact("".join(text_parts), secrets),
        status_code=status_code,
        request_id=request_id,
        server_message=message,
        body=body,
        retry_after_s=retry_after_s,
    )


def redact_json(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (parsed JSON) with every secret replaced in every string inside it (keys
    too). A body's text is redacted as it arrives (:func:`redact_bytes`); this is for JSON
    whose escapes (``\\u0078``) could spell a secret the byte scan cannot see."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(k, secrets): redact_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, secrets) for v in value]
    return value


#: What every redacted secret becomes, in errors, the run log, the cache and every display.
REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (the API key) replaced by
    :data:`REDACTED`: the one redaction function, used by errors, the run log, the cache and
    every display. Every non-empty secret is replaced, however short, and so is its
    JSON-escaped spelling (a key with a quote or backslash inside a JSON body).

    >>> redact("key sk-123 was refused", ["sk-123"])
    'key [redacted] was refused'
    """
    for secret in secrets:
        if not secret:
            continue
        for spelling in _spellings(secret):
            if spelling in text:
                text = text.replace(spelling, REDACTED)
    return text


@functools.lru_cache(maxsize=64)
def _spellings(secret: str) -> tuple[str, ...]:
    """A secret as text may hold it: itself, and JSON-escaped when that differs (computed
    once per secret: :func:`redact` runs once per streamed token)."""
    text = str.__str__(secret)
    escaped = json.dumps(text)[1:-1]
    return (text,) if escaped == text else (text, escaped)


@functools.lru_cache(maxsize=64)
def _byte_spellings(secret: str) -> tuple[bytes, ...]:
    return tuple(s.encode("utf-8", "surrogatepass") for s in _spellings(secret))


def spellings(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every spelling (:func:`redact` replaces each) of every non-empty secret."""
    return tuple(x for secret in secrets if secret for x in _spellings(secret))


def redact_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    """:func:`redact` for bytes as they arrive from a server (a body, a stream's chunk), so
    every grokbook frame and object after the network read holds them redacted."""
    for secret in secrets:
        if not secret:
            continue
        for needle in _byte_spellings(secret):
            if needle in data:
                data = data.replace(needle, _REDACTED_BYTES)
    return data


_REDACTED_BYTES = REDACTED.encode()


def secret_start(text: str, secrets: Iterable[str]) -> int:
    """Where a secret may begin at the end of ``text``: the start of its longest suffix that
    is a proper prefix of a secret, else ``len(text)``. Text that arrives in pieces holds
    that suffix back until the next piece shows whether the secret follows."""
    cut = len(text)
    for secret in secrets:
        if not secret:
            continue
        first = secret[0]
        start = text.find(first, max(0, len(text) - len(secret) + 1))
        while start != -1 and start < cut:
            if secret.startswith(text[start:]):
                cut = start
                break
            start = text.find(first, start + 1)
    return cut


class PieceRedactor:
    """Redacts secrets from texts that arrive in pieces (a stream's answer and reasoning
    deltas, one text per ``key``): a whole secret is replaced even when the server split it
    across pieces, because a piece ending with the start of one is held back until the next
    piece completes or clears it. :meth:`rest` releases what is held at the end.

    It runs once per streamed token: a piece without the first character of any secret (and
    nothing held) is returned as it is after one ``str.find`` per secret."""

    #: A held start this long is a cut secret, shown as :data:`REDACTED` (shorter: text).
    CUT_SECRET_CHARS = 8

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(s for s in secrets if s)
        #: Every spelling of every secret, and their first characters, computed once.
        self._spellings = spellings(self.secrets)
        self._firsts = tuple({spelling[0] for spelling in self._spellings})
        self._held: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def piece(self, key: str, text: str) -> str:
        """The part of ``text`` (after what was held for ``key``) that is safe to show now."""
        held = self._held
        if held and key in held:
            return self._hold(key, held.pop(key) + text)
        for first in self._firsts:
            if first in text:
                return self._hold(key, text)
        return text

    def _hold(self, key: str, text: str) -> str:
        for spelling in self._spellings:
            if spelling in text:
                text = text.replace(spelling, REDACTED)
        cut = secret_start(text, self._spellings)
        if cut < len(text):
            self._held[key] = text[cut:]
            return text[:cut]
        return text

    def held(self, key: str) -> str:
        """What is held for ``key``, as a partial answer may show it (a long cut secret is
        shown as :data:`REDACTED`)."""
        held = self._held.get(key, "")
        return REDACTED if len(held) >= self.CUT_SECRET_CHARS else held

    def rest(self, key: str) -> str:
        """The end of ``key``'s text: :meth:`held`, released."""
        shown = self.held(key)
        self._held.pop(key, None)
        return shown
