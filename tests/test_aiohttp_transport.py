"""The AsyncClient's aiohttp transport maps aiohttp failures to the right httpx classes."""

from __future__ import annotations

import aiohttp
import httpx
import pytest

import grokbook as gb
from grokbook._aiohttp import AiohttpTransport, map_exception


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientError("other"), httpx.ReadError),
        # httpx-aiohttp's own coarse mapping is corrected through the cause.
        (httpx.ConnectTimeout("x").with_traceback(None), None),
    ],
)
def test_map_exception(exc: BaseException, expected: type[Exception] | None) -> None:
    mapped = map_exception(exc)
    if expected is None:
        assert mapped is None
    else:
        assert type(mapped) is expected


def test_wrapped_cause_is_remapped() -> None:
    wrapped = httpx.ConnectTimeout("coarse")
    wrapped.__cause__ = aiohttp.ServerDisconnectedError()
    assert type(map_exception(wrapped)) is httpx.RemoteProtocolError


def test_connect_timeout_when_aiohttp_has_it() -> None:
    cls = getattr(aiohttp, "ConnectionTimeoutError", None)
    assert cls is not None, "aiohttp >= 3.10 has ConnectionTimeoutError"
    assert type(map_exception(cls("connect"))) is httpx.ConnectTimeout


async def test_async_client_uses_it_for_network_calls_only() -> None:
    network = gb.AsyncClient(provider="openai", base_url="http://127.0.0.1:9/v1", log=False)
    transport = network._http()._transport
    assert isinstance(transport, AiohttpTransport)
    await network.aclose()
    # A refused connection surfaces as grokbook's connection error, never aiohttp's.
    refused = gb.AsyncClient(
        provider="openai", base_url="http://127.0.0.1:9/v1", log=False, max_retries=0
    )
    with pytest.raises(gb.errors.APIConnectionError):
        await refused.chat("hi")
    await refused.aclose()
    simulated = gb.AsyncClient(provider="sim", log=False)
    assert not isinstance(simulated._http()._transport, AiohttpTransport)
