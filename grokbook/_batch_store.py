"""The run log's ``batches`` table (migration 4 in :mod:`grokbook.store`): Batch API jobs.

One row per submitted batch: its id, the grid it runs (``grid``: what rebuilds every request;
``jobs``: the indices of the grid's calls it carries), the last status seen and when its
results were collected. Rows are written at once (not through the writer thread's queue):
the row must exist before the first poll, so that a killed kernel loses nothing.

Kept apart from ``store.py`` on purpose; it uses the Store's connection and lock only. Every
function degrades to a :class:`~grokbook.store.StoreWarning` (and an empty answer) when the
store cannot be used, like the rest of the run log.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._store_schema import iso as _iso
from ._store_shapes import DamagedEntry, check
from .store import Store, canonical_json

__all__ = [
    "INTENT_PREFIX",
    "BatchRecord",
    "damaged",
    "delete",
    "find",
    "get",
    "is_intent",
    "listing",
    "save",
    "settle",
    "update",
]

#: The ``batch_id`` of a batch about to be created (its row is written before ``POST
#: /v1/batches``, under this prefix and the batch's name, and given the real id once the
#: server answers): a crash in between leaves this row, and the next run looks the batch up
#: by its name instead of creating a second one.
INTENT_PREFIX = "creating:"

_COLUMNS = (
    "batch_id",
    "grid_key",
    "part",
    "created",
    "provider",
    "base_host",
    "file_id",
    "sweep_id",
    "calls",
    "jobs",
    "grid",
    "status",
    "state",
    "updated",
    "collected",
    "cost_usd",
)


@dataclass
class BatchRecord:
    """One row of the ``batches`` table, decoded."""

    batch_id: str
    grid_key: str
    part: int
    created: str
    provider: str | None
    base_host: str | None
    file_id: str | None
    sweep_id: str | None
    calls: int
    jobs: list[int]
    grid: dict[str, Any]
    status: str
    state: dict[str, Any]
    updated: str | None
    collected: str | None
    cost_usd: float | None


def _record(row: Sequence[Any]) -> BatchRecord:
    """A row decoded and checked (:class:`~grokbook._store_shapes.DamagedEntry` if it is not
    what :func:`save` writes: undecodable JSON, a wrong type, a negative job index)."""
    values = dict(zip(_COLUMNS, row, strict=True))
    try:
        values["jobs"] = json.loads(values["jobs"])
        values["grid"] = json.loads(values["grid"])
        values["state"] = json.loads(values["state"] or "{}")
    except (TypeError, ValueError, RecursionError) as exc:
        raise DamagedEntry(f"{type(exc).__name__}: {exc}") from None
    record = check(values, BatchRecord, lambda data: BatchRecord(**data))
    if any(index < 0 for index in record.jobs) or len(set(record.jobs)) != len(record.jobs):
        raise DamagedEntry("its job indices are not distinct indices of the grid")
    return record


def save(store: Store, record: BatchRecord) -> bool:
    """Insert a new batch row (committed before returning); False if the store failed (or
    is read-only)."""
    if store.read_only:
        return False
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["jobs"] = json.dumps(record.jobs, separators=(",", ":"))
    values["grid"] = canonical_json(record.grid)
    values["state"] = canonical_json(record.state)
    sql = (
        f"INSERT OR REPLACE INTO batches ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"
    )
    try:
        with store._lock:
            conn = store._connection()
            with conn:
                conn.execute(sql, values)
    except sqlite3.Error as exc:
        store._warn_once(
            "record a batch in", exc, "it still runs, but cannot be resumed from the run log."
        )
        return False
    return True


def is_intent(record: BatchRecord) -> bool:
    """Whether ``record`` is a batch that was being created (see :data:`INTENT_PREFIX`)."""
    return record.batch_id.startswith(INTENT_PREFIX)


def settle(store: Store, intent_id: str, record: BatchRecord) -> bool:
    """Give an intent row its batch (the server's id and status); False if the store failed."""
    if store.read_only:
        return False
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["jobs"] = json.dumps(record.jobs, separators=(",", ":"))
    values["grid"] = canonical_json(record.grid)
    values["state"] = canonical_json(record.state)
    values["intent_id"] = intent_id
    sets = ", ".join(f"{c} = :{c}" for c in _COLUMNS)
    try:
        with store._lock:
            conn = store._connection()
            with conn:
                conn.execute(f"UPDATE batches SET {sets} WHERE batch_id = :intent_id", values)
    except sqlite3.Error as exc:
        store._warn_once(
            "record a batch in", exc, "it still runs, but cannot be resumed from the run log."
        )
        return False
    return True


def delete(store: Store, batch_id: str) -> None:
    """Forget a row (an intent whose batch the server never made)."""
    if store.read_only:
        return
    try:
        with store._lock:
            conn = store._connection()
            with conn:
                conn.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
    except sqlite3.Error as exc:
        store._warn_once("update a batch in", exc, "its status in gb.batches() may be stale.")


def update(
    store: Store,
    batch_id: str,
    *,
    status: str,
    state: Mapping[str, Any],
    collected: bool = False,
    cost_usd: float | None = None,
) -> None:
    """Record the last status seen (and, once collected, when and what it cost)."""
    if store.read_only:
        return
    now = _iso(time.time())
    sets = ["status = ?", "state = ?", "updated = ?"]
    args: list[Any] = [status, canonical_json(dict(state)), now]
    if collected:
        sets += ["collected = ?", "cost_usd = ?"]
        args += [now, cost_usd]
    try:
        with store._lock:
            conn = store._connection()
            with conn:
                conn.execute(
                    f"UPDATE batches SET {', '.join(sets)} WHERE batch_id = ?", [*args, batch_id]
                )
    except sqlite3.Error as exc:
        store._warn_once("update a batch in", exc, "its status in gb.batches() may be stale.")


def _select(store: Store, where: str = "", args: Sequence[Any] = ()) -> list[BatchRecord]:
    sql = f"SELECT {', '.join(_COLUMNS)} FROM batches {where} ORDER BY created DESC, part DESC"
    try:
        with store._lock:
            fetched = store._connection().execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        store._warn_once("read batches from", exc, "none are listed.")
        return []
    records = []
    for row in fetched:
        try:
            records.append(_record(row))
        except DamagedEntry as exc:
            damaged(store, exc)
    return records


def damaged(store: Store, exc: Exception) -> None:
    """Warn (once per store) that a damaged batch row is left out."""
    store._warn_once(
        "read a batch row in",
        exc,
        "that batch is left out (not listed, resumed or collected; its calls are submitted "
        "again by the sweep that made it).",
    )


def find(store: Store, grid_key: str) -> list[BatchRecord]:
    """The batches of one grid (a sweep cell), in part order."""
    return sorted(_select(store, "WHERE grid_key = ?", (grid_key,)), key=lambda r: r.part)


def get(store: Store, batch_id: str) -> BatchRecord | None:
    found = _select(store, "WHERE batch_id = ?", (batch_id,))
    return found[0] if found else None


def listing(store: Store, limit: int | None = None) -> list[BatchRecord]:
    """Every recorded batch, newest first."""
    records = _select(store)
    return records if limit is None else records[: max(0, int(limit))]
