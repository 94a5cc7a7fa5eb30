"""13. The run log's disk per call on each wire: a simulator reasoning sweep (grok-4.3 at
efforts low and high, run log and cache on) on the Responses wire and on Chat Completions.

Issue 24's target: at most 1.5 KB per call on both (1.88 KB on Responses, 1.44 KB on Chat
when it was set).
Alone: ``python bench/case_disk.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import sys
import tempfile

from _common import grokbook_home
from _report import Report, run_alone
from case_store import STORE_TARGET_KB, fill_store

NUMBER = 13
NAME = "disk"
TITLE = "13. run-log disk per call by wire"
QUICK = {"calls": 60}
WIRES = (("Responses", "responses"), ("Chat Completions", "chat"))


def measure(report: Report, calls: int = 1000) -> None:
    for wire_label, wire in WIRES:
        with tempfile.TemporaryDirectory() as home, grokbook_home(home):
            path, logged, parts = fill_store(home, calls, wire)
            per_call = path.stat().st_size / logged / 1024
        report.row(
            TITLE,
            f"{wire_label}: on disk per call (grok-4.3 low/high on the simulator, cache on, "
            f"{logged} calls)",
            f"{per_call:.2f} KB",
            f"calls table {parts['calls'] / logged / 1024:.2f} KB, "
            f"cache {parts['cache'] / logged / 1024:.2f} KB",
        )
        report.target(
            TITLE,
            f"{wire_label}: <= {STORE_TARGET_KB} KB per call on disk",
            f"{per_call:.2f} KB (calls table {parts['calls'] / logged / 1024:.2f} KB, "
            f"cache {parts['cache'] / logged / 1024:.2f} KB)",
            per_call <= STORE_TARGET_KB,
            "the database file per logged call: the run log's row plus the cache entry (the "
            "answer's whole server response, packed by grokbook/_store_codec.py) and the "
            "indexes; the Responses body the simulator sends is larger than Chat's.",
        )
    report.notes.append(
        f"13: one sweep of {calls} calls per wire (grok-4.3, efforts low and high, the "
        "simulator's reasoning answers) into a fresh, empty store, run log and cache on; the "
        "database file's size after a WAL checkpoint, divided by the calls logged, with the "
        "calls and cache tables' pages (SQLite's dbstat) beside it."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
