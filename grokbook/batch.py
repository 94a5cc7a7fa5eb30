"""Sweeps on xAI's Batch API: outside the rate limits, resumable, at each model's batch price.

A sweep too large for one notebook's rate limits (10,000 prompts x 4 efforts x 3 repeats is
120,000 calls) can run on xAI's Batch API instead: the requests are queued and processed in the
background, without counting towards the rate limits, typically within 24 hours, at "reduced
pricing" [xAI: docs.x.ai/developers/advanced-api-usage/batch-api]. How much is reduced is per
model, and grokbook keeps it as catalog data with its source (:func:`grokbook.catalog.
batch_terms`): the grok-4.20-0309-reasoning page says batch requests are billed at a 20%
discount; the grok-4.5, 4.6, 4.7 and grok-build-0.1 pages say "Batch API: Not supported"
(``via="batch"`` refuses them before anything is uploaded, naming the models that can);
grok-4.3's page states no discount, so grokbook assumes none (unknown stays unknown).
``via="batch"`` makes it feel like a normal sweep, with the same rows::

    >>> import grokbook as gb
    >>> df = gb.sweep(["What is 101*3?", "What is 7*8?"], models="grok-4.20-0309-reasoning",
    ...               efforts=[None], via="batch", progress=False)
    >>> len(df), set(df["via"]), df["status"].tolist()
    (2, {'batch'}, ['ok', 'ok'])
    >>> summary = df.attrs["sweep"]        # the simulator bills the documented 20% discount
    >>> summary["batches"], summary["cost_basis"], summary["cost_usd"] < summary["live_usd"]
    (1, 'billed', True)
    >>> round(summary["saved_usd"] / summary["live_usd"], 2)
    0.2

What happens: the grid is built as :func:`grokbook.sweep` builds it; each call becomes a
JSONL line ``{custom_id, method, url, body}`` with the very body a live call sends on the
chosen wire (``/v1/responses`` or ``/v1/chat/completions``), streamed to a temporary file and
uploaded (``POST /v1/files``, multipart); ``POST /v1/batches {name, input_file_id}`` creates
the batch, whose id and grid are recorded in the run log *before the first poll*; ``GET
/v1/batches/{id}`` is polled (a tqdm bar counts pending / done / failed) every
``poll_interval`` seconds, backing off while nothing moves; ``GET /v1/batches/{id}/results``
is paged with ``pagination_token``; every answer is parsed by the wire that would have parsed
the live call, and lands in the run log and the response cache exactly as a live call does
(so a later live sweep of the same cells is answered from the cache and bills nothing).

**Resumable.** Close the notebook, restart the kernel or the machine: :func:`batches` lists the
recorded batches with their last status, :func:`batch_result` collects what has finished, and
running the same sweep cell again collects its batches instead of submitting new ones (calls
whose answers are already cached are not submitted at all; calls that failed are submitted
again, as a live sweep retries them). :func:`cancel` cancels a batch's pending requests.
Ctrl-C while polling raises :class:`~grokbook.SweepInterrupted` with the rows collected so
far; the batches keep running. Nothing is billed twice after a crash at any point: a batch is
recorded (as "creating", with its name) *before* ``POST /v1/batches``, and a run that finds
such a row looks the batch up by its name in ``GET /v1/batches`` (adopting it, or submitting
its calls again when the server never made it); a batch is marked collected only once its
answers are durable in the run log and cache, and a sweep (batch or live) returns only once
its rows are.

**Cost: what was billed, never an assumed discount.** A row's ``cost_usd`` is the result's
``cost_in_usd_ticks`` when it carries them (the billed batch price). Without them, the batch's
own ``cost_breakdown.total_cost_usd_ticks`` (xai-sdk's ``BatchCostBreakdown``) is its billed
total, and the rows get an estimate from the model's documented discount or, when none is
documented, no cost at all (NaN). The summary in ``df.attrs["sweep"]`` (printed when
``progress`` is on) gives ``cost_usd`` (billed, else estimated, else None), ``cost_basis``
(``"billed"``, ``"estimate"`` or None), ``live_usd`` (the same tokens at the catalog's live
prices), ``saved_usd`` (live minus billed; an estimate when the cost is one; None when the
discount is unknown and nothing was billed) and ``saved_note`` (where the figure comes from:
the discount's source and date for an estimate). On the simulator, batch requests bill each
model's documented discount and no discount where none is documented
(:mod:`grokbook.sim._batch`).

**Choosing the engine.** ``via="auto"`` runs on the Batch API when the grid has at least
:data:`AUTO_BATCH_MIN_CALLS` calls *and* ``accept_latency=True`` (results may take up to a
day) *and* no model of the grid is one xAI does not batch; otherwise live. For a handful of
long calls, :func:`defer` sends a deferred completion (``deferred: true``; fetched once from
``GET /v1/chat/deferred-completion/{id}``, 202 until ready) without blocking a connection.

**Limits** (chosen within xAI's documented ones): at most :data:`MAX_REQUESTS_PER_BATCH`
requests and :data:`MAX_FILE_BYTES` bytes of JSONL per batch (xAI: files up to 50 MB;
batches above 100,000 requests may be throttled), larger grids are split into several batches;
batch creations are spaced :data:`CREATE_INTERVAL_S` apart (xAI: one per second per team);
results are read :data:`RESULTS_PAGE` at a time. The poll interval defaults to
:data:`DEFAULT_POLL_S` (60 s; it backs off by 1.5x per poll while nothing changes, up to
10x, and returns to 60 s when the counters move); on the simulator to :data:`SIM_POLL_S`.

Sources for the shapes: xAI's Batch API guide (above) and OpenAPI document
(``tests/specs/xai/xai-openapi.json``: ``POST /v1/files`` multipart, ``File``, the
deferred-completion endpoint); xai-sdk-python's batch protos
(``src/xai_sdk/proto/v6/batch_pb2.pyi``: ``Batch.batch_id``, ``BatchState`` counters,
``BatchResult``, ``pagination_token``); LiteLLM's xAI batch transformation
(``litellm/llms/xai/batches/transformation.py``: the REST result envelope ``batch_result:
{response: {chat_get_completion | responses: body}} | {error: {code, message}}`` and the status
derived from counters, as xAI sends no status field); batchwork.dev/providers/xai (``POST
/v1/batches/{id}:cancel``). The simulator serves all of these (:mod:`grokbook.sim._batch`).

HTTP goes through :meth:`grokbook.Client.request` (the client's one retry policy and error
conversion); this module never touches httpx.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Unpack
from urllib.parse import urlsplit

from . import _batch_store, catalog
from ._columns import DEFAULT_EFFORT_LABEL, completion_row, error_row
from ._core import CallOptions, Messages, compute_cost
from ._store_shapes import DamagedEntry, check
from ._wire import wire_for
from .client import AsyncClient, Client, _Call
from .errors import (
    APIError,
    APIStatusError,
    BatchRequestError,
    GrokbookError,
    ResponseTooLargeError,
    UnsupportedParameterError,
    redact,
)
from .result import Completion
from .store import Store, canonical_json, flush, get_store

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .sweeps import Job

__all__ = [
    "AUTO_BATCH_MIN_CALLS",
    "CREATE_INTERVAL_S",
    "DEFAULT_POLL_S",
    "MAX_FILE_BYTES",
    "MAX_REQUESTS_PER_BATCH",
    "RESULTS_PAGE",
    "SIM_POLL_S",
    "Deferred",
    "batch_result",
    "batch_status",
    "batch_sweep",
    "batches",
    "cancel",
    "defer",
    "engine",
]

#: Requests per batch at most (xAI: batches above 100,000 requests may be throttled).
MAX_REQUESTS_PER_BATCH = 50_000
#: JSONL bytes per batch at most (xAI: uploads up to 50 MB; kept below with a margin).
MAX_FILE_BYTES = 48_000_000
#: Seconds between batch creations (xAI: at most one batch creation per second per team).
CREATE_INTERVAL_S = 1.0
#: Results read per page of ``GET /v1/batches/{id}/results``.
RESULTS_PAGE = 1000
#: ``via="auto"`` picks the Batch API from this many calls (with ``accept_latency=True``).
AUTO_BATCH_MIN_CALLS = 1000
#: Default poll interval for a real provider (seconds), and on the simulator.
DEFAULT_POLL_S = 60.0
SIM_POLL_S = 0.25
#: The interval grows by this factor while nothing changes, up to 10x the base (<= 15 min).
_BACKOFF = 1.5
_MAX_POLL_S = 900.0
#: Providers whose API serves xAI's Batch API (``openai``: a compatible server, e.g. the
#: loopback simulator, given by base_url).
_BATCH_PROVIDERS = frozenset({"xai", "sim", "openai"})
_TERMINAL = frozenset({"completed", "cancelled", "failed", "expired"})
_ID_PREFIX = "gb-"
#: Every batch grokbook creates is named ``grokbook-<grid key>-<part>-<sweep id>``.
_NAME_PREFIX = "grokbook-"
#: ``GET /v1/batches`` (looking up a batch a killed run was creating): batches per page, and
#: pages at most (then the batch counts as never created).
_LIST_PAGE = 100
_MAX_LIST_PAGES = 1000

_last_create = 0.0


# -- the grid ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    """Everything that rebuilds a batch sweep's requests (recorded with each batch)."""

    prompts: tuple[str, ...]
    models: tuple[str, ...]
    efforts: tuple[str | None, ...] | None
    repeats: int
    system: str | None
    temperature: float | None
    seed: int | None
    wire: str
    provider: str
    base_url: str
    cache: bool = True
    #: "default" resolved to each model's documented effort (False: a batch recorded before).
    defaults_resolved: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompts": list(self.prompts),
            "models": list(self.models),
            "efforts": None if self.efforts is None else list(self.efforts),
            "repeats": self.repeats,
            "system": self.system,
            "temperature": self.temperature,
            "seed": self.seed,
            "wire": self.wire,
            "provider": self.provider,
            "base_url": self.base_url,
            "cache": self.cache,
            "defaults_resolved": self.defaults_resolved,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Spec:
        efforts = data.get("efforts")
        return cls(
            prompts=tuple(data["prompts"]),
            models=tuple(data["models"]),
            efforts=None if efforts is None else tuple(efforts),
            repeats=int(data["repeats"]),
            system=data.get("system"),
            temperature=data.get("temperature"),
            seed=data.get("seed"),
            wire=str(data["wire"]),
            provider=str(data["provider"]),
            base_url=str(data["base_url"]),
            cache=bool(data.get("cache", True)),
            defaults_resolved=bool(data.get("defaults_resolved", False)),
        )

    @property
    def key(self) -> str:
        """The sweep cell's identity: same grid, same server, same key (``cache`` aside)."""
        fields = self.to_dict()
        del fields["cache"]
        return hashlib.sha256(canonical_json(fields).encode()).hexdigest()

    def jobs(self) -> list[Job]:
        from .sweeps import grid

        return grid(
            list(self.prompts),
            list(self.models),
            self.efforts,
            self.repeats,
            resolve_defaults=self.defaults_resolved,
        )


def _spec(
    prompts: str | Iterable[str],
    models: str | Iterable[str] | None,
    efforts: str | Iterable[str | None] | None,
    repeats: int,
    *,
    client: Client,
    system: str | None,
    temperature: float | None,
    seed: int | None,
    cache: bool,
) -> tuple[_Spec, list[Job]]:
    from .sweeps import grid

    jobs = grid(prompts, models, efforts, repeats)
    explicit: tuple[str | None, ...] | None = None
    if efforts is not None:
        raw = [
            catalog.canonical_effort(e)
            for e in ([efforts] if isinstance(efforts, str) else efforts)
        ]
        explicit = tuple(None if e in (None, DEFAULT_EFFORT_LABEL) else e for e in raw)
    spec = _Spec(
        prompts=_prompts(prompts),
        models=tuple(dict.fromkeys(j.model for j in jobs)),
        efforts=explicit,
        repeats=repeats,
        system=system,
        temperature=temperature,
        seed=seed,
        wire=client.wire,
        provider=client.provider.name,
        base_url=client.base_url,
        cache=cache,
    )
    return spec, jobs


def _prompts(prompts: str | Iterable[str]) -> tuple[str, ...]:
    return (prompts,) if isinstance(prompts, str) else tuple(prompts)


def _make_call(client: Client, spec: _Spec, job: Job, tags: Mapping[str, Any]) -> _Call:
    """The call a live sweep would make for ``job`` (same request, cache key and options)."""
    options: CallOptions = {
        "model": job.model,
        "reasoning_effort": job.effort,
        "system": spec.system,
        "temperature": spec.temperature,
        "cache": spec.cache,
        "seed": None if spec.seed is None else spec.seed + job.repeat,
        "repeat": job.repeat,
        "tags": tags,
        "wire": spec.wire,  # type: ignore[typeddict-item]  # a str from the run log
    }
    return client._call(job.prompt, options, stream=False)


def _row(job: Job, completion: Completion | None, error: str | None = None) -> dict[str, Any]:
    """A sweep row for ``job`` (the columns :func:`grokbook.sweep` gives), with ``via``."""
    if completion is None:
        row = error_row(
            model=job.model,
            reasoning_effort=job.effort,
            prompt=job.prompt,
            repeat=job.repeat,
            error=error or "BatchRequestError: no result",
        )
        row["answer"] = None
        row["model_served"] = None
    else:
        row = completion_row(completion, prompt=job.prompt, repeat=job.repeat)
        row["model"] = job.model
        row["reasoning_effort"] = job.effort or DEFAULT_EFFORT_LABEL
        row["answer"] = completion.content
        row["model_served"] = completion.model
    row["via"] = "batch"
    return row


# -- status ------------------------------------------------------------------------------------
def _count(state: Mapping[str, Any], name: str) -> int:
    value = state.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def batch_status(data: Mapping[str, Any]) -> str:
    """A status from xAI's batch object, which carries counters and no status field.

    ``failed`` (xAI rejected it: ``cancel_by_xai_message``), ``cancelling`` / ``cancelled``,
    ``validating`` (no request counted yet), ``in_progress``, ``expired`` (``expire_time``
    passed with requests pending) or ``completed`` (nothing pending).
    """
    state = data.get("state") if isinstance(data.get("state"), Mapping) else {}
    assert isinstance(state, Mapping)
    pending = _count(state, "num_pending")
    if data.get("cancel_by_xai_message"):
        return "failed"
    if data.get("cancel_time"):
        return "cancelling" if pending else "cancelled"
    if _count(state, "num_requests") == 0:
        return "validating"
    if pending:
        expires = _timestamp(data.get("expire_time"))
        if expires is not None and time.time() > expires:
            return "expired"
        return "in_progress"
    return "completed"


def _listed_batches(client: Client, names: set[str]) -> dict[str, dict[str, Any]]:
    """The batches named ``names`` among the team's (``GET /v1/batches``, paged with
    ``pagination_token`` [docs.x.ai/api-reference "List batches"; xai-sdk-python
    ``ListBatchesRequest`` / ``ListBatchesResponse``]), by name.

    Paging stops once every name is found, at the last page, at a token seen before, or
    after :data:`_MAX_LIST_PAGES`. A server without the endpoint (404 / 405) lists nothing.
    """
    found: dict[str, dict[str, Any]] = {}
    token: str | None = None
    seen: set[str] = set()
    for _ in range(_MAX_LIST_PAGES):
        params = {"limit": _LIST_PAGE, "pagination_token": token}
        try:
            reply = client.request("GET", "/batches", params=params)
        except APIStatusError as exc:
            if exc.status_code in (404, 405):
                return found
            raise
        data = reply.data if isinstance(reply.data, dict) else {}
        listed = data.get("batches")
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict) and item.get("name") in names:
                found[str(item["name"])] = item
        following = data.get("pagination_token")
        token = following if isinstance(following, str) and following else None
        if found.keys() >= names or token is None or token in seen or not listed:
            break
        seen.add(token)
    return found


def _state(data: Mapping[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """The batch object's ``state`` (its counters) as a dict; absent is empty.

    A ``state`` that is not an object raises :class:`~grokbook.errors.BatchRequestError`
    (``strict``), or counts as empty (``strict=False``, where the batch must be recorded).
    """
    state = data.get("state")
    if state is None:
        return {}
    if isinstance(state, Mapping):
        return dict(state)
    if not strict:
        return {}
    raise BatchRequestError(
        f"The provider's batch status has a `state` that is not an object (a "
        f"{type(state).__name__}); this server may not speak "
        "xAI's Batch API. Check base_url; run the sweep again later to collect the batch."
    )


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# -- one batch sweep ---------------------------------------------------------------------------
@dataclass
class _Part:
    record: _batch_store.BatchRecord
    jobs: frozenset[int]
    created_ts: float
    landed: set[int] = field(default_factory=set)
    #: Submitted by this run: nothing of it can have been collected before.
    fresh: bool = False
    #: Why the provider rejected the batch (``cancel_by_xai_message``), if it did.
    rejection: str | None = None
    #: The batch's billed total (``cost_breakdown.total_cost_usd_ticks``), USD, if sent.
    billed_total_usd: float | None = None
    #: Why reading its results stopped early (a results paging that never ended), if it did.
    paging_stopped: str | None = None


@dataclass(frozen=True)
class _Priced:
    """What one landed row cost on the Batch API, and what the same tokens cost live."""

    model: str
    #: The row's batch cost: billed ticks, an estimate from a known discount, or None.
    cost_usd: float | None
    #: "billed" (the result's ``cost_in_usd_ticks``), "estimate" or "unknown".
    basis: str
    #: The same tokens at the catalog's live prices (None when a price is unknown).
    live_usd: float | None


class _BatchRun:
    """Submits, polls and collects the batches of one grid; fills the sweep's rows."""

    def __init__(
        self,
        client: Client,
        spec: _Spec,
        jobs: list[Job],
        *,
        progress: bool,
        poll_interval: float | None,
        on_result: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.client = client
        self.spec = spec
        self.jobs = jobs
        self.progress = progress
        self.on_result = on_result
        self.poll_interval = _poll_interval(client, poll_interval)
        self.sweep_id = uuid.uuid4().hex[:12]
        self.rows: list[dict[str, Any] | None] = [None] * len(jobs)
        self.parts: list[_Part] = []
        self.store: Store | None = get_store()
        self.priced: dict[int, _Priced] = {}
        self.submitted = 0
        self._bar: Any = None
        self._started = time.perf_counter()

    # -- calls ----------------------------------------------------------------------------------
    def _tags(self, batch_id: str | None = None) -> dict[str, Any]:
        tags: dict[str, Any] = {"sweep_id": self.sweep_id, "source": "batch"}
        if batch_id is not None:
            tags["batch_id"] = batch_id
        return tags

    def _set(self, index: int, row: dict[str, Any]) -> None:
        if row.get("provider") is None:  # an error row: no answer says who would have answered
            row["provider"], row["simulated"] = self.spec.provider, self.client.simulated
        self.rows[index] = row
        if self.on_result is not None:
            self.on_result(dict(row))

    # -- submitting -----------------------------------------------------------------------------
    def resume(self) -> None:
        """Pick up this grid's batches that were submitted but not collected yet."""
        if self.store is None:
            return
        pending = [
            r
            for r in _batch_store.find(self.store, self.spec.key)
            if r.collected is None and _checked_spec(self.store, r) is not None
        ]
        intents = [r for r in pending if _batch_store.is_intent(r)]
        for record in pending:
            if not _batch_store.is_intent(record):
                self._adopt(record)
        if intents:
            self._settle_intents(intents)

    def _adopt(self, record: _batch_store.BatchRecord) -> _Part:
        created = _timestamp(record.created) or time.time()
        part = _Part(record, frozenset(record.jobs), created)
        self.parts.append(part)
        return part

    def submit_rest(self) -> None:
        """Answer cached calls from the cache; stream the others into batches and submit."""
        covered: set[int] = set()
        for part in self.parts:
            covered |= part.jobs
        writer = _JsonlWriter(self._submit)
        try:
            for job in self.jobs:
                if job.index in covered:
                    continue
                try:
                    call = _make_call(self.client, self.spec, job, self._tags())
                except (GrokbookError, ValueError) as exc:  # rejected before sending
                    self._set(job.index, _row(job, None, f"{type(exc).__name__}: {exc}"))
                    continue
                hit = call.lookup()
                if hit is not None:
                    self._set(job.index, _row(job, hit))
                    continue
                writer.add(job.index, urlsplit(call.request.url).path, call.request.body)
            writer.close()
        finally:
            writer.discard()

    def _submit(self, file: IO[bytes], indices: list[int], size: int) -> None:
        global _last_create
        file.seek(0)
        key = self.spec.key
        part_no = len(self.parts)
        # Unique per attempt, and carries the grid key: what a re-run looks the batch up by.
        name = f"{_NAME_PREFIX}{key[:16]}-{part_no}-{self.sweep_id}"
        upload = self.client.request(
            "POST", "/files", files={"file": (f"{name}.jsonl", file, "application/jsonl")}
        )
        file_id = _field(upload.data, "id", "the file upload")
        intent = _batch_store.BatchRecord(
            batch_id=_batch_store.INTENT_PREFIX + name,
            grid_key=key,
            part=part_no,
            created=_now_iso(),
            provider=self.spec.provider,
            base_host=urlsplit(self.spec.base_url).netloc or None,
            file_id=file_id,
            sweep_id=self.sweep_id,
            calls=len(indices),
            jobs=indices,
            # The run log never holds the key, not even one pasted into a prompt.
            grid=json.loads(redact(json.dumps(self.spec.to_dict()), self.client._secrets())),
            status="creating",
            state={},
            updated=None,
            collected=None,
            cost_usd=None,
        )
        # Written before the batch is created: a kernel killed before the answer arrives (or
        # before its id is written) leaves this row, and the next run finds the batch by name.
        intended = self.store is not None and _batch_store.save(self.store, intent)
        wait = _last_create + CREATE_INTERVAL_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            created = self.client.request(
                "POST", "/batches", json={"name": name, "input_file_id": file_id}
            )
        except APIStatusError:  # the server answered, so it made no batch
            if intended and self.store is not None:
                _batch_store.delete(self.store, intent.batch_id)
            raise
        _last_create = time.monotonic()
        data = created.data if isinstance(created.data, dict) else {}
        record = self._created(intent, data)
        if self.store is not None:  # before the first poll: a restart loses nothing
            if intended:
                _batch_store.settle(self.store, intent.batch_id, record)
            else:
                _batch_store.save(self.store, record)
        part = self._adopt(record)
        part.created_ts, part.fresh = time.time(), True
        self.submitted += 1

    @staticmethod
    def _created(
        intent: _batch_store.BatchRecord, data: Mapping[str, Any]
    ) -> _batch_store.BatchRecord:
        """The record of the batch the server made for ``intent`` (``data``: its batch)."""
        return dataclasses.replace(
            intent,
            batch_id=_field(data, "batch_id", "the batch creation"),
            created=str(data.get("create_time") or intent.created),
            status=batch_status(data),
            # Lenient here: the batch exists, so it is recorded whatever its state says.
            state=_state(data, strict=False),
        )

    def _settle_intents(self, intents: list[_batch_store.BatchRecord]) -> None:
        """Batches a killed run was creating: adopt the ones the server made (found by name
        in ``GET /v1/batches``), forget the others (their calls are submitted again)."""
        assert self.store is not None
        wanted = {r.batch_id[len(_batch_store.INTENT_PREFIX) :]: r for r in intents}
        found = _listed_batches(self.client, set(wanted))
        for name, intent in wanted.items():
            data = found.get(name)
            if data is None:
                _batch_store.delete(self.store, intent.batch_id)
                continue
            record = self._created(intent, data)
            if _batch_store.settle(self.store, intent.batch_id, record):
                self._adopt(record)

    # -- polling --------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> None:
        """Poll every batch until each is over (collecting each as it ends), or ``timeout``."""
        pending = [p for p in self.parts if p.record.collected is None]
        deadline = None if timeout is None else time.monotonic() + timeout
        base = self.poll_interval
        cap = max(base, min(base * 10, _MAX_POLL_S))
        interval = base
        self._open_bar()
        try:
            while pending:
                moved = False
                for part in list(pending):
                    if self._refresh(part):
                        moved = True
                    if part.record.status in _TERMINAL:
                        self.collect(part)
                        pending.remove(part)
                        moved = True
                self._tick()
                if not pending or (deadline is not None and time.monotonic() >= deadline):
                    break
                time.sleep(interval)
                interval = base if moved else min(interval * _BACKOFF, cap)
        finally:
            self._close_bar()

    def _refresh(self, part: _Part) -> bool:
        """Fetch the batch's status; True when its counters moved."""
        reply = self.client.request("GET", f"/batches/{part.record.batch_id}")
        data = reply.data if isinstance(reply.data, dict) else {}
        state = _state(data)
        status = batch_status(data)
        if data.get("cancel_by_xai_message"):
            part.rejection = redact(str(data["cancel_by_xai_message"]), self.client._secrets())
        part.billed_total_usd = _breakdown_usd(data) if data else part.billed_total_usd
        moved = state != part.record.state or status != part.record.status
        part.record.state, part.record.status = state, status
        if moved and self.store is not None:
            _batch_store.update(self.store, part.record.batch_id, status=status, state=state)
        return moved

    # -- collecting -----------------------------------------------------------------------------
    def collect(self, part: _Part) -> int:
        """Read the batch's finished results into rows, run log and cache; the rows landed.

        Paging is bounded: a token seen before ends it (a server repeating itself), and so
        does reading more results than the batch has requests (each page holds at least one,
        so the pages are bounded too); the requests not read then become error rows.
        """
        landed = 0
        token: str | None = None
        batch_id = part.record.batch_id
        page = RESULTS_PAGE
        seen_tokens: set[str] = set()
        read = 0
        while True:
            params = {"limit": page, "pagination_token": token}
            try:
                reply = self.client.request("GET", f"/batches/{batch_id}/results", params=params)
            except ResponseTooLargeError:
                if page == 1:
                    raise  # one result past max_response_bytes: raise the cap to read it
                page = max(1, page // 4)  # long reasoning answers: smaller pages fit the cap
                continue
            data = reply.data if isinstance(reply.data, dict) else {}
            results = data.get("results")
            results = results if isinstance(results, list) else []
            for item in results:
                if isinstance(item, dict) and self._land(part, item):
                    landed += 1
            read += len(results)
            following = data.get("pagination_token")
            token = following if isinstance(following, str) and following else None
            if token is None or not results or part.landed >= part.jobs:
                break
            if token in seen_tokens or read >= len(part.jobs):
                part.paging_stopped = (
                    f"the provider's results paging did not end (token {token[:40]!r} "
                    f"{'came back' if token in seen_tokens else 'still given'} after {read} "
                    f"results for {len(part.jobs)} requests), so grokbook stopped reading it"
                )
                break
            seen_tokens.add(token)
        if part.record.status in _TERMINAL:
            self._close_part(part)
        return landed

    def _land(self, part: _Part, item: Mapping[str, Any]) -> bool:
        custom_id = item.get("batch_request_id")
        index = _index(custom_id)
        if index is None or index not in part.jobs or index in part.landed:
            return False
        part.landed.add(index)
        job = self.jobs[index]
        call = _make_call(self.client, self.spec, job, self._tags(part.record.batch_id))
        result = item.get("batch_result")
        result = result if isinstance(result, Mapping) else item
        response = result.get("response")
        payload = next(iter(response.values()), None) if isinstance(response, Mapping) else None
        if not isinstance(payload, dict):
            error = result.get("error")
            message = error.get("message") if isinstance(error, Mapping) else error
            code = error.get("code") if isinstance(error, Mapping) else None
            exc = BatchRequestError(
                redact(
                    f"The batch request failed: {message or 'no response'} (code {code}). Run "
                    "the same sweep again to submit it again.",
                    self.client._secrets(),
                ),
                code=code,
            )
            call.record(None, exc)
            self._set(index, _row(job, None, f"BatchRequestError: {exc}"))
            return True
        earlier = None if part.fresh else self._already_landed(call)
        if earlier is not None:  # collected before (a resumed or partial collection)
            self.priced[index] = _priced(earlier, payload, job.model)
            self._set(index, _row(job, earlier))
            return True
        try:
            completion = self._completion(call, payload, part, index)
        except APIError as exc:
            call.record(None, exc)
            self._set(index, _row(job, None, f"{type(exc).__name__}: {exc}"))
            return True
        call.record(completion, None)
        self._set(index, _row(job, completion))
        return True

    def _completion(
        self, call: _Call, payload: dict[str, Any], part: _Part, index: int
    ) -> Completion:
        request = call.request
        completion: Completion = wire_for(request).parse(
            request,
            payload,
            latency_s=max(0.0, time.time() - part.created_ts),
            status_code=200,
            secrets=self.client._secrets(),
        )
        priced = _priced(completion, payload, request.model)
        self.priced[index] = priced
        # Without billed ticks the parser's cost is the live list price: the row says what
        # the batch cost instead (an estimate from a documented discount), or nothing.
        return (
            completion if priced.basis == "billed" else completion.replace(cost_usd=priced.cost_usd)
        )

    def _already_landed(self, call: _Call) -> Completion | None:
        if call.key is None or self.store is None:
            return None
        hit = self.store.lookup(call.key)
        return None if hit is None else hit.replace(cached=False, cache_lookup_s=None)

    def _close_part(self, part: _Part) -> None:
        status = part.record.status
        reason = {
            "failed": f"the provider rejected the batch ({part.rejection or 'no reason given'})",
            "cancelled": "the batch was cancelled before this request ran",
            "expired": "the batch expired before this request ran",
        }.get(status, part.paging_stopped or "the batch ended without a result for this request")
        message = f"BatchRequestError: {reason}. Run the same sweep again to submit it again."
        for index in sorted(part.jobs - part.landed):
            self._set(index, _row(self.jobs[index], None, message))
        # "Collected" only once every answer is durable: a kernel killed in between must find
        # them in the cache, or the batch uncollected (then collected again, never resubmitted).
        if self.store is not None and not self.store.flush():
            return
        part.record.collected = _now_iso()
        if self.store is not None:
            _batch_store.update(
                self.store,
                part.record.batch_id,
                status=status,
                state=part.record.state,
                collected=True,
                cost_usd=self._part_cost(part),
            )

    def _part_cost(self, part: _Part) -> float | None:
        """The batch's cost: its billed total when the results carry no ticks of their own,
        else the sum of its rows' costs (None when one is unknown)."""
        rows = [self.priced[i] for i in part.landed if i in self.priced]
        if part.billed_total_usd is not None and any(p.basis != "billed" for p in rows):
            return part.billed_total_usd
        if any(p.cost_usd is None for p in rows):
            return None
        return sum(p.cost_usd or 0.0 for p in rows)

    # -- progress and results ---------------------------------------------------------------------
    def _done(self) -> tuple[int, int, int]:
        """(finished, failed, pending) calls of the grid, from rows and the batches' counters."""
        finished = sum(1 for row in self.rows if row is not None)
        failed = sum(1 for row in self.rows if row is not None and row["status"] != "ok")
        pending = 0
        for part in self.parts:
            if part.record.collected is None:
                state = part.record.state
                ended = sum(_count(state, n) for n in ("num_success", "num_error", "num_cancelled"))
                finished += max(0, ended - len(part.landed))
                failed += _count(state, "num_error")
                pending += _count(state, "num_pending") or max(0, len(part.jobs) - ended)
        return finished, failed, pending

    def _open_bar(self) -> None:
        if not self.progress or self._bar is not None:
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(total=len(self.jobs), desc="grokbook batch", unit="call", file=sys.stderr)
        self._tick()

    def _tick(self) -> None:
        if self._bar is None:
            return
        finished, failed, pending = self._done()
        self._bar.set_postfix({"pending": pending, "failed": failed}, refresh=False)
        self._bar.update(max(0, finished - self._bar.n))

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self) -> dict[str, Any]:
        finished = [row for row in self.rows if row is not None]
        return {
            "sweep_id": self.sweep_id,
            "via": "batch",
            "calls": len(self.jobs),
            "finished": len(finished),
            "errors": sum(1 for row in finished if row["status"] != "ok"),
            "batches": len(self.parts),
            "batch_ids": [part.record.batch_id for part in self.parts],
            "submitted": self.submitted,
            **self._costs(),
            "elapsed_s": time.perf_counter() - self._started,
        }

    def _costs(self) -> dict[str, Any]:
        """``cost_usd`` (what the batches cost), ``cost_basis``, ``live_usd`` (the same tokens
        at live prices), ``saved_usd`` and ``saved_note`` (see the module doc, **Cost**)."""
        cost: float | None = 0.0
        bases: set[str] = set()
        for part in self.parts:
            rows = [self.priced[i] for i in part.landed if i in self.priced]
            if part.billed_total_usd is not None and any(p.basis != "billed" for p in rows):
                bases.add("billed")  # the batch's cost_breakdown, when results carry no ticks
                cost = None if cost is None else cost + part.billed_total_usd
                continue
            for priced in rows:
                bases.add(priced.basis)
                cost = None if cost is None or priced.cost_usd is None else cost + priced.cost_usd
        lives = [p.live_usd for p in self.priced.values()]
        live = None if None in lives else sum(v or 0.0 for v in lives)
        models = sorted({p.model for p in self.priced.values() if p.basis != "billed"})
        terms = [catalog.batch_terms(m) for m in models]
        if not self.priced:
            basis, saved, note = "billed", 0.0, "nothing collected yet"
        elif "unknown" in bases or cost is None:
            basis, saved = None, None
            unknown = [t.discount_label for t in terms if t.discount is None]
            note = "no billed cost and " + "; ".join(unknown or ["no price known"])
        elif "estimate" in bases:
            basis = "estimate"
            saved = None if live is None else live - cost
            note = "estimate: " + "; ".join(t.discount_label for t in terms)
        else:
            basis, note = "billed", "from billed ticks and the catalog's live prices"
            saved = None if live is None else live - cost
        return {
            "cost_usd": cost,
            "cost_basis": basis,
            "live_usd": live,
            "saved_usd": saved,
            "saved_note": note,
        }

    def frame(self) -> pd.DataFrame:
        from .tables import frame_from_rows

        df = frame_from_rows(row for row in self.rows if row is not None)
        if "via" not in df.columns:
            df["via"] = []
        df.attrs["sweep"] = self.summary()
        return df


def _now_iso() -> str:
    from ._store_schema import iso

    return iso(time.time())


def _index(custom_id: Any) -> int | None:
    if not isinstance(custom_id, str) or not custom_id.startswith(_ID_PREFIX):
        return None
    digits = custom_id[len(_ID_PREFIX) :]
    return int(digits) if digits.isdigit() else None


def _field(data: Any, name: str, what: str) -> str:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise BatchRequestError(
            f"The provider's answer to {what} has no {name!r}; this server may not speak "
            "xAI's Batch API. Check base_url, or run the sweep live (via='live')."
        )
    return value


def _poll_interval(client: Client, value: float | None) -> float:
    if value is None:
        return SIM_POLL_S if client.simulated else DEFAULT_POLL_S
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise UnsupportedParameterError(
            f"poll_interval must be a positive number of seconds; got {value!r}."
        )
    return float(value)


class _JsonlWriter:
    """Streams JSONL lines to temporary files, one per batch within the limits."""

    def __init__(self, submit: Callable[[IO[bytes], list[int], int], None]) -> None:
        self._submit = submit
        self._file: IO[bytes] | None = None
        self._indices: list[int] = []
        self._bytes = 0

    def add(self, index: int, url_path: str, body: Mapping[str, Any]) -> None:
        line = {"custom_id": f"{_ID_PREFIX}{index}", "method": "POST", "url": url_path}
        line["body"] = body  # type: ignore[assignment]
        data = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        if len(data) > MAX_FILE_BYTES:
            raise UnsupportedParameterError(
                f"Call {index} alone is {len(data):,} bytes of JSONL, more than a batch "
                f"takes ({MAX_FILE_BYTES:,}); send it live."
            )
        if self._indices and (
            len(self._indices) >= MAX_REQUESTS_PER_BATCH or self._bytes + len(data) > MAX_FILE_BYTES
        ):
            self.flush()
        if self._file is None:
            # Kept open across add() calls; closed by flush() or discard().
            self._file = tempfile.TemporaryFile(prefix="grokbook-batch-", suffix=".jsonl")  # noqa: SIM115
        self._file.write(data)
        self._indices.append(index)
        self._bytes += len(data)

    def flush(self) -> None:
        if self._file is None or not self._indices:
            return
        file, indices, size = self._file, self._indices, self._bytes
        self._file, self._indices, self._bytes = None, [], 0
        try:
            file.flush()
            self._submit(file, indices, size)
        finally:
            file.close()

    def close(self) -> None:
        self.flush()

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# -- what a batch costs ---------------------------------------------------------------------------
def _ticks_usd(value: Any) -> float | None:
    """USD from a ticks figure (an int, or the decimal string protobuf's JSON makes of one)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value) / 1e10


def _breakdown_usd(data: Mapping[str, Any]) -> float | None:
    """A batch's billed total: ``cost_breakdown.total_cost_usd_ticks`` (xai-sdk's
    ``BatchCostBreakdown``), or None when the batch object carries none."""
    breakdown = data.get("cost_breakdown")
    return (
        _ticks_usd(breakdown.get("total_cost_usd_ticks"))
        if isinstance(breakdown, Mapping)
        else None
    )


def _priced(completion: Completion, payload: Mapping[str, Any], model: str) -> _Priced:
    """A landed row's batch cost and live cost, from its billed ticks when it has them."""
    live = compute_cost(None, completion.usage, completion.model, model)
    usage = payload.get("usage")
    if isinstance(usage, Mapping) and _ticks_usd(usage.get("cost_in_usd_ticks")) is not None:
        return _Priced(model, completion.cost_usd, "billed", live)
    discount = catalog.batch_terms(model).discount
    if discount is None or live is None:
        return _Priced(model, None, "unknown", live)
    return _Priced(model, live * (1 - discount), "estimate", live)


def _unbatchable(models: Iterable[str]) -> list[catalog.BatchTerms]:
    """The terms of the models in ``models`` that xAI marks "Batch API: Not supported"."""
    found = {}
    for model in models:
        terms = catalog.batch_terms(model)
        if terms.supported is False:
            found[model] = terms
    return list(found.values())


def _refuse_unbatchable(models: Iterable[str]) -> None:
    refused = _unbatchable(models)
    if not refused:
        return
    names = ", ".join(t.model for t in refused)
    able = ", ".join(
        f"{m} ({catalog.batch_terms(m).discount_label.split(' for ')[0]})"
        for m in catalog.batch_models()
    )
    raise UnsupportedParameterError(
        f"{names} cannot run on xAI's Batch API ({refused[0].source}; checked "
        f"{refused[0].checked}). Run the sweep live (via='live'), or pick a model xAI serves "
        f"in batches: {able or 'none known'}. Nothing was uploaded."
    )


# -- the entry points ----------------------------------------------------------------------------
def engine(
    via: str,
    calls: int,
    *,
    accept_latency: bool = False,
    provider: str | None = None,
    models: Iterable[str] = (),
) -> str:
    """``"batch"`` or ``"live"`` for ``via`` ("live" | "batch" | "auto") and a grid size.

    ``auto`` picks the Batch API only with ``accept_latency=True`` (results can take up to a
    day), at least :data:`AUTO_BATCH_MIN_CALLS` calls, a provider that serves it and no model
    in ``models`` that xAI marks "Batch API: Not supported"
    (:func:`grokbook.catalog.batch_terms`).

    >>> engine("auto", 5000, accept_latency=True, models=["grok-4.3"])
    'batch'
    >>> engine("auto", 5000, accept_latency=True, models=["grok-4.3", "grok-4.7"])
    'live'
    """
    if via not in ("live", "batch", "auto"):
        raise UnsupportedParameterError(f"via must be 'live', 'batch' or 'auto'; got {via!r}.")
    if via == "auto":
        batchable = (provider is None or provider in _BATCH_PROVIDERS) and not _unbatchable(models)
        return "batch" if accept_latency and calls >= AUTO_BATCH_MIN_CALLS and batchable else "live"
    return via


def batch_sweep(
    prompts: str | Iterable[str],
    models: str | Iterable[str] | None = None,
    efforts: str | Iterable[str | None] | None = None,
    repeats: int = 1,
    *,
    client: Client | AsyncClient | None = None,
    system: str | None = None,
    temperature: float | None = None,
    progress: bool = True,
    cache: bool = True,
    seed: int | None = 0,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    poll_interval: float | None = None,
    timeout: float | None = None,
) -> pd.DataFrame:
    """:func:`grokbook.sweep` on the Batch API (``gb.sweep(..., via="batch")`` calls this).

    Same grid, same rows (plus ``via="batch"``); ``poll_interval`` seconds between status
    polls (default :data:`DEFAULT_POLL_S`, :data:`SIM_POLL_S` on the simulator), backing off
    while nothing changes; ``timeout`` stops waiting after that many seconds and returns the
    rows collected so far (the batches keep running: run the cell again later). Ctrl-C
    raises :class:`~grokbook.SweepInterrupted` with the rows collected so far.
    """
    from .sweeps import SweepInterrupted

    sync, owned = Client.like(client)
    try:
        if sync.provider.name not in _BATCH_PROVIDERS:
            raise UnsupportedParameterError(
                f"Provider {sync.provider.name!r} does not serve xAI's Batch API; use "
                "provider='xai' (or the simulator), or run the sweep live (via='live')."
            )
        spec, jobs = _spec(
            prompts,
            models,
            efforts,
            repeats,
            client=sync,
            system=system,
            temperature=temperature,
            seed=seed,
            cache=cache,
        )
        _refuse_unbatchable(spec.models)  # before anything is uploaded
        run = _BatchRun(
            sync, spec, jobs, progress=progress, poll_interval=poll_interval, on_result=on_result
        )
        try:
            run.resume()
            run.submit_rest()
            run.wait(timeout)
        except KeyboardInterrupt:
            raise SweepInterrupted(run.frame(), len(jobs), batch=True) from None
        finally:
            flush()  # the rows are durable before the sweep returns (or raises)
        frame = run.frame()
        if progress:
            _print_summary(frame.attrs["sweep"])
        return frame
    finally:
        if owned:
            sync.close()


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.6f}"


def _print_summary(summary: Mapping[str, Any]) -> None:
    basis = summary["cost_basis"] or "not billed"
    print(
        f"grokbook batch: {summary['finished']} of {summary['calls']} calls in "
        f"{summary['batches']} batch(es), {summary['errors']} errors; "
        f"{_usd(summary['cost_usd'])} on the Batch API ({basis}), "
        f"{_usd(summary['live_usd'])} at live prices; saved {_usd(summary['saved_usd'])} "
        f"({summary['saved_note']}).",
        file=sys.stderr,
    )


def _record(batch_id: str) -> tuple[Store, _batch_store.BatchRecord, _Spec]:
    """A recorded batch, with the grid it runs (a damaged row is no batch, with a warning)."""
    store = get_store()
    record = _batch_store.get(store, batch_id) if store is not None else None
    spec = None if record is None or store is None else _checked_spec(store, record)
    if store is None or record is None or spec is None:
        raise UnsupportedParameterError(
            f"No batch {batch_id!r} in the run log (gb.batches() lists the recorded ones; "
            "check GROKBOOK_HOME)."
        )
    return store, record, spec


def _checked_spec(store: Store, record: _batch_store.BatchRecord) -> _Spec | None:
    """The grid a batch row records, checked: None (and one StoreWarning) when the row is
    damaged (a grid that is not one, job indices past its end)."""
    try:
        spec = check(record.grid, _Spec, _Spec.from_dict)
        if any(index >= len(spec.jobs()) for index in record.jobs):
            raise DamagedEntry("its job indices are past the end of its grid")
    except DamagedEntry as exc:
        _batch_store.damaged(store, exc)
        return None
    return spec


def _client_for(
    record: _batch_store.BatchRecord, client: Client | AsyncClient | None
) -> tuple[Client, bool]:
    if client is not None:
        return Client.like(client)
    spec = record.grid
    return Client(provider=str(spec["provider"]), base_url=str(spec["base_url"])), True


def batch_result(
    batch_id: str,
    *,
    client: Client | AsyncClient | None = None,
    wait: bool = False,
    poll_interval: float | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The rows of a recorded batch's finished requests (collected into run log and cache).

    Works in a new kernel: the batch and its grid come from the run log; the client defaults
    to one for the provider and base URL the batch was sent to (pass ``client=`` for a key
    or transport of your own). ``wait=True`` polls until the batch is over first.
    """
    _, record, spec = _record(batch_id)
    sync, owned = _client_for(record, client)
    try:
        run = _BatchRun(sync, spec, spec.jobs(), progress=progress, poll_interval=poll_interval)
        part = run._adopt(record)
        try:
            if wait and record.collected is None:
                run.wait()
            else:
                run._refresh(part)
                run.collect(part)
        finally:
            flush()  # what was collected is durable before returning
        frame = run.frame()
        frame.attrs["sweep"]["batch_id"] = batch_id
        return frame
    finally:
        if owned:
            sync.close()


def batches(*, refresh: bool = False, client: Client | AsyncClient | None = None) -> pd.DataFrame:
    """The batches in the run log, newest first: id, status, counts, collected, cost.

    ``refresh=True`` asks the provider for the current status of those not collected yet.
    """
    import pandas as pd

    store = get_store()
    records = _batch_store.listing(store) if store is not None else []
    records = [r for r in records if store is not None and _checked_spec(store, r) is not None]
    if refresh and store is not None:
        for record in records:
            if record.collected is not None or _batch_store.is_intent(record):
                continue
            sync, owned = _client_for(record, client)
            try:
                data = sync.request("GET", f"/batches/{record.batch_id}").data or {}
            finally:
                if owned:
                    sync.close()
            record.state, record.status = _state(data), batch_status(data)
            _batch_store.update(store, record.batch_id, status=record.status, state=record.state)
    columns = [
        "batch_id",
        "created",
        "status",
        "calls",
        "succeeded",
        "failed",
        "cancelled",
        "pending",
        "collected",
        "cost_usd",
        "provider",
        "base_host",
        "part",
        "grid_key",
        "sweep_id",
    ]
    rows = [
        {
            "batch_id": r.batch_id,
            "created": r.created,
            "status": r.status,
            "calls": r.calls,
            "succeeded": _count(r.state, "num_success"),
            "failed": _count(r.state, "num_error"),
            "cancelled": _count(r.state, "num_cancelled"),
            "pending": _count(r.state, "num_pending"),
            "collected": r.collected is not None,
            "cost_usd": r.cost_usd,
            "provider": r.provider,
            "base_host": r.base_host,
            "part": r.part,
            "grid_key": r.grid_key[:12],
            "sweep_id": r.sweep_id,
        }
        for r in records
    ]
    return pd.DataFrame.from_records(rows, columns=columns)


def cancel(batch_id: str, *, client: Client | AsyncClient | None = None) -> str:
    """Cancel a recorded batch's pending requests (``POST /v1/batches/{id}:cancel``).

    Finished requests keep their results: collect them with :func:`batch_result` or by
    running the sweep again. Returns the batch's status after the cancel.
    """
    store, record, _ = _record(batch_id)
    sync, owned = _client_for(record, client)
    try:
        data = sync.request("POST", f"/batches/{batch_id}:cancel").data or {}
    finally:
        if owned:
            sync.close()
    status = batch_status(data)
    _batch_store.update(store, batch_id, status=status, state=_state(data))
    return status


# -- deferred completions --------------------------------------------------------------------------
class Deferred:
    """A deferred chat completion: sent now, answered later (see :func:`defer`)."""

    def __init__(self, client: Client, call: _Call, request_id: str | None, owned: bool) -> None:
        self.client = client
        self.request_id = request_id
        self._call = call
        self._owned = owned
        self._started = time.perf_counter()
        self._completion: Completion | None = None

    def __repr__(self) -> str:
        state = "done" if self._completion is not None else "pending"
        return f"Deferred(request_id={self.request_id!r}, {state})"

    @property
    def done(self) -> bool:
        return self._completion is not None

    def fetch(self) -> Completion | None:
        """The Completion if it is ready (fetched once, then kept here), else None (202)."""
        if self._completion is not None:
            return self._completion
        reply = self.client.request("GET", f"/chat/deferred-completion/{self.request_id}")
        if reply.status_code == 202 or not isinstance(reply.data, dict):
            return None
        request = self._call.request
        try:
            completion: Completion = wire_for(request).parse(
                request,
                reply.data,
                latency_s=time.perf_counter() - self._started,
                status_code=reply.status_code,
                secrets=self.client._secrets(),
            )
        except APIError as exc:
            self._call.record(None, exc)
            raise
        self._call.record(completion, None)
        self._completion = completion
        self._close()
        return completion

    def wait(
        self, *, poll_interval: float | None = None, timeout: float | None = None
    ) -> Completion:
        """Poll until the answer is ready (``timeout``: raise TimeoutError after that long)."""
        interval = (
            _poll_interval(self.client, poll_interval)
            if poll_interval is not None
            else (SIM_POLL_S if self.client.simulated else 5.0)
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            completion = self.fetch()
            if completion is not None:
                return completion
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"The deferred completion {self.request_id} is not ready after {timeout}s; "
                    "call .wait() or .fetch() again later (xAI keeps it 24 hours)."
                )
            time.sleep(interval)

    def _close(self) -> None:
        if self._owned:
            self.client.close()
            self._owned = False


def defer(
    prompt: Messages, *, client: Client | AsyncClient | None = None, **options: Unpack[CallOptions]
) -> Deferred:
    """Send ``prompt`` as a deferred chat completion (``deferred: true``); poll it later.

    For a handful of long calls (high effort on a hard prompt) that should not hold a
    connection open: returns at once with a :class:`Deferred`; ``.wait()`` or ``.fetch()``
    return the Completion, logged and cached like a live call. Chat Completions only (the
    deferred endpoint is ``GET /v1/chat/deferred-completion/{id}``); with ``cache=True`` an
    identical cached call is answered at once.

    >>> import grokbook as gb
    >>> later = gb.batch.defer("What is 101*3?", model="grok-3-mini-beta")
    >>> later.wait().content
    '101 * 3 = 303'
    """
    sync, owned = Client.like(client)
    if "chat" not in sync.provider.wires:
        raise UnsupportedParameterError(
            f"Provider {sync.provider.name!r} does not speak Chat Completions, which deferred "
            "completions need."
        )
    options["wire"] = "chat"
    call = sync._call(prompt, options, stream=False)
    hit = call.lookup()
    if hit is not None:
        deferred = Deferred(sync, call, None, owned)
        deferred._completion = hit
        deferred._close()
        return deferred
    body = dict(call.request.body, deferred=True)
    try:
        reply = sync.request("POST", "/chat/completions", json=body)
    except APIError as exc:
        call.record(None, exc)
        if owned:
            sync.close()
        raise
    return Deferred(sync, call, _field(reply.data, "request_id", "the deferred request"), owned)
