"""Simulated is visible wherever a figure is (issue 21 item 6).

A call the offline simulator answered, in process (``provider="sim"``) or through a
``grokbook sim`` server reached with ``provider="openai"`` on either wire, is marked simulated
in its Completion, in every usage / sweep / batch frame (``provider`` and ``simulated``
columns), in effort and accuracy summaries, in the recommendation, in every plot (a second
title line), in ``%grok usage``, ``gb.history()`` and ``grokbook history``. Calls a real
server answered (an ``httpx.MockTransport`` in xAI's shape here) are not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

import grokbook as gb
from grokbook.cli import main
from grokbook.plots import SIMULATED_SUBTITLE
from grokbook.sim import SimServer, serve_in_background
from tests.conftest import FAKE_KEY, chat_body

WIRES = ["responses", "chat"]
PROMPTS = ["What is 101*3?", "What is 7*8?"]


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    """A `grokbook sim` server on loopback (what `provider="openai"` users point at)."""
    with serve_in_background(latency="none") as running:
        yield running


def responses_body(model: str) -> dict[str, Any]:
    """A non-simulated Responses body (xAI's shape, xAI-like ids, no grokbook marks)."""
    return {
        "id": "resp_0b1c2d3e",
        "object": "response",
        "created_at": 1785220807,
        "model": model,
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "303", "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": 12,
            "output_tokens": 40,
            "total_tokens": 52,
            "output_tokens_details": {"reasoning_tokens": 37},
            "input_tokens_details": {"cached_tokens": 0},
        },
    }


def real_client(wire: str) -> gb.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        model = json.loads(request.content)["model"]
        body = chat_body(model=model) if wire == "chat" else responses_body(model)
        return httpx.Response(200, json=body)

    return gb.AsyncClient(
        provider="xai", wire=wire, api_key=FAKE_KEY, transport=httpx.MockTransport(answer)
    )


# -- the Completion ------------------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("stream", [False, True])
def test_a_grokbook_sim_server_through_provider_openai_is_simulated(
    server: SimServer, wire: str, stream: bool
) -> None:
    client = gb.Client(provider="openai", base_url=server.base_url, wire=wire)
    if stream:
        with client.stream("What is 2+2?", model="grok-4.3") as events:
            for _ in events:
                pass
        completion = events.completion
    else:
        completion = client.chat("What is 2+2?", model="grok-4.3")
    assert completion.provider == "openai"
    assert completion.simulated
    assert "simulated=True" in repr(completion)


@pytest.mark.parametrize("wire", WIRES)
def test_a_real_servers_answer_is_not_simulated(wire: str) -> None:
    completion = asyncio.run(real_client(wire).chat("What is 101*3?", model="grok-4.3"))
    assert not completion.simulated


# -- frames and summaries ------------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("entry", ["sweep", "asweep"])
def test_every_sweep_row_says_who_answered(server: SimServer, wire: str, entry: str) -> None:
    clients = {
        "sim": gb.AsyncClient(provider="sim", wire=wire),
        "openai": gb.AsyncClient(provider="openai", base_url=server.base_url, wire=wire),
        "xai": real_client(wire),
    }
    for name, client in clients.items():
        options: dict[str, Any] = dict(
            models="grok-4.3", efforts=["low", "high", "bogus"], client=client, progress=False
        )
        if entry == "sweep":
            df = gb.sweep(PROMPTS, **options)
        else:
            df = asyncio.run(gb.asweep(PROMPTS, **options))
        assert {"provider", "simulated"} <= set(df.columns)
        assert str(df["simulated"].dtype) == "boolean"
        assert set(df["provider"]) == {name}
        ok = df[df["status"] == "ok"]
        assert len(ok) == 4 and ok["simulated"].tolist() == [name != "xai"] * 4
        summary = gb.effort_summary(df)
        assert summary.loc[("grok-4.3", "high"), "simulated"] == (name != "xai")
        assert summary.attrs["simulated"] == (name != "xai")


def test_usage_frame_and_batch_rows_carry_provider_and_simulated() -> None:
    client = gb.Client(provider="sim")
    calls = [client.chat("What is 101*3?", reasoning_effort=e) for e in ("low", "high")]
    frame = gb.usage_frame(calls)
    slow = gb.usage_frame([*calls, {"model": "x", "status": "error"}])  # the row-dict path
    assert frame["provider"].tolist() == ["sim", "sim"] and frame["simulated"].all()
    assert slow["simulated"].tolist()[:2] == [True, True]
    batch = gb.sweep(PROMPTS, models="grok-4.3", efforts=["low", "bogus"], client=client,
                     via="batch", progress=False)  # fmt: skip
    assert set(batch["provider"]) == {"sim"} and batch["simulated"].all()


def _scored(client: Any) -> pd.DataFrame:
    return gb.sweep(["What is 101*3?", "What is 7*8?"], models="grok-4.3",
                    efforts=["none", "high"], client=client, progress=False,
                    expected=[303, 56])  # fmt: skip


@pytest.mark.parametrize("simulated", [True, False])
def test_accuracy_summary_recommendation_and_every_plot_say_simulated(simulated: bool) -> None:
    client = gb.AsyncClient(provider="sim") if simulated else real_client("chat")
    df = _scored(client)
    summary = gb.accuracy_summary(df)
    assert summary["simulated"].tolist() == [simulated] * 2
    pick = gb.recommend(df, target=0.5)
    assert pick.simulated == simulated
    assert pick.note.startswith("Simulated:") == simulated
    assert ("simulated=True" in repr(pick)) == simulated
    assert gb.recommend(summary, target=0.5).simulated == simulated
    axes = [
        gb.plot_efforts(df),
        gb.plot_latency(df),
        gb.plot_cost(df),
        gb.plot_frontier(df),
        gb.plot_frontier(summary),
        gb.plot_accuracy_latency(df),
        df.grok.plot("cost"),
    ]
    for ax in axes:
        title = ax.get_title()
        assert (SIMULATED_SUBTITLE in title) == simulated, title
        assert title.count("simulated") == int(simulated)  # said once


# -- the run log -----------------------------------------------------------------------------------
def test_history_marks_simulated_calls_on_both_wires_and_through_openai(server: SimServer) -> None:
    for wire in WIRES:
        gb.Client(provider="openai", base_url=server.base_url, wire=wire).chat("What is 2+2?")
        asyncio.run(real_client(wire).chat("What is 101*3?", model="grok-4.3"))
    gb.Client(provider="sim").chat("What is 3+3?")
    history = gb.history()
    assert str(history["simulated"].dtype) == "boolean"
    by_provider = history.groupby("provider")["simulated"].agg(["all", "any", "size"])
    assert by_provider.loc["openai"].tolist() == [True, True, 2]
    assert by_provider.loc["sim"].tolist() == [True, True, 1]
    assert by_provider.loc["xai"].tolist() == [False, False, 2]
    assert history.attrs["simulated"] is True
    real_only = gb.history(model="grok-4.3")
    assert real_only.attrs["simulated"] == bool(real_only["simulated"].any())


def test_grokbook_history_says_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(real_client("chat").chat("What is 101*3?", model="grok-4.3"))
    assert main(["history"]) == 0
    assert "simulated" not in capsys.readouterr().out
    gb.Client(provider="sim").chat("What is 3+3?")
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    header, _rule, newest, older = out.splitlines()[:4]
    assert "sim" in header.split()
    assert " sim " in newest and " sim " not in older
    assert "simulated: 1 of 2 calls were answered by grokbook's offline simulator" in out
    assert main(["history", "--csv", "-"]) == 0
    rows = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert rows["simulated"].tolist() == [True, False]


def test_compare_through_openai_at_a_sim_server_says_simulated(
    server: SimServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROKBOOK_BASE_URL", server.base_url)
    argv = ["compare", "What is 101*3?", "-e", "low", "--provider", "openai", "--no-progress"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "simulated: 1 of 1 calls from grokbook's offline simulator, not Grok" in err


def test_grok_usage_says_simulated(grok_shell: tuple[Any, Any, Any]) -> None:
    shell, magics, pub = grok_shell
    magics.provider = "sim"
    shell.run_cell_magic("grok", "--no-stream", "What is 2+2?")
    pub.outputs.clear()
    shell.run_line_magic("grok", "usage")
    text = "".join(o["data"].get("text/plain", "") for o in pub.outputs)
    assert "Simulated: 1 of 1 calls were answered by grokbook's offline simulator" in text
