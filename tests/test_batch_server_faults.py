"""A Batch API server that misbehaves: results paging that never ends, a ``state`` that is not
an object. Every case ends in rows or one grokbook error, within a bound (issue 22, items 3
and 17); the simulator's answers are rewritten on their way out to make the server lie."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import batch
from grokbook.errors import BatchRequestError, GrokbookError
from grokbook.sim import SimTransport, Simulator
from grokbook.sim._plan import Plan, json_plan

PROMPTS = ["What is 101*3?", "What is 7*8?", "What is 12+30?"]
MODEL = "grok-3-mini-beta"
EFFORTS = ["low", "high"]
CALLS = len(PROMPTS) * len(EFFORTS)

pytestmark = pytest.mark.timeout(60)

Rewrite = Callable[[httpx.Request, Any], Any]


class Lying(Simulator):
    """The simulator, with a hook that rewrites a request on the way in (``inbound``) and the
    JSON of an answer on the way out (``outbound``); it counts requests by method and path."""

    def __init__(self) -> None:
        super().__init__(latency="none", batch_delay=0.0)
        self.inbound: Callable[[httpx.Request], httpx.Request] = lambda request: request
        self.outbound: Rewrite = lambda request, data: data
        self.seen: list[tuple[str, str]] = []

    def plan(self, request: httpx.Request) -> Plan:
        self.seen.append((request.method, request.url.path))
        request = self.inbound(request)
        plan = super().plan(request)
        if plan.streaming or not plan.body:
            return plan
        data = self.outbound(request, json.loads(plan.body))
        return json_plan(plan.status, data)

    def count(self, suffix: str) -> int:
        return sum(path.endswith(suffix) for _, path in self.seen)


def lying_client() -> tuple[gb.Client, Lying]:
    simulator = Lying()
    return gb.Client(provider="sim", transport=SimTransport(simulator=simulator)), simulator


def with_token(request: httpx.Request, token: str) -> httpx.Request:
    params = dict(request.url.params)
    params["pagination_token"] = token
    return httpx.Request(request.method, request.url.copy_with(params=params))


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CREATE_INTERVAL_S", 0.0)
    monkeypatch.setattr(batch, "RESULTS_PAGE", 2)


# -- item 3: results paging that never stops ------------------------------------------------
def repeat_a_token(simulator: Lying) -> None:
    """Every page names the same next token ("2"): pages 2-3 come back for ever."""

    def outbound(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/results") and isinstance(data, dict):
            data["pagination_token"] = "2"
        return data

    simulator.outbound = outbound


def first_page_for_any_token(request: httpx.Request) -> httpx.Request:
    if request.url.path.endswith("/results") and request.url.params.get("pagination_token"):
        return with_token(request, "")
    return request


def endless_fresh_tokens(simulator: Lying) -> None:
    """A new token on every page, each one serving the first page again."""
    fresh = itertools.count(1)

    def outbound(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/results") and isinstance(data, dict):
            data["pagination_token"] = f"page-{next(fresh)}"
        return data

    simulator.inbound, simulator.outbound = first_page_for_any_token, outbound


def endless_foreign_results(simulator: Lying) -> None:
    """A new token on every page, each page full of results the batch never had."""
    fresh = itertools.count(1)

    def outbound(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/results") and isinstance(data, dict):
            number = next(fresh)
            data["results"] = [{"batch_request_id": f"gb-{10_000 + number}", "batch_result": {}}]
            data["pagination_token"] = f"page-{number}"
        return data

    simulator.inbound, simulator.outbound = first_page_for_any_token, outbound


PAGING = {
    "a repeated token": (repeat_a_token, 4),  # pages 0-1 and 2-3 read; 4-5 never served
    "a fresh token per page, same results": (endless_fresh_tokens, 2),
    "a fresh token per page, foreign results": (endless_foreign_results, 0),
}


def run_entry(entry: str, client: gb.Client, simulator: Lying) -> Any:
    kwargs: dict[str, Any] = dict(models=MODEL, efforts=EFFORTS, client=client, progress=False,
                                  via="batch", poll_interval=0.01)  # fmt: skip
    if entry == "sweep":
        return gb.sweep(PROMPTS, **kwargs)
    if entry == "asweep":
        return asyncio.run(gb.asweep(PROMPTS, **kwargs))
    # batch_result on a batch the sweep left running, collected once it has finished
    first = batch.batch_sweep(PROMPTS, MODEL, EFFORTS, client=client, progress=False,
                              poll_interval=0.01, timeout=0.0)  # fmt: skip
    (batch_id,) = first.attrs["sweep"]["batch_ids"]
    for record in simulator.batches._batches.values():
        record.delay_s = 0.0
    return batch.batch_result(batch_id, client=client, progress=False)


@pytest.mark.parametrize("entry", ["sweep", "asweep", "batch_result"])
@pytest.mark.parametrize("name", list(PAGING))
def test_results_paging_stops_on_a_repeated_token_or_past_the_result_count(
    name: str, entry: str
) -> None:
    make_lie, answered = PAGING[name]
    client, simulator = lying_client()
    make_lie(simulator)
    if entry == "batch_result":
        simulator.batches.delay_s = 60.0
    df = run_entry(entry, client, simulator)
    # Pages are bounded by the batch's result count: at most one page per result (a page
    # holds at least one), plus the one that shows the server repeating itself.
    assert simulator.count("/results") <= CALLS + 2
    assert len(df) == CALLS
    assert int((df["status"] == "ok").sum()) == answered
    unread = df[df["status"] != "ok"]
    assert unread["error"].str.contains("paging").all(), unread["error"].tolist()


# -- item 17: a batch status whose state is not an object ----------------------------------------
BAD_STATES = [5, "in_progress", [1, 2], True, 2.5]


def bad_state(simulator: Lying, state: Any, where: str) -> None:
    def outbound(request: httpx.Request, data: Any) -> Any:
        path = request.url.path
        hit = {
            "status": request.method == "GET" and path.count("/") == 3,  # /v1/batches/{id}
            "cancel": path.endswith(":cancel"),
            "create": request.method == "POST" and path == "/v1/batches",
        }[where]
        if hit and isinstance(data, dict):
            data["state"] = state
        return data

    simulator.outbound = outbound


@pytest.mark.parametrize("state", BAD_STATES, ids=repr)
@pytest.mark.parametrize("entry", ["sweep", "asweep", "batches(refresh=True)", "cancel"])
def test_a_state_that_is_not_an_object_is_a_grokbook_error(state: Any, entry: str) -> None:
    client, simulator = lying_client()
    kwargs: dict[str, Any] = dict(models=MODEL, efforts=EFFORTS, client=client, progress=False,
                                  via="batch", poll_interval=0.01)  # fmt: skip
    if entry in ("batches(refresh=True)", "cancel"):
        simulator.batches.delay_s = 60.0  # still running, so not collected
        batch.batch_sweep(PROMPTS, MODEL, EFFORTS, client=client, progress=False,
                          poll_interval=0.01, timeout=0.0)  # fmt: skip
    bad_state(simulator, state, "cancel" if entry == "cancel" else "status")
    with pytest.raises(BatchRequestError, match="state") as raised:
        if entry == "sweep":
            gb.sweep(PROMPTS, **kwargs)
        elif entry == "asweep":
            asyncio.run(gb.asweep(PROMPTS, **kwargs))
        elif entry == "cancel":
            batch.cancel(gb.batches()["batch_id"][0], client=client)
        else:
            gb.batches(refresh=True, client=client)
    assert isinstance(raised.value, GrokbookError)
    assert "not an object" in str(raised.value)


@pytest.mark.parametrize("state", BAD_STATES, ids=repr)
def test_a_bad_state_in_the_creation_reply_still_records_the_batch(state: Any) -> None:
    client, simulator = lying_client()
    bad_state(simulator, state, "create")
    df = gb.sweep(PROMPTS, models=MODEL, efforts=EFFORTS, client=client, progress=False,
                  via="batch", poll_interval=0.01)  # fmt: skip
    # The batch exists on the server: it is recorded and collected, never created twice.
    assert simulator.batches.created == 1
    assert len(df) == CALLS and (df["status"] == "ok").all()
    assert gb.batches()["collected"].tolist() == [True]
