"""The run log's SQLite file: its numbered migrations and how a connection is opened.

Part of :mod:`grokbook.store` (split by concern: this module is the schema, ``_store_rows``
turns calls into rows, ``_store_codec`` packs stored values, ``store`` owns the writer thread,
lookups, reads and the process-wide store). Migrations are numbered and recorded in
``_migrations``, as in simonw/llm; each runs once, in one ``BEGIN IMMEDIATE`` transaction
shared by every process that opens the file.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "OPEN_MODE",
    "WRITE_ATTEMPTS",
    "busy",
    "connect",
    "connect_read_only",
    "iso",
    "migrate",
    "read_only_error",
]

#: How long one connection waits on another's lock before SQLite reports SQLITE_BUSY.
BUSY_TIMEOUT_S = 5.0
WRITE_ATTEMPTS = 8

# "rwc" normally; tests running as root (where chmod cannot make a file read-only) set "ro"
# to get SQLite's own "attempt to write a readonly database".
OPEN_MODE = "rwc"


# -- schema ----------------------------------------------------------------------------------
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "initial",
        (
            """CREATE TABLE calls (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time TEXT NOT NULL,
                ts REAL NOT NULL,
                provider TEXT NOT NULL,
                base_host TEXT,
                model TEXT NOT NULL,
                response_model TEXT,
                reasoning_effort TEXT,
                params TEXT NOT NULL DEFAULT '{}',
                messages TEXT NOT NULL DEFAULT '[]',
                prompt TEXT,
                answer TEXT,
                reasoning TEXT,
                prompt_tokens INTEGER,
                cached_prompt_tokens INTEGER,
                reasoning_tokens INTEGER,
                completion_tokens INTEGER,
                output_tokens INTEGER,
                total_tokens INTEGER,
                usage_convention TEXT,
                latency_s REAL,
                original_latency_s REAL,
                cost_usd REAL,
                status TEXT NOT NULL,
                error TEXT,
                error_type TEXT,
                status_code INTEGER,
                cached INTEGER NOT NULL DEFAULT 0,
                stream INTEGER NOT NULL DEFAULT 0,
                repeat INTEGER NOT NULL DEFAULT 0,
                response_id TEXT,
                finish_reason TEXT,
                system_fingerprint TEXT,
                cache_key TEXT,
                sweep_id TEXT,
                session_id TEXT,
                source TEXT,
                tags TEXT NOT NULL DEFAULT '{}',
                pid INTEGER
            )""",
            "CREATE INDEX calls_ts ON calls (ts)",
            "CREATE INDEX calls_model ON calls (model)",
            "CREATE INDEX calls_sweep ON calls (sweep_id) WHERE sweep_id IS NOT NULL",
            """CREATE TABLE cache (
                key TEXT PRIMARY KEY,
                created TEXT NOT NULL,
                provider TEXT,
                model TEXT,
                completion TEXT NOT NULL
            ) WITHOUT ROWID""",
        ),
    ),
    (
        2,
        "cached rows keep the original cost and latency; billed_usd and fetch_s",
        (
            "ALTER TABLE calls ADD COLUMN billed_usd REAL",
            "ALTER TABLE calls ADD COLUMN fetch_s REAL",
            # Until now a hit logged cost 0 and its own (lookup) time as latency_s, with the
            # original latency in original_latency_s: that was what it billed and fetched.
            "UPDATE calls SET billed_usd = CASE WHEN cached = 1 THEN 0.0 ELSE cost_usd END, "
            "fetch_s = latency_s",
            # Its real cost is the live call that filled the cache entry (unknown, NULL, when
            # that row is gone); the index only speeds this up and goes again.
            "CREATE INDEX _calls_cache_key ON calls (cache_key) WHERE cache_key IS NOT NULL",
            """UPDATE calls SET
                latency_s = original_latency_s,
                cost_usd = (
                    SELECT o.cost_usd FROM calls AS o
                    WHERE o.cache_key = calls.cache_key AND o.cached = 0
                        AND o.status = 'ok' AND o.id < calls.id
                    ORDER BY o.id DESC LIMIT 1
                )
            WHERE cached = 1""",
            "DROP INDEX _calls_cache_key",
        ),
    ),
    (
        3,
        "conversations",
        (
            # One row per turn of a gb.Conversation: enough to resume it in a new process
            # (the answer's response id, reasoning items and usage are in the completion).
            """CREATE TABLE conversations (
                conversation_id TEXT NOT NULL,
                turn INTEGER NOT NULL,
                time TEXT NOT NULL,
                settings TEXT NOT NULL,
                prompt TEXT NOT NULL,
                completion TEXT NOT NULL,
                PRIMARY KEY (conversation_id, turn)
            )""",
        ),
    ),
    (
        4,
        "batches",
        # One row per submitted Batch API batch (grokbook.batch, grokbook/_batch_store.py):
        # recorded before the first poll, so a sweep resumes after a restart.
        (
            """CREATE TABLE batches (
                batch_id TEXT PRIMARY KEY,
                grid_key TEXT NOT NULL,
                part INTEGER NOT NULL,
                created TEXT NOT NULL,
                provider TEXT,
                base_host TEXT,
                file_id TEXT,
                sweep_id TEXT,
                calls INTEGER NOT NULL,
                jobs TEXT NOT NULL,
                grid TEXT NOT NULL,
                status TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT '{}',
                updated TEXT,
                collected TEXT,
                cost_usd REAL
            )""",
            "CREATE INDEX batches_grid ON batches (grid_key)",
        ),
    ),
    (
        5,
        "a lean cache: a rowid table of packed entries",
        (
            # WITHOUT ROWID suits small rows only: entries of several KB spilled onto
            # overflow pages. New entries are packed (grokbook._store_codec: each long string
            # once, zlib); the ones copied here stay plain JSON, which still reads.
            """CREATE TABLE cache_v5 (
                id INTEGER PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                created TEXT NOT NULL,
                provider TEXT,
                model TEXT,
                completion BLOB NOT NULL
            )""",
            "INSERT INTO cache_v5 (key, created, provider, model, completion) "
            "SELECT key, created, provider, model, completion FROM cache",
            "DROP TABLE cache",
            "ALTER TABLE cache_v5 RENAME TO cache",
        ),
    ),
)


def busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode={OPEN_MODE}",
        uri=True,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,  # autocommit; transactions are explicit
        check_same_thread=False,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if OPEN_MODE != "ro":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def read_only_error(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the file or its folder cannot be written (a read-only store), as
    opposed to a locked, full or damaged one."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc).lower()
    return (
        name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
        or "readonly" in text
        or "unable to open" in text
    )


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads: ``mode=ro`` (which also sees what a writer elsewhere has
    in the WAL), else ``immutable=1``, the file as it is, when SQLite cannot create the WAL's
    index files in a folder that is not writable (SQLite's own rule for read-only WAL
    databases: sqlite.org/wal.html#readonly)."""
    for query in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?{query}",
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            if query.endswith("immutable=1") or not read_only_error(exc):
                raise
            continue
        return conn
    raise AssertionError("unreachable")  # pragma: no cover


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the numbered migrations not yet recorded in ``_migrations``."""

    def applied() -> set[int]:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
        ).fetchone()
        return {r[0] for r in conn.execute("SELECT id FROM _migrations")} if exists else set()

    if {number for number, _, _ in MIGRATIONS} <= applied():
        return
    for attempt in range(WRITE_ATTEMPTS):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not busy(exc) or attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
        )
        done = applied()  # another process may have migrated meanwhile
        for number, name, statements in MIGRATIONS:
            if number in done:
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)",
                (number, name, iso(time.time())),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
