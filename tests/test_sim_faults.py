"""The client's retry and error handling, driven by the simulator's scripted faults."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

import grokbook as gb
from grokbook import errors
from grokbook.sim import Fault, SimTransport


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's retry sleeps, recorded instead of waited (the simulator's are untouched)."""
    recorded: list[float] = []
    fake_time = SimpleNamespace(
        perf_counter=time.perf_counter, monotonic=time.monotonic, sleep=recorded.append
    )
    monkeypatch.setattr("grokbook._pipeline.time", fake_time)
    return recorded


def sim_client(faults: Any, **kwargs: Any) -> tuple[gb.Client, SimTransport]:
    transport = SimTransport(latency="none", faults=faults)
    return gb.Client(provider="sim", transport=transport, log=False, **kwargs), transport


def test_429_retry_after_is_honoured_then_success(waits: list[float]) -> None:
    client, transport = sim_client(["429:retry-after=1.5"])
    r = client.chat("What is 101*3?")
    assert "303" in r.content
    assert waits == [1.5]  # the server's Retry-After, not backoff
    assert client.stats == {"requests": 2, "retries": 1, "rate_limited": 1}
    assert transport.requests_served == 2 and transport.faults_pending == []


def test_503_twice_then_success(waits: list[float]) -> None:
    client, transport = sim_client("503*2")
    r = client.chat("12 + 7 * 2")
    assert r.content == "12 + 7 * 2 = 26"
    assert client.stats["retries"] == 2 and len(waits) == 2
    assert transport.requests_served == 3


def test_retries_exhausted_report_the_count(waits: list[float]) -> None:
    client, _ = sim_client(["500", "500", "500", "ok"], max_retries=2)
    with pytest.raises(errors.InternalServerError) as info:
        client.chat("hi")
    assert info.value.retries == 2 and info.value.status_code == 500


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_cut_stream_keeps_partial_content(wire: str) -> None:
    client, _ = sim_client(["cut"], wire=wire)
    stream = client.stream("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
    seen: list[str] = []
    with pytest.raises(errors.IncompleteStreamError) as info:
        for event in stream:
            seen.append(event.kind)
    error = info.value
    assert "reasoning" in seen and "content" in seen
    assert error.partial_content and "101 * 3 = 303".startswith(error.partial_content)
    assert error.partial_content != "101 * 3 = 303"
    assert "101 * 3 = 303" in error.partial_reasoning
    # Streams are never retried after the first byte.
    assert client.stats["retries"] == 0


def test_cut_after_n_chunks_via_dataclass() -> None:
    client, _ = sim_client([Fault("cut", after_chunks=1)], wire="chat")
    with pytest.raises(errors.IncompleteStreamError) as info:
        list(client.stream("What is 101*3?", model="grok-3-mini-beta"))
    assert info.value.partial_content == "" and info.value.partial_reasoning


def test_html_502_without_retries_is_an_internal_server_error() -> None:
    client, _ = sim_client(["html502"], max_retries=0)
    with pytest.raises(errors.InternalServerError) as info:
        client.chat("hi")
    assert info.value.status_code == 502 and "Bad Gateway" in str(info.value)
    assert "<" not in str(info.value)  # tags stripped from the proxy page


@pytest.mark.parametrize("fault", ["notjson", "truncated"])
def test_broken_200_bodies_are_parse_errors(fault: str) -> None:
    client, _ = sim_client([fault])
    with pytest.raises(errors.ResponseParseError) as info:
        client.chat("hi")
    assert info.value.status_code == 200
    assert client.stats["retries"] == 0


def test_truncated_stream_is_incomplete() -> None:
    client, _ = sim_client(["truncated"])
    with pytest.raises(errors.IncompleteStreamError):
        list(client.stream("What is 101*3?"))


def test_connection_reset_is_retried_then_reported(waits: list[float]) -> None:
    client, _ = sim_client(["reset"])
    assert client.chat("2+2").content == "2 + 2 = 4"
    assert client.stats["retries"] == 1
    client, _ = sim_client(["reset"], max_retries=0)
    with pytest.raises(errors.APIConnectionError, match="reset"):
        client.chat("2+2")


def test_non_stream_cut_is_a_connection_error(waits: list[float]) -> None:
    client, _ = sim_client(["cut"], max_retries=0)
    with pytest.raises(errors.APIConnectionError):
        client.chat("2+2")


def test_slow_response_delays_the_first_byte() -> None:
    client, _ = sim_client(["slow:0.15"])
    r = client.chat("2+2")
    assert r.latency_s is not None and r.latency_s >= 0.15


def test_slow_response_hits_the_client_timeout() -> None:
    client, _ = sim_client(["slow:5"], timeout=0.1, max_retries=0)
    started = time.perf_counter()
    with pytest.raises(errors.APITimeoutError):
        client.chat("2+2")
    # The transport honours the client's read timeout, as a real socket would.
    assert 0.1 <= time.perf_counter() - started < 1.0


def test_faults_can_be_injected_later_and_apply_to_any_endpoint(waits: list[float]) -> None:
    client, transport = sim_client(None, max_retries=0)
    assert "grok-3-mini-beta" in client.models()
    transport.inject("404")
    with pytest.raises(errors.NotFoundError):
        client.models()
    assert transport.requests_served == 2


async def test_async_client_retries_on_simulated_faults() -> None:
    transport = SimTransport(latency="none", faults=["429:retry-after=0", "503:retry-after=0"])
    async with gb.AsyncClient(provider="sim", transport=transport, log=False) as client:
        r = await client.chat("What is 101*3?")
        assert "303" in r.content and client.stats["retries"] == 2
        transport.inject("cut")
        stream = client.stream("What is 101*3?")
        with pytest.raises(errors.IncompleteStreamError) as info:
            async for _ in stream:
                pass
        assert info.value.partial_content
