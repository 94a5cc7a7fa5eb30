"""`grokbook history` and `grokbook cache` (the run log and cache from a shell)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import grokbook as gb
from grokbook import cli, errors
from tests.conftest import FAKE_KEY, Recorder, chat_body


def _calls() -> None:
    rec = Recorder(
        lambda r: httpx.Response(200, json=chat_body()),
        httpx.Response(500, json={"code": "x", "error": "boom"}),
        lambda r: httpx.Response(200, json=chat_body(model="grok-3-mini-fast-beta")),
    )
    with gb.Client(
        provider="xai",
        wire="chat",
        api_key=FAKE_KEY,
        transport=httpx.MockTransport(rec),
        max_retries=0,
    ) as c:
        c.chat("What is\n101*3?", reasoning_effort="high", cache=True)
        with pytest.raises(errors.InternalServerError):
            c.chat("fails")
        c.chat("x" * 80, model="grok-3-mini-fast-beta", cache=True)
        c.chat("What is\n101*3?", reasoning_effort="high", cache=True)  # a hit


def test_history_prints_a_compact_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["history"]) == 0
    assert "No calls logged yet." in capsys.readouterr().out
    _calls()
    assert cli.main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "time", "model", "effort"]
    body = lines[2:]
    assert len(body) == 4
    assert "cached" in body[0] and "What is 101*3?" in body[0]  # newest first, one line
    assert "x" * 39 + "…" in body[1] and "x" * 41 not in body[1]
    assert "ERROR" in body[2]
    assert "310" in body[3] and "high" in body[3]
    assert cli.main(["history", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert cli.main(["history", "--model", "grok-3-mini-fast-beta"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_history_labels_every_column(capsys: pytest.CaptureFixture[str]) -> None:
    _calls()
    assert cli.main(["history"]) == 0
    header, rule, *body = capsys.readouterr().out.splitlines()
    # The rule under the header has one run of dashes per column: each has a label above it.
    columns = [m.span() for m in re.finditer(r"-+", rule)]
    labels = [header[start:end].strip() for start, end in columns]
    assert labels == list(cli.HISTORY_HEADERS)
    assert all(labels) and len(set(labels)) == len(labels)
    status = labels.index("status")
    start, end = columns[status]
    assert [line[start:end].strip() for line in body] == ["cached", "ok", "ERROR", "ok"]


def test_history_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _calls()
    target = tmp_path / "runs.csv"
    assert cli.main(["history", "--csv", str(target)]) == 0
    assert "Wrote 4 calls" in capsys.readouterr().err
    frame = pd.read_csv(target)
    assert list(frame.columns) == list(gb.history().columns)
    assert list(frame["status"]) == ["ok", "ok", "error", "ok"]
    assert list(frame["cached"]) == [True, False, False, False]


def test_cache_info_and_clear(capsys: pytest.CaptureFixture[str]) -> None:
    _calls()
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "cached answers 2" in out
    assert "logged calls   4 (1 error, 1 served from the cache)" in out
    assert cli.main(["cache", "clear"]) == 0
    assert "Removed 2 cached answers" in capsys.readouterr().out
    assert cli.main(["cache", "clear"]) == 0
    assert "Removed 0 cached answers" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["cache", "bogus"])


def _damage(path: Path, how: str) -> None:
    if how == "not a database":
        path.write_bytes(b"this is not SQLite " * 1000)
    else:  # a real store's pages past the schema overwritten: it opens, its tables fail
        data = bytearray(path.read_bytes())
        page = int.from_bytes(data[16:18], "big")
        data[page * 3 :] = b"\xff" * (len(data) - page * 3)
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["not a database", "damaged pages"])
@pytest.mark.parametrize("command", [["cache", "info"], ["history"], ["cache", "clear"]])
def test_a_corrupt_store_gives_one_warning_line_and_no_traceback(
    how: str,
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path))
    gb.store.reset()
    client = gb.Client(provider="sim")
    for i in range(300):  # enough pages that damage in the middle hits table data
        client.chat(f"What is {i}*3?", cache=True)
    db = gb.store.get_store()
    assert db is not None and db.flush()
    gb.store.reset()
    _damage(tmp_path / gb.store.DB_NAME, how)
    code = cli.main(command)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "sqlite3" not in out + err
    if code != 0:  # history may still read the newest rows of a partly damaged file
        lines = [line for line in err.splitlines() if line]
        assert len(lines) == 2, err
        assert lines[0].startswith("grokbook: ") and "move a damaged" in lines[0]
        assert lines[1] == cli._UNREADABLE
    if command == ["cache", "info"]:
        assert code == 1  # never counts from a file that cannot be read
    gb.store.reset()


# -- one table formatter (issue 24): the magic and the CLI print the same tables ---------------
def test_the_magic_and_the_cli_print_one_run_log_table(
    grok_shell: tuple[Any, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """`%grok history` and `grokbook history` are one formatter's output: the same columns,
    the same rows, and "-" for a count the server did not send (the magic used to say "?")."""
    _calls()
    shell, _magics, pub = grok_shell
    assert cli.main(["history"]) == 0
    printed = capsys.readouterr().out.splitlines()
    shell.run_line_magic("grok", "history")
    shown = pub.outputs[-1]["data"]["text/plain"].splitlines()
    assert "<table" in pub.outputs[-1]["data"]["text/html"]
    assert shown[: len(printed)] == printed  # the magic adds its caption below
    assert shown[len(printed)].startswith("The 4 most recent calls")
    failed = next(line for line in printed if " ERROR " in line)
    assert failed.split()[5:7] == ["-", "-"] and "?" not in failed  # reasoning, answer tokens


def test_the_magic_and_the_cli_print_one_models_table(
    grok_shell: tuple[Any, Any, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XAI_API_KEY", FAKE_KEY)
    shell, _magics, pub = grok_shell
    assert cli.main(["models"]) == 0
    printed = capsys.readouterr().out
    shell.run_line_magic("grok", "models")
    assert pub.outputs[-1]["data"]["text/plain"] == printed.rstrip("\n")
    assert "xai: key set" in printed and FAKE_KEY not in printed
