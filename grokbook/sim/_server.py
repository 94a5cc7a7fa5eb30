"""The simulator as a real loopback HTTP server, for any OpenAI-compatible client.

Standard library only (:class:`http.server.ThreadingHTTPServer`, HTTP/1.1 keep-alive, SSE
sent chunked), one thread per connection. It binds 127.0.0.1 unless told otherwise, and
refuses any non-loopback address without ``allow_remote=True`` (``--allow-remote``).

>>> from grokbook.sim import serve_in_background
>>> with serve_in_background(latency="none") as server:
...     import httpx
...     httpx.get(server.base_url + "/models").json()["object"]
'list'

From a shell::

    grokbook sim --port 8000
    python -c 'from openai import OpenAI; \\
        print(OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="sim").models.list())'
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TextIO, cast

import httpx

from ..errors import UnsupportedParameterError
from ._batch import BatchStore
from ._faults import Fault
from ._latency import latency_factor, preset_name
from ._plan import Plan, error_plan
from ._transport import Simulator

__all__ = ["SimServer", "is_loopback", "run", "serve_in_background"]

#: Idle keep-alive connections are closed after this many seconds.
_IDLE_TIMEOUT_S = 30.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open dozens of connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], simulator: Simulator, verbose: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.simulator = simulator
        self.verbose = verbose
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request (killed, timed out) is routine: no traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT_S
    server_version = "grokbook-sim"

    @property
    def _server(self) -> _HTTPServer:
        return cast(_HTTPServer, self.server)

    def setup(self) -> None:
        super().setup()
        with self._server.connections_lock:
            self._server.connections.add(self.connection)
        # Streamed chunks must leave at once, not wait for Nagle's algorithm.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        with self._server.connections_lock:
            self._server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        if self._server.verbose:
            sys.stderr.write(f"grokbook sim: {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    # -- request --------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _request(self, body: bytes) -> httpx.Request:
        host = self.headers.get("Host") or "127.0.0.1"
        url = self.path if self.path.startswith("http") else f"http://{host}{self.path}"
        return httpx.Request(self.command, url, headers=list(self.headers.items()), content=body)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(error_plan(400, "Could not read the request body."))
            return
        try:
            request = self._request(body)
        except (httpx.InvalidURL, ValueError):
            self._send(error_plan(400, f"Invalid request target {self.path!r}."))
            return
        plan = self._server.simulator.plan(request)
        try:
            self._send(plan)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client went away; nothing more to do

    # -- response ---------------------------------------------------------------------------
    def _send(self, plan: Plan) -> None:
        if plan.head_delay_s > 0:
            time.sleep(plan.head_delay_s)
        if plan.abort_before_headers:
            self._abort()
            return
        self.send_response(plan.status)
        for name, value in plan.headers:
            self.send_header(name, value)
        if plan.streaming:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(plan.content_length))
        self.end_headers()
        for piece in plan.pieces:
            if piece.delay_s > 0:
                time.sleep(piece.delay_s)
            if plan.streaming:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece.data), piece.data))
            else:
                self.wfile.write(piece.data)
        if plan.abort_after_pieces:
            self._abort()
            return
        if plan.streaming:
            self.wfile.write(b"0\r\n\r\n")

    def _abort(self) -> None:
        """Drop the connection abruptly: a TCP reset, as a crashed server or proxy would."""
        self.close_connection = True
        with self._server.connections_lock:
            self._server.connections.discard(self.connection)
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # Close the descriptor itself: the request's file objects still reference it.
            socket.close(self.connection.detach())
        except OSError:
            pass


class SimServer:
    """A loopback HTTP server running the simulator (see :func:`serve_in_background`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: str | float | None = None,
        faults: str | Iterable[str | Fault] | None = None,
        require_key: str | None = None,
        allow_remote: bool = False,
        verbose: bool = False,
        simulator: Simulator | None = None,
        batch_delay: float | None = None,
        batch_failures: float | Iterable[str] | None = None,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise UnsupportedParameterError(
                f"Refusing to serve the simulator on {host!r}: that would expose it beyond this "
                "machine. It binds 127.0.0.1 by default; pass --allow-remote "
                "(allow_remote=True) if you really mean to."
            )
        try:
            # A server keeps its own files and batches (not the in-process simulators').
            self.simulator = simulator or Simulator(
                latency,
                faults,
                require_key,
                batch_delay=batch_delay,
                batch_failures=batch_failures,
                batches=(
                    None if batch_delay is not None or batch_failures is not None else BatchStore()
                ),
            )
        except ValueError as exc:
            raise UnsupportedParameterError(str(exc)) from None
        try:
            self._httpd = _HTTPServer((host, port), self.simulator, verbose)
        except OSError as exc:
            raise UnsupportedParameterError(
                f"Could not listen on {host}:{port} ({exc}). Pick another port with --port, "
                "or --port 0 for any free one."
            ) from None
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what OpenAI-compatible clients take as base URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def requests_served(self) -> int:
        return self.simulator.requests_served

    def inject(self, *faults: str | Fault) -> None:
        """Append faults to the script (consumed one per request)."""
        self.simulator.inject(*faults)

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` (or Ctrl-C)."""
        self._httpd.serve_forever(poll_interval=0.1)

    def start(self) -> SimServer:
        """Serve from a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name=f"grokbook-sim:{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and free the port. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        with self._httpd.connections_lock:
            connections = list(self._httpd.connections)
        for connection in connections:
            # Wakes handler threads waiting on idle keep-alive connections.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    close = stop

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._closed else "serving"
        return f"SimServer({self.base_url!r}, {state}, requests_served={self.requests_served})"


def serve_in_background(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    latency: str | float | None = None,
    faults: str | Iterable[str | Fault] | None = None,
    require_key: str | None = None,
    allow_remote: bool = False,
    verbose: bool = False,
    batch_delay: float | None = None,
    batch_failures: float | Iterable[str] | None = None,
) -> SimServer:
    """Start a loopback simulator server in a daemon thread (``port=0``: any free port).

    Use it as a context manager, or call ``.stop()``::

        with serve_in_background(latency="none") as server:
            OpenAI(base_url=server.base_url, api_key="sim")
    """
    server = SimServer(
        host,
        port,
        latency=latency,
        faults=faults,
        require_key=require_key,
        allow_remote=allow_remote,
        verbose=verbose,
        batch_delay=batch_delay,
        batch_failures=batch_failures,
    )
    return server.start()


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    latency: str | None = None,
    faults: Iterable[str] | None = None,
    require_key: str | None = None,
    allow_remote: bool = False,
    verbose: bool = False,
    out: TextIO | None = None,
    batch_delay: float | None = None,
    batch_failures: float | None = None,
) -> int:
    """``grokbook sim``: serve in the foreground until Ctrl-C; returns the exit status."""
    stream = out or sys.stdout
    try:
        factor = latency_factor(latency)
    except ValueError as exc:
        raise UnsupportedParameterError(f"--latency: {exc}") from None
    try:
        server = SimServer(
            host,
            port,
            latency=latency,
            faults=list(faults or ()),
            require_key=require_key,
            allow_remote=allow_remote,
            verbose=verbose,
            batch_delay=batch_delay,
            batch_failures=batch_failures,
        )
    except ValueError as exc:
        raise UnsupportedParameterError(str(exc)) from None
    scope = (
        "loopback only" if is_loopback(host) else "REACHABLE FROM OTHER MACHINES (--allow-remote)"
    )
    key = '"<your --require-key value>"' if require_key else '"sim"'
    pending = ", ".join(str(f) for f in server.simulator.faults_pending) or "none"
    label = preset_name(factor)
    print(
        f"grokbook sim: offline Grok simulator listening on {host}:{server.port} ({scope}).\n"
        f"  base URL: {server.base_url}\n"
        f"  latency: {label} · faults: {pending} · "
        f"key: {'required' if require_key else 'not required'}\n"
        "  answers are simulated (system_fingerprint fp_grokbook_sim), never from Grok.\n\n"
        "  from openai import OpenAI\n"
        f'  client = OpenAI(base_url="{server.base_url}", api_key={key})\n\n'
        f"  or: GROKBOOK_PROVIDER=openai GROKBOOK_BASE_URL={server.base_url} grokbook ask ...\n"
        "Press Ctrl-C to stop.",
        file=stream,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print(f"grokbook sim: stopped after {server.requests_served} requests.", file=stream)
    return 0
