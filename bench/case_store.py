"""9. The run log: disk per call of a simulated sweep (run log + cache), and history() beside
pd.read_sql_query on the same table at 100k and 1M rows.

Alone: ``python bench/case_store.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import grokbook_home
from _report import Report, run_alone, s, x

NUMBER = 9
NAME = "store"
TITLE = "9. the run log"
QUICK = {"calls": 100, "rows": (3_000,)}

STORE_TARGET_KB = 1.5
HISTORY_TARGET = 1.5


def fill_store(home: str, calls: int, wire: str | None = None) -> tuple[Path, int, dict[str, int]]:
    """Sweep grok-4.3 at efforts low and high on the simulator (``wire``: its default when
    None) into the store at ``home`` (the current one), run log and cache on; returns the
    database file (closed, its WAL checkpointed), the calls logged and the bytes of the
    calls and cache tables."""
    import grokbook as gb
    from grokbook import store

    prompts = [f"What is {i}*{i + 3}?" for i in range(calls // 2)]
    options: dict[str, Any] = {} if wire is None else {"wire": wire}
    gb.sweep(prompts, models=["grok-4.3"], efforts=["low", "high"], progress=False,
             client=gb.AsyncClient(provider="sim", **options))  # fmt: skip
    db = store.get_store()
    assert db is not None and db.flush()
    store.reset()  # closes the connection: the WAL is checkpointed into the file
    path = Path(home) / store.DB_NAME
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        logged = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
        parts = {
            name: conn.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?", (name,)
            ).fetchone()[0]
            for name in ("calls", "cache")
        }
    return path, logged, parts


def measure(
    report: Report, calls: int = 1000, rows: tuple[int, ...] = (100_000, 1_000_000)
) -> None:
    """Disk per call of a simulated sweep (run log + cache), and history() beside
    pd.read_sql_query on the same table at 100k and 1M rows."""
    import pandas as pd

    import grokbook as gb
    from grokbook import store

    with tempfile.TemporaryDirectory() as home, grokbook_home(home):
        path, logged, parts = fill_store(home, calls)
        per_call = path.stat().st_size / logged / 1024
        report.row(
            TITLE,
            f"on disk per call (grok-4.3 low/high on the simulator, cache on, {logged} calls)",
            f"{per_call:.2f} KB",
            f"calls table {parts['calls'] / logged / 1024:.2f} KB, "
            f"cache {parts['cache'] / logged / 1024:.2f} KB",
        )
        report.target(
            TITLE,
            f"<= {STORE_TARGET_KB} KB per call on disk",
            f"{per_call:.2f} KB",
            per_call <= STORE_TARGET_KB,
            "the cache keeps each answer's whole server response (raw) so a hit returns what "
            "the server sent, and the run log keeps the answer and reasoning again so a cleared "
            "cache loses nothing: see grokbook/_store_codec.py for how both are packed.",
        )
        # Grow the table to N rows by copying its rows, then read it both ways.
        for n in rows:
            with sqlite3.connect(path) as conn:
                have = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
                columns = [r[1] for r in conn.execute("PRAGMA table_info(calls)") if r[1] != "id"]
                names = ", ".join(columns)
                while have < n:
                    conn.execute(
                        f"INSERT INTO calls ({names}) SELECT {names} FROM calls LIMIT ?",
                        (n - have,),
                    )
                    have = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
            store.reset()
            sql = "SELECT * FROM calls ORDER BY id DESC"
            ours_s, peer_s = [], []
            for _ in range(2):
                started = time.perf_counter()
                frame = gb.history(limit=None)
                ours_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                with sqlite3.connect(path) as conn:
                    peer = pd.read_sql_query(sql, conn)
                peer_s.append(time.perf_counter() - started)
            assert len(frame) == len(peer) == n
            ratio = min(ours_s) / min(peer_s)
            report.row(TITLE, f"history() at {n:,} rows", s(min(ours_s)),
                       f"pd.read_sql_query {s(min(peer_s))}", x(ratio))  # fmt: skip
            report.target(
                TITLE,
                f"history() at {n:,} rows within {HISTORY_TARGET}x of pd.read_sql_query",
                x(ratio),
                ratio <= HISTORY_TARGET,
                "history() returns typed columns (datetimes, nullable ints) and newest first.",
            )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
