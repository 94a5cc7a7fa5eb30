"""Retry policy: named constants and small pure functions (tested by a parametrized table).

Retried: connection errors, timeouts, and HTTP 408, 409, 429 and 5xx, at most
``max_retries`` times. Never retried: 400, 401, 403, 404, 422, or a stream after its first
byte. The wait honours ``retry-after-ms`` and ``Retry-After`` (seconds or an HTTP date) up to
:data:`MAX_RETRY_AFTER_S`; otherwise it is exponential backoff with jitter.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Mapping

import httpx

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_BACKOFF_S",
    "JITTER_FRACTION",
    "MAX_BACKOFF_S",
    "MAX_RETRY_AFTER_S",
    "NOT_PERFORMED_STATUS_CODES",
    "RETRYABLE_STATUS_CODES",
    "backoff_delay",
    "is_retryable_status",
    "never_sent",
    "parse_retry_after",
    "retry_delay",
]

DEFAULT_MAX_RETRIES = 2
#: Reasoning models think for minutes on hard prompts: xAI advises allowing at least 900 s
#: (docs.x.ai, "best practices"). ``read`` is also the deadline of a whole non-streamed
#: response and a stream's longest silence between events (see :class:`ResponseLimits`).
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=900.0, write=60.0, pool=60.0)
#: The largest response body or stream read (decoded, after gzip): a long reasoning answer
#: with its encrypted reasoning is a few MB; 64 MiB is generous for that and stops a
#: decompression bomb (1 MB of gzip inflating to 1 GiB) long before it fills memory.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
RETRYABLE_STATUS_CODES = frozenset({408, 409, 429})
INITIAL_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
JITTER_FRACTION = 0.25
#: A server asking us to wait longer than this is not waited for beyond it.
MAX_RETRY_AFTER_S = 60.0


#: Statuses that say the server did not act on the request: safe to send again even when it
#: must not happen twice (a 5xx other than 503 may have failed half way).
NOT_PERFORMED_STATUS_CODES = frozenset({408, 425, 429, 503})


def never_sent(outcome: object) -> bool:
    """Whether a failed attempt surely did nothing on the server, so a request that must not
    happen twice may be retried: a connection that never opened (connect error or timeout,
    no pooled connection free) or a status saying the request was not performed."""
    if isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    status = getattr(outcome, "status_code", None)
    return isinstance(status, int) and status in NOT_PERFORMED_STATUS_CODES


def is_retryable_status(status_code: int) -> bool:
    """408, 409, 429 and every 5xx are worth another try; other 4xx never are."""
    return status_code in RETRYABLE_STATUS_CODES or 500 <= status_code <= 599


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait as the server asked, or None when it did not (or said nonsense).

    ``retry-after-ms`` (milliseconds) wins over ``Retry-After``, which is either seconds or an
    HTTP date. Negative and non-finite values are ignored; dates in the past mean 0.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    value_ms = lowered.get("retry-after-ms")
    if value_ms is not None:
        try:
            ms = float(value_ms)
        except ValueError:
            ms = math.nan
        if math.isfinite(ms) and ms >= 0:
            return ms / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if now is None:
            import time

            now = time.time()
        return max(parsed.timestamp() - now, 0.0)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def backoff_delay(attempt: int, rand: float | None = None) -> float:
    """Exponential backoff for retry number ``attempt`` (0-based), with +-25% jitter."""
    base = min(math.ldexp(INITIAL_BACKOFF_S, attempt), MAX_BACKOFF_S)
    r = random.random() if rand is None else rand
    return base * (1 - JITTER_FRACTION + 2 * JITTER_FRACTION * r)


def retry_delay(attempt: int, retry_after_s: float | None, rand: float | None = None) -> float:
    """How long to sleep before retry ``attempt``: the server's ask (capped) or backoff."""
    if retry_after_s is not None:
        return min(retry_after_s, MAX_RETRY_AFTER_S)
    return backoff_delay(attempt, rand)
