"""Every entry point leaves a run-log row: client, CLI, magic, sweep, widgets."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

import grokbook as gb
from grokbook import store
from grokbook.cli import main
from grokbook.widgets import EffortComparer, Playground

PROMPT = "What is 101*3?"


async def test_each_entry_point_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    gb.Client(provider="sim").chat(PROMPT, reasoning_effort="low")
    assert main(["ask", PROMPT, "-e", "high", "--no-stream"]) == 0
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "grokbook")
    shell.run_cell_magic("grok", "-e low --no-cache", "What is 7*8?")
    gb.sweep(PROMPT, efforts=["low", "high"], progress=False, cache=False)
    playground = Playground("What is 2+2?", client=gb.AsyncClient(provider="sim"))
    assert (await playground.run()) is not None
    comparer = EffortComparer("What is 9*9?", model="grok-3-mini-beta", repeats=1, cache=False)
    assert (await comparer.run()) is not None
    shell.run_line_magic("unload_ext", "grokbook")
    capsys.readouterr()

    store.flush()
    log = gb.history()
    sources = log["source"].fillna("python").tolist()
    assert sources.count("python") == 1
    assert sources.count("cli") == 1
    assert sources.count("magic") == 1
    assert sources.count("widget") == 1
    # gb.sweep (2 calls) and the comparer (one sweep over 2 efforts) tag their sweep ids.
    sweeps = log[log["source"] == "sweep"]
    assert len(sweeps) == 4 and sweeps["sweep_id"].nunique() == 2
    assert set(log["status"]) == {"ok"}
    assert (log["reasoning_tokens"] > 0).all()
