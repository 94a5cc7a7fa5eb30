"""The built-in problem set, loading your own cases, and sweeping a frame of cases."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import grokbook as gb
from grokbook import cases
from grokbook.errors import GrokbookError, UnsupportedParameterError
from grokbook.sim._arith import solve


def test_committed_csv_is_what_the_generator_writes() -> None:
    assert cases.PROBLEMS_CSV.read_text(encoding="utf-8") == cases._csv_text(
        cases.generate_problems()
    )


def test_problems_have_exact_answers_and_graded_steps() -> None:
    df = gb.problems()
    assert list(df.columns) == ["id", "prompt", "expected", "steps", "kind"]
    assert len(df) == 50 and df["id"].is_unique and df["prompt"].is_unique
    assert df.groupby(["steps", "kind"]).size().to_dict() == {
        (s, k): 5 for s in (1, 2, 3, 4, 6) for k in ("arithmetic", "word")
    }
    for row in df.itertuples():
        # Computed independently of the simulator (fractions); the simulator agrees.
        solution = solve(str(row.prompt))
        assert solution is not None, row.prompt
        assert solution.answer == str(row.expected)
        assert len(solution.steps) == row.steps


def test_readme_tells_the_provenance() -> None:
    readme = (cases.PROBLEMS_CSV.parent / "README.md").read_text(encoding="utf-8")
    assert (
        "generate_problems" in readme and "seed" in readme and "python -m grokbook.cases" in readme
    )


def test_load_cases_csv_and_jsonl(tmp_path: Path) -> None:
    csv_path = tmp_path / "mine.csv"
    pd.DataFrame({"prompt": ["What is 2+2?"], "expected": [4], "topic": ["sums"]}).to_csv(
        csv_path, index=False
    )
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(r) for r in [{"prompt": "Capital of France?", "expected": "Paris"}])
    )
    from_csv = gb.load_cases(csv_path)
    assert list(from_csv.columns) == ["prompt", "expected", "topic"]
    assert gb.load_cases(jsonl).loc[0, "expected"] == "Paris"
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nx,y\n")
    with pytest.raises(GrokbookError, match="'prompt' and 'expected'"):
        gb.load_cases(bad)
    with pytest.raises(GrokbookError, match="No cases file"):
        gb.load_cases(tmp_path / "missing.csv")


def test_sweep_a_cases_frame_copies_its_columns() -> None:
    mine = pd.DataFrame(
        {"prompt": ["What is 7*8?", "What is 101*3?"], "expected": [56, 303], "topic": ["a", "b"]}
    )
    df = gb.sweep(mine, models="grok-4.3", efforts=["low", "high"], progress=False, repeats=2)
    assert len(df) == 8
    assert list(df["topic"]) == ["a"] * 4 + ["b"] * 4
    assert list(df["expected"]) == [56] * 4 + [303] * 4
    assert bool(df["correct"].all())
    clash = gb.sweep(mine.assign(model="mine"), models="grok-4.3", efforts="low", progress=False)
    assert list(clash["model"]) == ["grok-4.3"] * 2 and list(clash["case_model"]) == ["mine"] * 2
    # expected= overrides the frame's column; a dict maps prompts to answers.
    wrong = gb.sweep(mine, models="grok-4.3", efforts="low", progress=False, expected=[1, 303])
    assert wrong["correct"].tolist() == [False, True]
    by_dict = gb.sweep(
        ["What is 7*8?"],
        models="grok-4.3",
        efforts="low",
        progress=False,
        expected={"What is 7*8?": "56"},
        scorer=gb.scoring.contains,
    )
    assert by_dict["correct"].tolist() == [True]
    assert by_dict.attrs["scoring"]["scorer"] == "contains"


def test_sweep_expected_errors() -> None:
    with pytest.raises(UnsupportedParameterError, match="2 answers for 1 prompts"):
        gb.sweep(["What is 7*8?"], expected=[1, 2], progress=False)
    with pytest.raises(UnsupportedParameterError, match="scorer needs expected"):
        gb.sweep(["What is 7*8?"], scorer=gb.scoring.exact, progress=False)
    with pytest.raises(UnsupportedParameterError, match="single str"):
        gb.sweep(["What is 7*8?"], expected="56", progress=False)
    with pytest.raises(UnsupportedParameterError, match="'prompt' column"):
        gb.sweep(pd.DataFrame({"question": ["x"]}), progress=False)
    # No expected answers: the frame has no score columns (unchanged behaviour).
    plain = gb.sweep(["What is 7*8?"], models="grok-4.3", efforts="low", progress=False)
    assert "score" not in plain.columns and "expected" not in plain.columns
