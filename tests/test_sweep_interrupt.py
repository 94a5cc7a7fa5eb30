"""Interrupting a sweep: one true line, and ``gb.last_sweep()`` keeps the rows (issue 23.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import grokbook as gb
from grokbook.sweeps import SweepInterrupted

#: A cell that runs a 12-call sweep on the simulator and interrupts itself (as Ctrl-C or the
#: kernel's interrupt would: a KeyboardInterrupt in the main thread) once 2 rows landed.
INTERRUPTED_SWEEP = """\
import _thread
import grokbook as gb
from grokbook.sim import SimTransport

landed = []

def interrupt_after_two(row):
    landed.append(row)
    if len(landed) == 2:
        _thread.interrupt_main()

df = gb.sweep("What is 1+1?", models="grok-4.3", efforts=["low", "medium", "high"], repeats=4,
              concurrency=1, cache={cache}, progress=False, on_result=interrupt_after_two,
              client=gb.AsyncClient(provider="sim", transport=SimTransport(latency="demo")))
"""


def _frame(statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"status": statuses})


@pytest.mark.parametrize(
    ("statuses", "options", "says"),
    [
        (["ok", "ok", "ok"], {}, "3 of 10 calls finished; gb.last_sweep() returns their rows"),
        (["ok", "ok", "ok"], {}, "the 3 answered calls come from the cache."),
        (["ok", "error"], {}, "2 of 10 calls finished (1 failed);"),
        (["ok", "error"], {}, "the 1 answered call comes from the cache."),
        ([], {}, "0 of 10 calls finished; gb.last_sweep() returns their rows"),
        ([], {}, "run the same sweep again to start over."),
        (["ok"], {"cache": False}, "cache=False, so running it again makes every call again."),
        (["ok"], {"batch": True}, "the batches keep running: run the same sweep again to collect"),
    ],
)
def test_the_interrupted_message_is_true_for_the_options(
    statuses: list[str], options: dict[str, Any], says: str
) -> None:
    message = str(SweepInterrupted(_frame(statuses), 10, **options))
    assert says in message
    assert "\n" not in message and "sys.last_value" not in message
    if options.get("cache") is False:
        assert "from the cache" not in message


@pytest.mark.parametrize("cache", [True, False])
def test_interrupted_in_ipython_shows_one_line_and_keeps_the_rows(
    grok_shell: tuple[Any, Any, Any], capsys: pytest.CaptureFixture[str], cache: bool
) -> None:
    shell, _magics, _pub = grok_shell
    saved = shell.custom_exceptions, shell.CustomTB
    try:
        result = shell.run_cell(INTERRUPTED_SWEEP.format(cache=cache))
    finally:
        shell.custom_exceptions, shell.CustomTB = saved
    shown = capsys.readouterr()
    assert isinstance(result.error_in_exec, SweepInterrupted)
    lines = [line for line in (shown.out + shown.err).splitlines() if line.strip()]
    assert len(lines) == 1, lines  # no traceback through grokbook's internals
    (line,) = lines
    rows = gb.last_sweep()
    assert rows is not None and 2 <= len(rows) < 12
    assert rows is result.error_in_exec.frame
    assert line.startswith(f"Sweep interrupted: {len(rows)} of 12 calls")
    assert "gb.last_sweep() returns their rows" in line
    assert ("from the cache" in line) is cache
    assert ("cache=False" in line) is not cache


def test_in_a_kernel_the_cell_error_is_one_line(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(INTERRUPTED_SWEEP.format(cache=False)),
        nbformat.v4.new_code_cell("len(gb.last_sweep()), len(landed)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    (error,) = nb.cells[0].outputs
    assert error.output_type == "error" and error.ename == "SweepInterrupted"
    assert len(error.traceback) == 1, error.traceback
    assert "calls finished" in error.traceback[0] and "cache=False" in error.traceback[0]
    (count,) = nb.cells[1].outputs
    rows, landed = eval(count.data["text/plain"])  # "(n, m)"
    assert rows == landed and f"Sweep interrupted: {rows} of 12 calls" in error.traceback[0]


def test_last_sweep_is_the_last_finished_or_cancelled_sweep() -> None:
    first = gb.sweep("What is 1+1?", models="grok-4.3", efforts="low", progress=False)
    assert gb.last_sweep() is first
    second = gb.sweep("What is 2+2?", models="grok-4.3", efforts=["low", "high"], progress=False)
    assert gb.last_sweep() is second and len(second) == 2
    assert "last_sweep" in gb.__all__
