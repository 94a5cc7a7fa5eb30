"""The in-process simulator: an httpx transport for both ``httpx.Client`` and ``AsyncClient``.

>>> import httpx
>>> transport = SimTransport(latency="none", faults=["503", "ok"])
>>> with httpx.Client(transport=transport, base_url="http://sim/v1") as http:
...     first = http.get("/models").status_code
...     second = http.get("/models").status_code
>>> first, second, transport.requests_served
(503, 200, 2)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

from ._batch import BatchStore, default_store
from ._conversation import ResponseStore
from ._faults import Fault, parse_faults
from ._handler import Plan, handle
from ._latency import latency_factor

__all__ = ["SimTransport", "Simulator"]

FaultsArg = str | Iterable[str | Fault] | None


class Simulator:
    """Shared state of one simulator: latency setting, fault script, request counter, the
    responses stored for ``previous_response_id`` (:attr:`responses`, in memory, bounded),
    and the uploaded files, batches and deferred completions (:attr:`batches`).

    ``batch_delay`` (seconds a batch takes; default 2 s times the latency factor) and
    ``batch_failures`` (a fraction of requests, or a set of ``custom_id`` values, that fail)
    give this simulator its own :class:`~grokbook.sim._batch.BatchStore`; without them (or
    ``batches=``) it shares the process-wide one, so every in-process client sees the same
    batches, as a server's clients would.

    Thread-safe: the loopback server calls :meth:`plan` from many threads at once.
    """

    def __init__(
        self,
        latency: str | float | None = None,
        faults: FaultsArg = None,
        require_key: str | None = None,
        *,
        batch_delay: float | None = None,
        batch_failures: float | Iterable[str] | None = None,
        batches: BatchStore | None = None,
    ) -> None:
        if latency is not None:
            latency_factor(latency)  # fail now on a bad value, not at the first request
        self.latency = latency
        self.require_key = require_key
        self._faults: deque[Fault] = deque(parse_faults(faults))
        self._lock = threading.Lock()
        self.responses = ResponseStore()
        if batches is None and (batch_delay is not None or batch_failures is not None):
            failures: float | frozenset[str] = (
                batch_failures
                if isinstance(batch_failures, int | float)
                else frozenset(batch_failures or ())
            )
            batches = BatchStore(batch_delay, failures)
        self.batches = batches or default_store()
        self.requests_served = 0
        self.faults_served = 0

    def inject(self, *faults: str | Fault) -> None:
        """Append faults to the script (each string may be a comma-separated list)."""
        parsed = parse_faults(faults)
        with self._lock:
            self._faults.extend(parsed)

    @property
    def faults_pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def plan(self, request: httpx.Request) -> Plan:
        """Count the request, take the next scripted fault, and plan the answer."""
        with self._lock:
            self.requests_served += 1
            fault = self._faults.popleft() if self._faults else None
            if fault is not None and fault.kind != "ok":
                self.faults_served += 1
        return handle(
            request,
            fault=fault,
            latency=latency_factor(self.latency),
            require_key=self.require_key,
            store=self.responses,
            batches=self.batches,
        )


def _reset_error(request: httpx.Request) -> httpx.ReadError:
    return httpx.ReadError(
        "[Errno 104] Connection reset by peer (grokbook simulator fault 'reset')",
        request=request,
    )


def _cut_error(request: httpx.Request) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body "
        "(grokbook simulator fault 'cut')",
        request=request,
    )


def _read_timeout(request: httpx.Request) -> float | None:
    """The client's read timeout: a real server this slow would make httpx give up."""
    timeout = request.extensions.get("timeout")
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _wait(request: httpx.Request, delay: float) -> float:
    """How long to sleep before ``delay`` is over or the read timeout fires (then raise)."""
    limit = _read_timeout(request)
    return delay if limit is None or delay <= limit else limit


def _timed_out(request: httpx.Request, delay: float) -> bool:
    limit = _read_timeout(request)
    return limit is not None and delay > limit


def _timeout_error(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(
        "The simulator did not answer within the read timeout.", request=request
    )


def _sleep(request: httpx.Request, delay: float) -> None:
    if delay > 0:
        time.sleep(_wait(request, delay))
        if _timed_out(request, delay):
            raise _timeout_error(request)


async def _asleep(request: httpx.Request, delay: float) -> None:
    if delay > 0:
        await asyncio.sleep(_wait(request, delay))  # never block the event loop
        if _timed_out(request, delay):
            raise _timeout_error(request)


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, plan: Plan, request: httpx.Request) -> None:
        self._plan = plan
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._plan.pieces:
            _sleep(self._request, piece.delay_s)
            yield piece.data
        if self._plan.abort_after_pieces:
            raise _cut_error(self._request)


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, plan: Plan, request: httpx.Request) -> None:
        self._plan = plan
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._plan.pieces:
            await _asleep(self._request, piece.delay_s)
            yield piece.data
        if self._plan.abort_after_pieces:
            raise _cut_error(self._request)


def _headers(plan: Plan) -> list[tuple[str, str]]:
    headers = list(plan.headers)
    if not plan.streaming:
        headers.append(("content-length", str(plan.content_length)))
    return headers


class SimTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The offline simulator as an httpx transport (sync and async in one object).

    ``latency``: "demo" | "none" | "modelled" | a factor (default: ``GROKBOOK_SIM_LATENCY``,
    read at each request, else demo; see :mod:`grokbook.sim._latency`). ``faults``: a
    scripted list consumed one per request (see :mod:`grokbook.sim._faults`).
    ``require_key``: answer 401 unless the Bearer key matches. ``batch_delay`` /
    ``batch_failures``: how the Batch API behaves (see :class:`Simulator`). ``simulator``:
    share state with another transport or a server.
    """

    def __init__(
        self,
        latency: str | float | None = None,
        faults: FaultsArg = None,
        require_key: str | None = None,
        *,
        batch_delay: float | None = None,
        batch_failures: float | Iterable[str] | None = None,
        simulator: Simulator | None = None,
    ) -> None:
        self.simulator = simulator or Simulator(
            latency,
            faults,
            require_key,
            batch_delay=batch_delay,
            batch_failures=batch_failures,
        )

    @property
    def requests_served(self) -> int:
        """How many requests this simulator has answered (faults included)."""
        return self.simulator.requests_served

    @property
    def faults_pending(self) -> list[Fault]:
        return self.simulator.faults_pending

    def inject(self, *faults: str | Fault) -> None:
        """Append faults to the script, e.g. ``transport.inject("429:retry-after=0", "ok")``."""
        self.simulator.inject(*faults)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        plan = self.simulator.plan(request)
        _sleep(request, plan.head_delay_s)
        if plan.abort_before_headers:
            raise _reset_error(request)
        return httpx.Response(
            plan.status, headers=_headers(plan), stream=_SyncBody(plan, request), request=request
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        plan = self.simulator.plan(request)
        await _asleep(request, plan.head_delay_s)
        if plan.abort_before_headers:
            raise _reset_error(request)
        return httpx.Response(
            plan.status, headers=_headers(plan), stream=_AsyncBody(plan, request), request=request
        )

    def __repr__(self) -> str:
        return (
            f"SimTransport(latency={self.simulator.latency!r}, "
            f"faults_pending={len(self.faults_pending)}, "
            f"requests_served={self.requests_served})"
        )

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - transports are not pickled
        raise TypeError("SimTransport cannot be pickled; create a new one.")
