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

:class:`ResponseLimits` bounds every response, because httpx's timeouts are per read (a server
dripping a byte at a time never trips them) and its bodies unbounded: a non-streamed response
has a deadline (``APITimeoutError``), a stream an idle and an optional total limit
(``StreamTimeoutError``), and any body or stream a decoded size cap
(``ResponseTooLargeError``). The sync driver checks the deadline as bytes arrive, so a server
silent past it is stopped by the read timeout (the same number); the async driver cancels at
the deadline itself.
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

from . import _retry, catalog
from ._sse import SSEDecoder
from ._wire import StreamState
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    IncompleteStreamError,
    RateLimitError,
    ResponseTooLargeError,
    StreamTimeoutError,
    make_status_error,
    redact,
    redact_bytes,
)
from .result import StreamEvent

__all__ = [
    "Policy",
    "ResponseLimits",
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
    #: False for a request that must not happen twice (creating a batch, uploading its file):
    #: it is retried only when it surely never reached the server (see _retry.never_sent).
    idempotent: bool = True


@dataclass(frozen=True)
class Wait:
    """Sleep before the next attempt."""

    seconds: float


@dataclass(frozen=True)
class ResponseLimits:
    """How long and how large one response may be (a client's ``timeout``,
    ``stream_timeout`` and ``max_response_bytes``).

    ``deadline_s``: a non-streamed attempt (headers and whole body) must end this many seconds
    after it was sent; each retry gets its own. ``idle_s``: the longest a stream may go
    without an event that carries output or changes its state (keep-alive comments and
    repeated ``response.in_progress`` events do not count). ``stream_total_s``: the longest a
    whole stream may last (None: no limit). ``max_bytes``: the decoded size of one body or
    stream.
    """

    deadline_s: float | None = _retry.DEFAULT_TIMEOUT.read
    idle_s: float | None = _retry.DEFAULT_TIMEOUT.read
    stream_total_s: float | None = None
    max_bytes: int = _retry.DEFAULT_MAX_RESPONSE_BYTES


class DeadlineExceeded(httpx.TimeoutException):
    """Raised by the drivers when a response outlives :attr:`ResponseLimits.deadline_s`."""

    def __init__(self, deadline_s: float) -> None:
        super().__init__(f"the response did not arrive within the {deadline_s:g} s deadline")
        self.deadline_s = deadline_s


def too_large(limit: int, status_code: int | None, what: str = "response") -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"The {what} grew past {limit:,} bytes (decoded) and was not read further: a server "
        "sending that much is broken or hostile. If a real answer is that large, raise "
        "max_response_bytes=... on the client.",
        status_code=status_code,
        limit=limit,
    )


Step = Send | Wait
Outcome = httpx.Response | httpx.HTTPError | None
Plan = Generator[Step, Outcome, tuple[httpx.Response, float]]


class Policy:
    """A client's retry policy and counters: which errors are retried, how long to wait.

    ``secrets`` returns the strings to redact from every error (the API key).
    """

    def __init__(
        self,
        max_retries: int,
        secrets: Callable[[], tuple[str, ...]],
        limits: ResponseLimits | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.secrets = secrets
        self.limits = limits or ResponseLimits()
        #: Counters for callers that adapt (sweeps lower concurrency on 429s).
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "rate_limited": 0}
        self._lock = threading.Lock()

    def count_request(self) -> None:
        with self._lock:
            self.stats["requests"] += 1

    def transport_error(self, exc: httpx.HTTPError, url: str) -> APIError:
        host = httpx.URL(url).host
        if isinstance(exc, DeadlineExceeded):
            return APITimeoutError(
                f"The answer from {host} did not arrive within timeout={exc.deadline_s:g} s "
                "(a deadline for the whole response, not each read). Reasoning models can "
                "think for minutes: raise timeout=..., or stream the answer."
            )
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"The request to {host} timed out ({type(exc).__name__}). Reasoning models can "
                "think for minutes: raise timeout=..., or try again."
            )
        detail = redact(str(exc), self.secrets()) or type(exc).__name__
        return APIConnectionError(
            f"Could not reach {host}: {detail}. Check your network and base_url."
        )

    def scrub(self, response: httpx.Response) -> None:
        """Redact the secrets from a body just read: where a response enters grokbook, so no
        later frame, object or display holds a key the server echoed."""
        secrets = self.secrets()
        if secrets:
            response._content = redact_bytes(response.content, secrets)

    def safe_cause(self, exc: BaseException) -> BaseException | None:
        return safe_cause(exc, self.secrets())

    def status_error(self, response: httpx.Response, send: Send | None = None) -> APIStatusError:
        return make_status_error(
            response.status_code,
            response.content,
            request_id=response.headers.get("x-request-id") or response.headers.get("request-id"),
            retry_after_s=_retry.parse_retry_after(response.headers),
            secrets=self.secrets(),
            hint=_model_hint(send) if response.status_code == 404 else None,
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


def _model_hint(send: Send | None) -> str | None:
    """For a 404 naming a model the catalog does not know: the closest known ids (a typo)."""
    body = send.body if send is not None else None
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, str) or catalog.resolve(model) is not None:
        return None
    close = catalog.closest(model)
    if not close:
        return None
    return (
        f"Did you mean {' or '.join(close)}? grokbook models (in a notebook: %grok models) "
        "lists the known ids."
    )


def safe_cause(exc: BaseException, secrets: tuple[str, ...]) -> BaseException | None:
    """``exc`` to chain as the cause of a grokbook error, or None when its text holds a
    secret: a traceback prints the cause's message, which grokbook cannot redact."""
    text = f"{exc} {exc!r}"
    return None if any(secret and secret in text for secret in secrets) else exc


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
                if not send.stream:
                    policy.scrub(outcome)
                return outcome, started
            error: APIError = policy.status_error(outcome, send)
        elif isinstance(outcome, httpx.HTTPError):
            error = policy.transport_error(outcome, send.url)
            cause = policy.safe_cause(outcome)
        else:  # pragma: no cover - a driver bug, not a network condition
            raise TypeError(f"exchange() was sent {outcome!r}")
        if not send.idempotent and not _retry.never_sent(outcome):
            error.retries = attempt  # it may have been done: a retry could do it twice
            raise error from cause
        delay = policy.retry_wait(attempt, error)
        if delay is None:
            raise error from cause
        yield Wait(delay)
        attempt += 1


# -- the sync shell --------------------------------------------------------------------------
def _read_sync(response: httpx.Response, limits: ResponseLimits, started: float) -> None:
    """Read a body within the deadline and size cap (``response.content`` afterwards)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_large(limits.max_bytes, response.status_code)
            chunks.append(chunk)
            if limits.deadline_s is not None and time.monotonic() - started > limits.deadline_s:
                raise DeadlineExceeded(limits.deadline_s)
    finally:
        response.close()
    # What httpx's own Response.read() does: later .content / .json() read this.
    response._content = b"".join(chunks)


def _send_sync(
    http: httpx.Client, step: Send, limits: ResponseLimits
) -> httpx.Response | httpx.HTTPError:
    started = time.monotonic()
    try:
        request = http.build_request(step.method, step.url, json=step.body, files=step.files)
        response = http.send(request, stream=True)
    except httpx.HTTPError as exc:
        return exc
    if step.stream and response.is_success:
        return response
    try:
        _read_sync(response, limits, started)
    except httpx.HTTPError as exc:
        return exc
    return response


def run_sync(
    http: httpx.Client, plan: Plan, limits: ResponseLimits | None = None
) -> tuple[httpx.Response, float]:
    """Execute ``plan`` with blocking I/O."""
    limits = limits or ResponseLimits()
    try:
        step = next(plan)
        while True:
            if isinstance(step, Wait):
                time.sleep(step.seconds)
                step = plan.send(None)
            else:
                step = plan.send(_send_sync(http, step, limits))
    except StopIteration as done:
        result: tuple[httpx.Response, float] = done.value
        return result


class _StreamClock:
    """A stream's idle and total limits: when the next event is due at the latest."""

    def __init__(self, limits: ResponseLimits) -> None:
        self.limits = limits
        now = time.monotonic()
        self.last_event = now
        self.end = None if limits.stream_total_s is None else now + limits.stream_total_s
        self.size = 0

    def chunk(self, size: int, state: StreamState, progress_before: int) -> None:
        """After a chunk's events were read: its ``size`` counts against the size cap; it was
        activity only when an event carried output or a state change (``state.progress``
        moved: a keep-alive comment or a repeated ``response.in_progress`` is not). Then the
        time limits are checked."""
        self.size += size
        if self.size > self.limits.max_bytes:
            raise too_large(self.limits.max_bytes, 200, "stream")
        now = time.monotonic()
        if state.progress != progress_before:
            self.last_event = now
            if self.end is None or now <= self.end:
                return  # activity just now: no limit can have passed (the common case)
        self.check(state, now)

    def remaining(self) -> float | None:
        """Seconds until the next limit (for the async driver's cancellation)."""
        due = [] if self.limits.idle_s is None else [self.last_event + self.limits.idle_s]
        if self.end is not None:
            due.append(self.end)
        return max(min(due) - time.monotonic(), 0.0) if due else None

    def check(self, state: StreamState, now: float) -> None:
        """Raise :class:`StreamTimeoutError` if a limit has passed at ``now``."""
        ended = self.end is not None and now > self.end
        idle = self.limits.idle_s
        if ended or (idle is not None and now - self.last_event > idle):
            raise self.expired(state)

    def expired(self, state: StreamState) -> IncompleteStreamError:
        """The error for a limit that has passed (the total one if it has, else idle)."""
        if self.end is not None and time.monotonic() >= self.end:
            why = f"ran past stream_timeout={self.limits.stream_total_s:g} s"
        else:
            why = f"sent no event for timeout={self.limits.idle_s:g} s"
        return state.incomplete(
            f"The stream {why} after {state.chunks} chunks; the partial answer is on this "
            "error as partial_content. Raise timeout=... (the longest silence allowed) or "
            "stream_timeout=... on the client if the model needs longer.",
            StreamTimeoutError,
        )


def stream_sync(
    response: httpx.Response, state: StreamState, limits: ResponseLimits | None = None
) -> Iterator[StreamEvent]:
    """The events of a successful SSE response, read to its end (the response is closed)."""
    decoder = SSEDecoder(state.spellings)
    clock = _StreamClock(limits or ResponseLimits())
    try:
        for chunk in response.iter_bytes():
            # The decoder redacts the secrets from every payload: where a stream's data
            # enters grokbook. (The raw chunk is named in no statement that can raise:
            # %xmode verbose shows the variables of the line that raised.)
            size = len(chunk)
            payloads = decoder.feed(chunk)
            progress = state.progress
            events = _events(state, payloads)
            clock.chunk(size, state, progress)
            yield from events
        yield from _events(state, decoder.flush())
    except httpx.HTTPError as exc:
        raise broken(state, exc) from safe_cause(exc, state.secrets)
    finally:
        response.close()


def read_sync(response: httpx.Response, policy: Policy, url: str) -> bytes:
    """The whole body of a response left unread (a 2xx that turned out not to be SSE)."""
    try:
        _read_sync(response, policy.limits, time.monotonic())
    except httpx.HTTPError as exc:
        raise policy.transport_error(exc, url) from policy.safe_cause(exc)
    policy.scrub(response)
    return response.content


# -- the async shell -------------------------------------------------------------------------
async def _read_async(response: httpx.Response, limits: ResponseLimits) -> None:
    """Read a body within the size cap (the caller holds the deadline)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_large(limits.max_bytes, response.status_code)
            chunks.append(chunk)
    finally:
        await response.aclose()
    response._content = b"".join(chunks)  # as in _read_sync


async def _send_async(
    http: httpx.AsyncClient, step: Send, limits: ResponseLimits
) -> httpx.Response | httpx.HTTPError:
    deadline = limits.deadline_s
    try:
        async with asyncio.timeout(deadline):
            try:
                request = http.build_request(
                    step.method, step.url, json=step.body, files=step.files
                )
                response = await http.send(request, stream=True)
            except httpx.HTTPError as exc:
                return exc
            if step.stream and response.is_success:
                return response
            try:
                await _read_async(response, limits)
            except httpx.HTTPError as exc:
                return exc
    except TimeoutError:
        assert deadline is not None  # asyncio.timeout(None) never expires
        return DeadlineExceeded(deadline)
    return response


async def run_async(
    http: httpx.AsyncClient, plan: Plan, limits: ResponseLimits | None = None
) -> tuple[httpx.Response, float]:
    """Execute ``plan`` on the running event loop."""
    limits = limits or ResponseLimits()
    try:
        step = next(plan)
        while True:
            if isinstance(step, Wait):
                await asyncio.sleep(step.seconds)
                step = plan.send(None)
            else:
                step = plan.send(await _send_async(http, step, limits))
    except StopIteration as done:
        result: tuple[httpx.Response, float] = done.value
        return result


async def stream_async(
    response: httpx.Response, state: StreamState, limits: ResponseLimits | None = None
) -> AsyncIterator[StreamEvent]:
    """The events of a successful SSE response, read to its end (the response is closed)."""
    decoder = SSEDecoder(state.spellings)
    clock = _StreamClock(limits or ResponseLimits())
    chunks = response.aiter_bytes().__aiter__()
    try:
        while True:
            try:
                async with asyncio.timeout(clock.remaining()):
                    chunk = await anext(chunks, None)
            except TimeoutError:
                raise clock.expired(state) from None
            if chunk is None:
                break
            size = len(chunk)  # as in stream_sync
            payloads = decoder.feed(chunk)
            progress = state.progress
            events = _events(state, payloads)
            clock.chunk(size, state, progress)
            for event in events:
                yield event
        for event in _events(state, decoder.flush()):
            yield event
    except httpx.HTTPError as exc:
        raise broken(state, exc) from safe_cause(exc, state.secrets)
    finally:
        await response.aclose()


async def read_async(response: httpx.Response, policy: Policy, url: str) -> bytes:
    """The whole body of a response left unread (a 2xx that turned out not to be SSE)."""
    try:
        async with asyncio.timeout(policy.limits.deadline_s):
            await _read_async(response, policy.limits)
    except TimeoutError:
        assert policy.limits.deadline_s is not None
        exc = DeadlineExceeded(policy.limits.deadline_s)
        raise policy.transport_error(exc, url) from None
    except httpx.HTTPError as exc:
        raise policy.transport_error(exc, url) from policy.safe_cause(exc)
    policy.scrub(response)
    return response.content


def _events(state: StreamState, payloads: list[str]) -> list[StreamEvent]:
    """The stream events that some decoded SSE payloads carry."""
    return [event for payload in payloads for event in state.feed(payload)]


def broken(state: StreamState, exc: httpx.HTTPError) -> IncompleteStreamError:
    timed_out = isinstance(exc, httpx.TimeoutException)
    return state.incomplete(
        f"The stream {'timed out' if timed_out else 'was cut'} after {state.chunks} chunks; "
        "the partial answer is on this error as partial_content. Streams are not retried "
        "once started: call again.",
        StreamTimeoutError if timed_out else IncompleteStreamError,
    )
