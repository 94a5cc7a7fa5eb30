"""Run log and response cache, in one SQLite file: nothing lost, nothing billed twice.

Every call that finishes (or fails), from any entry point (client, magic, widgets, sweeps,
CLI), is appended to the run log; successful calls made with ``cache=True`` are stored in the
response cache, so re-running a cell or a sweep answers from disk instead of re-billing::

    >>> import grokbook as gb
    >>> client = gb.Client(provider="sim")
    >>> first = client.chat("What is 2+2?", cache=True)      # asks the API
    >>> again = client.chat("What is 2+2?", cache=True)      # answered from the cache
    >>> again.cached, again.cost_usd == first.cost_usd, again.latency_s == first.latency_s
    (True, True, True)
    >>> again.billed_usd, again.fetch_s < 0.05               # what this hit spent
    (0.0, True)
    >>> runs = gb.history(limit=10)                          # newest first, a DataFrame
    >>> runs[["model", "cached", "status", "answer"]]
          model  cached status     answer
    0  grok-4.3    True     ok  2 + 2 = 4
    1  grok-4.3   False     ok  2 + 2 = 4
    >>> from datetime import timedelta
    >>> len(gb.history(model="grok-4.3", since=timedelta(hours=1)))   # or "2026-05-01"
    2
    >>> gb.cache_clear()                                     # the number of answers removed
    1

From a shell: ``grokbook history --limit 20``, ``grokbook history --csv runs.csv``,
``grokbook cache info``, ``grokbook cache clear``.

Where: ``$GROKBOOK_HOME/grokbook.db`` (tests point ``GROKBOOK_HOME`` at a temporary folder),
else ``platformdirs.user_data_dir("grokbook")``. A folder grokbook creates is 0700; the
database file (and so SQLite's ``-wal`` / ``-shm`` files) is 0600. The API key and request
headers are never stored; the client also passes its key so any echo of it is redacted.

Turn the run log off with ``GROKBOOK_LOG=0`` or ``Client(log=False)`` (the cache still works
when asked for). A store that cannot be opened or written (corrupt file, read-only folder)
warns once (:class:`StoreWarning`) and calls go on unlogged; it never fails a call.

How writes stay off the request path: a finished call only puts a small record on an
in-memory queue; one writer thread per process turns records into rows and inserts them in
batches (one transaction per batch, ``BEGIN IMMEDIATE``, retried with backoff on
``SQLITE_BUSY``), so many threads and several processes (two kernels) can write at once.
The queue is flushed at exit, by :func:`history`, and by :meth:`Store.flush`. A cache entry
is visible to lookups in this process the moment the call returns (pending entries are
consulted before the database), and to other processes once the writer commits (usually
within a millisecond or two).

What a crash (kill -9, a dead kernel) can lose: only the rows still in the queue, i.e. the
calls that finished during the writer's current transaction (up to :data:`MAX_BATCH` rows
each; measured on the loopback simulator at ~300 calls/s: 5 rows and 0.3 ms typically, at
most 170 rows and 0.13 s seen on a busy machine). A sweep (live or batch)
returns only once its rows are written, and a batch is marked collected only once its answers
are, so a kernel killed right after a sweep re-sends nothing when the cell runs again. In a
multiprocessing child (a ``Pool`` or ``ProcessPoolExecutor`` worker, which the pool may
terminate the moment its task is done: no atexit, no flush) every call waits until its rows
are written. Anywhere else, :func:`flush` makes the queued rows durable now. Around
``os.fork()`` the writer is paused (no thread is inside SQLite), so a forked child never
inherits a held SQLite lock; it opens its own store.

A cache hit returns the stored :class:`~grokbook.Completion` with ``cached=True``; its
``cost_usd`` and ``latency_s`` stay the original call's (so a re-run shows the same figures
as the first run), while ``billed_usd`` (0.0) and ``fetch_s`` (the lookup, well under 5 ms)
say what *this* call spent. Hits are logged as ``cached`` rows with the same columns
(``billed_usd`` 0); a live call logs ``billed_usd = cost_usd`` and ``fetch_s = latency_s``.
Sum ``billed_usd`` for money spent and ``cost_usd`` for what the answers cost.

The store is split by concern: ``_store_schema`` (migrations, connections), ``_store_rows``
(the cache key and the rows a call becomes), ``_store_codec`` (how stored values are packed),
and this module (the writer thread, lookups, reads, the process-wide store, fork handling).

Schema (migrations are numbered and recorded in ``_migrations``, as in simonw/llm)::

    _migrations(id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)
    calls(                               -- the run log: one row per finished call
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT,  ts REAL,             -- when it finished: ISO 8601 UTC / Unix seconds
        provider, base_host,             -- e.g. "xai", "api.x.ai" (host only, no path/query)
        model, response_model,           -- the model asked for / the one that answered
        reasoning_effort,                -- NULL when not sent
        params TEXT, messages TEXT,      -- JSON: the options set / the messages ('' when
                                         -- the request was the prompt alone)
        prompt, answer, reasoning,       -- last user message, the answer, the reasoning text
                                         -- (reasoning of 256+ characters is zlib-packed:
                                         --  read it with grokbook.store.read_text)
        prompt_tokens, cached_prompt_tokens, reasoning_tokens, completion_tokens,
        output_tokens, total_tokens,     -- normalized usage (NULL = not reported, never 0)
        usage_convention,
        latency_s, cost_usd,             -- the call's own figures (a hit: the original call's)
        original_latency_s,              -- a hit: = latency_s (kept for older readers); else NULL
        billed_usd, fetch_s,             -- what this call spent: 0 / the lookup time on a hit
        status,                          -- "ok" | "error"
        error, error_type, status_code,  -- for failures (a cut stream keeps its partial answer)
        cached, stream, repeat,          -- 0/1, 0/1, the repeat index of a sweep
        response_id, finish_reason, system_fingerprint, cache_key,
        sweep_id, session_id, source,    -- from tags={...}; session_id defaults to the process
        tags TEXT, pid INTEGER)          -- tags other than sweep_id, session_id, source
    cache(id INTEGER PRIMARY KEY,
          key TEXT UNIQUE,               -- cache_key(): sha256 of the canonical request JSON
          created TEXT, provider, model,
          completion BLOB)               -- Completion.to_dict() as JSON (never pickle),
                                         -- packed: each long string once, zlib (before
                                         -- migration 5: plain JSON text, still read)
    conversations(...)                   -- gb.Conversation turns (migration 3)
    batches(batch_id, grid_key, part, ...) -- Batch API jobs (migration 4; grokbook/_batch_store.py)
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import sqlite3
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _store_rows, _store_schema
from ._columns import DEFAULT_EFFORT_LABEL, TOKEN_COLUMNS, USAGE_COLUMNS
from ._store_codec import pack, unpack_text
from ._store_rows import (
    _INSERT_CACHE,
    _INSERT_CALL,
    _ROW_PROBLEMS,
    _CachePut,
    _Call,
    _call,
    _call_row,
    _unstorable_row,
    cache_key,
    canonical_json,
    session_id,
)
from ._store_schema import BUSY_TIMEOUT_S, MIGRATIONS
from ._store_shapes import DamagedEntry, decode_completion
from .errors import redact
from .result import SIM_FINGERPRINT_MARK, Completion

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ._core import ChatRequest

__all__ = [
    "BUSY_TIMEOUT_S",
    "DB_NAME",
    "HISTORY_COLUMNS",
    "MIGRATIONS",
    "Store",
    "StoreWarning",
    "cache_clear",
    "cache_key",
    "canonical_json",
    "flush",
    "get_store",
    "history",
    "read_text",
    "reset",
    "scratch_home",
    "session_id",
    "store_home",
]

#: The database file's name inside ``GROKBOOK_HOME``.
DB_NAME = "grokbook.db"

#: Columns of :func:`history`: the usage-frame columns plus id, time, answer, and where a
#: call came from.
#: Whether the simulator answered a logged call (:func:`grokbook.result.is_simulated`, in SQL).
_SIMULATED_SQL = (
    f"(provider = 'sim' OR instr(coalesce(system_fingerprint, ''), '{SIM_FINGERPRINT_MARK}') > 0 "
    "OR (response_id GLOB 'sim-[0-9a-f]*' AND length(response_id) = 28))"
)

HISTORY_COLUMNS: tuple[str, ...] = (
    "id",
    "time",
    *USAGE_COLUMNS,  # with provider and simulated
    "answer",
    "model_served",
    "sweep_id",
    "session_id",
    "source",
)


#: Rows per transaction at most (the writer drains the queue into batches).
MAX_BATCH = 500


class StoreWarning(UserWarning):
    """The run log or cache could not be used; the call itself went on."""


# -- where ---------------------------------------------------------------------------------------
def store_home() -> Path:
    """The store's folder: ``GROKBOOK_HOME``, else the platform's user data folder."""
    home = os.environ.get("GROKBOOK_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("grokbook", appauthor=False))


@dataclass(slots=True)
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)


_STOP = object()
_UNKNOWN = object()  # a key prefetch() never read
#: Keys per prefetch query: under SQLite's default limit of host parameters (32,766 since
#: 3.32; 999 before), and small enough to keep each query short.
_PREFETCH_CHUNK = 500


def read_text(stored: str | bytes | None) -> str | None:
    """A ``calls.reasoning`` value as read from the SQLite file, as text (long reasoning is
    stored zlib-packed). For anyone querying the run log directly."""
    return unpack_text(stored)


# -- the store -----------------------------------------------------------------------------------
class Store:
    """One SQLite file: the run log (``calls``) and the response cache (``cache``).

    Use :func:`get_store` rather than building one: it keeps one Store per process for the
    current ``GROKBOOK_HOME``. Opening raises ``sqlite3.Error`` / ``OSError`` when the file
    cannot be used; every method after that degrades to a :class:`StoreWarning` instead.
    """

    _conn: sqlite3.Connection | None

    def __init__(self, home: Path | str | None = None) -> None:
        self.home = Path(home) if home is not None else store_home()
        self.path = self.home / DB_NAME
        #: Opened read-only (the file or its folder is not writable): cached answers are
        #: served, nothing new is logged or cached (one StoreWarning says so).
        self.read_only = False
        self._reset_process_state()
        _LIVE.add(self)
        self._prepare_files()
        with self._lock:
            try:
                if not (_writable(self.path) and _writable(self.home)):
                    raise PermissionError(f"{self.path} or its folder is not writable")
                conn = self._connection()
                try:
                    _store_schema.migrate(conn)
                except BaseException:
                    conn.close()
                    self._conn = None
                    raise
            except (PermissionError, sqlite3.OperationalError) as exc:
                if isinstance(exc, sqlite3.Error) and not _store_schema.read_only_error(exc):
                    raise
                self.read_only = True
                self._connection()  # raises when it cannot even be read
                self._warn_once(
                    "write to",
                    exc,
                    "it is opened read-only: its cached answers are served, but nothing new "
                    "is logged or cached.",
                )

    # -- process-local state (rebuilt after fork) ---------------------------------------------
    def _reset_process_state(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.RLock()  # guards self._conn (lookups, reads, cache_clear)
        self._conn = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: dict[str, Completion] = {}
        self._pending_lock = threading.Lock()
        #: Cache entries read ahead by :meth:`prefetch`: key -> stored JSON, or None for a
        #: key known to be absent (its lookup then needs no query). Guarded by _pending_lock.
        self._prefetched: dict[str, bytes | str | None] = {}
        self._commits = 0  # writer batches finished (guards prefetch's "absent" claims)
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._warned: set[str] = set()
        self._unwritten = 0
        #: Held by the writer thread whenever it is inside SQLite (as ``_lock`` is by every
        #: other use of SQLite): fork waits for both, so no child inherits a held SQLite lock.
        self._io_lock = threading.Lock()
        #: Whether each call's rows are written before the call returns (None: not decided
        #: yet; see :meth:`_writes_through`).
        self._write_through: bool | None = None

    def _writes_through(self) -> bool:
        """True in a multiprocessing child (a Pool or ProcessPoolExecutor worker): a pool
        terminates its workers (SIGTERM: no atexit, no flush) as soon as their tasks are done,
        so there every call waits until its rows are written. Decided at the first call (a
        forked worker is known as one only once multiprocessing has started it)."""
        if self._write_through is None:
            mp = sys.modules.get("multiprocessing")
            self._write_through = mp is not None and mp.parent_process() is not None
        return self._write_through

    def _check_pid(self) -> None:
        if self._pid != os.getpid():  # forked: never touch the parent's connections
            _ORPHANS.append(self._conn)
            self._reset_process_state()

    def _prepare_files(self) -> None:
        if not self.home.is_dir():
            self.home.mkdir(parents=True, mode=0o700, exist_ok=True)
            os.chmod(self.home, 0o700)
        if not self.path.exists() and _store_schema.OPEN_MODE != "ro":
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
        if self.path.exists() and (self.path.stat().st_mode & 0o077):
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)

    def _connection(self) -> sqlite3.Connection:
        """The shared connection for lookups and reads (call with ``self._lock`` held)."""
        if self._conn is None:
            if self.read_only:
                self._conn = _store_schema.connect_read_only(self.path)
            else:
                self._conn = _store_schema.connect(self.path)
        return self._conn

    # -- warnings ------------------------------------------------------------------------------
    def _warn_once(self, what: str, exc: BaseException, consequence: str) -> None:
        if what in self._warned:
            return
        self._warned.add(what)
        warnings.warn(
            f"grokbook: could not {what} {self.path} ({type(exc).__name__}: {exc}); "
            f"{consequence} Check the folder's permissions and free space, move a damaged "
            "file away, or set GROKBOOK_HOME to another folder (GROKBOOK_LOG=0 turns the "
            "run log off).",
            StoreWarning,
            stacklevel=3,
        )

    # -- the request path -----------------------------------------------------------------------
    def record(
        self,
        request: ChatRequest,
        completion: Completion | None,
        error: BaseException | None,
        *,
        cache_key: str | None = None,
        log: bool = True,
        repeat: int = 0,
        tags: Mapping[str, Any] | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        """Queue a finished call for the run log and (on success) the cache; never raises.

        Costs a few microseconds: rows are built and written by the writer thread.
        """
        if self.read_only:
            return  # said once, when the store was opened
        try:
            self._check_pid()
            secrets = tuple(s for s in secrets if s)
            if cache_key and completion is not None and error is None:
                completion = _store_rows.without_history(completion, tags)
                with self._pending_lock:
                    self._pending[cache_key] = completion
                    self._prefetched.pop(cache_key, None)  # no longer absent
                self._put(_CachePut(cache_key, completion, secrets))
            if log:
                self._put(_call(request, completion, error, repeat, tags, secrets, cache_key))
            if self._writes_through():
                self.flush()
        except Exception as exc:  # never fail a call because of the log
            self._warn_once("queue a run-log row for", exc, "this call was not logged.")

    def lookup(
        self,
        key: str,
        *,
        request: ChatRequest | None = None,
        repeat: int = 0,
        tags: Mapping[str, Any] | None = None,
        log: bool = False,
        secrets: Sequence[str] = (),
    ) -> Completion | None:
        """The cached Completion for ``key``, or None.

        A hit keeps the original call's ``cost_usd`` and ``latency_s``, with ``cached=True``
        (so ``billed_usd`` is 0) and ``cache_lookup_s`` (``fetch_s``) the time of this lookup.

        With ``log=True`` and the ``request``, the hit is also queued as a cached run-log row
        (``secrets`` redacted from it, as in :meth:`record`: a hit still pending in memory
        holds the answer as the server sent it).
        """
        started = time.perf_counter()
        try:
            self._check_pid()
            with self._pending_lock:
                stored = self._pending.get(key)
                ahead = self._prefetched.get(key, _UNKNOWN) if stored is None else _UNKNOWN
            text: bytes | str
            if stored is None:
                if ahead is None:  # read ahead and absent: no query needed
                    return None
                if isinstance(ahead, bytes | str):
                    text = ahead
                else:
                    with self._lock:
                        row = (
                            self._connection()
                            .execute("SELECT completion FROM cache WHERE key = ?", (key,))
                            .fetchone()
                        )
                    if row is None:
                        return None
                    text = row[0]
                stored = decode_completion(text)
        except sqlite3.Error as exc:
            self._warn_once("read the cache in", exc, "answers are fetched from the API.")
            return None
        except DamagedEntry as exc:  # damaged or crafted: a miss (the entry is then replaced)
            self._warn_once(
                "read a cache entry in", exc, "it was treated as a miss and asked again."
            )
            return None
        hit = stored.replace(cached=True, cache_lookup_s=time.perf_counter() - started)
        if log and request is not None and not self.read_only:
            try:
                kept = tuple(s for s in secrets if s)
                self._put(_call(request, hit, None, repeat, tags, kept, key))
                if self._writes_through():
                    self.flush()
            except Exception as exc:
                self._warn_once("queue a run-log row for", exc, "this hit was not logged.")
        return hit

    # -- the writer thread ------------------------------------------------------------------------
    def _put(self, item: Any) -> None:
        writer = self._writer
        if writer is None or not writer.is_alive():
            self._start_writer()
        self._queue.put(item)

    def _start_writer(self) -> None:
        with self._writer_lock:
            if self._writer is not None and self._writer.is_alive():
                return
            self._writer = threading.Thread(
                target=self._run_writer, name="grokbook-store-writer", daemon=True
            )
            self._writer.start()

    def _run_writer(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                writes = [i for i in batch if isinstance(i, _Call | _CachePut)]
                if writes:
                    try:
                        with self._io_lock:
                            if conn is None:
                                conn = _store_schema.connect(self.path)
                            self._write(conn, writes)
                    except Exception as exc:
                        self._unwritten += len(writes)
                        self._warn_once(
                            "write the run log to", exc, "calls go on but are not recorded."
                        )
                    finally:
                        self._forget_pending(writes)
                for item in batch:
                    if isinstance(item, _Flush):
                        item.done.set()
                if any(item is _STOP for item in batch):
                    return
        finally:
            if conn is not None:
                with self._io_lock:
                    conn.close()

    def _write(self, conn: sqlite3.Connection, items: list[_Call | _CachePut]) -> None:
        """Write a batch in one transaction; if a row breaks it (a value SQLite cannot hold),
        write row by row instead so one bad row never costs the others, and store a call
        whose row cannot be written as an error row that says why."""
        calls: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, _Call):
                try:
                    calls.append(_call_row(item))
                except Exception as exc:  # one odd call must not cost the batch
                    calls.append(_unstorable_row(item, exc))
        entries = [
            (
                i.key,
                _store_schema.iso(time.time()),
                i.completion.provider,
                i.completion.requested_model,
                pack(i.completion.to_dict(), i.secrets),
            )
            for i in items
            if isinstance(i, _CachePut)
        ]
        try:
            self._transaction(conn, entries, calls)
        except _ROW_PROBLEMS:  # a row SQLite refuses; anything else means the file is unusable
            self._write_rows(conn, entries, calls, items)

    def _write_rows(
        self,
        conn: sqlite3.Connection,
        entries: list[tuple[str, str, str, str, bytes]],
        calls: list[dict[str, Any]],
        items: list[_Call | _CachePut],
    ) -> None:
        for entry in entries:
            try:
                self._transaction(conn, [entry], [])
            except _ROW_PROBLEMS as exc:
                self._warn_once("cache an answer in", exc, "that answer is not cached.")
        call_items = [i for i in items if isinstance(i, _Call)]
        for item, row in zip(call_items, calls, strict=True):
            try:
                self._transaction(conn, [], [row])
            except _ROW_PROBLEMS as exc:
                try:
                    self._transaction(conn, [], [_unstorable_row(item, exc)])
                except _ROW_PROBLEMS as again:
                    self._unwritten += 1
                    self._warn_once("write a run-log row to", again, "that call was skipped.")

    @staticmethod
    def _transaction(
        conn: sqlite3.Connection,
        entries: list[tuple[str, str, str, str, bytes]],
        calls: list[dict[str, Any]],
    ) -> None:
        delay = 0.01
        for attempt in range(_store_schema.WRITE_ATTEMPTS):
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if entries:
                        conn.executemany(_INSERT_CACHE, entries)
                    if calls:
                        conn.executemany(_INSERT_CALL, calls)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return
            except sqlite3.OperationalError as exc:
                if not _store_schema.busy(exc) or attempt == _store_schema.WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _forget_pending(self, items: list[_Call | _CachePut]) -> None:
        with self._pending_lock:
            self._commits += 1  # a prefetch that read before this must not claim "absent"
            for item in items:
                if isinstance(item, _CachePut):
                    if self._pending.get(item.key) is item.completion:
                        del self._pending[item.key]
                    if item.key in self._prefetched and self._prefetched[item.key] is None:
                        del self._prefetched[item.key]

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every queued row is written; False if ``timeout`` ran out first."""
        self._check_pid()
        if self._writer is None:
            return True
        marker = _Flush()
        self._put(marker)
        return marker.done.wait(timeout)

    def close(self) -> None:
        """Flush, stop the writer thread and close the connection (reopened if used again)."""
        self._check_pid()
        writer = self._writer
        if writer is not None and writer.is_alive():
            self._queue.put(_STOP)
            writer.join(timeout=30.0)
        self._writer = None
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- conversations ----------------------------------------------------------------------
    def save_turn(
        self,
        conversation_id: str,
        turn: int,
        settings: Mapping[str, Any],
        prompt: str,
        completion: Completion,
        *,
        secrets: Sequence[str] = (),
    ) -> bool:
        """Save one turn of a Conversation (written at once: a resume must find it).

        Turns are only ever added: False when ``turn`` is already saved under this id (never
        overwritten; the caller goes on as a branch), else True (saved, or could not be, with
        a StoreWarning).
        """
        if self.read_only:
            return True
        row = (
            conversation_id,
            turn,
            _store_schema.iso(time.time()),
            redact(canonical_json(dict(settings)), secrets),
            redact(prompt, secrets),
            pack(completion.to_dict(), secrets),
        )
        try:
            with self._lock:
                conn = self._connection()
                with conn:
                    conn.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)", row)
        except sqlite3.IntegrityError:
            return False  # that turn number is taken: a saved (paid) turn is never replaced
        except sqlite3.Error as exc:
            self._warn_once("save a conversation turn in", exc, "it cannot be resumed.")
        return True

    def load_turns(self, conversation_id: str) -> list[tuple[dict[str, Any], int, str, Completion]]:
        """(settings, turn, prompt, completion) of each saved turn, in order."""
        try:
            with self._lock:
                fetched = (
                    self._connection()
                    .execute(
                        "SELECT settings, turn, prompt, completion FROM conversations "
                        "WHERE conversation_id = ? ORDER BY turn",
                        (conversation_id,),
                    )
                    .fetchall()
                )
        except sqlite3.Error as exc:
            self._warn_once("read conversations from", exc, "nothing can be resumed.")
            return []
        turns = []
        for settings, turn, prompt, completion in fetched:
            try:
                decoded = json.loads(settings) if isinstance(settings, str) else None
                if not isinstance(decoded, dict) or not isinstance(prompt, str):
                    raise DamagedEntry("its settings or prompt are not what a turn saves")
                if isinstance(turn, bool) or not isinstance(turn, int):
                    raise DamagedEntry(f"its turn number is a {type(turn).__name__}")
                turns.append((decoded, turn, prompt, decode_completion(completion)))
            except (DamagedEntry, ValueError, RecursionError) as exc:
                self._warn_once(
                    "read a conversation turn in", exc, "the damaged turns were left out."
                )
        return turns

    def conversation_ids(self) -> list[tuple[str, int, str]]:
        """(id, turns, last time) of every saved conversation, newest first."""
        try:
            with self._lock:
                return [
                    (str(cid), int(turns), str(last))
                    for cid, turns, last in self._connection().execute(
                        "SELECT conversation_id, count(*), max(time) FROM conversations "
                        "GROUP BY conversation_id ORDER BY max(time) DESC"
                    )
                ]
        except sqlite3.Error as exc:
            self._warn_once("read conversations from", exc, "none are listed.")
            return []

    # -- reading ---------------------------------------------------------------------------
    def rows(
        self,
        limit: int | None = None,
        model: str | None = None,
        since: Any = None,
        *,
        sweep_id: str | None = None,
        session_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Run-log rows (dicts with :data:`HISTORY_COLUMNS`), newest first."""
        self.flush()
        where: list[str] = []
        args: list[Any] = []
        if model is not None:
            where.append("(model = ? OR response_model = ?)")
            args += [model, model]
        start = _since_ts(since)
        if start is not None:
            where.append("ts >= ?")
            args.append(start)
        if sweep_id is not None:
            where.append("sweep_id = ?")
            args.append(sweep_id)
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        sql = (
            "SELECT id, time, model, reasoning_effort, prompt, repeat, "
            f"{', '.join(TOKEN_COLUMNS)}, latency_s, cost_usd, cached, billed_usd, fetch_s, "
            "status, error, error_type, "
            f"answer, provider, {_SIMULATED_SQL} AS simulated, "
            "response_model AS model_served, sweep_id, session_id, source "
            "FROM calls"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts DESC, id DESC"
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"limit must be a whole number >= 0 or None; got {limit!r}.")
            sql += f" LIMIT {limit}"
        try:
            with self._lock:
                cursor = self._connection().execute(sql, args)
                names = [d[0] for d in cursor.description]
                fetched = cursor.fetchall()
        except sqlite3.Error as exc:
            self._warn_once("read the run log in", exc, "history is empty.")
            return []
        out = []
        for values in fetched:
            row = dict(zip(names, values, strict=True))
            row["reasoning_effort"] = row["reasoning_effort"] or DEFAULT_EFFORT_LABEL
            row["cached"] = bool(row["cached"])
            row["simulated"] = bool(row["simulated"])
            if row["error"] is not None and row["error_type"]:  # as a sweep's error rows say it
                row["error"] = f"{row['error_type']}: {row['error']}"
            out.append({name: row[name] for name in HISTORY_COLUMNS})
        return out

    def prefetch(self, keys: Iterable[str]) -> int:
        """Read the cache entries of many keys at once (one query per
        :data:`_PREFETCH_CHUNK` keys), so that their :meth:`lookup` calls need no query of
        their own: a sweep calls this off its event loop before dispatching. Returns the
        number of hits; :meth:`forget_prefetched` releases them.
        """
        self._check_pid()
        self.flush()  # this process's pending entries are in the file, so they are read too
        wanted = list(dict.fromkeys(keys))
        found: dict[str, bytes | str | None] = dict.fromkeys(wanted)
        with self._pending_lock:
            commits = self._commits
        try:
            with self._lock:
                conn = self._connection()
                for at in range(0, len(wanted), _PREFETCH_CHUNK):
                    chunk = wanted[at : at + _PREFETCH_CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    sql = f"SELECT key, completion FROM cache WHERE key IN ({marks})"
                    found.update(conn.execute(sql, chunk).fetchall())
        except sqlite3.Error as exc:
            self._warn_once("read the cache in", exc, "answers are fetched from the API.")
            return 0
        with self._pending_lock:
            if self._commits != commits:  # the writer committed meanwhile: keep hits only
                found = {key: value for key, value in found.items() if value is not None}
            self._prefetched.update(found)
        return sum(value is not None for value in found.values())

    def forget_prefetched(self, keys: Iterable[str]) -> None:
        """Drop what :meth:`prefetch` read for ``keys`` (later lookups query again)."""
        with self._pending_lock:
            for key in keys:
                self._prefetched.pop(key, None)

    def cache_clear(self) -> int:
        """Empty the response cache; the number of answers removed."""
        self.flush()
        with self._pending_lock:
            self._pending.clear()
            self._prefetched.clear()
        try:
            with self._lock:
                conn = self._connection()
                (count,) = conn.execute("SELECT count(*) FROM cache").fetchone()
                conn.execute("DELETE FROM cache")
        except sqlite3.Error as exc:
            self._warn_once("clear the cache in", exc, "nothing was removed.")
            return 0
        return int(count)

    def stats(self) -> dict[str, Any] | None:
        """Counts and sizes: path, calls, errors, cached_calls, cache_entries, bytes, ...;
        None (after a :class:`StoreWarning`) when the file cannot be read (e.g. damaged)."""
        self.flush()
        try:
            with self._lock:
                conn = self._connection()
                calls, errors, hits = conn.execute(
                    "SELECT count(*), coalesce(sum(status = 'error'), 0), "
                    "coalesce(sum(cached), 0) FROM calls"
                ).fetchone()
                (entries,) = conn.execute("SELECT count(*) FROM cache").fetchone()
                (version,) = conn.execute("SELECT coalesce(max(id), 0) FROM _migrations").fetchone()
        except sqlite3.Error as exc:
            self._warn_once("read the run log in", exc, "its counts cannot be shown.")
            return None
        size = sum(
            p.stat().st_size
            for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
            if p.exists()
        )
        return {
            "path": str(self.path),
            "calls": int(calls),
            "errors": int(errors),
            "cached_calls": int(hits),
            "cache_entries": int(entries),
            "bytes": size,
            "schema_version": int(version),
            "unwritten": self._unwritten,
        }

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` (its effective ids; a read-only mount is not)."""
    if os.access in os.supports_effective_ids:
        return os.access(path, os.W_OK, effective_ids=True)
    return os.access(path, os.W_OK)  # pragma: no cover - platforms without effective ids


def _since_ts(since: Any) -> float | None:
    """Unix seconds from a datetime, date, ISO string, Unix seconds or a timedelta (ago)."""
    if since is None:
        return None
    if isinstance(since, timedelta):
        return time.time() - since.total_seconds()
    if isinstance(since, datetime):
        return since.timestamp()  # naive = local time
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day).timestamp()
    if isinstance(since, int | float) and not isinstance(since, bool):
        return float(since)
    if isinstance(since, str):
        try:
            return datetime.fromisoformat(since.strip().replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise ValueError(
        f"since must be a datetime, a date, an ISO date string like '2026-05-01T09:00', "
        f"Unix seconds or a timedelta (that long ago); got {since!r}."
    )


# -- the process-wide store ------------------------------------------------------------------------
_current: Store | None = None
_current_home: str | None = None
_failed: set[str] = set()
_global_lock = threading.Lock()
_ORPHANS: list[Any] = []  # connections inherited over fork: kept, never used or closed


def get_store() -> Store | None:
    """This process's Store for the current ``GROKBOOK_HOME``, or None if it cannot be used.

    Re-resolved when ``GROKBOOK_HOME`` changes (the previous store is flushed and closed).
    A store that cannot be opened warns once (per folder) and never fails a call.
    """
    global _current, _current_home
    home = os.environ.get("GROKBOOK_HOME", "")
    store = _current
    if store is not None and _current_home == home:
        return store
    old: Store | None = None
    with _global_lock:
        store = _current
        if store is not None and _current_home == home:
            return store
        if home in _failed:
            return None
        try:
            where = store_home()
            new = Store(where)
        except (sqlite3.Error, OSError) as exc:
            _failed.add(home)
            warnings.warn(
                f"grokbook: the run log and cache cannot be used "
                f"({type(exc).__name__}: {exc}); calls still work but are neither logged "
                "nor cached. Fix the folder's permissions, move a damaged grokbook.db away, "
                "or set GROKBOOK_HOME to a writable folder; then grokbook.store.reset() "
                "tries again.",
                StoreWarning,
                stacklevel=2,
            )
            return None
        old, _current, _current_home = _current, new, home
        _register_exit_flush()
    if old is not None:
        old.close()
    return new


_exit_flush_pid: int | None = None


def _register_exit_flush() -> None:
    """Also flush when a multiprocessing child ends: forked children skip atexit."""
    global _exit_flush_pid
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is None or _exit_flush_pid == os.getpid():
        return
    _exit_flush_pid = os.getpid()
    mp_util.Finalize(None, _flush_at_exit, exitpriority=10)


def reset() -> None:
    """Close this process's store and forget stores that failed to open.

    The next call opens the store again: use it after fixing a folder's permissions or
    moving a damaged file away (without restarting the kernel).
    """
    global _current, _current_home
    with _global_lock:
        old, _current, _current_home = _current, None, None
        _failed.clear()
    if old is not None:
        old.close()


def flush(timeout: float | None = 30.0) -> bool:
    """Write every queued run-log row now (history() does this before reading)."""
    store = _current
    return store.flush(timeout) if store is not None else True


def history(
    limit: int | None = None,
    model: str | None = None,
    since: Any = None,
    *,
    sweep_id: str | None = None,
    session_id: str | None = None,
) -> pd.DataFrame:
    """The run log as a DataFrame, newest first.

    Columns: ``id``, ``time`` (UTC), the usage-frame columns (``model`` is the model asked
    for; ``provider``; ``simulated``: True for a call grokbook's offline simulator answered,
    also one made through ``provider="openai"`` at a ``grokbook sim`` server, read from the
    logged fingerprint and response id, so older run logs need no migration), ``answer``,
    ``model_served`` (the model that answered), ``sweep_id``, ``session_id``, ``source``.
    Token counts and ``repeat`` are nullable integers (``<NA>`` when not reported, never 0);
    ``cached`` and ``simulated`` are nullable booleans, as in
    :func:`grokbook.usage_frame`. A cached row keeps the original call's ``latency_s`` and
    ``cost_usd``; its ``billed_usd`` is 0 and ``fetch_s`` the lookup's time.
    ``model`` matches the model asked for or the one that answered; ``since`` takes a
    datetime, date, ISO string, Unix seconds or a timedelta (``timedelta(hours=1)``).
    """
    import pandas as pd

    start = _since_ts(since)  # validate before touching the store
    store = get_store()
    rows = (
        store.rows(limit, model, start, sweep_id=sweep_id, session_id=session_id)
        if store is not None
        else []
    )
    frame = pd.DataFrame.from_records(rows, columns=list(HISTORY_COLUMNS))
    frame["id"] = frame["id"].astype("int64")
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    for name in (*TOKEN_COLUMNS, "repeat"):
        frame[name] = frame[name].astype("Int64")
    for name in ("latency_s", "cost_usd", "billed_usd", "fetch_s"):
        frame[name] = frame[name].astype("float64")
    frame["cached"] = frame["cached"].astype("boolean")
    frame["simulated"] = frame["simulated"].astype("boolean")
    for name in ("model", "reasoning_effort", "prompt", "status", "error", "answer"):
        frame[name] = frame[name].astype("object")
    frame.attrs["simulated"] = bool(frame["simulated"].any())
    return frame


def cache_clear() -> int:
    """Empty the response cache; returns how many answers were removed."""
    store = get_store()
    return store.cache_clear() if store is not None else 0


@atexit.register
def _flush_at_exit() -> None:
    store = _current
    if store is not None and store._pid == os.getpid():
        # exiting anyway: never turn a clean exit into a traceback
        with contextlib.suppress(Exception):
            store.close()


# -- a scratch home (the tour notebooks) ------------------------------------------------------
_scratch: Path | None = None
_scratch_pid = 0


def scratch_home(prefix: str = "grokbook-tour-") -> Path:
    """Point ``GROKBOOK_HOME`` at a new temporary folder and return it: this process's run log
    and cache start empty there, apart from yours (the tour notebooks' first cell).

    The folder is removed when the process ends (a kernel shut down or restarted) and when
    ``scratch_home()`` is called again (a second Run All), so none is left behind.
    """
    import shutil
    import tempfile

    global _scratch, _scratch_pid
    previous, home = _scratch, Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["GROKBOOK_HOME"] = str(home)
    _scratch, _scratch_pid = home, os.getpid()
    if previous is None:
        atexit.register(_remove_scratch)
    else:
        if _current_home == str(previous):
            reset()  # flush and close the store in the old folder before removing it
        shutil.rmtree(previous, ignore_errors=True)
    return home


def _remove_scratch() -> None:
    import shutil

    if _scratch is None or _scratch_pid != os.getpid():  # a forked child leaves it alone
        return
    with contextlib.suppress(Exception):  # exiting anyway: never a traceback
        if _current_home == str(_scratch):
            reset()
        shutil.rmtree(_scratch, ignore_errors=True)


#: Every Store of this process (to quiesce around fork).
_LIVE: weakref.WeakSet[Store] = weakref.WeakSet()
#: The locks _before_fork took, released by the parent after fork.
_HELD_AT_FORK: list[Any] = []


def _before_fork() -> None:
    """Wait until no thread of this process is inside SQLite, and keep it so until fork is
    done: a child forked while the writer commits would inherit SQLite's internal locks held
    by a thread it does not have, and hang at its first SQLite call."""
    for store in list(_LIVE):
        if store._pid != os.getpid():
            continue
        for lock in (store._io_lock, store._lock):  # this order everywhere: no deadlock
            lock.acquire()
            _HELD_AT_FORK.append(lock)


def _after_fork_in_parent() -> None:
    while _HELD_AT_FORK:
        _HELD_AT_FORK.pop().release()


def _after_fork_in_child() -> None:
    global _current, _current_home, _global_lock
    _HELD_AT_FORK.clear()  # the child's copies are dropped with the state below
    _global_lock = threading.Lock()  # another thread may have held it at fork time
    for store in list(_LIVE):
        store._check_pid()  # fresh locks, queue and writer; the parent's connections unused
    _current, _current_home = None, None
    _store_rows.renew_session_id()  # a forked kernel is a session of its own


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
