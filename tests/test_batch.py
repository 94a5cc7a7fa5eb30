"""Batch sweeps (grokbook.batch) on the simulator: same rows as live, resumable, split, priced."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import grokbook as gb
from grokbook import batch, store
from grokbook.sim import SimServer, SimTransport, Simulator
from grokbook.sim._batch import BatchStore

PROMPTS = ["What is 101*3?", "What is 7*8?", "What is 12+30?"]
MODEL = "grok-3-mini-beta"
EFFORTS = ["low", "high"]
SAME = [
    "model",
    "reasoning_effort",
    "prompt",
    "repeat",
    "prompt_tokens",
    "cached_prompt_tokens",
    "reasoning_tokens",
    "completion_tokens",
    "output_tokens",
    "total_tokens",
    "status",
    "error",
    "answer",
    "model_served",
]


def sim(**kwargs: Any) -> tuple[gb.Client, BatchStore]:
    """A client on its own in-process simulator (latency none), and that simulator's batches."""
    simulator = Simulator(latency="none", batch_delay=kwargs.pop("delay", 0.0), **kwargs)
    client = gb.Client(provider="sim", transport=SimTransport(simulator=simulator))
    return client, simulator.batches


@pytest.fixture(autouse=True)
def _no_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CREATE_INTERVAL_S", 0.0)


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_batch_rows_equal_a_live_sweep_of_the_same_grid(wire: str) -> None:
    client, batches = sim()
    client.wire = wire  # type: ignore[assignment]
    live = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, repeats=2, client=client,
                    progress=False, cache=False)  # fmt: skip
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, repeats=2, client=client,
                  progress=False, cache=False, via="batch")  # fmt: skip
    assert batches.created == 1 and len(df) == len(live) == 12
    pd.testing.assert_frame_equal(df[SAME], live[SAME])
    assert set(df["via"]) == {"batch"} and "via" not in live.columns
    # xAI documents no batch discount for grok-3-mini: the simulator bills the live ticks,
    # and the rows say what was billed.
    assert df["cost_usd"].tolist() == live["cost_usd"].tolist()
    summary = df.attrs["sweep"]
    assert summary["submitted"] == 1 and summary["errors"] == 0
    assert summary["cost_basis"] == "billed"
    assert summary["cost_usd"] == pytest.approx(df["cost_usd"].sum())
    assert summary["live_usd"] == pytest.approx(live["cost_usd"].sum(), rel=1e-9)
    assert summary["saved_usd"] == pytest.approx(0.0, abs=1e-12)


def test_results_land_in_the_run_log_and_cache_like_live_calls() -> None:
    client, _ = sim()
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                  via="batch")  # fmt: skip
    served = client.stats["requests"]
    again = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False)
    assert client.stats["requests"] == served  # the live sweep made no call
    assert again["cached"].all() and (again["billed_usd"] == 0).all()
    assert again["cost_usd"].tolist() == df["cost_usd"].tolist()
    assert again["answer"].tolist() == df["answer"].tolist()
    history = gb.history()
    from_batch = history[history["source"] == "batch"]
    assert len(from_batch) == 6 and (from_batch["status"] == "ok").all()
    assert from_batch["billed_usd"].sum() == pytest.approx(df["cost_usd"].sum())


def test_rerunning_the_cell_collects_without_resubmitting() -> None:
    client, batches = sim(delay=60.0)
    kwargs: dict[str, Any] = dict(models=MODEL, efforts=EFFORTS, client=client, progress=False,
                                  via="batch", poll_interval=0.01)  # fmt: skip
    first = batch.batch_sweep(PROMPTS, MODEL, EFFORTS, client=client, progress=False,
                              poll_interval=0.01, timeout=0.05)  # fmt: skip
    assert batches.created == 1 and len(first) == 0
    listed = gb.batches()
    assert listed["status"].tolist() == ["in_progress"] and not listed["collected"].any()
    assert listed["calls"].tolist() == [6]
    batches.delay_s = 0.0  # the server finishes the queue meanwhile
    for record in batches._batches.values():
        record.delay_s = 0.0
    assert gb.batches()["status"].tolist() == ["in_progress"]  # the last status seen
    assert gb.batches(refresh=True, client=client)["status"].tolist() == ["completed"]
    df = gb.sweep(PROMPTS, **kwargs)
    assert batches.created == 1  # collected, not resubmitted
    assert len(df) == 6 and (df["status"] == "ok").all()
    assert gb.batches()["collected"].tolist() == [True]
    gb.sweep(PROMPTS, **kwargs)  # once collected, everything comes from the cache
    assert batches.created == 1


def test_killing_the_process_mid_poll_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    script = textwrap.dedent(
        """
        import sys
        import grokbook as gb
        client = gb.Client(provider="xai", api_key="sim", base_url=sys.argv[1])
        gb.sweep(sys.argv[2:], models="grok-3-mini-beta", efforts=["low", "high"],
                 client=client, via="batch", progress=False, poll_interval=0.05)
        """
    )
    with SimServer(batch_delay=4.0) as server:
        env = {**os.environ, "GROKBOOK_HOME": str(home)}
        proc = subprocess.Popen(
            [sys.executable, "-c", script, server.base_url, *PROMPTS], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not _recorded(home / store.DB_NAME):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the batch was never recorded"
                time.sleep(0.05)
            time.sleep(0.2)  # mid-poll
            assert proc.poll() is None
        finally:
            proc.kill()
            proc.wait()
        assert server.simulator.batches.created == 1
        monkeypatch.setenv("GROKBOOK_HOME", str(home))
        client = gb.Client(provider="xai", api_key="sim", base_url=server.base_url)
        df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, via="batch",
                      progress=False, poll_interval=0.05)  # fmt: skip
        assert server.simulator.batches.created == 1
        assert len(df) == 6 and (df["status"] == "ok").all()
        assert df["answer"].tolist()[0] == "101 * 3 = 303"


def _recorded(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with sqlite3.connect(path) as conn:
            return bool(conn.execute("SELECT count(*) FROM batches").fetchone()[0])
    except sqlite3.Error:
        return False


def test_large_grids_are_split_within_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "MAX_REQUESTS_PER_BATCH", 4)
    client, batches = sim()
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, repeats=2, client=client,
                  progress=False, via="batch")  # fmt: skip
    assert batches.created == 3 and df.attrs["sweep"]["batches"] == 3
    assert len(df) == 12 and (df["status"] == "ok").all()
    assert sorted(gb.batches()["calls"].tolist()) == [4, 4, 4]
    monkeypatch.setattr(batch, "MAX_FILE_BYTES", 500)  # two lines of about 220 bytes a file
    client2, batches2 = sim()
    df2 = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client2, progress=False,
                   via="batch", cache=False)  # fmt: skip
    sizes = [len(f.data) for f in batches2._files.values()]
    assert batches2.created == len(sizes) == 3 and len(df2) == 6
    assert all(size <= 500 for size in sizes) and (df2["status"] == "ok").all()


def test_failed_requests_are_rows_and_a_rerun_submits_only_them() -> None:
    client, batches = sim(batch_failures={"gb-1", "gb-4"})
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                  via="batch")  # fmt: skip
    assert df["status"].tolist() == ["ok", "error", "ok", "ok", "error", "ok"]
    assert df.loc[1, "error"].startswith("BatchRequestError: The batch request failed: ")
    assert pd.isna(df.loc[1, "output_tokens"])
    assert df.attrs["sweep"]["errors"] == 2
    errors = gb.history()
    assert (errors["status"] == "error").sum() == 2
    batches.failures = frozenset()
    again = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                     via="batch")  # fmt: skip
    assert batches.created == 2 and (again["status"] == "ok").all()
    assert again["cached"].tolist() == [True, False, True, True, False, True]
    assert gb.batches()["calls"].tolist() == [2, 6]  # newest first


def test_cancel_and_batch_result_collect_what_finished() -> None:
    client, _ = sim(delay=3.0)
    df = batch.batch_sweep(PROMPTS, MODEL, EFFORTS, client=client, progress=False,
                           poll_interval=0.05, timeout=1.2)  # fmt: skip
    (batch_id,) = df.attrs["sweep"]["batch_ids"]
    assert batch.cancel(batch_id, client=client) == "cancelled"
    result = gb.batch_result(batch_id, client=client, progress=False)
    ok = result[result["status"] == "ok"]
    cancelled = result[result["status"] == "error"]
    assert len(result) == 6 and 1 <= len(ok) < 6
    assert cancelled["error"].str.contains("cancelled before this request ran").all()
    listed = gb.batches()
    assert listed["status"].tolist() == ["cancelled"] and listed["collected"].tolist() == [True]
    assert listed["cancelled"].tolist() == [6 - len(ok)]
    assert listed["cost_usd"].tolist()[0] == pytest.approx(ok["cost_usd"].sum())
    with pytest.raises(gb.errors.UnsupportedParameterError, match=r"gb\.batches"):
        gb.batch_result("batch_nope")


def test_batch_result_needs_only_the_run_log() -> None:
    """In a new kernel: the default client for the recorded provider finds the batch (the
    in-process simulators share one store, as a server's clients would)."""
    client = gb.Client(provider="sim", transport=SimTransport(latency="none"))
    df = gb.sweep(PROMPTS[:1], models=MODEL, efforts=EFFORTS, progress=False, via="batch",
                  client=client)  # fmt: skip
    (batch_id,) = df.attrs["sweep"]["batch_ids"]
    again = gb.batch_result(batch_id, progress=False)
    assert again["answer"].tolist() == df["answer"].tolist()
    assert again["cost_usd"].tolist() == df["cost_usd"].tolist()
    assert len(gb.history()) == 2  # collected once: the second read logs nothing new


def test_auto_needs_the_opt_in_and_a_large_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    assert batch.engine("auto", 10**6) == "live"
    assert batch.engine("auto", 10**6, accept_latency=True) == "batch"
    assert batch.engine("auto", batch.AUTO_BATCH_MIN_CALLS - 1, accept_latency=True) == "live"
    assert batch.engine("auto", 10**6, accept_latency=True, provider="openrouter") == "live"
    with pytest.raises(gb.errors.UnsupportedParameterError, match="via must be"):
        batch.engine("fast", 1)
    monkeypatch.setattr(batch, "AUTO_BATCH_MIN_CALLS", 6)
    client, batches = sim()
    live = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                    via="auto")  # fmt: skip
    assert batches.created == 0 and "via" not in live.columns
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                  via="auto", accept_latency=True, cache=False)  # fmt: skip
    assert batches.created == 1 and set(df["via"]) == {"batch"}


def test_providers_without_a_batch_api_are_refused() -> None:
    client = gb.Client(provider="openrouter", api_key="k", transport=SimTransport())
    with pytest.raises(gb.errors.UnsupportedParameterError, match="Batch API"):
        gb.sweep("2+2", models=MODEL, client=client, via="batch", progress=False)


def test_progress_bar_and_savings_summary(capsys: pytest.CaptureFixture[str]) -> None:
    client, _ = sim()
    gb.sweep(PROMPTS[:1], models=MODEL, efforts=EFFORTS, client=client, via="batch")
    err = capsys.readouterr().err
    assert "grokbook batch" in err and "pending=0" in err
    assert "2 of 2 calls in 1 batch(es), 0 errors" in err
    assert "on the Batch API (billed)" in err and "saved $0.000000" in err


def test_rejected_calls_are_error_rows_and_not_sent() -> None:
    client, batches = sim()
    df = gb.sweep(PROMPTS[:1], models="grok-3-fast-beta", efforts=["high"], client=client,
                  progress=False, via="batch")  # fmt: skip
    assert df["status"].tolist() == ["error"] and "reasoning_effort" in df.loc[0, "error"]
    assert batches.created == 0


def test_the_upload_is_retried_whole_through_the_client_pipeline() -> None:
    simulator = Simulator(latency="none", faults=["503"], batch_delay=0.0)
    client = gb.Client(provider="sim", transport=SimTransport(simulator=simulator))
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                  via="batch")  # fmt: skip
    assert client.stats["retries"] == 1 and (df["status"] == "ok").all()
    (uploaded,) = simulator.batches._files.values()
    assert uploaded.data.count(b"\n") == 6


def test_deferred_completion_is_fetched_once_and_logged() -> None:
    client, _ = sim()
    later = batch.defer("What is 101*3?", client=client, model=MODEL, cache=True)
    assert later.request_id and not later.done
    completion = later.wait(poll_interval=0.01)
    assert completion.content == "101 * 3 = 303" and completion.wire == "chat"
    assert later.fetch() is completion  # kept: the server answers it once
    with pytest.raises(gb.errors.NotFoundError, match="fetched once"):
        client.request("GET", f"/chat/deferred-completion/{later.request_id}")
    cached = batch.defer("What is 101*3?", client=client, model=MODEL, cache=True)
    assert cached.done and cached.request_id is None and cached.fetch() is not None
    assert gb.history()["status"].tolist() == ["ok", "ok"]


def test_deferred_waits_for_the_answer() -> None:
    simulator = Simulator(latency=0.2)
    client = gb.Client(provider="sim", transport=SimTransport(simulator=simulator))
    later = batch.defer("What is 101*3?", client=client, model=MODEL, reasoning_effort="high")
    assert later.fetch() is None  # 202: not ready yet
    with pytest.raises(TimeoutError, match="not ready"):
        later.wait(poll_interval=0.01, timeout=0.0)
    assert later.wait(poll_interval=0.02, timeout=30).content == "101 * 3 = 303"


def test_status_is_derived_from_counters() -> None:
    state = {"num_requests": 3, "num_pending": 1, "num_success": 2}
    assert batch.batch_status({"state": state}) == "in_progress"
    assert batch.batch_status({"state": {**state, "num_pending": 0}}) == "completed"
    assert batch.batch_status({"state": {"num_requests": 0}}) == "validating"
    assert batch.batch_status({"state": state, "cancel_time": "x"}) == "cancelling"
    assert batch.batch_status({"state": {**state, "num_pending": 0}, "cancel_time": "x"}) == (
        "cancelled"
    )
    assert batch.batch_status({"cancel_by_xai_message": "bad line", "cancel_time": "x"}) == (
        "failed"
    )
    expired = {"state": state, "expire_time": "2020-01-01T00:00:00Z"}
    assert batch.batch_status(expired) == "expired"


def test_poll_interval_is_checked() -> None:
    client, _ = sim()
    with pytest.raises(gb.errors.UnsupportedParameterError, match="poll_interval"):
        gb.sweep("2+2", models=MODEL, client=client, via="batch", poll_interval=0)


def test_polling_backs_off_while_nothing_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = sim(delay=3600.0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 8:
            raise KeyboardInterrupt

    monkeypatch.setattr(batch.time, "sleep", sleep)
    with pytest.raises(gb.SweepInterrupted) as info:
        gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, via="batch",
                 progress=False, poll_interval=0.1)  # fmt: skip
    assert slept == pytest.approx([0.1, 0.15, 0.225, 0.3375, 0.50625, 0.759375, 1.0, 1.0])
    assert len(info.value.frame) == 0 and info.value.total == 6
    assert gb.batches()["collected"].tolist() == [False]  # still there to collect later


def test_a_batch_the_provider_rejects_gives_error_rows_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """xAI reports a rejected input file only in ``cancel_by_xai_message`` (counts all 0)."""
    add = batch._JsonlWriter.add

    def add_and_break(self: Any, index: int, url: str, body: Any) -> None:
        add(self, index, url, body)
        assert self._file is not None
        self._file.write(b"not json\n")  # a line the server's parser refuses

    monkeypatch.setattr(batch._JsonlWriter, "add", add_and_break)
    client, batches = sim()
    df = gb.sweep(PROMPTS[:1], models=MODEL, efforts=EFFORTS, client=client, via="batch",
                  progress=False)  # fmt: skip
    assert batches.created == 1 and df["status"].tolist() == ["error", "error"]
    assert df.loc[0, "error"].startswith("BatchRequestError: the provider rejected the batch (")
    assert gb.batches()["status"].tolist() == ["failed"]


def test_a_scored_batch_sweep_of_cases_scores_like_a_live_one() -> None:
    client, batches = sim()
    cases = gb.problems().head(12)
    live = gb.sweep(cases, models=MODEL, efforts=["low", "high"], client=client,
                    progress=False, cache=False)  # fmt: skip
    df = gb.sweep(cases, models=MODEL, efforts=["low", "high"], client=client,
                  progress=False, cache=False, via="batch")  # fmt: skip
    assert batches.created == 1 and len(df) == len(live) == 24
    for column in ("expected", "score", "correct", "steps"):
        pd.testing.assert_series_equal(df[column], live[column], check_names=True)
    assert df["correct"].notna().all()


async def test_asweep_runs_on_the_batch_api_too_without_blocking_the_loop() -> None:
    client, batches = sim(delay=0.3)
    ticks = 0

    async def beat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beating = asyncio.create_task(beat())
    df = await gb.asweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client,
                         progress=False, cache=False, via="batch")  # fmt: skip
    beating.cancel()
    assert batches.created == 1 and set(df["via"]) == {"batch"} and len(df) == 6
    assert ticks >= 3  # the loop kept running while the batch was polled


# -- found in review: nothing twice, nothing leaked, nothing checked too late ------------------
@pytest.mark.parametrize("method", ["POST /files", "POST /batches"])
def test_a_creating_request_that_may_have_arrived_is_never_sent_twice(method: str) -> None:
    import io

    import httpx

    sent: list[str] = []

    def slow(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        request.read()
        time.sleep(0.4)  # past the deadline: the server may well have acted on it
        return httpx.Response(200, json={"id": "file-1", "batch_id": "b-1"})

    client = gb.Client(provider="xai", api_key="xai-test-key", timeout=0.2, max_retries=3,
                       transport=httpx.MockTransport(slow))  # fmt: skip
    verb, path = method.split()
    files = {"file": ("a.jsonl", io.BytesIO(b"{}"), "application/jsonl")}
    with pytest.raises(gb.errors.APITimeoutError) as info:
        client.request(verb, path, files=files if path == "/files" else None)
    assert len(sent) == 1 and info.value.retries == 0


@pytest.mark.parametrize("first", ["connect error", "503", "429"])
def test_a_creating_request_that_never_arrived_is_retried(first: str) -> None:
    import httpx

    sent: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) == 1:
            if first == "connect error":
                raise httpx.ConnectError("refused")
            return httpx.Response(int(first), json={"error": "busy"})
        return httpx.Response(200, json={"batch_id": "b-1"})

    client = gb.Client(provider="xai", api_key="xai-test-key", max_retries=2,
                       transport=httpx.MockTransport(flaky))  # fmt: skip
    assert client.request("POST", "/batches", json={"name": "x"}).data == {"batch_id": "b-1"}
    assert len(sent) == 2


def test_a_key_in_a_batch_error_or_a_prompt_reaches_neither_frame_errors_nor_the_run_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from grokbook.sim import _batch as sim_batch

    key = "xai-THISISASECRETKEY0123456789"

    def failing(self: Any, batch_: Any, line: Any, answer: Any) -> dict[str, Any]:
        error = {"code": 16, "message": f"invalid key {key}"}
        return {"batch_request_id": line.custom_id, "batch_result": {"error": error}}

    monkeypatch.setattr(sim_batch.BatchStore, "_answer", failing)
    simulator = Simulator(latency="none", batch_delay=0.0)
    client = gb.Client(provider="sim", api_key=key, transport=SimTransport(simulator=simulator))
    df = gb.sweep([f"What is 7*8? ({key})"], models=MODEL, efforts=["low"], client=client,
                  progress=False, via="batch")  # fmt: skip
    assert key not in " ".join(df["error"]) and "[redacted]" in df["error"].iloc[0]
    db = store.get_store()
    assert db is not None and db.flush()
    with sqlite3.connect(db.path) as conn:
        for table in ("calls", "batches"):
            assert key not in repr(conn.execute(f"SELECT * FROM {table}").fetchall()), table


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"expected": [56]}, "1 answers for 2 prompts"),
        ({"scorer": gb.scoring.exact}, "scorer needs expected answers"),
    ],
)
def test_scoring_mistakes_are_refused_before_a_batch_is_submitted(
    kwargs: dict[str, Any], match: str
) -> None:
    client, batches = sim()
    with pytest.raises(gb.errors.UnsupportedParameterError, match=match):
        gb.sweep(["What is 7*8?", "What is 2+2?"], models=MODEL, efforts=["low"], client=client,
                 progress=False, via="batch", **kwargs)  # fmt: skip
    assert batches.created == 0


def test_duplicate_prompts_in_cases_keep_their_own_expected_answers_on_the_batch_path() -> None:
    client, _ = sim()
    cases = pd.DataFrame({"prompt": ["What is 7*8?", "What is 7*8?", "What is 2+2?"],
                          "expected": [56, 99, 4], "tag": ["a", "b", "c"]})  # fmt: skip
    kw: dict[str, Any] = {"models": MODEL, "efforts": ["low"], "client": client,
                          "progress": False, "cache": False}  # fmt: skip
    live = gb.sweep(cases, **kw)
    df = gb.sweep(cases, via="batch", **kw)
    for column in ("expected", "correct", "tag"):
        assert df[column].tolist() == live[column].tolist(), column
    assert df["correct"].tolist() == [True, False, True]


def test_results_pages_shrink_when_a_page_is_past_the_size_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulator = Simulator(latency="none", batch_delay=0.0)
    # Each result is ~2 KB on the simulator: a cap of 8 KB fits only a few per page.
    client = gb.Client(provider="sim", max_response_bytes=8_000,
                       transport=SimTransport(simulator=simulator))  # fmt: skip
    prompts = [f"What is {i}*3?" for i in range(12)]
    df = gb.sweep(prompts, models=MODEL, efforts=["low"], client=client, progress=False,
                  cache=False, via="batch")  # fmt: skip
    assert len(df) == 12 and set(df["status"]) == {"ok"}


def test_a_batch_grid_resolves_default_but_one_recorded_before_keeps_its_jobs() -> None:
    """Job indices of a recorded batch must keep meaning what they meant when it was sent."""
    client, _ = sim()
    spec, jobs = batch._spec(
        ["What is 101*3?"], "grok-4.3", [None, "low", "high"], 1, client=client, system=None,
        temperature=None, seed=0, cache=True,
    )  # fmt: skip
    assert [j.effort for j in jobs] == ["low", "high"] == [j.effort for j in spec.jobs()]
    recorded = spec.to_dict()
    assert recorded["defaults_resolved"] is True
    del recorded["defaults_resolved"]  # a batch recorded by an earlier grokbook
    legacy = batch._Spec.from_dict(recorded)
    assert [j.effort for j in legacy.jobs()] == [None, "low", "high"]
    assert legacy.key != spec.key  # so a rerun never adopts it for the new grid


class _Unbilled(httpx.BaseTransport):
    """The simulator, with the billed figures a server might leave out taken away: each
    result's ``cost_in_usd_ticks`` and/or the batch object's ``cost_breakdown``."""

    def __init__(self, simulator: Simulator, *, ticks: bool, breakdown: bool) -> None:
        self.inner = SimTransport(simulator=simulator)
        self.ticks, self.breakdown = ticks, breakdown

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        path = request.url.path
        if request.method != "GET" or not path.startswith("/v1/batches/"):
            return response
        data = json.loads(response.read())
        if path.endswith("/results") and not self.ticks:
            for item in data["results"]:
                for body in item["batch_result"].get("response", {}).values():
                    del body["usage"]["cost_in_usd_ticks"]
        if not path.endswith("/results") and not self.breakdown:
            data.pop("cost_breakdown", None)
        return httpx.Response(response.status_code, json=data)


LIVE_20 = "grok-4.20-0309-reasoning"


@pytest.mark.parametrize(
    ("model", "ticks", "breakdown", "basis", "share", "row_share", "note"),
    [
        # billed per result: the rows and the total are the ticks
        (LIVE_20, True, True, "billed", 0.8, 0.8, "billed ticks"),
        ("grok-4.3", True, True, "billed", 1.0, 1.0, "billed ticks"),
        # only the batch's cost_breakdown is billed: the total is that
        (LIVE_20, False, True, "billed", 0.8, 0.8, "billed ticks"),
        ("grok-4.3", False, True, "billed", 1.0, None, "billed ticks"),
        # nothing billed: an estimate from a documented discount, with its source...
        (LIVE_20, False, False, "estimate", 0.8, 0.8, "20% discount for " + LIVE_20),
        # ... or nothing at all when the discount is unknown (never an assumed 50%)
        ("grok-4.3", False, False, None, None, None, "discount unknown for grok-4.3"),
    ],
)
def test_a_batch_costs_what_was_billed_else_a_sourced_estimate_else_nothing(
    model: str,
    ticks: bool,
    breakdown: bool,
    basis: str | None,
    share: float | None,
    row_share: float | None,
    note: str,
) -> None:
    simulator = Simulator(latency="none", batch_delay=0.0)
    transport = _Unbilled(simulator, ticks=ticks, breakdown=breakdown)
    client = gb.Client(provider="sim", transport=transport)
    live_client = gb.Client(provider="sim", transport=SimTransport(simulator=simulator))
    live = gb.sweep(PROMPTS, models=model, efforts=[None], client=live_client, progress=False,
                    cache=False)  # fmt: skip
    df = gb.sweep(PROMPTS, models=model, efforts=[None], client=client, progress=False,
                  cache=False, via="batch")  # fmt: skip
    summary = df.attrs["sweep"]
    live_usd = live["cost_usd"].sum()
    assert summary["live_usd"] == pytest.approx(live_usd, rel=1e-9)
    assert summary["cost_basis"] == basis
    assert note in summary["saved_note"]
    if share is None:
        assert summary["cost_usd"] is None and summary["saved_usd"] is None
    else:
        assert summary["cost_usd"] == pytest.approx(live_usd * share, rel=1e-6)
        assert summary["saved_usd"] == pytest.approx(live_usd * (1 - share), rel=1e-6, abs=1e-12)
    if row_share is None:
        assert df["cost_usd"].isna().all()
    else:
        assert df["cost_usd"].tolist() == pytest.approx((live["cost_usd"] * row_share).tolist())
    assert "0.5" not in summary["saved_note"] and "50%" not in summary["saved_note"]


@pytest.mark.parametrize("model", ["grok-4.7", "grok-4.6", "grok-4.5"])
@pytest.mark.parametrize("entry", ["sweep", "asweep"])
def test_a_model_xai_does_not_batch_is_refused_before_any_upload(model: str, entry: str) -> None:
    simulator = Simulator(latency="none", batch_delay=0.0)
    transport = SimTransport(simulator=simulator)
    client = gb.Client(provider="sim", transport=transport)
    kwargs: dict[str, Any] = dict(models=[model], efforts=["low"], client=client, progress=False,
                                  via="batch")  # fmt: skip
    with pytest.raises(gb.errors.UnsupportedParameterError) as caught:
        if entry == "sweep":
            gb.sweep(PROMPTS, **kwargs)
        else:
            asyncio.run(gb.asweep(PROMPTS, **kwargs))
    message = str(caught.value)
    assert model in message and "Batch API: Not supported" in message
    assert "grok-4.20-0309-reasoning (20% discount)" in message  # the models that can
    assert "via='live'" in message
    assert transport.requests_served == 0 and simulator.batches.created == 0


def test_auto_never_picks_the_batch_api_for_a_model_xai_does_not_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "AUTO_BATCH_MIN_CALLS", 2)
    assert batch.engine("auto", 10**6, accept_latency=True, models=["grok-4.7"]) == "live"
    assert batch.engine("auto", 10**6, accept_latency=True, models=[LIVE_20]) == "batch"
    client, batches = sim()
    df = gb.sweep(PROMPTS, models=["grok-4.7", LIVE_20], efforts=[None], client=client,
                  progress=False, via="auto", accept_latency=True)  # fmt: skip
    assert batches.created == 0 and "via" not in df.columns and (df["status"] == "ok").all()


def test_a_batch_total_sent_as_a_decimal_string_is_read() -> None:
    assert batch._breakdown_usd({"cost_breakdown": {"total_cost_usd_ticks": "25000000"}}) == 0.0025
    assert batch._breakdown_usd({"cost_breakdown": {"total_cost_usd_ticks": 25_000_000}}) == 0.0025
    assert batch._breakdown_usd({"cost_breakdown": {}}) is None
    assert batch._breakdown_usd({}) is None


def test_no_text_in_the_repository_promises_half_price_batches() -> None:
    """xAI's batch discount is per model (20% for grok-4.20, unknown for grok-4.3, no batch
    for grok-4.5 / 4.6 / 4.7): no doc, notebook or docstring may say "half price" or "50%"."""
    root = Path(__file__).resolve().parents[1]
    promise = re.compile(r"half[- ]price|half the (?:live )?price|50\s*%|at half|x 0\.5", re.I)
    files = [root / "README.md", *root.glob("docs/*.md"), *root.glob("notebooks/*.ipynb")]
    files += [*root.glob("grokbook/**/*.py")]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":  # the cells' sources, not their outputs (PNG data)
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        for number, line in enumerate(text.splitlines(), 1):
            if promise.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:100]}")
    assert found == []
