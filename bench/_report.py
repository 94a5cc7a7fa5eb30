"""The benchmarks' results: rows, targets, the printed tables and docs/benchmarks.md.

A case adds rows (figures) and targets (a sentence, what was measured, met or missed) to one
:class:`Report`; :func:`main` runs the chosen cases in the order of their numbers, prints the
tables, writes the doc and turns misses into the exit status. ``bench/run.py`` calls it with
every case; each ``bench/case_*.py`` calls it with itself when run alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib.metadata
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import DOC, ROOT


@dataclass
class Row:
    case: str
    subject: str
    value: str
    ratio: str = ""
    note: str = ""
    transport: str = ""
    cpu: str = ""


@dataclass
class Target:
    case: str
    text: str
    measured: str
    met: bool
    why: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, *args: str, **kwargs: str) -> None:
        self.rows.append(Row(*args, **kwargs))

    def target(self, case: str, text: str, measured: str, met: bool, why: str = "") -> None:
        self.targets.append(Target(case, text, measured, met, why))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def x(ratio: float) -> str:
    return f"{ratio:.2f}x"


# -- the machine -------------------------------------------------------------------------------
def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    packages = (
        "grokbook",
        "httpx",
        "httpcore",
        "aiohttp",
        "httpx-aiohttp",
        "openai",
        "httpx2",
        "httpcore2",
        "requests",
        "urllib3",
        "pandas",
        "ipython",
    )
    return [
        ("date", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}; {os.cpu_count()} logical CPUs ({affinity} usable)"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(f"{p} {_version(p)}" for p in packages)),
    ]


# -- output ------------------------------------------------------------------------------------
def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def print_report(report: Report) -> None:
    print()
    if report.rows:
        rows = [["case", "subject", "transport", "wall", "client CPU", "ratio", "note"]]
        rows += [
            [r.case, r.subject, r.transport, r.value, r.cpu, r.ratio, r.note] for r in report.rows
        ]
        print("\n".join(_table(rows)))
        print()
    if report.targets:
        targets = [["target", "measured", "result"]]
        targets += [[t.text, t.measured, "met" if t.met else "MISSED"] for t in report.targets]
        print("\n".join(_table(targets)))


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _misses(report: Report) -> list[str]:
    missed = [t for t in report.targets if not t.met]
    if not missed:
        return []
    lines = ["## Misses and plans", ""]
    for t in missed:
        why = t.why or "no explanation recorded yet: investigate before the next release."
        lines.append(f"- **{_md(t.text)}** ({_md(t.measured)}): {_md(why)}")
    return [*lines, ""]


def write_doc(report: Report, path: Path, elapsed: float) -> None:
    out = [
        "# Benchmarks",
        "",
        "grokbook against what people use today, measured side by side in one run of "
        "`make bench` (`bench/run.py`). Every peer talks to the same server: grokbook's "
        "simulator on loopback (`bench/_serve.py`), in its own process, answering without "
        "latency or after a fixed 200 ms; cases 11 and 12 use an independent server instead "
        "(`bench/_fixed_server.py`: a tiny aiohttp app returning a recorded xAI answer). "
        "Ratios compare figures from the same run; the "
        "absolute numbers describe only the machine below, which was shared with other "
        "work while it ran, so expect a few percent of noise.",
        "",
        "Per-call overhead and sweep throughput compare grokbook as users get it (run log "
        "on; the sweep also caches) with the fastest of every peer measured in the same run, "
        "hand-written loops included; the transport column names each one's HTTP stack "
        "(client/connection pool), and client CPU per call stands next to wall time. Other "
        "grokbook configurations are marked (information) and no target measures them. "
        "`make bench` exits 1 when a target is missed; misses are listed with their ratios.",
        "",
        "This file is written by `bench/run.py` (one module per case: `bench/case_*.py`); "
        "edit those, not this.",
        "",
        "## Machine",
        "",
        *[f"- **{k}**: {_md(v)}" for k, v in machine()],
        f"- **run time**: {elapsed:.0f} s",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
        *[
            f"| {_md(t.text)} | {_md(t.measured)} | {'met' if t.met else '**missed**'} |"
            for t in report.targets
        ],
        "",
        *_misses(report),
        "## Figures",
        "",
        "| case | subject | transport | wall | client CPU | ratio | note |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {_md(r.case)} | {_md(r.subject)} | {_md(r.transport)} | {_md(r.value)} | "
            f"{_md(r.cpu)} | {_md(r.ratio)} | {_md(r.note)} |"
            for r in report.rows
        ],
        "",
        "## How each figure is measured",
        "",
        *[f"- {_md(n)}" for n in report.notes],
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    # bench/batch_sweep.py owns the batch section (between its markers): keep it.
    old = path.read_text() if path.exists() else ""
    start, end = "<!-- batch-bench:start -->", "<!-- batch-bench:end -->"
    if start in old and end in old:
        out += [start + old.split(start, 1)[1].split(end, 1)[0] + end, ""]
    path.write_text("\n".join(out))


# -- running cases -----------------------------------------------------------------------------
def _check_case(module: ModuleType) -> None:
    for name in ("NUMBER", "NAME", "TITLE", "run"):
        if not hasattr(module, name):
            raise RuntimeError(f"bench: {module.__name__} has no {name}")


def main(
    cases: Sequence[ModuleType],
    argv: list[str] | None = None,
    *,
    alone: bool = False,
    doc: str | None = None,
) -> int:
    """Run ``cases`` (modules with NUMBER, NAME, TITLE and ``run(report, quick)``) in the order
    of their numbers; print the tables; write the doc; 1 if a target was missed.

    ``alone``: a case run by itself never writes the doc (it would drop every other case).
    ``doc``: the docstring whose first paragraph describes the command in ``--help``.
    """
    for module in cases:
        _check_case(module)
    ordered = sorted(cases, key=lambda m: m.NUMBER)
    names = [m.NAME for m in ordered]
    about = (doc or "grokbook's benchmarks").strip().split("\n\n", 1)[0]
    parser = argparse.ArgumentParser(description=" ".join(about.split()))
    if not alone:
        parser.add_argument(
            "--only", default=",".join(names), help=f"comma-separated, of: {','.join(names)}"
        )
        parser.add_argument(
            "--no-write", action="store_true", help="do not write docs/benchmarks.md"
        )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes: checks that every case runs (well under a minute); writes nothing",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="exit 0 even when a target is missed (to record a before-state)",
    )
    args = parser.parse_args(argv)
    chosen = names
    if not alone:
        chosen = [c.strip() for c in args.only.split(",") if c.strip()]
        unknown = set(chosen) - set(names)
        if unknown:
            parser.error(f"unknown case(s) {sorted(unknown)}; choose from {','.join(names)}")
    write = not alone and not args.no_write and not args.quick
    by_name = {m.NAME: m for m in ordered}
    report = Report()
    started = time.perf_counter()
    for module in (by_name[n] for n in names if n in chosen):
        t = time.perf_counter()
        print(f"bench: {module.NUMBER}. {module.NAME} ...", flush=True)
        module.run(report, quick=args.quick)
        print(f"bench: {module.NAME} done in {time.perf_counter() - t:.1f} s", flush=True)
    elapsed = time.perf_counter() - started
    print_report(report)
    if write:
        write_doc(report, DOC, elapsed)
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    if args.quick:
        print(f"\nbench: --quick run in {elapsed:.0f} s: tiny sizes, so its ratios judge nothing")
    missed = [t for t in report.targets if not t.met]
    if missed:
        print(f"bench: {len(missed)} target(s) missed: " + "; ".join(t.text for t in missed))
        return 0 if args.report_only else 1
    print("bench: every target met")
    return 0


def run_alone(case: Any, argv: list[str] | None = None) -> int:
    """``python bench/case_x.py [--quick] [--report-only]``: that case by itself, no doc."""
    return main([case], argv, alone=True, doc=case.__doc__)
