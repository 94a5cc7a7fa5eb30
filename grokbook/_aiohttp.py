"""The AsyncClient's default network transport: httpx-aiohttp, with precise error mapping.

Why not httpx's own async pool: in a 50-wide sweep over loopback it spends several times the
CPU of aiohttp's connector (httpcore's pool bookkeeping grows with its connections), which
made ``gb.sweep`` slower than the openai SDK; over aiohttp it is the fastest of the peers
(figures in docs/benchmarks.md). Requests and responses stay httpx objects, so everything
above the transport is unchanged.

httpx-aiohttp maps aiohttp's exceptions coarsely (a server that drops the connection becomes
``ConnectTimeout``; some errors pass through unmapped). The client relies on httpx's
exception classes to tell timeouts from resets, so this module maps them precisely, for the
request and while the body streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport as _AiohttpTransport

__all__ = ["AiohttpTransport", "map_exception"]

_AIOHTTP_ERRORS = (aiohttp.ClientError, TimeoutError)


def map_exception(exc: BaseException) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp failure (also one httpx-aiohttp already wrapped)."""
    root = exc
    if isinstance(exc, httpx.HTTPError) and isinstance(exc.__cause__, _AIOHTTP_ERRORS):
        root = exc.__cause__
    if not isinstance(root, _AIOHTTP_ERRORS):
        return None
    message = str(root) or type(root).__name__
    connection_timeout = getattr(aiohttp, "ConnectionTimeoutError", ())
    if isinstance(root, connection_timeout):
        return httpx.ConnectTimeout(message)
    if isinstance(root, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(root, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(root, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)


class _MappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.TransportError, *_AIOHTTP_ERRORS) as exc:
            mapped = map_exception(exc)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        except (httpx.TransportError, *_AIOHTTP_ERRORS):
            # Closing a connection that already broke: the break was reported while reading.
            pass


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over aiohttp (one per event loop: aiohttp sessions are loop-bound)."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._inner = _AiohttpTransport(limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except (httpx.TransportError, *_AIOHTTP_ERRORS) as exc:
            mapped = map_exception(exc)
            if mapped is None:
                raise
            raise mapped from exc
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_MappedStream(response.stream),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
