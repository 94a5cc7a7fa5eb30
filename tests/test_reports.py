"""gb.report / df.grok.report and ``grokbook compare --cases ... --report ...`` (issue 23, items
6 and 7): one self-contained HTML file with what was run, the tables, the recommendation and
the plots; model text escaped, keys redacted; the CLI scores, batches and exits non-zero only
on errors."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import grokbook as gb
from grokbook._columns import completion_row, error_row
from grokbook.cli import main
from grokbook.tables import frame_from_rows

#: Tags that make a browser fetch or run something.
ACTIVE_TAGS = {"script", "link", "iframe", "object", "embed", "frame", "base", "video", "audio"}


class _Page(HTMLParser):
    """Every tag with its attributes, the tables' header cells and the text by class."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headers: list[str] = []
        self.text_of_class: dict[str, str] = {}
        self._in_th = False
        self._classes: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_th = tag == "th"
        self._classes.append(dict(attrs).get("class"))

    def handle_endtag(self, tag: str) -> None:
        self._in_th = False
        if self._classes:
            self._classes.pop()

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.headers.append(data.strip())
        for name in filter(None, self._classes):
            self.text_of_class[name] = self.text_of_class.get(name, "") + data


def page(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(text)
    return text, parsed


def assert_self_contained(text: str, parsed: _Page) -> None:
    """Nothing the browser would fetch or run: no active tag, every src/href a data: URI or an
    anchor, no CSS import or url(), and no http(s) URL anywhere in the file."""
    assert not ACTIVE_TAGS & {tag for tag, _ in parsed.tags}
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value[:80])
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "@import" not in text and "url(" not in text
    assert re.search(r"(?i)\b(?:https?|ftp):|//[a-z0-9-]+\.[a-z]", text) is None


def pngs(parsed: _Page) -> list[bytes]:
    images = []
    for tag, attrs in parsed.tags:
        if tag == "img":
            src = attrs["src"] or ""
            assert src.startswith("data:image/png;base64,")
            images.append(base64.b64decode(src.split(",", 1)[1], validate=True))
    return images


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_a_scored_report_has_the_table_the_recommendation_and_the_plots_and_fetches_nothing(
    tmp_path: Path, wire: str
) -> None:
    client = gb.Client(provider="sim", wire=wire)
    cases = gb.problems().query("steps >= 4").head(6)
    df = gb.sweep(cases, models="grok-4.3", efforts=["none", "high"], repeats=2, client=client,
                  progress=False)  # fmt: skip
    path = gb.report(df, tmp_path / "nested" / "report.html")
    assert path == tmp_path / "nested" / "report.html" and path.is_file()
    text, parsed = page(path)
    assert_self_contained(text, parsed)
    # The effort summary table, the accuracy table and the recommendation.
    for header in ("calls", "reasoning", "completion", "reasoning %", "$/call", "$ billed"):
        assert header in parsed.headers, header
    for header in ("scored", "correct", "accuracy", "95% interval", "$/correct"):
        assert header in parsed.headers, header
    pick = gb.recommend(df, target=0.9)
    assert parsed.text_of_class["pick"].strip() == pick.note
    # The plots: tokens, latency, cost, accuracy vs cost and vs latency, as real PNGs.
    images = pngs(parsed)
    assert len(images) == 5
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000 for png in images)
    assert all(b"matplotlib.org" not in png for png in images)
    # What was run.
    facts = parsed.text_of_class["facts"]
    for fact in ("grok-4.3", "none, high", "repeats", "provider", "sim", gb.__version__):
        assert fact in facts, fact
    assert "yes: grokbook's offline simulator, not Grok" in facts
    assert "simulator" in parsed.text_of_class["sim"]
    assert f"{len(cases)}" in facts and "24 (24 answered, 0 failed, 0 from the cache)" in facts


def test_df_grok_report_writes_a_timestamped_file_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    df = gb.sweep(["What is 101*3?"], efforts=["low", "high"], progress=False)
    first = df.grok.report()
    second = gb.report(df)
    assert first.parent == second.parent == Path(".")
    assert re.fullmatch(r"grokbook-report-\d{8}-\d{6}\.html", first.name)
    assert second != first and (tmp_path / first).is_file() and (tmp_path / second).is_file()
    text, parsed = page(tmp_path / first)
    assert_self_contained(text, parsed)
    assert "Accuracy" not in parsed.headers and "pick" not in parsed.text_of_class  # unscored
    assert len(pngs(parsed)) == 3


HOSTILE_PROMPT = "<script>alert('prompt')</script> {not} $HOME"
HOSTILE_ANSWER = '<img src=x onerror="alert(1)"> see https://evil.example/x.png'
KEY = "xai-REPORTKEY-d0n0tl3ak-4411"


def _row(model: str, answer: str, **extra: Any) -> dict[str, Any]:
    client = gb.Client(provider="sim", log=False)
    completion = client.chat("What is 6*7?", model="grok-3-mini-beta", reasoning_effort="low")
    row = completion_row(completion, prompt=HOSTILE_PROMPT, repeat=0)
    row.update(model=model, answer=answer, model_served=model, **extra)
    return row


def test_model_text_is_escaped_and_keys_are_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    model = "<b>m&m</b>"
    rows = [
        _row(model, f"{HOSTILE_ANSWER} and the key {KEY}", expected=42, score=1.0, correct=True),
        {
            **error_row(
                model=model,
                reasoning_effort="high",
                prompt=HOSTILE_PROMPT,
                repeat=0,
                error=f"HTTP 401: bad key {KEY} <b>x</b> extra-secret",
            ),
            "expected": 42,
        },
    ]
    df = frame_from_rows(rows)
    path = gb.report(df, tmp_path / "r.html", secrets=["extra-secret"])
    text, parsed = page(path)
    assert KEY not in text and "extra-secret" not in text
    assert text.count("[redacted]") >= 3
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert "<img src=x" not in text and "&lt;img src=x onerror=" in text
    assert "<b>m&m</b>" not in text and "&lt;b&gt;m&amp;m&lt;/b&gt;" in text
    assert_self_contained(text.replace("https://evil.example/x.png", ""), parsed)
    assert "1 of 2 calls failed" in text


@pytest.mark.parametrize(
    ("columns", "provider", "simulated", "banner"),
    [
        ({}, "sim", "yes: grokbook's offline simulator, not Grok", True),  # from the run log
        ({"provider": "xai", "simulated": False}, "xai", "no", False),
        ({"provider": "sim", "simulated": True}, "sim", "yes", True),
        ({"simulated": [True, False]}, "sim", "partly: 1 of 2 calls on the simulator", True),
    ],
)
def test_what_was_run_reads_provider_and_simulated_from_what_the_frame_carries(
    tmp_path: Path, columns: dict[str, Any], provider: str, simulated: str, banner: bool
) -> None:
    """Columns ``provider`` / ``simulated`` when the frame has them (issue 21 adds them), else
    the run log's rows of the sweep."""
    df = gb.sweep(["What is 101*3?", "What is 7*8?"], efforts=["low"], progress=False)
    for name, value in columns.items():
        df[name] = value
    _text, parsed = page(gb.report(df, tmp_path / "r.html"))
    facts = parsed.text_of_class["facts"]
    assert f"provider{provider}" in facts.replace("\n", "")
    assert simulated in facts
    assert ("sim" in parsed.text_of_class) is banner


def test_a_frame_where_every_call_failed_still_reports(tmp_path: Path) -> None:
    rows = [
        error_row(model="grok-4.3", reasoning_effort="high", prompt="p", repeat=r, error="boom")
        for r in range(2)
    ]
    text, parsed = page(gb.report(frame_from_rows(rows), tmp_path / "r.html"))
    assert "No call succeeded: nothing to plot." in text and not pngs(parsed)
    assert "2 of 2 calls failed; the first error: boom" in text
    with pytest.raises(ValueError, match="usage frame"):
        gb.report(pd.DataFrame({"x": [1]}), tmp_path / "x.html")
    with pytest.raises(ValueError, match="between 0 and 1"):
        gb.report(frame_from_rows(rows), tmp_path / "x.html", target=90)


def test_gb_report_loads_neither_pandas_nor_matplotlib_until_it_runs() -> None:
    code = (
        "import sys, grokbook as gb; gb.report; import grokbook.reports; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


# -- grokbook compare --cases ------------------------------------------------------------------
def _cases_file(folder: Path, kind: str) -> Path:
    cases = gb.problems().query("steps == 6").head(5)[["prompt", "expected"]]
    if kind == "csv":
        path = folder / "cases.csv"
        cases.to_csv(path, index=False)
    else:
        path = folder / "cases.jsonl"
        path.write_text(
            "".join(json.dumps(r) + "\n" for r in cases.to_dict("records")), encoding="utf-8"
        )
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_compare_with_cases_prints_accuracy_and_recommendation_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    cases = _cases_file(tmp_path, kind)
    html = tmp_path / "report.html"
    argv = ["compare", "--cases", str(cases), "--scorer", "numeric", "-e", "none", "high"]
    assert main([*argv, "-n", "3", "--no-progress", "--report", str(html)]) == 0
    out, err = capsys.readouterr()
    effort_part, accuracy_part, pick = out.split("\n\n")
    assert "reasoning %" in effort_part.splitlines()[0]
    assert "95% interval" in accuracy_part.splitlines()[0]
    efforts = [
        line.split()[0 if line.startswith(" ") else 1] for line in accuracy_part.splitlines()[2:]
    ]
    assert efforts == ["none", "high"]
    simulated, pick = pick.split("\n", 1)  # the simulator answered: the recommendation says so
    assert simulated == "Simulated: these figures come from grokbook's offline simulator, not Grok."
    assert pick.startswith("Cheapest option with accuracy >= 90%: grok-4.3 at effort high")
    assert "15 pairs (5 prompts x 3 repeats)" in pick  # not "15 paired prompts"
    assert f"wrote the report to {html}" in err and "simulated" in err
    text, parsed = page(html)
    assert_self_contained(text, parsed)
    assert "95% interval" in parsed.headers and len(pngs(parsed)) == 5
    assert parsed.text_of_class["pick"].strip() == f"{simulated}\n{pick}".strip()


def test_compare_with_cases_via_batch_runs_on_the_batch_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _cases_file(tmp_path, "csv")
    csv = tmp_path / "rows.csv"
    argv = ["compare", "--cases", str(cases), "-e", "low", "--via", "batch", "--no-progress"]
    assert main([*argv, "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "95% interval" in out and ("Cheapest option" in out or "No option reached" in out)
    rows = pd.read_csv(csv)
    assert set(rows["via"]) == {"batch"} and rows["correct"].notna().all()
    # auto: a small grid runs live (the Batch API from gb.batch.AUTO_BATCH_MIN_CALLS calls).
    assert main([*argv[:-3], "--via", "auto", "--no-progress", "--csv", str(csv)]) == 0
    assert "via" not in pd.read_csv(csv).columns


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["compare"], 2, "give prompts or --cases FILE"),
        (["compare", "What is 1+1?", "--cases", "{cases}"], 2, "give prompts or --cases FILE"),
        (["compare", "--cases", "{missing}"], 1, "No cases file at"),
        (["compare", "--cases", "{cases}", "--target", "90"], 2, "--target is an accuracy"),
        (["compare", "--cases", "{bad}"], 1, "has no expected column"),
        # Every call failed: an error. A low accuracy is not (exit 0).
        (["compare", "--cases", "{cases}", "-m", "grok-4.20-0309-reasoning", "-e", "high"], 1,
         "every call failed"),
        (["compare", "--cases", "{cases}", "-e", "none", "--target", "1"], 0,
         "No option reached 100%"),
    ],
)  # fmt: skip
def test_compare_exits_non_zero_only_on_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt\nWhat is 1+1?\n", encoding="utf-8")
    paths = {
        "cases": str(_cases_file(tmp_path, "csv")),
        "missing": str(tmp_path / "nope.csv"),
        "bad": str(bad),
    }
    filled = [a.format(**paths) for a in argv]
    assert main([*filled, "--no-progress"]) == code
    out, err = capsys.readouterr()
    assert message in out + err
    if code:
        assert "Traceback" not in err and err.count("grokbook: error:") == 1


def test_compare_refuses_an_unknown_scorer_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--cases", "x.csv", "--scorer", "fuzzy"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fuzzy'" in capsys.readouterr().err
