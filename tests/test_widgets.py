"""Widgets at the Python level: state transitions, runs on the simulator, errors, Stop.

The same widgets are driven in a real browser by tests/browser (``make test-browser``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from grokbook import AsyncClient
from grokbook.errors import UnsupportedParameterError
from grokbook.widgets import EffortComparer, ModelPicker, Playground, model_label

from .conftest import stream_chunks

PROMPT = "What is 101*3?"


# -- ModelPicker -----------------------------------------------------------------------------
def test_picker_labels_reasoning_price_and_retirement() -> None:
    picker = ModelPicker()
    labels = dict((value, label) for label, value in picker.model_dropdown.options)
    assert "reasoning, effort low | high" in labels["grok-3-mini-beta"]
    assert "$0.30 in / $0.50 out per 1M" in labels["grok-3-mini-beta"]
    assert "no reasoning" in labels["grok-3-fast-beta"]
    assert "RETIRED 2026-05-15 → grok-4.3" in labels["grok-3-beta"]
    assert "RETIRED" not in labels["grok-4.3"]
    # Retired models are listed after the active ones.
    values = [value for _, value in picker.model_dropdown.options]
    assert values.index("grok-4.3") < values.index("grok-3-beta")


def test_picker_efforts_follow_the_model() -> None:
    picker = ModelPicker(model="grok-3-mini-beta")
    assert picker.model == "grok-3-mini-beta"
    assert picker.effort_buttons.options == ("low", "high")
    assert picker.reasoning_effort == "low"
    assert not picker.effort_buttons.disabled
    assert ModelPicker().model == "grok-4.3"  # the default model

    picker.model = "grok-4.3"
    assert picker.model_dropdown.value == "grok-4.3"
    assert picker.effort_buttons.options == ("none", "low", "medium", "high")
    assert picker.reasoning_effort == "low"  # kept: grok-4.3 takes it too

    picker.reasoning_effort = "medium"
    assert picker.effort_buttons.value == "medium"
    picker.model = "grok-3-mini-beta"  # medium is not allowed there: falls back to low
    assert picker.reasoning_effort == "low"
    assert picker.settings() == {"model": "grok-3-mini-beta", "reasoning_effort": "low"}


def test_picker_follows_the_frontend_controls() -> None:
    """What a click in the browser does: the dropdown / toggle values change."""
    picker = ModelPicker()
    picker.model_dropdown.value = "grok-4.3"
    assert picker.model == "grok-4.3"
    picker.effort_buttons.value = "high"
    assert picker.reasoning_effort == "high"


@pytest.mark.parametrize(
    ("model", "why"),
    [
        ("grok-3-fast-beta", "not a reasoning model"),
        ("grok-4.20-0309-reasoning", "rejects reasoning_effort (HTTP 400)"),
    ],
)
def test_picker_disables_effort_for_models_that_reject_it(model: str, why: str) -> None:
    picker = ModelPicker(model="grok-3-mini-beta", reasoning_effort="high")
    picker.model = model
    assert picker.reasoning_effort is None
    assert picker.effort_buttons.disabled
    assert why in picker.effort_buttons.tooltip
    assert why in picker.effort_buttons.tooltips[0]
    assert picker.settings() == {"model": model, "reasoning_effort": None}
    picker.model = "grok-4.3"  # and back: enabled again
    assert not picker.effort_buttons.disabled
    assert picker.reasoning_effort == "low"


def test_picker_marks_retired_model_in_its_note() -> None:
    picker = ModelPicker(model="grok-3")  # an alias of the retired grok-3-beta
    assert picker.model == "grok-3-beta"
    assert "Retired on 2026-05-15" in picker.note.value
    assert "grok-4.3" in picker.note.value


def test_picker_rejects_an_effort_the_model_does_not_take() -> None:
    picker = ModelPicker(model="grok-3-mini-beta")
    with pytest.raises(UnsupportedParameterError, match=re.escape("allowed: low | high")):
        picker.reasoning_effort = "medium"
    assert picker.reasoning_effort == "low"


def test_picker_accepts_a_model_missing_from_the_catalog() -> None:
    picker = ModelPicker(model="grok-99-preview")
    assert picker.model_dropdown.value == "grok-99-preview"
    assert picker.effort_buttons.disabled
    assert "not in grokbook's catalog" in picker.effort_buttons.tooltip


def test_picker_observe_reports_changes() -> None:
    picker = ModelPicker(model="grok-3-mini-beta")
    seen: list[tuple[str, Any]] = []
    picker.observe(
        lambda c: seen.append((c["name"], c["new"])), names=["model", "reasoning_effort"]
    )
    picker.model_dropdown.value = "grok-4.3"
    picker.effort_buttons.value = "high"
    assert ("model", "grok-4.3") in seen
    assert seen[-1] == ("reasoning_effort", "high")


def test_model_label_without_prices() -> None:
    from grokbook.catalog import Model

    assert model_label(Model("x-model")) == "x-model · no reasoning"


# -- Playground ------------------------------------------------------------------------------
async def test_playground_run_streams_a_completion_from_the_simulator() -> None:
    pg = Playground(PROMPT)
    assert pg.run_button.description == "Run"
    assert pg.system_box.selected_index is None  # the system prompt starts collapsed
    completion = await pg.run()
    assert completion is not None
    assert "303" in completion.content
    assert completion.simulated
    assert completion.reasoning_effort == "low"
    assert pg.results == [completion]
    reasoning = completion.usage.reasoning_tokens
    assert reasoning
    assert "303" in pg.output.value
    assert f"Reasoning · {reasoning:,} tokens" in pg.output.value  # exact, from usage
    assert "estimate" not in pg.output.value
    assert "simulated" in pg.output.value  # the usage footer
    assert not pg.run_button.disabled
    assert pg.stop_button.layout.display == "none"


@pytest.mark.parametrize("wire", ["responses", "chat"])
async def test_playground_follow_up_continues_the_conversation(
    wire: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROKBOOK_WIRE", wire)
    pg = Playground(PROMPT, reasoning_effort="low", follow_up=True, cache=False)
    first = await pg.run()
    pg.prompt.value = "now double it"
    second = await pg.run()
    assert first is not None and second is not None
    assert second.content.endswith("606") and second.wire == wire
    conversation = pg.conversation
    assert conversation is not None and len(conversation.turns) == 2
    assert "turn 2 · conversation $" in pg.status.value
    # Without Follow up a run stands alone: nothing to double.
    pg.follow_up.value = False
    alone = await pg.run()
    assert alone is not None and not alone.content.endswith("1212")
    assert len(conversation.turns) == 2
    # New conversation (the button) starts over; so does another effort.
    pg.follow_up.value = True
    pg.new_button.click()
    assert pg.conversation is None
    pg.prompt.value = PROMPT
    await pg.run()
    assert pg.conversation is not None and pg.conversation is not conversation
    kept = pg.conversation
    pg.picker.reasoning_effort = "high"
    await pg.run()
    assert pg.conversation is not kept and len(pg.conversation.turns) == 1


async def test_playground_uses_picker_and_system_prompt() -> None:
    pg = Playground(PROMPT, model="grok-4.3", reasoning_effort="high", system="Be terse.")
    completion = await pg.run()
    assert completion is not None
    assert completion.requested_model == "grok-4.3"
    assert completion.reasoning_effort == "high"
    assert completion.messages[0] == {"role": "system", "content": "Be terse."}


async def test_run_button_click_starts_a_task_and_is_disabled_while_running() -> None:
    pg = Playground(PROMPT)
    pg.run_button.click()  # what the browser's click does
    assert pg.task is not None
    assert pg.running
    assert pg.run_button.disabled
    assert pg.stop_button.layout.display is None  # Stop is shown while streaming
    assert pg.start() is pg.task  # a second click does not start a second run
    completion = await pg.task
    assert completion is not None and "303" in completion.content
    assert not pg.run_button.disabled


class SlowStream(httpx.AsyncBaseTransport):
    """An SSE answer that trickles in: one chunk every 20 ms."""

    def __init__(self, reasoning: int = 200, content: int = 2) -> None:
        self.reasoning, self.content = reasoning, content

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chunks = stream_chunks(
            reasoning=["thinking "] * self.reasoning, content=["part "] * self.content
        )

        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                await asyncio.sleep(0.02)
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


async def _shown(pg: Playground, text: str) -> None:
    """Wait until the output shows ``text`` (a fixed 0.3 s sleep was too short under load)."""
    async with asyncio.timeout(30):
        while text not in pg.output.value:
            await asyncio.sleep(0.01)


async def test_stop_cancels_the_run_and_keeps_the_partial_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("grokbook.widgets.playground.REDRAW_INTERVAL_S", 0.0)
    client = AsyncClient(provider="xai", wire="chat", api_key="test", transport=SlowStream())
    pg = Playground(PROMPT, client=client)
    task = pg.start()
    await _shown(pg, "thinking " * 2)  # the reasoning streamed in while running
    # What is known while it streams: the text's length, not a token count it cannot have.
    chunks = pg.output.value.count("thinking ")
    live = re.search(r"Reasoning · ([\d,]+) characters so far", pg.output.value)
    assert live is not None and chunks > 1
    assert int(live.group(1).replace(",", "")) == len("thinking " * chunks)
    assert "tokens so far" not in pg.output.value
    pg.stop_button.click()
    assert await task is None
    shown = pg.output.value
    # The message sits below what arrived and says where it is.
    assert shown.index("thinking") < shown.index("Stopped while the model was reasoning")
    assert "before any answer: the reasoning so far is above" in shown
    assert re.search(r"Reasoning · [\d,]+ characters · no token count", shown)  # partial
    assert pg.results == []
    assert not pg.run_button.disabled
    assert pg.stop_button.layout.display == "none"


async def test_stop_during_the_answer_points_at_the_partial_answer_above(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("grokbook.widgets.playground.REDRAW_INTERVAL_S", 0.0)
    client = AsyncClient(provider="xai", wire="chat", api_key="test", transport=SlowStream(2, 200))
    pg = Playground(PROMPT, client=client)
    task = pg.start()
    await _shown(pg, "part")  # the answer is streaming
    pg.stop()
    assert await task is None
    shown = pg.output.value
    assert shown.index("part") < shown.index("Stopped: the partial answer above")
    assert "Click Run to ask again." in shown


def test_stop_before_anything_arrived_says_so() -> None:
    from grokbook.widgets.playground import _stopped_message

    assert _stopped_message([], []) == "Stopped before anything arrived. Click Run to ask again."
    assert "reasoning so far is above" in _stopped_message(["x"], [])
    assert "partial answer above" in _stopped_message(["x"], ["y"])


async def test_errors_show_in_the_widget_which_stays_usable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    pg = Playground("")
    assert await pg.run() is None
    assert "Type a prompt first" in pg.output.value

    pg.prompt.value = PROMPT
    pg.picker.model = "grok-nope"  # the simulator answers 404 for an unknown model
    assert await pg.run() is None
    assert "HTTP 404" in pg.output.value
    assert "Traceback" not in pg.output.value
    assert not pg.run_button.disabled

    pg.picker.model = "grok-3-mini-beta"
    completion = await pg.run()
    assert completion is not None and "303" in pg.output.value
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_output_escapes_model_html() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        chunks = stream_chunks(reasoning=["<b>x</b>"], content=["<script>alert(1)</script>"])
        body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)

    client = AsyncClient(
        provider="xai", wire="chat", api_key="test", transport=httpx.MockTransport(handler)
    )
    pg = Playground(PROMPT, client=client)
    assert await pg.run() is not None
    assert "<script>" not in pg.output.value
    assert "&lt;script&gt;" in pg.output.value


def test_playground_shows_a_client_error_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROKBOOK_PROVIDER", "openrouter")  # needs a key that is not set
    pg = Playground(PROMPT)
    assert "OPENROUTER_API_KEY" in pg.output.value


# -- EffortComparer --------------------------------------------------------------------------
async def test_comparer_frame_has_usage_columns_and_every_effort() -> None:
    from grokbook.tables import FRAME_COLUMNS

    cmp = EffortComparer(PROMPT, model="grok-3-mini-beta", repeats=2)
    assert cmp.task is not None  # a prompt given: it starts on the running loop
    assert cmp.run_button.disabled
    frame = await cmp.run()
    assert frame is not None
    assert frame is cmp.frame
    assert list(frame.columns[: len(FRAME_COLUMNS)]) == list(FRAME_COLUMNS)
    assert len(frame) == 4
    assert sorted(frame["reasoning_effort"]) == ["high", "high", "low", "low"]
    assert sorted(frame["repeat"]) == [0, 0, 1, 1]
    assert set(frame["status"]) == {"ok"}
    assert str(frame["reasoning_tokens"].dtype) == "Int64"
    # High effort reasons more than low (the simulator grows reasoning with effort).
    means = frame.groupby("reasoning_effort")["reasoning_tokens"].mean()
    assert means["high"] > means["low"]
    assert cmp.progress.value == cmp.progress.max == 4
    assert cmp.progress.bar_style == "success"
    assert "303" in cmp.answers.value
    assert "<table" in cmp.table.value and "reasoning tokens" in cmp.table.value
    assert " ± " in cmp.table.value
    (image,) = cmp.chart.children
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert not cmp.run_button.disabled
    assert list(cmp.summary.index.get_level_values("reasoning_effort")) == ["low", "high"]
    # Repeats are distinct samples (one seed per repeat), so there is spread to show.
    high = frame[frame["reasoning_effort"] == "high"]["reasoning_tokens"]
    assert high.nunique() == 2
    # Comparing again replays every call from the cache: same numbers, no new cost.
    again = EffortComparer(PROMPT, model="grok-3-mini-beta", repeats=2)
    frame2 = await again.run()
    assert frame2 is not None and bool(frame2["cached"].all())
    assert list(frame2["reasoning_tokens"]) == list(frame["reasoning_tokens"])
    key = ["reasoning_effort", "repeat"]
    for name in ("cost_usd", "latency_s"):  # the original figures, billed nothing
        assert list(frame2.sort_values(key)[name]) == list(frame.sort_values(key)[name])
    assert (frame2["billed_usd"] == 0).all()
    assert "came from the cache" not in cmp.table.value
    assert "4 of 4 calls came from the cache" in again.table.value
    assert "this run billed $0" in again.table.value


async def test_comparer_for_a_model_without_efforts_compares_its_default() -> None:
    cmp = EffortComparer(PROMPT, model="grok-3-fast-beta", repeats=1)
    assert cmp.efforts == [None]
    assert "not a reasoning model" in cmp.plan.value
    frame = await cmp.run()
    assert frame is not None and list(frame["reasoning_effort"]) == ["default"]


@pytest.mark.parametrize(
    ("model", "efforts", "compared", "note"),
    [
        ("grok-4.3", ["default", "low", "high"], ["low", "high"], "default = low for grok-4.3"),
        ("grok-4.5", [None, "low"], ["high", "low"], "its most expensive effort"),
        ("grok-4.7", ["default", "high", "xhigh"], ["high", "xhigh"], "only 'xhigh' costs more"),
    ],
)
async def test_comparer_runs_default_and_its_effort_once(
    model: str, efforts: list[str | None], compared: list[str], note: str
) -> None:
    from grokbook.sim import SimTransport

    transport = SimTransport(latency="none")
    client = AsyncClient(provider="sim", transport=transport)
    cmp = EffortComparer(
        PROMPT, model=model, efforts=efforts, repeats=2, client=client, cache=False
    )
    assert cmp.efforts == compared
    assert cmp.plan.value.count(note) == 1  # said once, in the plan line
    frame = await cmp.run()
    assert frame is not None
    assert transport.requests_served == len(frame) == 2 * len(compared)
    assert sorted(set(frame["reasoning_effort"])) == sorted(compared)


async def test_comparer_shows_failed_calls_and_stays_usable() -> None:
    cmp = EffortComparer(PROMPT, model="grok-3-mini-beta", efforts=["low", "medium"], repeats=1)
    frame = await cmp.run()
    assert frame is not None
    assert sorted(frame["status"]) == ["error", "ok"]
    assert "1 of 2 calls failed" in cmp.message.value
    assert cmp.progress.bar_style == "warning"
    cmp.prompt.value = ""
    assert await cmp.run() is None
    assert "Type a prompt first" in cmp.message.value
    assert not cmp.run_button.disabled


async def test_comparer_without_prompt_waits_for_a_click() -> None:
    cmp = EffortComparer(model="grok-4.3", repeats=1)
    assert cmp.task is None
    assert cmp.efforts == ["none", "low", "medium", "high"]
    assert list(cmp.frame.columns[:3]) == ["model", "reasoning_effort", "prompt"]
    assert cmp.frame.empty
    cmp.prompt.value = PROMPT
    cmp.run_button.click()
    assert cmp.task is not None
    frame = await cmp.task
    assert frame is not None and len(frame) == 4


def test_comparer_rejects_bad_repeats() -> None:
    with pytest.raises(UnsupportedParameterError, match="repeats"):
        EffortComparer(repeats=0)


def test_import_grokbook_stays_light() -> None:
    code = (
        "import sys, grokbook\n"
        "heavy = {'ipywidgets', 'pandas', 'matplotlib', 'IPython'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "from grokbook.widgets import ModelPicker\n"
        "ModelPicker()\n"
        "assert 'ipywidgets' in sys.modules\n"
        "assert not {'pandas', 'matplotlib'} & set(sys.modules), 'picker loaded pandas'\n"
        "assert grokbook.widgets.Playground.__name__ == 'Playground'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_comparer_stop_cancels_the_calls_in_flight() -> None:
    from .conftest import chat_body

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=chat_body())

    client = AsyncClient(
        provider="xai", wire="chat", api_key="test", transport=httpx.MockTransport(slow)
    )
    cmp = EffortComparer(PROMPT, model="grok-3-mini-beta", repeats=1, client=client)
    assert cmp.task is not None
    await asyncio.sleep(0.05)
    assert cmp.stop_button.layout.display is None
    cmp.stop_button.click()
    assert await cmp.task is None
    assert "Stopped" in cmp.message.value
    assert cmp.frame.empty
    assert not cmp.run_button.disabled


async def test_comparer_with_an_expected_answer_shows_which_efforts_got_it() -> None:
    hard = "What is 12 * 7 + 5 * 9 - 3 * 4 + 10?"  # 6 steps: the simulator may slip
    cmp = EffortComparer(hard, model="grok-4.3", repeats=3, expected=127)
    frame = await cmp.run()
    assert frame is not None
    assert {"expected", "score", "correct"} <= set(frame.columns)
    assert cmp.expected.value == "127"
    from grokbook.widgets.comparer import _verdict_html

    for effort in ("none", "low", "medium", "high"):
        rows = frame[frame["reasoning_effort"] == effort]
        assert len(rows) == 3
        assert _verdict_html(rows) in cmp.answers.value  # each effort's card says it
    assert cmp.answers.value.count("grokbook-verdict") == 4
    assert "<th>correct</th>" in cmp.table.value
    # No expected answer: no verdicts, no score columns.
    plain = EffortComparer(PROMPT, model="grok-3-mini-beta", repeats=1)
    plain_frame = await plain.run()
    assert plain_frame is not None and "correct" not in plain_frame.columns
    assert "grokbook-verdict" not in plain.answers.value


def test_verdict_text() -> None:
    import pandas as pd

    from grokbook.widgets.comparer import _verdict_html

    def verdict(flags: list[bool]) -> str:
        return _verdict_html(pd.DataFrame({"correct": pd.array(flags, dtype="boolean")}))

    assert "✓ right" in verdict([True])
    assert "✗ all 2 wrong" in verdict([False, False])
    assert "1 of 3 right" in verdict([True, False, False])
    assert _verdict_html(pd.DataFrame({"answer": ["x"]})) == ""
