"""The retry policy as a table: what is retried, how long we wait."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from grokbook import _retry


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),
        (409, True),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (599, True),
        (200, False),
        (418, False),
    ],
)
def test_retryable_status(status: int, retry: bool) -> None:
    assert _retry.is_retryable_status(status) is retry


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "-4"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "bogus", "Retry-After": "9"}, 9.0),
        ({"Retry-After": email.utils.formatdate(NOW + 7, usegmt=True)}, 7.0),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert _retry.parse_retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.5, 0.5),
        (1, 0.5, 1.0),
        (2, 0.5, 2.0),
        (3, 0.5, 4.0),
        (4, 0.5, 8.0),
        (10, 0.5, 8.0),  # capped
        (0, 0.0, 0.375),  # -25% jitter
        (0, 1.0, 0.625),  # +25% jitter
    ],
)
def test_backoff(attempt: int, rand: float, expected: float) -> None:
    assert _retry.backoff_delay(attempt, rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(2.0, 2.0), (0.0, 0.0), (3600.0, _retry.MAX_RETRY_AFTER_S), (None, 0.5)],
)
def test_retry_delay_prefers_server(retry_after: float | None, expected: float) -> None:
    assert _retry.retry_delay(0, retry_after, rand=0.5) == pytest.approx(expected)


def test_default_timeouts_suit_reasoning_models() -> None:
    timeout = _retry.DEFAULT_TIMEOUT
    assert timeout.read is not None and timeout.read >= 300
    assert timeout.connect is not None and timeout.connect <= 15


@pytest.mark.parametrize(
    ("outcome", "never"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow connect"), True),
        (httpx.PoolTimeout("no free connection"), True),
        (httpx.ReadTimeout("slow answer"), False),  # it may have been acted on
        (httpx.ReadError("cut"), False),
        (httpx.RemoteProtocolError("garbled"), False),
        (httpx.Response(429), True),
        (httpx.Response(503), True),
        (httpx.Response(408), True),
        (httpx.Response(500), False),  # may have failed half way
        (httpx.Response(502), False),
        (httpx.Response(400), False),
    ],
)
def test_never_sent_says_when_a_request_that_must_not_happen_twice_may_be_retried(
    outcome: object, never: bool
) -> None:
    assert _retry.never_sent(outcome) is never
