"""Client and AsyncClient: one way to call Grok, whoever serves it, on either wire.

>>> import grokbook as gb
>>> client = gb.Client(provider="sim")            # gb.Client() picks xAI when XAI_API_KEY is set
>>> r = client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
>>> r.content, r.simulated                   # (without a key)
('101 * 3 = 303', True)
>>> r.usage.output_tokens == r.usage.reasoning_tokens + r.usage.completion_tokens
True

Streaming yields :class:`~grokbook.StreamEvent` pieces (reasoning first, then the answer); the
finished :class:`~grokbook.Completion` is on the stream's ``.completion`` once it ends:

    >>> with client.stream("What is 101*3?", model="grok-3-mini-beta") as stream:
    ...     kinds = [event.kind for event in stream]    # print(event.text, end="") to watch
    >>> kinds[0], kinds[-1], stream.completion.content
    ('reasoning', 'content', '101 * 3 = 303')

The async client is the same with ``await`` / ``async for`` / ``async with``.

How a call is made: the options are validated and turned into a request body by the wire
(``_core``, ``_wire_chat`` / ``_wire_responses``: pure), the one retry plan of
:mod:`grokbook._pipeline` sends it (a thin sync or async driver), and the wire parses what
comes back. Only this module, the pipeline and the simulator's transport touch httpx; callers
see :mod:`grokbook.errors` exceptions only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from . import __version__ as _version
from . import _pipeline, _retry, catalog, providers
from ._core import CallOptions, ChatRequest, Messages, Wire, build_request, split_options
from ._core import parse_json_body as _parse_json
from ._pipeline import Policy, ResponseLimits, Send
from ._wire import StreamState, wire_for
from .catalog import DEFAULT_MODEL, default_model
from .errors import (
    APIError,
    GrokbookError,
    MissingAPIKeyError,
    ResponseParseError,
    UnsupportedParameterError,
)
from .providers import Provider, _clean_key, _Secret, hidden_key, select
from .result import Completion, StreamEvent

__all__ = ["DEFAULT_MODEL", "AsyncChatStream", "AsyncClient", "ChatStream", "Client", "Reply"]

logger = logging.getLogger("grokbook")


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return _retry.DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    _check_seconds(value, "timeout")
    return httpx.Timeout(float(value), connect=min(float(value), 10.0))


def _check_seconds(value: object, name: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise UnsupportedParameterError(
            f"{name} must be a positive, finite number of seconds: {value!r}"
        )


def _limits(
    timeout: httpx.Timeout, stream_timeout: float | None, max_response_bytes: int | None
) -> ResponseLimits:
    """The response limits a client's arguments mean: ``timeout`` (its read value) is both
    the deadline of a non-streamed response and a stream's longest silence between events."""
    if stream_timeout is not None:
        _check_seconds(stream_timeout, "stream_timeout")
    if max_response_bytes is None:
        max_response_bytes = _retry.DEFAULT_MAX_RESPONSE_BYTES
    elif (
        isinstance(max_response_bytes, bool)
        or not isinstance(max_response_bytes, int)
        or max_response_bytes <= 0
    ):
        raise UnsupportedParameterError(
            f"max_response_bytes must be a positive integer: {max_response_bytes!r}"
        )
    return ResponseLimits(
        deadline_s=timeout.read,
        idle_s=timeout.read,
        stream_total_s=None if stream_timeout is None else float(stream_timeout),
        max_bytes=max_response_bytes,
    )


@dataclass(frozen=True)
class Reply:
    """What :meth:`Client.request` returns: the HTTP status and the JSON body (None if empty)."""

    status_code: int
    data: Any


#: Methods whose retry cannot do a thing twice (RFC 9110, 9.2.2).
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class _BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer ...`` as the request leaves, so no grokbook frame holds it."""

    def __init__(self, key: _Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._key.reveal()
        yield request


def _check_base_url(url: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise UnsupportedParameterError(
            f"base_url must start with http:// or https://; got {url!r}."
        )
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UnsupportedParameterError(
            f"base_url {url!r} is not a valid URL ({exc}); e.g. 'http://127.0.0.1:8000/v1'."
        ) from exc
    if not parsed.host or "\x00" in url:
        raise UnsupportedParameterError(f"base_url {url!r} names no host.")
    return url.rstrip("/")


class _BaseClient:
    """Configuration, and the steps of a call that do no I/O, shared by both clients."""

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
        wire: Wire | None = None,
        stream_timeout: float | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        api_key = hidden_key(api_key)  # first: no frame below shows the key in plain text
        profile = select(provider)
        self.provider: Provider = profile
        # Chosen for want of a key: says so once if used after a %grok login (_login_notice).
        self._before_login = provider is None and profile.name == "sim"
        # A key from %grok login (providers.login) is shared, so logout reaches this client
        # (and a sync/async twin shares its original's).
        secret = api_key if isinstance(api_key, _Secret) else None
        if api_key is None:
            secret = providers.session_key(profile.name)
        if secret is None:
            key = api_key
            where = "api_key"
            if key is None and profile.key_env:
                key = hidden_key(os.environ.get(profile.key_env) or None)
                where = profile.key_env
            if key is not None:
                key = _clean_key(key, where) or None
            secret = _Secret(key) if key else None
        if profile.needs_key and secret is None and transport is None:
            raise MissingAPIKeyError(profile.name, profile.key_env or "", profile.console_url)
        self._key: _Secret | None = secret
        url = base_url or os.environ.get("GROKBOOK_BASE_URL") or profile.base_url
        if not url:
            raise UnsupportedParameterError(
                f"Provider {profile.name!r} needs a server: pass base_url='http://host:port/v1' "
                "or set GROKBOOK_BASE_URL."
            )
        self.base_url: str = _check_base_url(url)
        self.timeout = _timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UnsupportedParameterError(f"max_retries must be an integer >= 0: {max_retries!r}")
        self.max_retries = max_retries
        if wire is not None and wire not in profile.wires:
            raise UnsupportedParameterError(
                f"Provider {profile.name!r} speaks {' and '.join(profile.wires)}; "
                f"wire={wire!r} is not one of them."
            )
        preferred = os.environ.get("GROKBOOK_WIRE", "").strip().lower()
        if wire is None and preferred in profile.wires:
            # A session preference: providers that do not speak it keep their default.
            wire = "chat" if preferred == "chat" else "responses"
        #: The wire used when a call names none (``wire=``, else ``GROKBOOK_WIRE`` where the
        #: provider speaks it, else the provider's default: responses on xAI).
        self.wire: Wire = wire or profile.default_wire
        if log is None:
            log = os.environ.get("GROKBOOK_LOG", "1").strip().lower() not in ("0", "false", "no")
        self.log = log
        secrets = self._secrets()
        self._policy = Policy(
            max_retries,
            # Not the bound method: a client in no reference cycle is freed as soon as it is
            # dropped, and its pools close on their loops (see _closed_with_its_loop).
            lambda: secrets,
            _limits(self.timeout, stream_timeout, max_response_bytes),
        )
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
        return self._key is not None and bool(self._key.reveal())

    @property
    def stats(self) -> dict[str, int]:
        """Counters: requests sent, retries, 429s seen (sweeps adapt concurrency on them)."""
        return self._policy.stats

    def __repr__(self) -> str:
        key = "set" if self.has_key else "unset"
        return (
            f"{type(self).__name__}(provider={self.provider.name!r}, "
            f"base_url={self.base_url!r}, wire={self.wire!r}, api_key={key})"
        )

    def _secrets(self) -> tuple[str, ...]:
        # The key as a HiddenKey: a tuple of it shows redacted wherever it is a local.
        return (self._key.hidden(),) if self._key and self._key.reveal() else ()

    def _login_notice(self, kind: str | None = None) -> str | None:
        """Once: the line saying that this client (or the ``kind`` of object holding it),
        created for want of a key before ``%grok login``, still runs on the simulator (None
        when that is not the case)."""
        logged_in = providers.logged_in() if self._before_login else None
        if logged_in is None:
            return None
        self._before_login = False
        profile = providers.PROVIDERS[logged_in]
        return providers.BEFORE_LOGIN_NOTICE.format(
            kind=kind or type(self).__name__, label=profile.label or profile.name
        )

    def _request_send(
        self, method: str, path: str, json: Any, params: Mapping[str, Any] | None, files: Any
    ) -> Send:
        if not path.startswith("/"):
            raise UnsupportedParameterError(f"path must start with '/': {path!r}")
        url = self.base_url + path
        if params:
            url = str(httpx.URL(url, params={k: v for k, v in params.items() if v is not None}))
        method = method.upper()
        # Creating things (a batch, an uploaded file) must not happen twice on a retry.
        return Send(method, url, json, files=files, idempotent=method in _IDEMPOTENT_METHODS)

    def _reply(self, response: httpx.Response) -> Reply:
        content = response.content
        data = _parse_json(content, response.status_code, self._secrets()) if content else None
        return Reply(response.status_code, data)

    def _http_options(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout,
            "follow_redirects": False,
            "headers": {
                "Accept": "application/json",
                "User-Agent": f"grokbook/{_version}",
            },
            "auth": _BearerAuth(self._key) if self._key else None,
        }

    def _config(self) -> dict[str, Any]:
        """The arguments that make a client like this one (for the sync/async twin)."""
        return {
            "provider": self.provider.name,
            "api_key": self._key,  # the same secret: a logout reaches the twin too
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "log": self.log,
            "wire": self.wire,
            "stream_timeout": self._policy.limits.stream_total_s,
            "max_response_bytes": self._policy.limits.max_bytes,
        }

    # -- the pure steps of a call -----------------------------------------------------------
    def _say_login_notice(self) -> None:
        """Used now: say (once) that a client made before ``%grok login`` is simulated."""
        notice = self._login_notice()
        if notice is not None:
            providers.notify(notice)

    def _call(self, prompt: Messages, options: Mapping[str, Any], *, stream: bool) -> _Call:
        self._say_login_notice()
        if self._key is not None and not self._key.reveal():  # forgotten by %grok logout
            raise MissingAPIKeyError(
                self.provider.name, self.provider.key_env or "", self.provider.console_url
            )
        request_options, cache, repeat, tags = split_options(options)
        model = request_options.pop("model", None)
        if model is None:  # not given: the default; given but empty is refused by build_request
            model = default_model()
        wire = request_options.pop("wire", None) or self.wire
        request = build_request(
            self.provider,
            self.base_url,
            prompt,
            model=model,
            stream=stream,
            wire=wire,
            **request_options,
        )
        return _Call(self, request, cache=cache, repeat=repeat, tags=tags)

    def prefetch_cache(self, calls: Iterable[tuple[Messages, Mapping[str, Any]]]) -> list[str]:
        """Read the cached answers of many calls at once, so that each call's own lookup
        needs no query (a sweep runs this in a thread before dispatching its grid).

        ``calls`` are ``(prompt, options)`` pairs as :meth:`Client.chat` takes them; calls
        with ``cache`` off, or that would be refused, are skipped (the call itself reports
        the error). Returns the keys read: pass them to :meth:`forget_prefetched`.
        """
        from .store import get_store

        store = get_store()
        if store is None:
            return []
        keys = []
        for prompt, options in calls:
            try:
                key = self._call(prompt, options, stream=False).key
            except GrokbookError:
                continue
            if key is not None:
                keys.append(key)
        store.prefetch(keys)
        return keys

    def forget_prefetched(self, keys: Iterable[str]) -> None:
        """Release what :meth:`prefetch_cache` read."""
        from .store import get_store

        store = get_store()
        if store is not None and keys:
            store.forget_prefetched(keys)

    def _completion(
        self, request: ChatRequest, response: httpx.Response, started: float, body: bytes
    ) -> Completion:
        latency = time.perf_counter() - started
        secrets = self._secrets()
        data = _parse_json(body, response.status_code, secrets)
        completion: Completion = wire_for(request).parse(
            request, data, latency_s=latency, status_code=response.status_code, secrets=secrets
        )
        logger.debug(
            "grokbook: %s answered %s in %.3fs", request.provider.name, completion.model, latency
        )
        return completion

    def _stream_state(self, request: ChatRequest) -> StreamState:
        state: StreamState = wire_for(request).Stream(request, time.perf_counter(), self._secrets())
        return state


class _Call:
    """One call's request and its run-log / cache bookkeeping (never raises from the store)."""

    def __init__(
        self,
        client: _BaseClient,
        request: ChatRequest,
        *,
        cache: bool,
        repeat: int,
        tags: Mapping[str, Any] | None,
    ) -> None:
        self.client = client
        self.request = request
        self.cache = cache
        self.repeat = repeat
        self.tags = tags
        # The key is hashed once per call: for the lookup and, on a miss, for storing.
        self.key: str | None = None
        if cache:
            from .store import cache_key

            self.key = cache_key(request, repeat)

    @property
    def send(self) -> Send:
        return Send("POST", self.request.url, self.request.body, stream=self.request.stream)

    def lookup(self) -> Completion | None:
        """The stored answer for an identical request (``cached=True``), or None.

        A hit is logged as a cached run-log row (when logging is on).
        """
        if self.key is None:
            return None
        from .store import get_store

        try:
            store = get_store()
            if store is None:
                return None
            return store.lookup(
                self.key,
                request=self.request,
                repeat=self.repeat,
                tags=self.tags,
                log=self.client.log,
                secrets=self.client._secrets(),
            )
        except Exception as exc:  # the cache must never fail a call
            logger.warning("grokbook: cache lookup failed (%s); calling the API", exc)
            return None

    def record(self, completion: Completion | None, error: BaseException | None) -> None:
        """Queue the call for the run log and (on success) the cache; never raises."""
        store_it = self.key is not None and completion is not None and error is None
        if not self.client.log and not store_it:
            return
        from .store import get_store

        try:
            store = get_store()
            if store is None:
                return
            store.record(
                self.request,
                completion,
                error,
                cache_key=self.key if store_it else None,
                log=self.client.log,
                repeat=self.repeat,
                tags=self.tags,
                secrets=self.client._secrets(),
            )
        except Exception as exc:  # the run log must never fail a call
            logger.warning("grokbook: could not record the call (%s)", exc)


class Client(_BaseClient):
    """Synchronous Grok client. See the module docstring for examples.

    ``transport`` is the one test seam: pass ``httpx.MockTransport(handler)`` or the
    simulator's ``SimTransport()``. ``wire`` picks the protocol for calls that name none
    (xAI: ``"responses"``, its recommended API; ``"chat"`` for Chat Completions).

    Limits, all deadlines rather than httpx's per-read timeouts: ``timeout`` (seconds, default
    900, xAI's advice for reasoning models) is the time a non-streamed answer has to arrive
    whole, per attempt, and the longest a stream may go without an event;
    ``stream_timeout`` (default none) caps a whole stream; ``max_response_bytes`` (default
    64 MiB, decoded) caps any body or stream. Past them: ``APITimeoutError``
    (``StreamTimeoutError`` for streams, with the partial answer) or
    ``ResponseTooLargeError``. Bad values are refused here, not on the first request.
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
        wire: Wire | None = None,
        stream_timeout: float | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        api_key = hidden_key(api_key)  # first: a traceback through here shows it redacted
        super().__init__(
            provider,
            api_key,
            base_url,
            timeout,
            max_retries,
            transport,
            log=log,
            wire=wire,
            stream_timeout=stream_timeout,
            max_response_bytes=max_response_bytes,
        )
        self._http = httpx.Client(
            transport=self._transport,  # type: ignore[arg-type]
            **self._http_options(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self.close()

    def _send(self, send: Send) -> tuple[httpx.Response, float]:
        plan = _pipeline.exchange(self._policy, send)
        return _pipeline.run_sync(self._http, plan, self._policy.limits)

    def chat(self, prompt: Messages, **options: Unpack[CallOptions]) -> Completion:
        """Ask once and wait for the whole answer.

        ``prompt`` is a string (sent as one user message) or a list of messages. Options:
        ``model``, ``reasoning_effort``, ``system``, ``temperature``, ``max_tokens``,
        ``top_p``, ``seed``, ``tools``, ``extra_body``, ``wire``, and on Responses ``store``,
        ``previous_response_id``, ``include_encrypted_reasoning``, ``prompt_cache_key``
        (see :class:`grokbook._core.RequestOptions`). ``cache=True`` returns a stored answer
        for an identical request (and ``repeat`` index) without calling the API; ``tags``
        go to the run log. Raises :mod:`grokbook.errors` exceptions only.
        """
        call = self._call(prompt, options, stream=False)
        hit = call.lookup()
        if hit is not None:
            return hit
        try:
            response, started = self._send(call.send)
            completion = self._completion(call.request, response, started, response.content)
        except APIError as exc:
            call.record(None, exc)
            raise
        call.record(completion, None)
        return completion

    def stream(self, prompt: Messages, **options: Unpack[CallOptions]) -> ChatStream:
        """Stream the answer: iterate for StreamEvents; ``.completion`` once it ends.

        Takes the options of :meth:`chat`. Validation happens here, before anything is sent.
        Use it as a context manager (or iterate to the end) so the connection is released.
        With ``cache=True`` an identical earlier answer (streamed or not) is replayed as
        events without calling the API, and a newly streamed answer is stored for next time.
        """
        return ChatStream(self._call(prompt, options, stream=True))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
    ) -> Reply:
        """Any other endpoint of the provider's API, through the same retry policy and errors.

        ``path`` is relative to ``base_url`` (``"/batches"``); ``json`` the body, ``params``
        the query string, ``files`` a multipart upload (httpx's ``files=``, streamed from
        the file object). Returns the status and parsed JSON (None for an empty body) of a
        2xx answer; anything else raises the :mod:`grokbook.errors` exception, after retries
        where they apply. Used by :mod:`grokbook.batch` (files, batches, deferred calls).
        """
        response, _ = self._send(self._request_send(method, path, json, params, files))
        return self._reply(response)

    def models(self) -> list[str]:
        """Model ids the provider lists (``GET /v1/models``)."""
        return _model_ids(self._get("/models"))

    def refresh_catalog(self) -> list[str]:
        """Update catalog prices and aliases from ``GET /v1/language-models``; the ids updated."""
        return catalog.update_from_language_models(_as_mapping(self._get("/language-models")))

    def _get(self, path: str) -> Any:
        response, _ = self._send(Send("GET", self.base_url + path))
        return _parse_json(response.content, response.status_code, self._secrets())

    def _async_twin(self) -> AsyncClient:
        """An AsyncClient with this client's configuration and transport (for sweeps)."""
        transport = self._transport
        if transport is not None and not hasattr(transport, "handle_async_request"):
            raise UnsupportedParameterError(
                f"The Client's transport ({type(transport).__name__}) is sync only; a sweep "
                "needs async. Pass an AsyncClient, or a transport that serves both "
                "(httpx.MockTransport, the simulator's SimTransport)."
            )
        self._say_login_notice()  # the twin is made for a sweep: this client is being used
        return AsyncClient(**self._config(), transport=transport)  # type: ignore[arg-type]

    @classmethod
    def like(cls, client: Client | AsyncClient | None) -> tuple[Client, bool]:
        """A sync Client for ``client`` (itself, or one with an AsyncClient's configuration and
        transport), and whether it was created here (the caller closes it)."""
        if client is None:
            return cls(), True
        if isinstance(client, Client):
            return client, False
        if isinstance(client, AsyncClient):
            transport = client._transport
            if transport is not None and not hasattr(transport, "handle_request"):
                raise UnsupportedParameterError(
                    f"The AsyncClient's transport ({type(transport).__name__}) is async only; "
                    "this needs a sync one. Pass a Client, or a transport that serves both "
                    "(httpx.MockTransport, the simulator's SimTransport)."
                )
            client._say_login_notice()
            return cls(**client._config(), transport=transport), True  # type: ignore[arg-type]
        raise UnsupportedParameterError(
            f"client must be a grokbook Client or AsyncClient (or None), not "
            f"{type(client).__name__}."
        )


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
        wire: Wire | None = None,
        stream_timeout: float | None = None,
        max_response_bytes: int | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        api_key = hidden_key(api_key)  # first: a traceback through here shows it redacted
        super().__init__(
            provider,
            api_key,
            base_url,
            timeout,
            max_retries,
            transport,
            log=log,
            wire=wire,
            stream_timeout=stream_timeout,
            max_response_bytes=max_response_bytes,
        )
        # httpx's defaults: more idle connections than this slow httpcore's pool down.
        self._limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pools: dict[int, _Pool] = {}

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        entry = self._pools.get(id(loop))
        if entry is None or entry.loop is not loop:
            transport = self._transport
            closer = None
            if transport is None:
                # Network calls go over aiohttp (see grokbook/_aiohttp.py for why); its
                # sessions are bound to a loop, so each loop gets its own transport.
                from ._aiohttp import AiohttpTransport

                transport = AiohttpTransport(self._limits)
            http = httpx.AsyncClient(
                transport=transport,  # type: ignore[arg-type]
                limits=self._limits,
                **self._http_options(),
            )
            if self._transport is None:  # ours to close (an injected one is the caller's)
                closer = _closed_with_its_loop(http)
            self._pools[id(loop)] = _Pool(loop, http, closer)
            return http
        return entry.http

    async def reserve_connections(self, count: int) -> None:
        """Let the pool open at least ``count`` connections at once, and keep them alive:
        a sweep calls this with its concurrency, so it is never capped below it (httpx's
        default of 100 would silently halve a concurrency-200 sweep)."""
        current = self._limits.max_connections
        if current is not None and current >= count:
            return
        self._limits = httpx.Limits(
            max_connections=count,
            max_keepalive_connections=count,
            keepalive_expiry=self._limits.keepalive_expiry,
        )
        if self._transport is not None:
            return  # an injected transport is the caller's: never closed behind their back
        # This loop's pool was sized before: the next request opens one of the new size.
        entry = self._pools.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry.close()

    async def aclose(self) -> None:
        """Close the connection pool of the running loop. Pools are also closed without it:
        when their loop ends (``asyncio.run`` returns) or the client is garbage collected,
        so a client never closed leaves no "Unclosed client session" warning behind."""
        loop = asyncio.get_running_loop()
        entry = self._pools.pop(id(loop), None)
        if entry is not None:
            await entry.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, send: Send) -> tuple[httpx.Response, float]:
        plan = _pipeline.exchange(self._policy, send)
        return await _pipeline.run_async(self._http(), plan, self._policy.limits)

    async def chat(self, prompt: Messages, **options: Unpack[CallOptions]) -> Completion:
        """Ask once and wait for the whole answer (see :meth:`Client.chat`)."""
        call = self._call(prompt, options, stream=False)
        hit = call.lookup()
        if hit is not None:
            return hit
        try:
            response, started = await self._send(call.send)
            completion = self._completion(call.request, response, started, response.content)
        except APIError as exc:
            call.record(None, exc)
            raise
        call.record(completion, None)
        return completion

    def stream(self, prompt: Messages, **options: Unpack[CallOptions]) -> AsyncChatStream:
        """Stream the answer: ``async for event in client.stream(...)``; ``.completion`` at end."""
        return AsyncChatStream(self._call(prompt, options, stream=True))

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
    ) -> Reply:
        """Any other endpoint of the provider's API (see :meth:`Client.request`)."""
        response, _ = await self._send(self._request_send(method, path, json, params, files))
        return self._reply(response)

    async def models(self) -> list[str]:
        """Model ids the provider lists (``GET /v1/models``)."""
        return _model_ids(await self._get("/models"))

    async def refresh_catalog(self) -> list[str]:
        """Update catalog prices and aliases from ``GET /v1/language-models``."""
        data = await self._get("/language-models")
        return catalog.update_from_language_models(_as_mapping(data))

    async def _get(self, path: str) -> Any:
        response, _ = await self._send(Send("GET", self.base_url + path))
        return _parse_json(response.content, response.status_code, self._secrets())


@dataclass
class _Pool:
    """An AsyncClient's connection pool on one event loop, and what closes it with the loop."""

    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    closer: AsyncGenerator[None, None] | None = None

    async def close(self) -> None:
        if self.closer is not None:
            await self.closer.aclose()  # its finally closes the pool, once
        else:
            await self.http.aclose()


def _closed_with_its_loop(http: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """An async generator, started here and left suspended, whose ``finally`` closes
    ``http``. The running loop tracks it (asyncio's async-generator hooks): when
    ``asyncio.run`` ends, ``loop.shutdown_asyncgens()`` closes it on that loop; if it is
    garbage collected first (the AsyncClient went away), the loop schedules its closing.
    Either way aiohttp's session and connector are closed on their own loop, before it is
    gone, as httpx's own pool needs no closing: no "Unclosed client session" warning."""

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await http.aclose()

    generator = closer()
    with contextlib.suppress(StopIteration):  # (raised when it reaches its yield)
        generator.asend(None).send(None)  # runs it to its yield, registering it with the loop
    return generator


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
    """What the sync and async streams share: the cache replay and the run-log record."""

    def __init__(self, call: _Call) -> None:
        self._call = call
        self.request = call.request
        self._completion: Completion | None = None
        self._error: BaseException | None = None
        self._started = False
        self._state: StreamState | None = None

    def _begin(self) -> list[StreamEvent] | None:
        """Start the stream: the cached answer replayed as events, or None to call the API."""
        if self._started:
            raise RuntimeError("A stream can be iterated only once.")
        self._started = True
        self._state = self._call.client._stream_state(self.request)
        hit = self._call.lookup()
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
        return "".join(self._state.content) if self._state is not None else ""

    def _not_sse(self, response: httpx.Response, started: float, body: bytes) -> list[StreamEvent]:
        """A 2xx that is not SSE: a server that ignored ``stream`` (JSON) or a proxy page."""
        self._completion = self._call.client._completion(self.request, response, started, body)
        return _events_of(self._completion)

    def _closed_early(self, what: str) -> None:
        assert self._state is not None
        self._finish(self._state.incomplete(what))

    def _finish(self, error: BaseException | None) -> None:
        if error is not None:
            self._error = error
        self._call.record(self._completion, self._error)


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

    _events: Iterator[StreamEvent] | None = None

    def __iter__(self) -> Iterator[StreamEvent]:
        self._events = self._run()
        return self._events

    def _run(self) -> Iterator[StreamEvent]:
        replay = self._begin()
        if replay is not None:
            yield from replay
            return
        client = self._call.client
        assert isinstance(client, Client) and self._state is not None
        try:
            response, started = client._send(self._call.send)
            if _is_sse(response):
                yield from _pipeline.stream_sync(response, self._state, client._policy.limits)
                self._completion = self._state.finish()
            else:
                body = _pipeline.read_sync(response, client._policy, self.request.url)
                yield from self._not_sse(response, started, body)
        except GeneratorExit:
            self._closed_early("The stream was closed by the caller before it ended.")
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

    _events: AsyncIterator[StreamEvent] | None = None

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        self._events = self._run()
        return self._events

    async def _run(self) -> AsyncIterator[StreamEvent]:
        replay = self._begin()
        if replay is not None:
            for event in replay:
                yield event
            return
        client = self._call.client
        assert isinstance(client, AsyncClient) and self._state is not None
        try:
            response, started = await client._send(self._call.send)
            if _is_sse(response):
                async for event in _pipeline.stream_async(
                    response, self._state, client._policy.limits
                ):
                    yield event
                self._completion = self._state.finish()
            else:
                body = await _pipeline.read_async(response, client._policy, self.request.url)
                for event in self._not_sse(response, started, body):
                    yield event
        except (GeneratorExit, asyncio.CancelledError):
            self._closed_early("The stream was closed or cancelled before it ended.")
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
