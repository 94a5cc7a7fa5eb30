"""Issue 23 item 8: the cosmetics a newcomer met in the first hour, each pinned.

Tables, the catalog, history, plots, the recommendation's wording, the tours (scratch homes,
what they print) and ``make lab``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

import grokbook as gb
from grokbook import catalog, cli
from grokbook.accuracy import PairedTest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TOURS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _notebook(name: str) -> dict[str, Any]:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def _code_cells(name: str) -> list[dict[str, Any]]:
    return [c for c in _notebook(name)["cells"] if c["cell_type"] == "code"]


def _text_outputs(cell: dict[str, Any]) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]))
        plain = output.get("data", {}).get("text/plain")
        if plain is not None:
            parts.append("".join(plain))
    return "".join(parts)


# -- the recommendation counts pairs as prompts x repeats ----------------------------------------
@pytest.mark.parametrize(
    ("pairs", "prompts", "wording"),
    [
        (5, 5, "over 5 paired prompts:"),
        (1, 1, "over 1 paired prompt:"),
        (15, 5, "over 15 pairs (5 prompts x 3 repeats):"),
        (14, 5, "over 14 pairs (prompt x repeat) from 5 prompts:"),
        (15, None, "over 15 paired prompts:"),  # a PairedTest made by hand, before the count
    ],
)
def test_a_paired_test_says_how_many_prompts_and_repeats_it_paired(
    pairs: int, prompts: int | None, wording: str
) -> None:
    test = PairedTest(
        a=("grok-4.3", "high"),
        b=("grok-4.3", "low"),
        pairs=pairs,
        a_only=1,
        b_only=0,
        accuracy_a=1.0,
        accuracy_b=0.9,
        p_value=1.0,
        alpha=0.05,
        prompts=prompts,
    )
    assert wording in str(test)


def test_the_recommendation_on_5_prompts_x_3_repeats_says_15_pairs() -> None:
    cases = gb.problems().query("steps == 6").head(5)
    df = gb.sweep(cases, models="grok-4.3", efforts=["low", "high"], repeats=3, progress=False)
    test = gb.paired_test(df, "high", "low")
    assert (test.pairs, test.prompts) == (15, 5)
    assert "15 pairs (5 prompts x 3 repeats)" in str(test)
    assert "15 paired prompts" not in gb.recommend(df, target=0.9).note


# -- plots ------------------------------------------------------------------------------------
@pytest.mark.parametrize("plot", ["plot_frontier", "plot_accuracy_latency"])
def test_an_accuracy_plot_of_unscored_data_names_itself(plot: str) -> None:
    df = gb.sweep(["What is 101*3?"], efforts=["low"], progress=False)
    with pytest.raises(ValueError) as info:
        getattr(gb, plot)(df)
    message = str(info.value)
    assert message.startswith(f"{plot} needs a scored usage frame")
    assert "gb.score(df, scorer)" in message and "accuracy_summary" not in message


# -- the CLI and the catalog -------------------------------------------------------------------
@pytest.mark.parametrize(("errors", "words"), [(0, "0 errors"), (1, "1 error,"), (2, "2 errors")])
def test_cache_info_counts_errors_in_good_english(
    errors: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = gb.Client(provider="sim")
    client.chat("What is 1+1?")
    for _ in range(errors):
        with pytest.raises(gb.errors.NotFoundError):
            client.chat("What is 1+1?", model="grok-99-imaginary")
    assert cli.main(["cache", "info"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("logged calls"))
    assert f"({words}" in line


@pytest.mark.parametrize(
    ("tokens", "shown"),
    [
        (131_072, "131K"),
        (256_000, "256K"),
        (500_000, "500K"),
        (1_000_000, "1M"),
        (2_000_000, "2M"),
        (1_500_000, "1.5M"),
        (1_234_567, "1,235K"),
        (999, "999"),
        (None, "?"),
    ],
)
def test_context_windows_are_written_in_one_style(tokens: int | None, shown: str) -> None:
    assert catalog._context(tokens) == shown


def test_the_model_table_never_mixes_exact_counts_with_k_and_m() -> None:
    column = catalog.TABLE_HEADERS.index("context")
    contexts = [row[column] for row in catalog.table_rows()]
    assert all(re.fullmatch(r"\d+(\.\d)?[KM]|\?", value) for value in contexts), contexts


@pytest.mark.parametrize("wire", ["responses", "chat"])
@pytest.mark.parametrize(
    ("model", "effort", "used", "reasons"),
    [
        ("grok-3-beta", "high", "high", True),  # retired, answered by grok-4.3: its efforts
        ("grok-3-beta", None, "none", False),  # unsent: what xAI applies to the retired id
        ("grok-4", "medium", "medium", True),
        ("grok-4", None, "low", True),
        ("grok-code-fast-1", "none", "none", False),
    ],
)
def test_a_retired_id_takes_the_efforts_of_the_model_that_answers_it(
    wire: str, model: str, effort: str | None, used: str, reasons: bool
) -> None:
    client = gb.Client(provider="sim", wire=wire)
    r = client.chat("What is 6*7?", model=model, reasoning_effort=effort)
    assert (r.requested_model, r.model, r.reasoning_effort) == (model, "grok-4.3", used)
    assert bool(r.usage.reasoning_tokens) is reasons and "42" in r.content
    record = catalog.get(model)
    assert record is not None and record.efforts == catalog.get("grok-4.3").efforts  # type: ignore[union-attr]


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_a_retired_id_refuses_what_its_successor_refuses_before_sending(wire: str) -> None:
    client = gb.Client(provider="sim", wire=wire)
    with pytest.raises(
        gb.errors.UnsupportedParameterError, match=re.escape("none | low | medium | high")
    ):
        client.chat("What is 6*7?", model="grok-3-beta", reasoning_effort="xhigh")
    assert client.stats["requests"] == 0
    row = {r[0]: r for r in catalog.table_rows()}["grok-3-beta"]
    assert "(rejected)" not in row and "none | low | medium | high" in row


def test_retired_ids_follow_their_successor_when_it_is_registered_again() -> None:
    from dataclasses import replace

    successor = catalog.get("grok-4.3")
    assert successor is not None
    catalog.register(replace(successor, efforts=("low", "high"), default_effort="low"))
    retired = catalog.get("grok-3-beta")
    assert retired is not None
    # none is no longer one of grok-4.3's efforts: its default applies instead.
    assert (retired.efforts, retired.default_effort) == (("low", "high"), "low")


# -- history shows the effort a call used, as usage does ----------------------------------------
def test_history_shows_the_effort_used_where_usage_does(
    grok_shell: tuple[Any, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    shell, _magics, pub = grok_shell
    shell.run_line_magic("grok", "config provider=sim")
    shell.run_cell_magic("grok", "--no-stream", "What is 2+2?")  # grok-4.3, no effort sent
    shell.run_cell_magic("grok", "--no-stream -m grok-3-beta", "What is 3+3?")  # retired
    shell.run_cell_magic("grok", "--no-stream -e high", "What is 4+4?")

    def table(line: str) -> list[list[str]]:
        pub.outputs.clear()
        shell.run_line_magic("grok", line)
        text = "".join(o["data"]["text/plain"] for o in pub.outputs)
        return [row.split() for row in text.splitlines()[2:] if row and row[0].isdigit()]

    usage = [row[2] for row in table("usage")]  # "#", model, effort, ...
    history = [row[3] for row in reversed(table("history 3"))]  # date, time, model, effort
    assert usage == ["low", "none", "high"] == history
    assert cli.main(["history", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]
    rows = [line.split()[4] for line in reversed(lines) if line[:1].isdigit()]
    assert rows == ["low", "none", "high"]


def test_a_failed_or_unknown_call_without_an_effort_still_says_default() -> None:
    from grokbook._core import effort_label

    assert effort_label("grok-4.3", None, "error") == "default"
    assert effort_label("my-own-model", "default", "ok") == "default"
    assert effort_label("grok-4.3", "default", "ok") == "low"
    assert effort_label("grok-4.3", "high", "ok") == "high"


# -- the tours --------------------------------------------------------------------------------
def test_scratch_home_replaces_the_last_one_and_removes_it_at_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grokbook import store

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(store, "_scratch", None)
    first = store.scratch_home()
    assert first.parent == tmp_path and first.name.startswith("grokbook-tour-")
    assert os.environ["GROKBOOK_HOME"] == str(first)
    gb.Client(provider="sim").chat("What is 1+1?")
    assert store.flush() and (first / store.DB_NAME).is_file()
    second = store.scratch_home()  # a second Run All in the same kernel
    assert not first.exists() and second.is_dir()
    assert gb.history().empty  # a fresh run log there
    store._remove_scratch()  # what the kernel's exit runs
    assert not second.exists()
    assert list(tmp_path.glob("grokbook-tour-*")) == []


@pytest.mark.parametrize("tour", [p.name for p in TOURS])
def test_every_tour_keeps_its_run_log_in_a_scratch_home(tour: str) -> None:
    first = _code_cells(tour)[0]["source"]
    source = "".join(first)
    assert "gb.store.scratch_home()" in source, f"{tour}: the first code cell picks no scratch home"
    assert "mkdtemp" not in source  # which left a /tmp/grokbook-tour-* folder per Run All


@pytest.mark.parametrize("tour", ["01-quickstart.ipynb", "03-widgets.ipynb"])
def test_a_tour_run_writes_nothing_to_your_run_log_and_leaves_no_folder(
    tour: str, tmp_path: Path
) -> None:
    """Run twice in one kernel (Run All, Run All), then the kernel stops: the user's data
    folder got no run log and the temporary folder holds no grokbook-tour-* folder."""
    import nbformat
    from nbclient import NotebookClient

    data, scratch = tmp_path / "data", tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GROKBOOK_HOME"}
    env.update(XDG_DATA_HOME=str(data), TMPDIR=str(scratch), GROKBOOK_SIM_LATENCY="none")
    nb = nbformat.read(NOTEBOOKS / tour, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    with client.setup_kernel(env=env):  # the kernel's environment; this process's stays
        for _ in range(2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
    assert not (data / "grokbook").exists()
    assert list(scratch.glob("grokbook-tour-*")) == []


def test_the_quickstart_prints_what_its_text_says() -> None:
    cells = _code_cells("01-quickstart.ipynb")
    summary = next(_text_outputs(c) for c in cells if "REASONING SUMMARY" in "".join(c["source"]))
    raw = next(_text_outputs(c) for c in cells if "RAW REASONING" in "".join(c["source"]))
    # The summary is short; the raw text is about 4 characters a token, as the text says.
    chars, tokens = map(int, re.search(r"\((\d+) characters for (\d+) reasoning", summary).groups())  # type: ignore[union-attr]
    assert chars < tokens
    ratio = float(re.search(r"(\d+\.\d) a token", raw).group(1))  # type: ignore[union-attr]
    assert 3.5 <= ratio <= 4.5
    for text in (summary, raw):  # no line printed twice in a row (the last one was)
        lines = [x for x in text.splitlines() if x.strip()]
        assert all(a != b for a, b in itertools.pairwise(lines)), text


def test_readme_and_quickstart_list_every_tour() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| `(\d\d-[\w-]+)` \|", readme, re.M)
    assert table == [p.stem for p in TOURS]
    nxt = "".join(_notebook("01-quickstart.ipynb")["cells"][-1]["source"])
    assert nxt.startswith("## Next")
    assert re.findall(r"`(\d\d-[\w-]+)\.ipynb`", nxt) == [p.stem for p in TOURS[1:]]


def test_the_widgets_tour_leaves_its_displayed_picker_as_created() -> None:
    cells = _code_cells("03-widgets.ipynb")
    shown = next(i for i, c in enumerate(cells) if "".join(c["source"]).strip().endswith("picker"))
    later = "".join("".join(c["source"]) for c in cells[shown + 1 :])
    assert re.search(r"\bpicker\.(model|reasoning_effort)\s*=", later) is None
    assert "176.666667" not in json.dumps(_notebook("03-widgets.ipynb"))
    summary = next(c for c in cells if "effort_table(cmp.summary)" in "".join(c["source"]))
    assert re.search(r"\d\.\d{4,}", _text_outputs(summary).split("$/call")[0] + "") is None


@pytest.mark.parametrize("tour", ["04-compare-efforts.ipynb", "07-batch-sweeps.ipynb"])
def test_tables_in_the_tours_fit_without_wrapping(tour: str) -> None:
    """pandas wraps a frame wider than the output into blocks ending in ``\\``; printed tables
    with a long column broke across lines. The sweep table (04) and the failures (07) fit."""
    for cell in _code_cells(tour):
        source = "".join(cell["source"])
        if "gb.sweep(prompts" not in source and "odd = gb.sweep(" not in source:
            continue
        text = _text_outputs(cell)
        assert not re.search(r" \\\n", text), text
        assert max(map(len, text.splitlines())) <= 100, text


def test_the_new_conversation_button_is_as_wide_as_its_label() -> None:
    from grokbook.widgets import Playground

    button = Playground().new_button
    assert button.description == "New conversation"
    assert (button.layout.width, button.layout.min_width) == ("auto", "max-content")


def test_make_lab_on_a_busy_port_says_to_set_jupyter_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            ["make", "-s", "-o", ".venv/.grokbook-installed", "lab", f"JUPYTER_PORT={port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode != 0
    assert f"port {port} is busy" in done.stdout and "JUPYTER_PORT=8889 make lab" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
