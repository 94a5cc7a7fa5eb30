"""The one request pipeline: a pure retry plan, driven by a thin sync and a thin async shell.

:func:`exchange` is the only retry loop in grokbook. It is a generator that owns no I/O: it
yields what to do next (:class:`Send` a request, :class:`Wait` some seconds) and is sent what
happened (an ``httpx.Response`` whose body is read unless it is a stream that succeeded, or the
``httpx.HTTPError`` that sending raised). It returns the successful response, or raises the
:mod:`grokbook.errors` exception once retries are spent. :func:`run_sync` / :func:`run_async`
execute it, as the simulator's transport executes its ``Plan``::

    exchange(policy, Send("POST", url, body))      # the plan: decisions only
       |-- run_sync(httpx.Client, plan)            # time.sleep + http.send
       `-- run_async(httpx.AsyncClient, plan)      # asyncio.sleep + await http.send

Streams: once the first byte of a successful stream has arrived, nothing is retried;
:func:`stream_sync` / :func:`stream_async` feed its bytes through the SSE decoder into a wire's
stream state and convert a broken connection into ``IncompleteStreamError``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from . import _retry
from ._sse import SSEDecoder
from ._wire import StreamState
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    IncompleteStreamError,
    RateLimitError,
    make_status_error,
    redact,
)
from .result import StreamEvent

__all__ = [
    "Policy",
    "Send",
    "Wait",
    "exchange",
    "run_async",
    "run_sync",
    "stream_async",
    "stream_sync",
]

logger = logging.getLogger("grokbook")


@dataclass(frozen=True)
class Send:
    """Send one HTTP request (``body`` is JSON, or None; ``files`` a multipart upload)."""

    method: str
    url: str
    body: Any = None
    #: Leave a successful body unread (the caller streams it).
    stream: bool = False
    #: httpx ``files=``: e.g. ``{"file": (name, binary file object, content type)}``; the file
    #: is streamed, and read again from its start if the request is retried.
    files: Any = None


@dataclass(frozen=True)
class Wait:
    """Sleep before the next attempt."""

    seconds: float


Step = Send | Wait
Outcome = httpx.Response | httpx.HTTPError | None
Plan = Generator[Step, Outcome, tuple[httpx.Response, float]]


class Policy:
    """A client's retry policy and counters: which errors are retried, how long to wait.

    ``secrets`` returns the strings to redact from every error (the API key).
    """

    def __init__(self, max_retries: int, secrets: Callable[[], tuple[str, ...]]) -> None:
        self.max_retries = max_retries
        self.secrets = secrets
        #: Counters for callers that adapt (sweeps lower concurrency on 429s).
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "rate_limited": 0}
        self._lock = threading.Lock()

    def count_request(self) -> None:
        with self._lock:
            self.stats["requests"] += 1

    def transport_error(self, exc: httpx.HTTPError, url: str) -> APIError:
        host = httpx.URL(url).host
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"The request to {host} timed out ({type(exc).__name__}). Reasoning models can "
                "think for minutes: raise timeout=..., or try again."
            )
        detail = redact(str(exc), self.secrets()) or type(exc).__name__
        return APIConnectionError(
            f"Could not reach {host}: {detail}. Check your network and base_url."
        )

    def status_error(self, response: httpx.Response) -> APIStatusError:
        return make_status_error(
            response.status_code,
            response.content,
            request_id=response.headers.get("x-request-id") or response.headers.get("request-id"),
            retry_after_s=_retry.parse_retry_after(response.headers),
            secrets=self.secrets(),
        )

    def retry_wait(self, attempt: int, error: APIError) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up."""
        retryable = isinstance(error, APIConnectionError) or (
            isinstance(error, APIStatusError) and _retry.is_retryable_status(error.status_code)
        )
        with self._lock:
            if isinstance(error, RateLimitError):
                self.stats["rate_limited"] += 1
            if not retryable or attempt >= self.max_retries:
                error.retries = attempt
                return None
            self.stats["retries"] += 1
        retry_after = error.retry_after_s if isinstance(error, APIStatusError) else None
        delay = _retry.retry_delay(attempt, retry_after)
        logger.info("grokbook: retrying after %s in %.2fs", type(error).__name__, delay)
        return delay


def exchange(policy: Policy, send: Send) -> Plan:
    """The retry plan for one request: returns (the successful response, when it was sent)."""
    attempt = 0
    while True:
        policy.count_request()
        started = time.perf_counter()
        outcome = yield send
        cause: BaseException | None = None
        if isinstance(outcome, httpx.Response):
            if outcome.is_success:
                return outcome, started
            error: APIError = policy.status_error(outcome)
        elif isinstance(outcome, httpx.HTTPError):
            error = policy.transport_error(outcome, send.url)
            cause = outcome
        else:  # pragma: no cover - a driver bug, not a network condition
            raise TypeError(f"exchange() was sent {outcome!r}")
        delay = policy.retry_wait(attempt, error)
        if delay is None:
            raise error from cause
        yield Wait(delay)
        attempt += 1


# -- the sync shell --------------------------------------------------------------------------
def _send_sync(http: httpx.Client, step: Send) -> httpx.Response | httpx.HTTPError:
    try:
        request = http.build_request(step.method, step.url, json=step.body, files=step.files)
        response = http.send(request, stream=True)
    except httpx.HTTPError as exc:
        return exc
    if step.stream and response.is_success:
        return response
    try:
        response.read()
    except httpx.HTTPError as exc:
        response.close()
        return exc
    return response


def run_sync(http: httpx.Client, plan: Plan) -> tuple[httpx.Response, float]:
    """Execute ``plan`` with blocking I/O."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Wait):
                time.sleep(step.seconds)
                step = plan.send(None)
            else:
                step = plan.send(_send_sync(http, step))
    except StopIteration as done:
        result: tuple[httpx.Response, float] = done.value
        return result


def stream_sync(response: httpx.Response, state: StreamState) -> Iterator[StreamEvent]:
    """The events of a successful SSE response, read to its end (the response is closed)."""
    decoder = SSEDecoder()
    try:
        for chunk in response.iter_bytes():
            yield from _events(state, decoder.feed(chunk))
        yield from _events(state, decoder.flush())
    except httpx.HTTPError as exc:
        raise broken(state, exc) from exc
    finally:
        response.close()


def read_sync(response: httpx.Response, policy: Policy, url: str) -> bytes:
    """The whole body of a response left unread (a 2xx that turned out not to be SSE)."""
    try:
        return response.read()
    except httpx.HTTPError as exc:
        raise policy.transport_error(exc, url) from exc
    finally:
        response.close()


# -- the async shell -------------------------------------------------------------------------
async def _send_async(http: httpx.AsyncClient, step: Send) -> httpx.Response | httpx.HTTPError:
    try:
        request = http.build_request(step.method, step.url, json=step.body, files=step.files)
        response = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        return exc
    if step.stream and response.is_success:
        return response
    try:
        await response.aread()
    except httpx.HTTPError as exc:
        await response.aclose()
        return exc
    return response


async def run_async(http: httpx.AsyncClient, plan: Plan) -> tuple[httpx.Response, float]:
    """Execute ``plan`` on the running event loop."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Wait):
                await asyncio.sleep(step.seconds)
                step = plan.send(None)
            else:
                step = plan.send(await _send_async(http, step))
    except StopIteration as done:
        result: tuple[httpx.Response, float] = done.value
        return result


async def stream_async(response: httpx.Response, state: StreamState) -> AsyncIterator[StreamEvent]:
    """The events of a successful SSE response, read to its end (the response is closed)."""
    decoder = SSEDecoder()
    try:
        async for chunk in response.aiter_bytes():
            for event in _events(state, decoder.feed(chunk)):
                yield event
        for event in _events(state, decoder.flush()):
            yield event
    except httpx.HTTPError as exc:
        raise broken(state, exc) from exc
    finally:
        await response.aclose()


async def read_async(response: httpx.Response, policy: Policy, url: str) -> bytes:
    """The whole body of a response left unread (a 2xx that turned out not to be SSE)."""
    try:
        return await response.aread()
    except httpx.HTTPError as exc:
        raise policy.transport_error(exc, url) from exc
    finally:
        await response.aclose()


def _events(state: StreamState, payloads: list[str]) -> list[StreamEvent]:
    """The stream events that some decoded SSE payloads carry."""
    return [event for payload in payloads for event in state.feed(payload)]


def broken(state: StreamState, exc: httpx.HTTPError) -> IncompleteStreamError:
    reason = "timed out" if isinstance(exc, httpx.TimeoutException) else "was cut"
    return state.incomplete(
        f"The stream {reason} after {state.chunks} chunks; the partial answer is on "
        "this error as partial_content. Streams are not retried once started: call again."
    )
