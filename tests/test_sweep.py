"""Sweeps: the grid, its rows, concurrency, failures, interrupts, 429s, the compare command."""

from __future__ import annotations

import _thread
import asyncio
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import grokbook as gb
from grokbook.cli import build_parser, main
from grokbook.errors import UnsupportedParameterError
from grokbook.sweeps import AdaptiveLimit, SweepInterrupted, asweep, grid, sweep
from grokbook.tables import FRAME_COLUMNS
from tests.conftest import FAKE_KEY, Recorder, chat_body

MINI = "grok-3-mini-beta"


def mock_client(handler: Any, **kwargs: Any) -> gb.AsyncClient:
    kwargs.setdefault("max_retries", 0)
    return gb.AsyncClient(
        provider="xai",
        wire="chat",
        api_key=FAKE_KEY,
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def ok_response(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json=chat_body(model=body["model"]))


def prompt_of(request: httpx.Request) -> str:
    return str(json.loads(request.content)["messages"][-1]["content"])


# -- the grid -------------------------------------------------------------------------------------
def test_grid_defaults_to_catalog_efforts_plus_default() -> None:
    jobs = grid(
        ["a", "b"], models=[MINI, "grok-4.3", "grok-4.20-0309-reasoning", "my-own-model"], repeats=2
    )
    per_prompt = {(j.model, j.effort) for j in jobs if j.prompt == "a"}
    assert per_prompt == {
        (MINI, None),  # grok-3-mini documents no default: "default" stays a request of its own
        (MINI, "low"),
        (MINI, "high"),
        # grok-4.3's default is low: already in the grid, so no second "default" request
        *(("grok-4.3", e) for e in ("none", "low", "medium", "high")),
        ("grok-4.20-0309-reasoning", None),
        ("my-own-model", None),
    }
    assert len(jobs) == 2 * len(per_prompt) * 2
    assert [j.index for j in jobs] == list(range(len(jobs)))
    assert [j.repeat for j in jobs[:2]] == [0, 1]


@pytest.mark.parametrize(
    ("model", "efforts", "sent"),
    [
        ("grok-4.3", [None, "low", "high"], ["low", "high"]),  # grok-4.3's default is low
        ("grok-4.3", ["default", "low"], ["low"]),
        ("grok-4.3", ["default"], ["low"]),
        ("grok-4.5", ["default", "high", "low"], ["high", "low"]),
        ("grok-4.7", [None, "xhigh"], ["high", "xhigh"]),
        ("grok-4.6-latest", [None, "high"], ["high"]),  # an alias: the model's default
        (MINI, [None, "low"], [None, "low"]),  # no documented default: stays unsent
        ("grok-4", [None], [None]),  # takes no effort
        ("my-own-model", ["default", None], [None]),
    ],
)
def test_grid_resolves_default_to_the_models_effort_and_sends_it_once(
    model: str, efforts: list[str | None], sent: list[str | None]
) -> None:
    jobs = grid(["a"], models=model, efforts=efforts)
    assert [j.effort for j in jobs] == sent


@pytest.mark.parametrize("wire", ["responses", "chat"])
@pytest.mark.parametrize("entry", ["sweep", "asweep"])
def test_a_default_effort_is_never_paid_twice_under_two_names(wire: str, entry: str) -> None:
    """grok-4.3 with efforts [None, "low", "high"]: "default" IS low, so each distinct request
    is sent once (counted on the transport), recorded as the effort it applied."""
    from grokbook.sim import SimTransport

    transport = SimTransport(latency="none")
    client = gb.AsyncClient(provider="sim", wire=wire, transport=transport)
    options: dict[str, Any] = {
        "models": "grok-4.3",
        "efforts": [None, "low", "high"],
        "repeats": 2,
        "client": client,
        "progress": False,
        "cache": False,  # not the cache: the grid itself holds each request once
    }
    prompts = ["What is 101*3?", "What is 7*8?"]
    df = sweep(prompts, **options) if entry == "sweep" else asyncio.run(asweep(prompts, **options))
    assert transport.requests_served == len(df) == 2 * 2 * 2
    assert list(df["reasoning_effort"]) == (["low"] * 2 + ["high"] * 2) * 2
    assert (df["status"] == "ok").all()


def test_a_default_that_is_the_priciest_effort_is_said_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import grokbook.sweeps as module

    module._NOTED_DEFAULTS.clear()
    client = mock_client(ok_response)
    for _ in range(2):
        sweep("x", models=["grok-4.5", "grok-4.3"], efforts=[None], client=client, progress=False)
    err = capsys.readouterr().err
    note = "grok-4.5: no effort means 'high', its most expensive effort"
    assert err.count(note) == 1
    assert "grok-4.3" not in err  # its default (low) is not its priciest
    sweep("x", models="grok-4.5", efforts=["low", "high"], client=client, progress=False)
    assert capsys.readouterr().err == ""  # no "default" asked for: nothing to say


def test_sweep_rows_columns_and_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(ok_response)
    df = sweep(
        ["What is 101*3?", "What is 7*8?"],
        models=[MINI, "grok-4.3"],
        repeats=2,
        client=mock_client(recorder),
        progress=False,
    )
    assert list(df.columns) == list(FRAME_COLUMNS)
    assert len(df) == 2 * (3 + 4) * 2 == len(recorder.requests)
    assert (df["status"] == "ok").all()
    assert str(df["reasoning_tokens"].dtype) == "Int64"
    assert str(df["repeat"].dtype) == "Int64"
    # Rows come back in grid order whatever order the calls finished in.
    first = df.iloc[:6]
    assert list(first["reasoning_effort"]) == ["default"] * 2 + ["low"] * 2 + ["high"] * 2
    assert list(first["repeat"]) == [0, 1] * 3
    assert set(df["model_served"]) == {MINI, "grok-4.3"}
    assert (df["answer"] == "303").all()
    # "default" means the parameter is not sent at all (grok-3-mini documents no default).
    sent = [b.get("reasoning_effort", "<absent>") for b in recorder.bodies]
    assert sent.count("<absent>") == 2 * 2
    assert sent.count("medium") == 2 * 2
    assert df.attrs["sweep"]["calls"] == len(df)


def test_single_prompt_string_and_sync_client() -> None:
    recorder = Recorder(ok_response)
    client = gb.Client(
        provider="xai", wire="chat", api_key=FAKE_KEY, transport=httpx.MockTransport(recorder)
    )
    df = sweep("What is 101*3?", efforts=["low"], client=client, progress=False)
    assert list(df["prompt"]) == ["What is 101*3?"]
    assert recorder.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_sync_client_with_sync_only_transport_is_refused() -> None:
    client = gb.Client(
        provider="xai", wire="chat", api_key=FAKE_KEY, transport=httpx.HTTPTransport()
    )
    with pytest.raises(UnsupportedParameterError, match="AsyncClient"):
        sweep("hi", client=client, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompts": []}, "prompts is empty"),
        ({"prompts": "x", "repeats": 0}, "repeats"),
        ({"prompts": "x", "concurrency": 0}, "concurrency"),
        ({"prompts": "x", "efforts": []}, "efforts is empty"),
    ],
)
def test_bad_arguments_say_what_to_do(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsupportedParameterError, match=message):
        sweep(client=mock_client(ok_response), progress=False, **kwargs)


# -- failures are rows ----------------------------------------------------------------------------
def test_effort_a_model_does_not_take_gives_error_rows_and_sends_nothing() -> None:
    recorder = Recorder(ok_response)
    df = sweep(
        "What is 101*3?",
        models=[MINI, "grok-4.20-0309-reasoning"],
        efforts=["low", "high"],
        client=mock_client(recorder),
        progress=False,
    )
    assert len(df) == 4
    bad = df[df["model"] == "grok-4.20-0309-reasoning"]
    assert list(bad["status"]) == ["error", "error"]
    assert bad["error"].str.contains("does not take reasoning_effort").all()
    assert bad["reasoning_tokens"].isna().all()
    assert bool(bad["cached"].eq(False).all())
    assert [b["model"] for b in recorder.bodies] == [MINI, MINI]


def test_failed_calls_are_rows_with_the_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        prompt = prompt_of(request)
        if prompt == "boom":
            return httpx.Response(500, json={"code": "internal", "error": "server fell over"})
        if prompt == "offline":
            raise httpx.ConnectError("connection refused", request=request)
        return ok_response(request)

    df = sweep(
        ["fine", "boom", "offline"],
        efforts=["low"],
        client=mock_client(handler),
        progress=False,
    )
    assert list(df["status"]) == ["ok", "error", "error"]
    assert df.loc[1, "error"].startswith("InternalServerError: HTTP 500: server fell over")
    assert df.loc[2, "error"].startswith("APIConnectionError")
    assert df.loc[1:, ["prompt_tokens", "reasoning_tokens", "total_tokens"]].isna().all().all()
    assert df.loc[0, "reasoning_tokens"] == 310
    assert df.attrs["sweep"]["errors"] == 2


# -- concurrency ----------------------------------------------------------------------------------
class InFlight:
    """An async MockTransport handler that counts requests in flight."""

    def __init__(self, delay: float = 0.01, status: Any = None) -> None:
        self.now = 0
        self.peak = 0
        self.at_start: list[int] = []
        self.threads: set[int] = set()
        self.delay = delay
        self.status = status or (lambda n: 200)
        self.count = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.threads.add(threading.get_ident())
        self.count += 1
        number = self.count
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.at_start.append(self.now)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.now -= 1
        status = self.status(number)
        if status == 429:
            return httpx.Response(
                429,
                json={"code": "rate_limited", "error": "Too many requests"},
                headers={"retry-after-ms": "20"},
            )
        return ok_response(request)


def test_concurrency_never_exceeds_the_limit() -> None:
    handler = InFlight()
    df = sweep(
        [f"q{i}" for i in range(40)],
        efforts=["low"],
        concurrency=5,
        client=mock_client(handler),
        progress=False,
    )
    assert len(df) == 40 and (df["status"] == "ok").all()
    assert handler.peak == 5


async def test_asweep_runs_on_the_callers_loop() -> None:
    handler = InFlight()
    df = await asweep(
        ["a", "b", "c"], efforts=["low"], concurrency=2, client=mock_client(handler), progress=False
    )
    assert len(df) == 3
    assert handler.threads == {threading.get_ident()}
    assert handler.peak == 2


async def test_sync_sweep_works_inside_a_running_event_loop() -> None:
    asyncio.get_running_loop()  # as in Jupyter: a loop is running in this thread
    handler = InFlight()
    df = sweep(["a", "b"], efforts=["low", "high"], client=mock_client(handler), progress=False)
    assert len(df) == 4 and (df["status"] == "ok").all()
    assert threading.get_ident() not in handler.threads  # ran on the private loop's thread
    # The user's client is still usable on this loop afterwards.
    client = mock_client(ok_response)
    sweep("x", efforts=["low"], client=client, progress=False)
    assert (await client.chat("y", reasoning_effort="low")).content == "303"


def test_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    sweep(["a", "b"], efforts=["low"], client=mock_client(ok_response), progress=True)
    captured = capsys.readouterr()
    assert "grokbook sweep" in captured.err and "2/2" in captured.err
    assert captured.out == ""
    sweep(["c"], efforts=["low"], client=mock_client(ok_response), progress=False)
    assert "grokbook sweep" not in capsys.readouterr().err


# -- 429s -----------------------------------------------------------------------------------------
def test_adaptive_limit_halves_once_per_cooldown_and_grows_back() -> None:
    now = [0.0]
    limit = AdaptiveLimit(8, cooldown_s=1.0, clock=lambda: now[0])
    limit.baseline(3)
    assert not limit.observe(3) and limit.current == 8
    assert limit.observe(5) and limit.current == 4
    now[0] = 0.5
    assert limit.observe(9) and limit.current == 4  # within the cooldown: no second cut
    now[0] = 1.6
    assert limit.observe(10) and limit.current == 2
    for _ in range(3):
        limit.success()
    assert limit.current == 3  # about +1 per round of `limit` successes: 2.5, 2.9, 3.2
    for _ in range(100):
        limit.success()
    assert limit.current == 8 and limit.lowest == 2 and limit.cuts == 2
    for step in range(10):
        now[0] = 10.0 + 2 * step
        limit.observe(20 + step)
    assert limit.current == 1  # never below one


def _storm_run(storm: bool) -> tuple[pd.DataFrame, InFlight]:
    handler = InFlight(status=lambda n: 429 if storm and n <= 8 else 200)
    df = sweep(
        [f"q{i}" for i in range(40)],
        efforts=["low"],
        concurrency=8,
        client=mock_client(handler, max_retries=3),
        progress=False,
        cache=False,
    )
    return df, handler


def test_a_429_storm_lowers_concurrency_instead_of_failing() -> None:
    _calm, calm_handler = _storm_run(storm=False)
    stormy, handler = _storm_run(storm=True)
    assert (stormy["status"] == "ok").all() and len(stormy) == 40  # retried, not errors
    info = stormy.attrs["sweep"]
    assert info["rate_limited"] == 8 and info["rate_limit_cuts"] >= 1
    assert info["lowest_concurrency"] <= 4
    # Requests 9-16 are the 8 retries; the first fresh calls after the storm go out at a lower
    # concurrency than the same requests in a calm run.
    assert max(calm_handler.at_start[16:24]) == 8
    assert max(handler.at_start[16:24]) < 8


# -- interrupts -----------------------------------------------------------------------------------
class Interrupting:
    """Fast answers for "fast*" prompts; "slow*" ones hang. Once all slow ones are in
    flight, ``on_stall`` fires once (e.g. a simulated Ctrl-C)."""

    def __init__(self, slow: int, on_stall: Any = None) -> None:
        self.slow = slow
        self.slow_started = 0
        self.cancelled = 0
        self.on_stall = on_stall
        self.stalled = asyncio.Event()
        self.fired_at: float | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if prompt_of(request).startswith("fast"):
            return ok_response(request)
        self.slow_started += 1
        if self.slow_started == self.slow and self.fired_at is None:
            self.fired_at = time.perf_counter()
            self.stalled.set()
            if self.on_stall is not None:
                self.on_stall()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return ok_response(request)


PROMPTS = ["fast1", "fast2", "fast3", "slow1", "slow2", "slow3"]


def _check_partial(frame: pd.DataFrame) -> None:
    assert list(frame["prompt"]) == ["fast1", "fast2", "fast3"]
    assert (frame["status"] == "ok").all()
    assert list(frame.columns) == list(FRAME_COLUMNS)


async def test_cancelled_asweep_keeps_finished_rows_on_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = Interrupting(slow=3)
    task = asyncio.create_task(
        asweep(PROMPTS, efforts=["low"], concurrency=3, client=mock_client(handler), progress=False)
    )
    await asyncio.wait_for(handler.stalled.wait(), 5)
    # Promptly: from the cancel on, nothing waits on a timer (a grace period, a timeout), and
    # the hung calls are cancelled, not awaited. Checked on the loop's timers, not in seconds
    # of wall time, which failed under load.
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    schedule = loop.call_at

    def call_at(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timers.append(when - loop.time())
        return schedule(when, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", call_at)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert timers == []
    assert handler.cancelled == 3
    _check_partial(info.value.frame)  # type: ignore[attr-defined]


def test_ctrl_c_in_a_script_cancels_and_keeps_finished_rows() -> None:
    handler = Interrupting(slow=3, on_stall=_thread.interrupt_main)
    with pytest.raises(SweepInterrupted) as info:
        sweep(PROMPTS, efforts=["low"], concurrency=3, client=mock_client(handler), progress=False)
    assert handler.fired_at is not None and time.perf_counter() - handler.fired_at < 1.0
    assert isinstance(info.value, KeyboardInterrupt)
    assert handler.cancelled == 3
    assert info.value.total == 6
    _check_partial(info.value.frame)
    assert "3 of 6 calls finished" in str(info.value)


async def test_ctrl_c_in_jupyter_cancels_the_worker_thread_and_keeps_rows() -> None:
    handler = Interrupting(slow=3, on_stall=_thread.interrupt_main)
    # A kernel interrupt is a plain SIGINT -> KeyboardInterrupt in the main thread (ipykernel
    # does not cancel tasks as asyncio.Runner, which runs this test, would).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(SweepInterrupted) as info:
            sweep(
                PROMPTS, efforts=["low"], concurrency=3, client=mock_client(handler), progress=False
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert handler.fired_at is not None and time.perf_counter() - handler.fired_at < 1.0
    assert handler.cancelled == 3
    _check_partial(info.value.frame)
    assert not [t for t in threading.enumerate() if t.name.startswith("grokbook-sweep")]


# -- the run log and cache ------------------------------------------------------------------------
def test_rerunning_a_sweep_makes_no_api_calls() -> None:
    recorder = Recorder(ok_response)
    client = mock_client(recorder)
    first = sweep(["a", "b"], efforts=["low", "high"], repeats=2, client=client, progress=False)
    assert len(recorder.requests) == 8 and not first["cached"].any()
    again = sweep(["a", "b"], efforts=["low", "high"], repeats=2, client=client, progress=False)
    assert len(recorder.requests) == 8
    assert again["cached"].all()
    assert list(again["reasoning_tokens"]) == list(first["reasoning_tokens"])
    sweep(["a"], efforts=["low"], client=client, progress=False, cache=False)
    assert len(recorder.requests) == 9


# -- the simulator --------------------------------------------------------------------------------
def test_sweep_on_the_simulator_shows_effort_costs() -> None:
    df = sweep(
        ["What is 101*3?"],
        models=[MINI],
        repeats=2,
        client=gb.AsyncClient(provider="sim"),
        progress=False,
    )
    assert (df["status"] == "ok").all() and len(df) == 6
    by_effort = df.groupby("reasoning_effort")["reasoning_tokens"].mean()
    assert by_effort["high"] > by_effort["low"]
    assert df["answer"].str.contains("303").all()


# -- grokbook compare -----------------------------------------------------------------------------
def test_compare_accepts_efforts_either_way() -> None:
    parser = build_parser()
    a = parser.parse_args(["compare", "p", "-e", "low", "high", "-m", MINI, "grok-4.3"])
    b = parser.parse_args(["compare", "p", "-e", "low", "-e", "high", "-m", MINI, "-m", "grok-4.3"])
    assert a.efforts == b.efforts == ["low", "high"]
    assert a.models == b.models == [MINI, "grok-4.3"]


def test_compare_prints_summary_and_writes_csv_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, png = tmp_path / "calls.csv", tmp_path / "efforts.png"
    code = main(
        [
            *("compare", "What is 101*3?", "What is 7*8?", "-e", "low", "-e", "high", "-n", "2"),
            *("--csv", str(csv), "--plot", str(png)),
        ]
    )
    assert code == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "reasoning" in lines[0] and "$/call" in lines[0]
    assert any(line.startswith("grok-4.3") and " low " in line for line in lines)  # the default
    assert any(" high " in line for line in lines)
    assert "grokbook sweep" in err and "simulator" in err
    rows = pd.read_csv(csv)
    assert list(rows.columns) == list(FRAME_COLUMNS) and len(rows) == 8
    assert set(rows["reasoning_effort"]) == {"low", "high"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_make_demo_twice_draws_the_same_cost_and_latency_panels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo` run twice: the second run comes from the cache, bills $0, and its cost and
    latency panels show the first run's figures, cached calls marked."""
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

    saved: list[Any] = []
    savefig = Figure.savefig

    def keep(figure: Figure, *args: Any, **kwargs: Any) -> None:
        saved.append(figure)
        savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)

    def demo(run: int) -> tuple[pd.DataFrame, str, str]:
        csv, png = tmp_path / f"calls{run}.csv", tmp_path / f"efforts{run}.png"
        argv = ["compare", "What is 101*3?", "-n", "3", "--csv", str(csv), "--plot", str(png)]
        assert main([*argv, "--no-progress"]) == 0
        out, err = capsys.readouterr()
        return pd.read_csv(csv).sort_values(["reasoning_effort", "repeat"]), out, err

    first, _out, err1 = demo(1)
    again, out, err2 = demo(2)
    assert not first["cached"].any() and again["cached"].all()
    for name in ("cost_usd", "latency_s", "reasoning_tokens", "completion_tokens"):
        assert list(again[name]) == list(first[name]), name
    assert list(first["billed_usd"]) == list(first["cost_usd"]) and (first["cost_usd"] > 0).all()
    assert (again["billed_usd"] == 0).all() and (again["fetch_s"] < 0.05).all()
    assert "came from the cache" not in err1
    assert f"{len(again)} of {len(again)} calls came from the cache" in err2
    header = out.splitlines()[0].split()
    assert "cached" in header and "$/call" in header and "billed" in header

    panels = []
    for figure in saved:
        _tokens, latency, cost = figure.axes
        heights = [
            p.get_height() for c in cost.containers if isinstance(c, BarContainer) for p in c
        ]
        points = [sorted(map(tuple, c.get_offsets().tolist())) for c in latency.collections]
        notes = [t.get_text() for ax in (latency, cost) for t in ax.get_legend().get_texts()]
        panels.append((heights, points, notes))
    (heights1, points1, notes1), (heights2, points2, notes2) = panels
    assert heights2 == pytest.approx(heights1, rel=1e-12) and min(heights1) > 0
    assert points2 == points1
    assert not any("cached" in note for note in notes1)
    assert notes2.count(f"{len(again)} of {len(again)} calls cached (original figures)") == 2


def test_compare_sends_default_and_its_effort_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from grokbook.sim import serve_in_background

    with serve_in_background(latency="none") as server:
        monkeypatch.setenv("GROKBOOK_BASE_URL", server.base_url)
        argv = ["compare", "What is 101*3?", "-e", "default", "low", "high", "-n", "2"]
        assert main([*argv, "--provider", "openai", "--no-progress", "--no-cache"]) == 0
        served = server.requests_served
    out = capsys.readouterr().out
    assert served == 2 * 2  # low and high, twice each: "default" is grok-4.3's low
    assert " low " in out and " high " in out and "default" not in out


def test_compare_exits_non_zero_when_every_call_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "efforts.png"
    # grok-4.20-0309-reasoning takes no effort: every call is rejected before sending.
    code = main(
        [
            "compare",
            "What is 101*3?",
            "-m",
            "grok-4.20-0309-reasoning",
            "-e",
            "high",
            "--plot",
            str(png),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "1 of 1 calls failed" in err and "does not take reasoning_effort" in err
    assert f"every call failed; no plot written to {png}" in err
    assert not png.exists()
    # Some calls failed, some did not: the comparison stands (exit 0).
    assert main(["compare", "What is 101*3?", "-e", "low", "bogus", "--no-progress"]) == 0
    assert "1 of 2 calls failed" in capsys.readouterr().err


def test_compare_exits_non_zero_when_the_server_fails_every_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from grokbook.sim import serve_in_background

    with serve_in_background(latency="none", faults="404*8") as server:
        monkeypatch.setenv("GROKBOOK_BASE_URL", server.base_url)
        argv = ["compare", "What is 101*3?", "-e", "low", "high", "-n", "2", "--no-progress"]
        assert main([*argv, "--provider", "openai"]) == 1
    err = capsys.readouterr().err
    assert "4 of 4 calls failed" in err and "HTTP 404" in err and "every call failed" in err


def test_gb_sweep_stays_the_function_once_the_module_is_imported() -> None:
    import grokbook.sweeps as module

    assert gb.sweep is module.sweep and gb.SweepInterrupted is SweepInterrupted

    assert module.SweepInterrupted is SweepInterrupted
    df = gb.sweep("x", efforts=["low"], client=mock_client(ok_response), progress=False)
    assert list(df["reasoning_effort"]) == ["low"]


def test_repeats_are_distinct_reproducible_samples_on_the_simulator() -> None:
    client = gb.Client(provider="sim", log=False)
    kwargs: dict[str, Any] = {"efforts": ["high"], "repeats": 4, "progress": False, "cache": False}
    df = sweep("Why is the sky blue?", client=client, **kwargs)
    tokens = list(df["reasoning_tokens"])
    assert len(set(tokens)) > 1  # spread across repeats
    again = sweep("Why is the sky blue?", client=client, **kwargs)
    assert list(again["reasoning_tokens"]) == tokens  # and the same sweep reproduces it
    unseeded = sweep("Why is the sky blue?", client=client, seed=None, **kwargs)
    assert len(set(unseeded["reasoning_tokens"])) == 1  # identical requests, identical answers


def test_seed_goes_on_the_wire_per_repeat() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content).get("seed", "absent"))
        return ok_response(request)

    sweep("x", efforts=["low"], repeats=3, seed=10, client=mock_client(handler), progress=False)
    assert sorted(seen) == [10, 11, 12]
    seen.clear()
    sweep("x", efforts=["low"], seed=None, client=mock_client(handler), progress=False)
    assert seen == ["absent"]


def test_on_result_sees_every_row_as_it_lands() -> None:
    rows: list[dict[str, Any]] = []
    df = sweep(
        ["a", "b"],
        efforts=["low", "high"],
        client=mock_client(ok_response),
        progress=False,
        on_result=rows.append,
    )
    assert len(rows) == len(df) == 4
    assert sorted((r["prompt"], r["reasoning_effort"]) for r in rows) == sorted(
        zip(df["prompt"], df["reasoning_effort"], strict=True)
    )


# -- sweeps at the limit: the pool is sized from concurrency; one batched cache read ------------
def test_a_sweep_sizes_the_connection_pool_from_its_concurrency() -> None:
    from grokbook.sim import serve_in_background

    with serve_in_background(latency="none") as server:
        client = gb.AsyncClient(provider="xai", api_key=FAKE_KEY, base_url=server.base_url)
        assert client._limits.max_connections == 100  # httpx's default, below the sweep's
        df = sweep(
            ["What is 2+2?"],
            models=["grok-4.3"],
            efforts=["low"],
            repeats=5,
            concurrency=250,
            client=client,
            progress=False,
            cache=False,
        )
        assert len(df) == 5 and set(df["status"]) == {"ok"}
        assert client._limits.max_connections == 250
        assert client._limits.max_keepalive_connections == 250  # no reconnect churn


async def test_reserving_fewer_connections_never_shrinks_the_pool() -> None:
    client = gb.AsyncClient(provider="sim")
    await client.reserve_connections(10)
    assert client._limits.max_connections == 100


def test_a_cached_sweep_reads_the_cache_in_one_batched_query_not_one_per_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path))
    gb.store.reset()
    prompts = [f"What is {i}*7?" for i in range(30)]
    first = sweep(
        prompts,
        models=["grok-4.3"],
        efforts=["low", "high"],
        progress=False,
        client=gb.AsyncClient(provider="sim"),
        cache=True,
    )
    db = gb.store.get_store()
    assert db is not None and db.flush()
    statements: list[str] = []
    with db._lock:
        db._connection().set_trace_callback(statements.append)
    again = sweep(
        [*prompts, "What is 1000*7?"],
        models=["grok-4.3"],
        efforts=["low", "high"],
        progress=False,
        client=gb.AsyncClient(provider="sim"),
        cache=True,
    )
    with db._lock:
        db._connection().set_trace_callback(None)
    assert again["cached"].sum() == 60 and len(again) == 62
    lookups = [s for s in statements if "FROM cache" in s]
    assert len(lookups) == 1 and " IN (" in lookups[0]  # 62 keys: one query, not 62
    cached = again[again["cached"]].set_index(["prompt", "reasoning_effort"])["answer"]
    original = first.set_index(["prompt", "reasoning_effort"])["answer"]
    assert cached.sort_index().equals(original.sort_index())  # the same answers, from the cache
    assert db._prefetched == {}  # released when the sweep ended
    gb.store.reset()


def test_a_prefetched_miss_that_the_sweep_then_answers_is_a_hit_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path))
    gb.store.reset()
    client = gb.Client(provider="sim")
    keys = client.prefetch_cache([("What is 3*3?", {"cache": True})])
    assert len(keys) == 1
    assert client.chat("What is 3*3?", cache=True).cached is False  # the known miss
    assert client.chat("What is 3*3?", cache=True).cached is True  # no stale "absent"
    client.forget_prefetched(keys)
    gb.store.reset()


def test_make_demo_writes_only_into_build() -> None:
    """`make demo` leaves the checkout clean: every file it names is under build/ (the README
    figures in docs/ are redrawn by `make readme-images` alone)."""
    import re
    import shlex

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    recipes: dict[str, list[str]] = {}
    target = None
    for line in makefile.replace("\\\n", " ").splitlines():
        header = re.match(r"^([\w-]+):", line)
        if header:
            target = header.group(1)
            recipes[target] = []
        elif line.startswith("\t") and target is not None:
            recipes[target].append(line.strip())
    written = []
    for command in recipes["demo"]:
        words = shlex.split(command.replace("$(BIN)/", ""))
        for flag in ("--plot", "--csv"):
            if flag in words:
                written.append(words[words.index(flag) + 1])
        if words[:2] == ["python", "docs/frontier.py"]:
            written.append(words[2])
    assert written and all(path.startswith("build/") for path in written), written
    images = " ".join(recipes["readme-images"])
    assert "--plot docs/efforts.png" in images and "docs/frontier.py docs/frontier.png" in images
    assert "--provider sim" in images  # the README figure is always the simulator's, labelled
