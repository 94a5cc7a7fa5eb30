"""3. Import cost in fresh interpreters: import grokbook / %load_ext grokbook vs httpx, openai.

Alone: ``python bench/case_import.py [--quick] [--report-only]``.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys

from _common import ROOT
from _report import Report, ms, run_alone, x

NUMBER = 3
NAME = "import"
TITLE = "3. import cost"
QUICK = {"runs": 1}

_TIMER = """
import sys, time
{setup}
t = time.perf_counter()
{stmt}
sys.stdout.write(repr(time.perf_counter() - t))
"""
_SHELL = (
    "from IPython.core.interactiveshell import InteractiveShell\nsh = InteractiveShell.instance()"
)


def _time_in_fresh_process(setup: str, stmt: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(setup=setup, stmt=stmt)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    if out.returncode:
        raise RuntimeError(f"bench: {stmt!r} failed in a fresh interpreter:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def measure(report: Report, runs: int = 7) -> None:
    cases: dict[str, tuple[str, str]] = {
        "import httpx": ("", "import httpx"),
        "import grokbook": ("", "import grokbook"),
        "import grokbook; grokbook.Client (first use)": ("", "import grokbook; grokbook.Client"),
        "import openai": ("", "import openai"),
        "%load_ext grokbook (fresh InteractiveShell)": (
            _SHELL,
            "sh.run_line_magic('load_ext', 'grokbook')",
        ),
    }
    if importlib.util.find_spec("jupyter_ai_magics") is not None:
        cases["%load_ext jupyter_ai_magics (fresh InteractiveShell)"] = (
            _SHELL,
            "sh.run_line_magic('load_ext', 'jupyter_ai_magics')",
        )
    else:
        message = (
            "jupyter_ai_magics is not installed (it pulls in LangChain and many providers; "
            "not installed for a benchmark), so %load_ext jupyter_ai_magics was skipped."
        )
        print(f"note: {message}")
        report.notes.append(f"3: {message}")
    times: dict[str, list[float]] = {name: [] for name in cases}
    for setup, stmt in cases.values():  # warm the page cache and the .pyc files
        _time_in_fresh_process(setup, stmt)
    for _ in range(runs):
        for name, (setup, stmt) in cases.items():
            times[name].append(_time_in_fresh_process(setup, stmt))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["import httpx"]
    for name, value in medians.items():
        report.row(TITLE, name, ms(value), x(value / base) + " of httpx")
    ratio = medians["import grokbook"] / base
    report.target(TITLE, "import grokbook within 1.5x of import httpx", x(ratio), ratio <= 1.5)
    report.notes.append(
        f"3: median of {runs} fresh interpreters each, timed inside the process (interpreter "
        "start-up excluded), after one untimed run to warm the .pyc files. `import grokbook` "
        "loads public names lazily; the first use of grokbook.Client imports httpx, shown "
        "separately. %load_ext grokbook imports the magic and render modules, not httpx."
    )


def run(report: Report, quick: bool = False) -> None:
    measure(report, **(QUICK if quick else {}))


if __name__ == "__main__":
    sys.exit(run_alone(sys.modules[__name__]))
