"""A second Run All of the %%grok tour, in the same kernel, behaves like the first.

The tour changes session defaults (``%config GrokMagics.default_effort``, ``%grok config
reasoning=...``) near its end; unless it puts them back, the next Run All runs its early cells
under them (a model that takes no effort then refuses the leftover default). nbval runs a
notebook once, so this runs it twice and compares every cell's outputs, with the
notebooks' own sanitizers (notebooks/sanitize.cfg) applied.
"""

from __future__ import annotations

import configparser
import copy
import json
import re
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: The one cell whose second run legitimately differs: it tallies the whole session.
SESSION_TALLY = "%grok usage"
#: What IPython prints when ``%load_ext`` meets a loaded extension (left out of the comparison).
ALREADY_LOADED = "The grokbook extension is already loaded"


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    config = configparser.ConfigParser()
    config.read(NOTEBOOKS / "sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def _outputs(cell: Any, sanitizers: list[tuple[re.Pattern[str], str]]) -> str:
    kept = [
        {k: v for k, v in o.items() if k != "execution_count"}
        for o in cell.outputs
        if not str(o.get("text", "")).startswith(ALREADY_LOADED)
    ]
    text = json.dumps(kept, sort_keys=True)
    for pattern, replacement in sanitizers:
        text = pattern.sub(replacement, text)
    return text


def test_a_second_run_all_of_the_magic_tour_gives_the_same_outputs() -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / "02-grok-magic.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    sanitizers = _sanitizers()
    runs: list[list[tuple[str, str]]] = []
    with client.setup_kernel():
        for _ in range(2):
            outputs = []
            for index, original in enumerate(nb.cells):
                if original.cell_type != "code":
                    continue
                cell = copy.deepcopy(original)
                client.execute_cell(cell, index)
                outputs.append((cell.source, _outputs(cell, sanitizers)))
            runs.append(outputs)
    first, second = runs
    differing = [source for (source, a), (_, b) in zip(first, second, strict=True) if a != b]
    # The comparison is real: the session tally does grow between the runs...
    assert differing.count(SESSION_TALLY) == 1
    # ... and nothing else changes.
    assert differing == [SESSION_TALLY], f"a second Run All differs in: {differing}"
