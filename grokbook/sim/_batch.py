"""The simulator's Files API, Batch API and deferred chat completions.

Routes (the shapes follow xAI; sources below):

- ``POST /v1/files`` (multipart/form-data, a ``file`` part; at most 50 MB, else 413) ->
  ``File`` ``{id, object: "file", bytes, created_at, expires_at, filename, purpose}``;
  ``GET`` / ``DELETE /v1/files/{id}``.
- ``POST /v1/batches`` ``{name, input_file_id}`` -> a ``Batch``: ``{batch_id, name,
  create_time, expire_time, input_file_id, state: {num_requests, num_pending, num_success,
  num_error, num_cancelled}, cost_breakdown: {total_cost_usd_ticks, endpoint_costs: [{endpoint,
  cost_usd_ticks, request_count}], calculation_time}}`` (+ ``cancel_time`` /
  ``cancel_by_xai_message`` once cancelled or rejected). The JSONL file holds one
  ``{custom_id, method, url, body}`` per line, ``url`` ``/v1/chat/completions`` or
  ``/v1/responses``; a file that does not parse is rejected the
  way xAI reports it: ``cancel_by_xai_message`` set, every count 0.
- ``GET /v1/batches`` (``limit``, ``pagination_token``) -> ``{batches, pagination_token}``;
  ``GET /v1/batches/{id}``; ``POST /v1/batches/{id}:cancel`` (pending requests are cancelled).
- ``GET /v1/batches/{id}/results`` (``limit`` <= 1000, default 100; ``pagination_token``)
  -> ``{results: [{batch_request_id, batch_result: {response: {chat_get_completion | responses:
  <the endpoint's body>}} | {error: {code, message}}}], pagination_token}``; the token is
  null after the last finished request.
- ``POST /v1/chat/completions`` with ``"deferred": true`` -> ``{request_id}``; ``GET
  /v1/chat/deferred-completion/{request_id}`` answers 202 (empty body) until the answer is
  ready, then 200 with the chat completion, once (then 404).

Sources: xAI's OpenAPI document (``tests/specs/xai``: ``/v1/files``, ``File``,
``/v1/chat/deferred-completion/{request_id}``, ``StartDeferredChatResponse``); xAI's Batch API
guide (docs.x.ai/developers/advanced-api-usage/batch-api); the xai-sdk-python batch protos
(``src/xai_sdk/proto/v6/batch_pb2.pyi``: ``Batch``, ``BatchState``, ``BatchResult``,
``ListBatchResultsResponse``); LiteLLM's xAI batch transformation
(``litellm/llms/xai/batches/transformation.py``: the REST result envelope, one key named after
the endpoint) and batchwork.dev/providers/xai.

The simulator's model, not measurements of xAI: every request of a batch finishes after
``delay_s`` seconds, spread evenly in file order (0: at once); ``failures`` (a fraction,
chosen by a hash of the ``custom_id``, or a set of ``custom_id`` values) fail with a
simulated internal error, and a request the live endpoint rejects (a 4xx) fails with its
message, as does a request for a model whose xAI page says "Batch API: Not supported"
(:func:`grokbook.catalog.batch_terms`; what xAI answers then is not recorded anywhere: this is
the simulator's model). Answers are the ones the live endpoint gives, with
``cost_in_usd_ticks`` reduced by the model's documented batch discount (grok-4.20-0309-reasoning:
20%, docs.x.ai) and *not* reduced where xAI documents none (grok-4.3, legacy models): the
simulator invents no discount. The batch object's ``cost_breakdown`` (shape: xai-sdk's
``BatchCostBreakdown``) sums the ticks of the requests finished so far. Answers are computed
when they are needed (to count outcomes, to serve results) and never kept: a batch holds its
uploaded file and nine bytes per request (an outcome byte and the request's ticks) in memory.
State is in memory: by default one store per process, shared by every in-process simulator
(as a server would be); a loopback server has its own.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import zlib
from array import array
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .. import catalog
from ._plan import Piece, Plan, Reject, error_plan, json_plan

__all__ = ["MAX_FILE_BYTES", "RESULT_KEYS", "BatchStore", "batch_route", "default_store"]

#: xAI's upload limit (the OpenAPI document: "Maximum file size: 50 MB", 413 above it).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Endpoints a batch line may name, and the key its answer is wrapped in.
RESULT_KEYS = {"/v1/chat/completions": "chat_get_completion", "/v1/responses": "responses"}
_DEFAULT_PAGE = 100
_MAX_PAGE = 1000
_EXPIRES_AFTER = timedelta(hours=24)
# google.rpc codes for the HTTP statuses a line can end with.
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 422: 3, 429: 8, 500: 13, 503: 14, 504: 4}

Answer = Callable[[httpx.Request], Plan]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _File:
    id: str
    filename: str
    data: bytes
    created: float

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": int(self.created),
            "expires_at": None,
            "filename": self.filename,
            "purpose": "",
        }


@dataclass
class _Line:
    custom_id: str
    url: str
    start: int
    end: int


@dataclass
class _Batch:
    id: str
    name: str
    file: _File | None
    created: float
    started: float
    delay_s: float
    lines: list[_Line] = field(default_factory=list)
    rejected: str | None = None
    cancel_time: float | None = None
    done_at_cancel: int | None = None
    #: Per line: 0 not run yet, 1 answered, 2 failed (one byte each, never the answers).
    outcomes: bytearray = field(default_factory=bytearray)
    #: Per line: the ticks its answer billed (0 until answered, or when it failed).
    ticks: array[int] = field(default_factory=lambda: array("q"))

    def done(self, now: float) -> int:
        """How many requests (in file order) have finished by ``now``."""
        total = len(self.lines)
        if self.delay_s <= 0:
            done = total
        else:
            done = min(total, int(total * (now - self.started) / self.delay_s))
        return done if self.done_at_cancel is None else min(done, self.done_at_cancel)


class BatchStore:
    """Uploaded files, batches and deferred completions of one simulator (thread-safe).

    ``delay_s``: seconds a batch takes (requests finish evenly over it; None: 2 s times the
    simulator's latency factor, so 0 with ``latency="none"``). ``failures``: a fraction of
    requests (0..1, picked by a hash of their ``custom_id``) or a set of ``custom_id`` values
    that fail. :attr:`created` counts batch creations (tests assert a resumed sweep made none).
    ``clock``: where the batches' and deferred completions' progress reads the time (a test
    passes one it moves, instead of sleeping).
    """

    def __init__(
        self,
        delay_s: float | None = None,
        failures: float | Collection[str] = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if delay_s is not None and (not isinstance(delay_s, int | float) or delay_s < 0):
            raise ValueError(f"batch delay must be a number of seconds >= 0; got {delay_s!r}")
        if isinstance(failures, int | float) and not 0 <= failures <= 1:
            raise ValueError(f"batch failures must be a fraction in [0, 1]; got {failures!r}")
        self.delay_s = delay_s
        self.failures = failures
        self.created = 0
        self.clock = clock
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self._batches: dict[str, _Batch] = {}
        self._deferred: dict[str, tuple[float, bytes]] = {}

    # -- failures -----------------------------------------------------------------------------
    def fails(self, custom_id: str) -> bool:
        failures = self.failures
        if isinstance(failures, int | float):
            return failures > 0 and zlib.crc32(custom_id.encode()) / 2**32 < failures
        return custom_id in failures

    # -- deferred completions -------------------------------------------------------------------
    def defer(self, plan: Plan) -> Plan:
        """Keep ``plan``'s body until its modelled time has passed; answer its request id."""
        request_id = str(uuid.uuid4())
        with self._lock:
            self._deferred[request_id] = (self.clock() + plan.head_delay_s, plan.body)
        return json_plan(200, {"request_id": request_id})

    def deferred(self, request_id: str) -> Plan:
        with self._lock:
            entry = self._deferred.get(request_id)
            if entry is None:
                return error_plan(
                    404,
                    f"No deferred completion {request_id!r} (unknown, or already fetched: a "
                    "deferred completion can be fetched once).",
                )
            ready_at, body = entry
            if self.clock() < ready_at:
                return Plan(202, (("content-type", "application/json"),), (Piece(0.0, b""),))
            del self._deferred[request_id]
        return Plan(200, (("content-type", "application/json"),), (Piece(0.0, body),))

    # -- files ----------------------------------------------------------------------------------
    def upload(self, request: httpx.Request) -> Plan:
        try:
            filename, data = _multipart_file(request)
        except Reject as exc:
            return error_plan(exc.status, exc.message)
        if len(data) > MAX_FILE_BYTES:
            return error_plan(413, "Payload too large: the file exceeds 50 MB.")
        record = _File(f"file_{uuid.uuid4()}", filename, data, time.time())
        with self._lock:
            self._files[record.id] = record
        return json_plan(200, record.meta())

    def file(self, file_id: str, method: str) -> Plan:
        with self._lock:
            record = self._files.get(file_id)
            if record is not None and method == "DELETE":
                del self._files[file_id]
        if record is None:
            return error_plan(404, f"File {file_id!r} not found, deleted, or expired.")
        if method == "DELETE":
            return json_plan(200, {"id": file_id, "deleted": True})
        return json_plan(200, record.meta())

    # -- batches --------------------------------------------------------------------------------
    def create(self, body: dict[str, Any], latency: float, answer: Answer) -> Plan:
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            return error_plan(400, "`name` must be a string.")
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str) or not file_id:
            return error_plan(
                400,
                "input_file_id is required: upload the JSONL with POST /v1/files first (the "
                "simulator serves the file flow of the Batch API only).",
            )
        with self._lock:
            record = self._files.get(file_id)
        if record is None:
            return error_plan(404, f"File {file_id!r} not found, deleted, or expired.")
        delay = self.delay_s if self.delay_s is not None else 2.0 * latency
        now = time.time()
        batch = _Batch(f"batch_{uuid.uuid4()}", name or "", record, now, self.clock(), delay)
        try:
            batch.lines = list(_lines(record.data))
        except Reject as exc:
            batch.rejected = exc.message
            batch.cancel_time = now
            batch.lines = []
        batch.outcomes = bytearray(len(batch.lines))
        batch.ticks = array("q", bytes(8 * len(batch.lines)))
        with self._lock:
            self._batches[batch.id] = batch
            self.created += 1
        return json_plan(200, self._describe(batch, answer))

    def _get(self, batch_id: str) -> _Batch | Plan:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            return error_plan(404, f"Batch {batch_id!r} not found.")
        return batch

    def status(self, batch_id: str, answer: Answer) -> Plan:
        batch = self._get(batch_id)
        return batch if isinstance(batch, Plan) else json_plan(200, self._describe(batch, answer))

    def cancel(self, batch_id: str, answer: Answer) -> Plan:
        batch = self._get(batch_id)
        if isinstance(batch, Plan):
            return batch
        with self._lock:
            if batch.cancel_time is None:
                batch.done_at_cancel = batch.done(self.clock())
                batch.cancel_time = time.time()
        return json_plan(200, self._describe(batch, answer))

    def listing(self, params: httpx.QueryParams, answer: Answer) -> Plan:
        limit = _limit(params)
        if isinstance(limit, Plan):
            return limit
        with self._lock:
            batches = sorted(self._batches.values(), key=lambda b: b.created)
        start = _token(params)
        if isinstance(start, Plan):
            return start
        page = batches[start : start + limit]
        following = start + len(page)
        return json_plan(
            200,
            {
                "batches": [self._describe(b, answer) for b in page],
                "pagination_token": str(following) if following < len(batches) else None,
            },
        )

    def results(self, batch_id: str, params: httpx.QueryParams, answer: Answer) -> Plan:
        batch = self._get(batch_id)
        if isinstance(batch, Plan):
            return batch
        limit = _limit(params)
        if isinstance(limit, Plan):
            return limit
        start = _token(params)
        if isinstance(start, Plan):
            return start
        done = batch.done(self.clock())
        stop = min(done, start + limit)
        assert batch.file is not None or not batch.lines
        results = [self._result(batch, index, answer) for index in range(start, stop)]
        token = str(stop) if stop < done else None
        return json_plan(200, {"results": results, "pagination_token": token})

    def _result(self, batch: _Batch, index: int, answer: Answer) -> dict[str, Any]:
        line = batch.lines[index]
        result = self._answer(batch, line, answer)
        failed = "error" in result["batch_result"]
        batch.outcomes[index] = 2 if failed else 1
        if not failed:
            body = next(iter(result["batch_result"]["response"].values()))
            usage = body.get("usage") if isinstance(body, dict) else None
            ticks = usage.get("cost_in_usd_ticks") if isinstance(usage, dict) else None
            batch.ticks[index] = ticks if isinstance(ticks, int) else 0
        return result

    def _answer(self, batch: _Batch, line: _Line, answer: Answer) -> dict[str, Any]:
        if self.fails(line.custom_id):
            error = {
                "code": 13,
                "message": "Simulated internal error while processing this request "
                "(grokbook sim batch failure).",
            }
            return {"batch_request_id": line.custom_id, "batch_result": {"error": error}}
        assert batch.file is not None
        body = json.loads(batch.file.data[line.start : line.end])["body"]
        model = body.get("model")
        terms = catalog.batch_terms(model) if isinstance(model, str) else None
        if terms is not None and terms.supported is False:
            error = {
                "code": 3,
                "message": f"Model {model} is not available on the Batch API (simulated: "
                f"{terms.source}).",
            }
            return {"batch_request_id": line.custom_id, "batch_result": {"error": error}}
        plan = answer(httpx.Request("POST", "http://sim" + line.url, json=body))
        data = json.loads(plan.body)
        if plan.status != 200:
            message = data.get("error") if isinstance(data, dict) else None
            error = {"code": _GRPC_CODES.get(plan.status, 2), "message": str(message or data)}
            return {"batch_request_id": line.custom_id, "batch_result": {"error": error}}
        usage = data.get("usage")
        discount = terms.discount if terms is not None else None
        if isinstance(usage, dict) and isinstance(usage.get("cost_in_usd_ticks"), int) and discount:
            # The documented discount only; none where xAI documents none.
            usage["cost_in_usd_ticks"] = round(usage["cost_in_usd_ticks"] * (1 - discount))
        response = {RESULT_KEYS[line.url]: data}
        return {"batch_request_id": line.custom_id, "batch_result": {"response": response}}

    def _describe(self, batch: _Batch, answer: Answer) -> dict[str, Any]:
        total = len(batch.lines)
        done = batch.done(self.clock())
        # A request that finished has an outcome: run the ones not run yet (their answers
        # are computed again when results are read; only the outcome byte is kept).
        for index in range(done):
            if not batch.outcomes[index]:
                self._result(batch, index, answer)
        failed = batch.outcomes.count(2, 0, done)
        cancelled = total - done if batch.cancel_time is not None else 0
        out: dict[str, Any] = {
            "batch_id": batch.id,
            "name": batch.name,
            "create_time": _iso(batch.created),
            "expire_time": _iso(batch.created + _EXPIRES_AFTER.total_seconds()),
            "input_file_id": batch.file.id if batch.file else "",
            "state": {
                "num_requests": total,
                "num_pending": total - done - cancelled,
                "num_success": done - failed,
                "num_error": failed,
                "num_cancelled": cancelled,
            },
        }
        out["cost_breakdown"] = _cost_breakdown(batch, done)
        if batch.cancel_time is not None:
            out["cancel_time"] = _iso(batch.cancel_time)
        if batch.rejected is not None:
            out["cancel_by_xai_message"] = batch.rejected
        return out


def _cost_breakdown(batch: _Batch, done: int) -> dict[str, Any]:
    """``cost_breakdown`` of the requests finished so far (xai-sdk's ``BatchCostBreakdown``:
    ``total_cost_usd_ticks``, ``endpoint_costs`` per endpoint, ``calculation_time``)."""
    per_endpoint: dict[str, list[int]] = {}
    for index in range(done):
        if batch.outcomes[index] == 1:
            cost = per_endpoint.setdefault(batch.lines[index].url, [0, 0])
            cost[0] += batch.ticks[index]
            cost[1] += 1
    return {
        "total_cost_usd_ticks": sum(ticks for ticks, _ in per_endpoint.values()),
        "endpoint_costs": [
            {"endpoint": url, "cost_usd_ticks": ticks, "request_count": count}
            for url, (ticks, count) in per_endpoint.items()
        ],
        "calculation_time": _iso(time.time()),
    }


_DEFAULT: BatchStore | None = None
_DEFAULT_LOCK = threading.Lock()


def default_store() -> BatchStore:
    """The process-wide store the in-process simulators share (as one server would)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = BatchStore()
        return _DEFAULT


def _limit(params: httpx.QueryParams) -> int | Plan:
    raw = params.get("limit")
    if raw is None:
        return _DEFAULT_PAGE
    try:
        value = int(raw)
    except ValueError:
        return error_plan(400, f"limit must be an integer; got {raw!r}.")
    if value <= 0:
        return error_plan(400, f"limit must be positive; got {value}.")
    return min(value, _MAX_PAGE)


def _token(params: httpx.QueryParams) -> int | Plan:
    raw = params.get("pagination_token")
    if not raw:
        return 0
    if not raw.isdigit():
        return error_plan(400, f"Invalid pagination_token {raw!r}.")
    return int(raw)


def _multipart_file(request: httpx.Request) -> tuple[str, bytes]:
    """The ``file`` part of a multipart/form-data body: (filename, content)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        raise Reject(400, "Upload the file as multipart/form-data with a `file` part.")
    boundary = ""
    for piece in kind.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise Reject(400, "The multipart body names no boundary.")
    body = request.content
    delimiter = b"--" + boundary.encode()
    at = body.find(delimiter)
    while at != -1:
        head_end = body.find(b"\r\n\r\n", at)
        if head_end == -1:
            break
        following = body.find(b"\r\n" + delimiter, head_end)
        if following == -1:
            break
        head = body[at + len(delimiter) : head_end].decode("utf-8", "replace")
        if 'name="file"' in head:
            filename = "upload"
            for piece in head.split(";"):
                key, _, value = piece.strip().partition("=")
                if key == "filename":
                    filename = value.split("\r\n")[0].strip('"')
            return filename, body[head_end + 4 : following]
        at = following + 2
    raise Reject(400, "Missing or unnamed `file` part in the multipart body.")


def _lines(data: bytes) -> Iterator[_Line]:
    """The requests of a batch input file, validated (Reject names the first bad line)."""
    seen: set[str] = set()
    position = 0
    number = 0
    length = len(data)
    while position < length:
        end = data.find(b"\n", position)
        if end == -1:
            end = length
        raw = data[position:end]
        line_start = position
        position = end + 1
        if not raw.strip():
            continue
        number += 1
        try:
            item = json.loads(raw)
        except ValueError:
            raise Reject(400, f"Line {number} of the input file is not JSON.") from None
        if not isinstance(item, dict):
            raise Reject(400, f"Line {number} of the input file is not a JSON object.")
        custom_id, url, body = item.get("custom_id"), item.get("url"), item.get("body")
        if not isinstance(custom_id, str) or not custom_id:
            raise Reject(400, f"Line {number}: custom_id must be a non-empty string.")
        if custom_id in seen:
            raise Reject(400, f"Line {number}: custom_id {custom_id!r} is not unique.")
        seen.add(custom_id)
        if item.get("method", "POST") != "POST" or url not in RESULT_KEYS:
            raise Reject(
                400,
                f"Line {number}: the simulator batches POST {' and '.join(RESULT_KEYS)} only.",
            )
        if not isinstance(body, dict):
            raise Reject(400, f"Line {number}: body must be a JSON object.")
        yield _Line(custom_id, str(url), line_start, end)


def batch_route(
    request: httpx.Request,
    path: str,
    method: str,
    store: BatchStore,
    *,
    latency: float,
    answer: Answer,
) -> Plan | None:
    """The plan for a files / batches / deferred-completion request, or None (not ours)."""
    if path == "/v1/files":
        if method != "POST":
            return error_plan(405, f"Use POST for {path}, not {method}.", allow="POST")
        return store.upload(request)
    if path.startswith("/v1/files/"):
        file_id = path[len("/v1/files/") :]
        if method not in ("GET", "DELETE"):
            return error_plan(405, f"Use GET or DELETE for {path}.", allow="GET, DELETE")
        return store.file(file_id, method)
    if path.startswith("/v1/chat/deferred-completion/"):
        if method != "GET":
            return error_plan(405, f"Use GET for {path}, not {method}.", allow="GET")
        return store.deferred(path[len("/v1/chat/deferred-completion/") :])
    if path == "/v1/batches":
        if method == "GET":
            return store.listing(request.url.params, answer)
        if method != "POST":
            return error_plan(405, f"Use GET or POST for {path}.", allow="GET, POST")
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return error_plan(422, "Failed to parse the request body as JSON.")
        if not isinstance(body, dict):
            return error_plan(422, "The request body must be a JSON object.")
        return store.create(body, latency, answer)
    if path.startswith("/v1/batches/"):
        rest = path[len("/v1/batches/") :]
        if rest.endswith(":cancel"):
            if method != "POST":
                return error_plan(405, f"Use POST for {path}.", allow="POST")
            return store.cancel(rest[: -len(":cancel")], answer)
        if rest.endswith("/results"):
            if method != "GET":
                return error_plan(405, f"Use GET for {path}.", allow="GET")
            return store.results(rest[: -len("/results")], request.url.params, answer)
        if "/" not in rest:
            if method != "GET":
                return error_plan(405, f"Use GET for {path}.", allow="GET")
            return store.status(rest, answer)
    return None
