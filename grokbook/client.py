"""Client and AsyncClient: one way to call Grok, whoever serves it.

>>> import grokbook as gb
>>> client = gb.Client()                      # xAI with XAI_API_KEY, else the offline simulator
>>> r = client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
>>> r.content, r.simulated                   # (without a key)
('101 * 3 = 303', True)
>>> r.usage.output_tokens == r.usage.reasoning_tokens + r.usage.completion_tokens
True

Streaming yields :class:`~grokbook.StreamEvent` pieces (reasoning first, then the answer); the
finished :class:`~grokbook.Completion` is on the stream's ``.completion`` once it ends::

    >>> with client.stream("What is 101*3?", model="grok-3-mini-beta") as stream:
    ...     kinds = [event.kind for event in stream]    # print(event.text, end="") to watch
    >>> kinds[0], kinds[-1], stream.completion.content
    ('reasoning', 'content', '101 * 3 = 303')

The async client is the same with ``await`` / ``async for`` / ``async with``.

Only this module (and the simulator's transport) touches httpx; callers see
:mod:`grokbook.errors` exceptions only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from . import __version__ as _version
from . import _retry, catalog
from ._core import ChatRequest, Messages, StreamAccumulator, build_request, parse_completion
from ._core import parse_json_body as _parse_json
from ._sse import SSEDecoder
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    IncompleteStreamError,
    MissingAPIKeyError,
    RateLimitError,
    ResponseParseError,
    UnsupportedParameterError,
    make_status_error,
    redact,
)
from .providers import Provider, select
from .result import Completion, StreamEvent

__all__ = ["DEFAULT_MODEL", "AsyncChatStream", "AsyncClient", "ChatStream", "Client"]

logger = logging.getLogger("grokbook")

#: The model used when none is given (``GROKBOOK_MODEL`` overrides it).
DEFAULT_MODEL = "grok-3-mini-beta"


def default_model() -> str:
    return os.environ.get("GROKBOOK_MODEL") or DEFAULT_MODEL


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return _retry.DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise UnsupportedParameterError(f"timeout must be a positive number of seconds: {value!r}")
    return httpx.Timeout(float(value), connect=min(float(value), 10.0))


class _BaseClient:
    """Configuration, request preparation and the retry decision shared by both clients."""

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = _retry.DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        *,
        log: bool | None = None,
    ) -> None:
        profile = select(provider)
        self.provider: Provider = profile
        key = api_key
        if key is None and profile.key_env:
            key = os.environ.get(profile.key_env) or None
        if profile.needs_key and not key and transport is None:
            raise MissingAPIKeyError(profile.name, profile.key_env or "", profile.console_url)
        self._api_key: str | None = key
        url = base_url or os.environ.get("GROKBOOK_BASE_URL") or profile.base_url
        if not url:
            raise UnsupportedParameterError(
                f"Provider {profile.name!r} needs a server: pass base_url='http://host:port/v1' "
                "or set GROKBOOK_BASE_URL."
            )
        if not url.startswith(("http://", "https://")):
            raise UnsupportedParameterError(
                f"base_url must start with http:// or https://; got {url!r}."
            )
        self.base_url: str = url.rstrip("/")
        self.timeout = _timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UnsupportedParameterError(f"max_retries must be an integer >= 0: {max_retries!r}")
        self.max_retries = max_retries
        if log is None:
            log = os.environ.get("GROKBOOK_LOG", "1").strip().lower() not in ("0", "false", "no")
        self.log = log
        #: Counters for callers that adapt (sweeps lower concurrency on 429s).
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "rate_limited": 0}
        self._stats_lock = threading.Lock()
        self._transport = transport
        if transport is None and profile.name == "sim":
            from .sim import SimTransport

            self._transport = SimTransport()

    # -- public helpers -------------------------------------------------------------------
    @property
    def simulated(self) -> bool:
        return self.provider.name == "sim"

    @property
    def has_key(self) -> bool:
        return bool(self._api_key)

    def __repr__(self) -> str:
        key = "set" if self._api_key else "unset"
        return (
            f"{type(self).__name__}(provider={self.provider.name!r}, "
            f"base_url={self.base_url!r}, api_key={key})"
        )

    # -- request preparation ----------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"grokbook/{_version}",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def _prepare(
        self,
        prompt: Messages,
        *,
        model: str | None,
        reasoning_effort: str | None,
        system: str | None,
        temperature: float | None,
        max_tokens: int | None,
        top_p: float | None,
        seed: int | None,
        extra_body: Mapping[str, Any] | None,
        stream: bool,
    ) -> ChatRequest:
        return build_request(
            self.provider,
            self.base_url,
            prompt,
            model=model or default_model(),
            reasoning_effort=reasoning_effort,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            seed=seed,
            stream=stream,
            extra_body=extra_body,
        )

    # -- errors and retries -----------------------------------------------------------------
    def _transport_error(self, exc: httpx.HTTPError, request: ChatRequest) -> APIError:
        host = httpx.URL(request.url).host
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"The request to {host} timed out ({type(exc).__name__}). Reasoning models can "
                "think for minutes: raise timeout=..., or try again."
            )
        detail = redact(str(exc), self._secrets()) or type(exc).__name__
        return APIConnectionError(
            f"Could not reach {host}: {detail}. Check your network and base_url."
        )

    def _status_error(self, response: httpx.Response, body: bytes) -> APIStatusError:
        return make_status_error(
            response.status_code,
            body,
            request_id=response.headers.get("x-request-id") or response.headers.get("request-id"),
            retry_after_s=_retry.parse_retry_after(response.headers),
            secrets=self._secrets(),
        )

    def _retry_wait(self, attempt: int, error: APIError) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up."""
        retryable = isinstance(error, APIConnectionError) or (
            isinstance(error, APIStatusError) and _retry.is_retryable_status(error.status_code)
        )
        with self._stats_lock:
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

    def _count_request(self) -> None:
        with self._stats_lock:
            self.stats["requests"] += 1

    def _parse(self, request: ChatRequest, response: httpx.Response, started: float) -> Completion:
        latency = time.perf_counter() - started
        data = _parse_json(response.content, response.status_code, self._secrets())
        completion = parse_completion(
            request, data, latency_s=latency, status_code=response.status_code
        )
        logger.debug(
            "grokbook: %s answered %s in %.3fs", request.provider.name, completion.model, latency
        )
        return completion

    # -- run log and response cache ---------------------------------------------------------
    def _cache_key(self, request: ChatRequest, repeat: int) -> str:
        from .store import cache_key

        return cache_key(request, repeat)

    def _cache_lookup(
        self,
        request: ChatRequest,
        repeat: int,
        tags: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> Completion | None:
        """The stored answer for an identical request (``cached=True``, cost 0), or None.

        A hit is logged as a cached run-log row (when logging is on); never raises.
        """
        from .store import get_store

        try:
            store = get_store()
            if store is None:
                return None
            return store.lookup(
                key or self._cache_key(request, repeat),
                request=request,
                repeat=repeat,
                tags=tags,
                log=self.log,
                secrets=self._secrets(),
            )
        except Exception as exc:  # the cache must never fail a call
            logger.warning("grokbook: cache lookup failed (%s); calling the API", exc)
            return None

    def _record(
        self,
        request: ChatRequest,
        completion: Completion | None,
        error: BaseException | None,
        *,
        cache: bool,
        repeat: int,
        tags: Mapping[str, Any] | None,
        key: str | None = None,
    ) -> None:
        """Append the call to the run log and (on success) the cache; never raises.

        Only queues the call: the store's writer thread builds and writes the rows.
        """
        if not self.log and not (cache and completion is not None):
            return
        from .store import get_store

        try:
            store = get_store()
            if store is None:
                return
            store.record(
                request,
                completion,
                error,
                cache_key=(key or self._cache_key(request, repeat)) if cache else None,
                log=self.log,
                repeat=repeat,
                tags=tags,
                secrets=self._secrets(),
            )
        except Exception as exc:  # the run log must never fail a call
            logger.warning("grokbook: could not record the call (%s)", exc)


class Client(_BaseClient):
    """Synchronous Grok client. See the module docstring for examples.

    ``transport`` is the one test seam: pass ``httpx.MockTransport(handler)`` or the
    simulator's ``SimTransport()``.
    """

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = _retry.DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        *,
        log: bool | None = None,
    ) -> None:
        super().__init__(provider, api_key, base_url, timeout, max_retries, transport, log=log)
        self._http = httpx.Client(
            timeout=self.timeout,
            transport=self._transport,  # type: ignore[arg-type]
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self.close()

    def chat(
        self,
        prompt: Messages,
        *,
        model: str | None = None,
        reasoning_effort: str | None = None,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        cache: bool = False,
        repeat: int = 0,
        tags: Mapping[str, Any] | None = None,
    ) -> Completion:
        """Ask once and wait for the whole answer.

        ``prompt`` is a string (sent as one user message) or a list of messages.
        ``cache=True`` returns a stored answer for an identical request (and ``repeat``
        index) without calling the API. Raises :mod:`grokbook.errors` exceptions only.
        """
        request = self._prepare(
            prompt,
            model=model,
            reasoning_effort=reasoning_effort,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            seed=seed,
            extra_body=extra_body,
            stream=False,
        )
        # The key is hashed once per call: for the lookup and, on a miss, for storing.
        key = self._cache_key(request, repeat) if cache else None
        if key is not None:
            hit = self._cache_lookup(request, repeat, tags, key)
            if hit is not None:
                return hit
        try:
            completion = self._chat(request)
        except APIError as exc:
            self._record(request, None, exc, cache=False, repeat=repeat, tags=tags)
            raise
        self._record(request, completion, None, cache=cache, repeat=repeat, tags=tags, key=key)
        return completion

    def _chat(self, request: ChatRequest) -> Completion:
        attempt = 0
        while True:
            started = time.perf_counter()
            self._count_request()
            error: APIError
            try:
                response = self._http.post(request.url, json=request.body, headers=self._headers())
            except httpx.HTTPError as exc:
                error = self._transport_error(exc, request)
                cause: BaseException = exc
            else:
                if response.is_success:
                    return self._parse(request, response, started)
                error = self._status_error(response, response.content)
                cause = error
            delay = self._retry_wait(attempt, error)
            if delay is None:
                if cause is error:
                    raise error
                raise error from cause
            time.sleep(delay)
            attempt += 1

    def stream(
        self,
        prompt: Messages,
        *,
        model: str | None = None,
        reasoning_effort: str | None = None,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        cache: bool = False,
        repeat: int = 0,
        tags: Mapping[str, Any] | None = None,
    ) -> ChatStream:
        """Stream the answer: iterate for StreamEvents; ``.completion`` once it ends.

        Validation happens here, before anything is sent. Use it as a context manager (or
        iterate to the end) so the connection is released. With ``cache=True`` an identical
        earlier answer (streamed or not) is replayed as events without calling the API, and a
        newly streamed answer is stored for next time.
        """
        request = self._prepare(
            prompt,
            model=model,
            reasoning_effort=reasoning_effort,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            seed=seed,
            extra_body=extra_body,
            stream=True,
        )
        return ChatStream(self, request, tags=tags, cache=cache, repeat=repeat)

    def models(self) -> list[str]:
        """Model ids the provider lists (``GET /v1/models``)."""
        data = self._get("/models")
        return _model_ids(data)

    def refresh_catalog(self) -> list[str]:
        """Update catalog prices and aliases from ``GET /v1/language-models``; the ids updated."""
        return catalog.update_from_language_models(_as_mapping(self._get("/language-models")))

    def _get(self, path: str) -> Any:
        url = self.base_url + path
        attempt = 0
        dummy = ChatRequest(self.provider, self.base_url, "", None, (), {})
        while True:
            self._count_request()
            try:
                response = self._http.get(url, headers=self._headers())
            except httpx.HTTPError as exc:
                error: APIError = self._transport_error(exc, dummy)
                cause: BaseException = exc
            else:
                if response.is_success:
                    return _parse_json(response.content, response.status_code, self._secrets())
                error = self._status_error(response, response.content)
                cause = error
            delay = self._retry_wait(attempt, error)
            if delay is None:
                raise error from (None if cause is error else cause)
            time.sleep(delay)
            attempt += 1


class AsyncClient(_BaseClient):
    """Asynchronous Grok client: the same API as :class:`Client`, awaited.

    Safe to use from several event loops (e.g. a notebook's and a sweep's worker thread):
    each loop gets its own connection pool. Network calls use aiohttp's connection pool
    under httpx (``httpx-aiohttp``): same requests, responses and errors, but several times
    less CPU per call in wide sweeps. ``limits`` caps connections per loop.
    """

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = _retry.DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        log: bool | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        super().__init__(provider, api_key, base_url, timeout, max_retries, transport, log=log)
        # httpx's defaults: more idle connections than this slow httpcore's pool down.
        self._limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pools: dict[int, tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        entry = self._pools.get(id(loop))
        if entry is None or entry[0] is not loop:
            transport = self._transport
            if transport is None:
                # Network calls go over aiohttp (see grokbook/_aiohttp.py for why); its
                # sessions are bound to a loop, so each loop gets its own transport.
                from ._aiohttp import AiohttpTransport

                transport = AiohttpTransport(self._limits)
            http = httpx.AsyncClient(
                timeout=self.timeout,
                transport=transport,  # type: ignore[arg-type]
                limits=self._limits,
                follow_redirects=False,
            )
            self._pools[id(loop)] = (loop, http)
            return http
        return entry[1]

    async def aclose(self) -> None:
        """Close the connection pool of the running loop (others close with their loops)."""
        loop = asyncio.get_running_loop()
        entry = self._pools.pop(id(loop), None)
        if entry is not None:
            await entry[1].aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def chat(
        self,
        prompt: Messages,
        *,
        model: str | None = None,
        reasoning_effort: str | None = None,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        cache: bool = False,
        repeat: int = 0,
        tags: Mapping[str, Any] | None = None,
    ) -> Completion:
        """Ask once and wait for the whole answer (see :meth:`Client.chat`)."""
        request = self._prepare(
            prompt,
            model=model,
            reasoning_effort=reasoning_effort,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            seed=seed,
            extra_body=extra_body,
            stream=False,
        )
        # The key is hashed once per call: for the lookup and, on a miss, for storing.
        key = self._cache_key(request, repeat) if cache else None
        if key is not None:
            hit = self._cache_lookup(request, repeat, tags, key)
            if hit is not None:
                return hit
        try:
            completion = await self._chat(request)
        except APIError as exc:
            self._record(request, None, exc, cache=False, repeat=repeat, tags=tags)
            raise
        self._record(request, completion, None, cache=cache, repeat=repeat, tags=tags, key=key)
        return completion

    async def _chat(self, request: ChatRequest) -> Completion:
        attempt = 0
        http = self._http()
        while True:
            started = time.perf_counter()
            self._count_request()
            error: APIError
            try:
                response = await http.post(request.url, json=request.body, headers=self._headers())
            except httpx.HTTPError as exc:
                error = self._transport_error(exc, request)
                cause: BaseException = exc
            else:
                if response.is_success:
                    return self._parse(request, response, started)
                error = self._status_error(response, response.content)
                cause = error
            delay = self._retry_wait(attempt, error)
            if delay is None:
                raise error from (None if cause is error else cause)
            await asyncio.sleep(delay)
            attempt += 1

    def stream(
        self,
        prompt: Messages,
        *,
        model: str | None = None,
        reasoning_effort: str | None = None,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        cache: bool = False,
        repeat: int = 0,
        tags: Mapping[str, Any] | None = None,
    ) -> AsyncChatStream:
        """Stream the answer: ``async for event in client.stream(...)``; ``.completion`` at end."""
        request = self._prepare(
            prompt,
            model=model,
            reasoning_effort=reasoning_effort,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            seed=seed,
            extra_body=extra_body,
            stream=True,
        )
        return AsyncChatStream(self, request, tags=tags, cache=cache, repeat=repeat)

    async def models(self) -> list[str]:
        """Model ids the provider lists (``GET /v1/models``)."""
        return _model_ids(await self._get("/models"))

    async def refresh_catalog(self) -> list[str]:
        """Update catalog prices and aliases from ``GET /v1/language-models``."""
        data = await self._get("/language-models")
        return catalog.update_from_language_models(_as_mapping(data))

    async def _get(self, path: str) -> Any:
        url = self.base_url + path
        attempt = 0
        http = self._http()
        dummy = ChatRequest(self.provider, self.base_url, "", None, (), {})
        while True:
            self._count_request()
            try:
                response = await http.get(url, headers=self._headers())
            except httpx.HTTPError as exc:
                error: APIError = self._transport_error(exc, dummy)
                cause: BaseException = exc
            else:
                if response.is_success:
                    return _parse_json(response.content, response.status_code, self._secrets())
                error = self._status_error(response, response.content)
                cause = error
            delay = self._retry_wait(attempt, error)
            if delay is None:
                raise error from (None if cause is error else cause)
            await asyncio.sleep(delay)
            attempt += 1


def _model_ids(data: Any) -> list[str]:
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ResponseParseError("The model list is not the expected {'data': [...]} shape.")
    return [e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]


def _as_mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ResponseParseError("The language-model list is not a JSON object.")
    return data


class _StreamBase:
    def __init__(
        self,
        client: _BaseClient,
        request: ChatRequest,
        tags: Mapping[str, Any] | None,
        *,
        cache: bool = False,
        repeat: int = 0,
    ):
        self._client = client
        self.request = request
        self._tags = tags
        self._cache = cache
        self._repeat = repeat
        self._key: str | None = None
        self._completion: Completion | None = None
        self._error: BaseException | None = None
        self._started = False

    def _cached(self) -> list[StreamEvent] | None:
        """With ``cache=True``: the stored answer replayed as events, or None on a miss."""
        if not self._cache:
            return None
        self._key = self._client._cache_key(self.request, self._repeat)
        hit = self._client._cache_lookup(self.request, self._repeat, self._tags, self._key)
        if hit is None:
            return None
        self._completion = hit
        return _events_of(hit)

    @property
    def completion(self) -> Completion:
        """The finished Completion; available once the stream has been read to its end."""
        if self._completion is None:
            if self._error is not None:
                raise self._error
            raise RuntimeError(
                "The stream has not finished yet: iterate over it to the end first "
                "(or call .until_done())."
            )
        return self._completion

    @property
    def content(self) -> str:
        """The answer received so far."""
        return "".join(self._acc.content) if hasattr(self, "_acc") else ""

    def _begin(self) -> StreamAccumulator:
        if self._started:
            raise RuntimeError("A stream can be iterated only once.")
        self._started = True
        self._acc = StreamAccumulator(self.request, time.perf_counter())
        return self._acc

    def _non_sse(self, response: httpx.Response, body: bytes) -> list[StreamEvent]:
        """A 2xx that is not SSE: a server that ignored ``stream`` (JSON) or a proxy page."""
        data = _parse_json(body, response.status_code, self._client._secrets())
        completion = parse_completion(
            self.request,
            data,
            latency_s=time.perf_counter() - self._acc.started,
            status_code=response.status_code,
        )
        self._completion = completion
        return _events_of(completion)

    def _finish(self, error: BaseException | None) -> None:
        if error is not None:
            self._error = error
        self._client._record(
            self.request,
            self._completion,
            self._error,
            cache=self._cache and self._error is None,
            repeat=self._repeat,
            tags=self._tags,
            key=self._key,
        )

    def _broken(self, exc: httpx.HTTPError) -> IncompleteStreamError:
        reason = "timed out" if isinstance(exc, httpx.TimeoutException) else "was cut"
        return self._acc.incomplete(
            f"The stream {reason} after {self._acc.chunks} chunks; the partial answer is on "
            "this error as partial_content. Streams are not retried once started: call again."
        )


def _events_of(completion: Completion) -> list[StreamEvent]:
    """A whole answer as stream events: its reasoning, then its content."""
    events = []
    if completion.reasoning:
        events.append(StreamEvent("reasoning", completion.reasoning))
    if completion.content:
        events.append(StreamEvent("content", completion.content))
    return events


def _is_sse(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


class ChatStream(_StreamBase):
    """A streamed answer: iterate for :class:`StreamEvent`; ``.completion`` at the end."""

    _client: Client

    _events: Iterator[StreamEvent] | None = None

    def __iter__(self) -> Iterator[StreamEvent]:
        self._events = self._run()
        return self._events

    def _run(self) -> Iterator[StreamEvent]:
        acc = self._begin()
        replay = self._cached()
        if replay is not None:
            yield from replay
            return
        client = self._client
        request = self.request
        attempt = 0
        try:
            while True:
                client._count_request()
                http_request = client._http.build_request(
                    "POST", request.url, json=request.body, headers=client._headers()
                )
                try:
                    response = client._http.send(http_request, stream=True)
                except httpx.HTTPError as exc:
                    error: APIError = client._transport_error(exc, request)
                    delay = client._retry_wait(attempt, error)
                    if delay is None:
                        raise error from exc
                    time.sleep(delay)
                    attempt += 1
                    continue
                try:
                    if not response.is_success:
                        status_error = client._status_error(response, response.read())
                        delay = client._retry_wait(attempt, status_error)
                        if delay is None:
                            raise status_error
                        time.sleep(delay)
                        attempt += 1
                        continue
                    if not _is_sse(response):
                        yield from self._non_sse(response, response.read())
                        break
                    # First byte received: from here on nothing is retried.
                    decoder = SSEDecoder()
                    try:
                        for chunk in response.iter_bytes():
                            for payload in decoder.feed(chunk):
                                yield from acc.feed(payload)
                        for payload in decoder.flush():
                            yield from acc.feed(payload)
                    except httpx.HTTPError as exc:
                        raise self._broken(exc) from exc
                    self._completion = acc.finish()
                    break
                finally:
                    response.close()
        except GeneratorExit:
            self._finish(
                IncompleteStreamError(
                    "The stream was closed by the caller before it ended.",
                    partial_content="".join(acc.content),
                    partial_reasoning="".join(acc.reasoning),
                )
            )
            raise
        except APIError as exc:
            self._finish(exc)
            raise
        self._finish(None)

    def until_done(self) -> Completion:
        """Read the rest of the stream and return the Completion."""
        if not self._started:
            for _ in self:
                pass
        return self.completion

    def close(self) -> None:
        """Stop reading and release the connection (also done by ``with``)."""
        if isinstance(self._events, Generator):
            self._events.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class AsyncChatStream(_StreamBase):
    """An async streamed answer: ``async for`` events; ``.completion`` at the end."""

    _client: AsyncClient

    _events: AsyncIterator[StreamEvent] | None = None

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        self._events = self._run()
        return self._events

    async def _run(self) -> AsyncIterator[StreamEvent]:
        acc = self._begin()
        replay = self._cached()
        if replay is not None:
            for event in replay:
                yield event
            return
        client = self._client
        request = self.request
        http = client._http()
        attempt = 0
        try:
            while True:
                client._count_request()
                http_request = http.build_request(
                    "POST", request.url, json=request.body, headers=client._headers()
                )
                try:
                    response = await http.send(http_request, stream=True)
                except httpx.HTTPError as exc:
                    error: APIError = client._transport_error(exc, request)
                    delay = client._retry_wait(attempt, error)
                    if delay is None:
                        raise error from exc
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                try:
                    if not response.is_success:
                        status_error = client._status_error(response, await response.aread())
                        delay = client._retry_wait(attempt, status_error)
                        if delay is None:
                            raise status_error
                        await asyncio.sleep(delay)
                        attempt += 1
                        continue
                    if not _is_sse(response):
                        for event in self._non_sse(response, await response.aread()):
                            yield event
                        break
                    decoder = SSEDecoder()
                    try:
                        async for chunk in response.aiter_bytes():
                            for payload in decoder.feed(chunk):
                                for event in acc.feed(payload):
                                    yield event
                        for payload in decoder.flush():
                            for event in acc.feed(payload):
                                yield event
                    except httpx.HTTPError as exc:
                        raise self._broken(exc) from exc
                    self._completion = acc.finish()
                    break
                finally:
                    await response.aclose()
        except (GeneratorExit, asyncio.CancelledError):
            self._finish(
                IncompleteStreamError(
                    "The stream was closed or cancelled before it ended.",
                    partial_content="".join(acc.content),
                    partial_reasoning="".join(acc.reasoning),
                )
            )
            raise
        except APIError as exc:
            self._finish(exc)
            raise
        self._finish(None)

    async def until_done(self) -> Completion:
        """Read the rest of the stream and return the Completion."""
        if not self._started:
            async for _ in self:
                pass
        return self.completion

    async def aclose(self) -> None:
        """Stop reading and release the connection (also done by ``async with``)."""
        if isinstance(self._events, AsyncGenerator):
            await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()
