"""The simulator's Files API, Batch API and deferred completions, on the wire.

Replies are validated against xAI's OpenAPI document where it has them (``File``,
``StartDeferredChatResponse``, ``ChatResponse``, ``ModelResponse``); the Batch API is not in
that document, so its objects are checked against the fields of xai-sdk-python's batch protos
(``src/xai_sdk/proto/v6/batch_pb2.pyi``) in their REST form (LiteLLM's xAI batch
transformation reads the same).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

import grokbook as gb
from grokbook.sim import SimServer, SimTransport, Simulator
from grokbook.sim._batch import BatchStore

from ._xai_spec import validate

BATCH_STATE = {
    "type": "object",
    "required": ["num_requests", "num_pending", "num_success", "num_error", "num_cancelled"],
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in ("num_requests", "num_pending", "num_success", "num_error", "num_cancelled")
    },
}
#: xai-sdk's ``BatchCostBreakdown`` (``total_cost_usd_ticks``, ``endpoint_costs`` of
#: ``EndpointCost {endpoint, cost_usd_ticks, request_count}``, ``calculation_time``).
BATCH_COST_BREAKDOWN = {
    "type": "object",
    "required": ["total_cost_usd_ticks"],
    "properties": {
        "total_cost_usd_ticks": {"type": "integer", "minimum": 0},
        "endpoint_costs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["endpoint", "cost_usd_ticks", "request_count"],
                "properties": {
                    "endpoint": {"type": "string"},
                    "cost_usd_ticks": {"type": "integer", "minimum": 0},
                    "request_count": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": False,
            },
        },
        "calculation_time": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": False,
}
BATCH = {
    "type": "object",
    "required": ["batch_id", "name", "create_time", "expire_time", "state", "input_file_id"],
    "properties": {
        "batch_id": {"type": "string", "pattern": "^batch_"},
        "name": {"type": "string"},
        "create_time": {"type": "string", "format": "date-time"},
        "expire_time": {"type": "string"},
        "cancel_time": {"type": "string"},
        "cancel_by_xai_message": {"type": "string"},
        "input_file_id": {"type": "string"},
        "state": BATCH_STATE,
        "cost_breakdown": BATCH_COST_BREAKDOWN,
    },
    "additionalProperties": False,
}
RESULT = {
    "type": "object",
    "required": ["batch_request_id", "batch_result"],
    "properties": {
        "batch_request_id": {"type": "string"},
        "batch_result": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["response"],
                    "properties": {
                        "response": {
                            "type": "object",
                            "minProperties": 1,
                            "maxProperties": 1,
                            "propertyNames": {"enum": ["chat_get_completion", "responses"]},
                        }
                    },
                },
                {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            ]
        },
    },
}


def line(custom_id: str, url: str, content: str, **body: Any) -> bytes:
    payload: dict[str, Any] = {"model": "grok-3-mini-beta", **body}
    if url == "/v1/responses":
        payload["input"] = [{"role": "user", "content": content}]
    else:
        payload["messages"] = [{"role": "user", "content": content}]
    item = {"custom_id": custom_id, "method": "POST", "url": url, "body": payload}
    return json.dumps(item).encode() + b"\n"


def jsonl(count: int = 3) -> bytes:
    urls = ["/v1/chat/completions", "/v1/responses"]
    return b"".join(line(f"r{i}", urls[i % 2], f"What is {i}+1?") for i in range(count))


class Clock:
    """A clock the test moves: the simulator's batch progress reads it instead of the time,
    so a test of timing neither sleeps nor depends on how fast the machine is."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def http(**kwargs: Any) -> tuple[httpx.Client, Simulator]:
    simulator = Simulator(latency="none", batch_delay=kwargs.pop("delay", 0.0), **kwargs)
    return httpx.Client(transport=SimTransport(simulator=simulator), base_url="http://sim/v1"), (
        simulator
    )


def upload(client: httpx.Client, data: bytes) -> dict[str, Any]:
    reply = client.post("/files", files={"file": ("in.jsonl", data, "application/jsonl")})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def create(client: httpx.Client, data: bytes) -> dict[str, Any]:
    file_id = upload(client, data)["id"]
    reply = client.post("/batches", json={"name": "t", "input_file_id": file_id})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    jsonschema.validate(body, BATCH)
    return body


def test_file_upload_replies_validate_and_files_can_be_read_and_deleted() -> None:
    client, _ = http()
    meta = upload(client, jsonl())
    validate("File", meta)
    assert meta["bytes"] == len(jsonl()) and meta["filename"] == "in.jsonl"
    assert client.get(f"/files/{meta['id']}").json() == meta
    assert client.delete(f"/files/{meta['id']}").json() == {"id": meta["id"], "deleted": True}
    assert client.get(f"/files/{meta['id']}").status_code == 404
    raw = client.post("/files", content=b"{}", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and "multipart/form-data" in raw.json()["error"]
    other = client.post("/files", files={"document": ("x", b"1")})
    assert other.status_code == 400 and "`file` part" in other.json()["error"]


def test_a_batch_runs_its_lines_as_the_live_endpoints_answer_them() -> None:
    client, simulator = http()
    batch = create(client, jsonl(5))
    status = client.get(f"/batches/{batch['batch_id']}").json()
    jsonschema.validate(status, BATCH)
    assert status["state"] == {
        "num_requests": 5,
        "num_pending": 0,
        "num_success": 5,
        "num_error": 0,
        "num_cancelled": 0,
    }
    pages, token = [], None
    while True:
        params = {"limit": 2, **({"pagination_token": token} if token else {})}
        page = client.get(f"/batches/{batch['batch_id']}/results", params=params).json()
        pages.append(page["results"])
        token = page["pagination_token"]
        if token is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    results = [r for p in pages for r in p]
    assert [r["batch_request_id"] for r in results] == ["r0", "r1", "r2", "r3", "r4"]
    for result in results:
        jsonschema.validate(result, RESULT)
    chat = results[0]["batch_result"]["response"]["chat_get_completion"]
    responses = results[1]["batch_result"]["response"]["responses"]
    validate("ChatResponse", chat)
    validate("ModelResponse", responses)
    assert chat["choices"][0]["message"]["content"] == "0 + 1 = 1"
    # grok-3-mini's batch discount is not documented: the simulator bills the live ticks.
    live = client.post("/chat/completions", json=json.loads(line("x", "/v1/chat/completions",
                       "What is 0+1?"))["body"]).json()  # fmt: skip
    assert chat["usage"]["cost_in_usd_ticks"] == live["usage"]["cost_in_usd_ticks"]
    # The batch object carries what the finished requests billed (xai-sdk's cost_breakdown).
    billed = sum(
        next(iter(r["batch_result"]["response"].values()))["usage"]["cost_in_usd_ticks"]
        for r in results
    )
    breakdown = client.get(f"/batches/{batch['batch_id']}").json()["cost_breakdown"]
    assert breakdown["total_cost_usd_ticks"] == billed > 0
    assert sorted(e["request_count"] for e in breakdown["endpoint_costs"]) == [2, 3]
    assert simulator.batches.created == 1
    listed = client.get("/batches", params={"limit": 10}).json()
    assert [b["batch_id"] for b in listed["batches"]] == [batch["batch_id"]]
    assert listed["pagination_token"] is None


@pytest.mark.parametrize(
    ("model", "batch_share"),
    [
        ("grok-4.20-0309-reasoning", 0.8),  # docs.x.ai: "billed at a 20% discount"
        ("grok-4.20-reasoning", 0.8),  # an alias of it
        ("grok-4.3", 1.0),  # no documented discount: none invented
        ("grok-3-mini-beta", 1.0),
        ("grok-4-0709", 1.0),  # retired: grok-4.3 answers, on grok-4.3's terms
        ("grok-4.7", None),  # "Batch API: Not supported"
        ("grok-4.5", None),
    ],
)
@pytest.mark.parametrize("url", ["/v1/chat/completions", "/v1/responses"])
def test_the_simulator_bills_batches_on_each_models_documented_terms(
    model: str, batch_share: float | None, url: str
) -> None:
    client, _ = http()
    request = line("r0", url, "What is 0+1?", model=model)
    batch = create(client, request)
    (result,) = client.get(f"/batches/{batch['batch_id']}/results").json()["results"]
    jsonschema.validate(result, RESULT)
    breakdown = client.get(f"/batches/{batch['batch_id']}").json()["cost_breakdown"]
    if batch_share is None:
        error = result["batch_result"]["error"]
        assert error["code"] == 3 and "Batch API" in error["message"]
        assert breakdown["total_cost_usd_ticks"] == 0
        return
    body = next(iter(result["batch_result"]["response"].values()))
    live = client.post(url.removeprefix("/v1"), json=json.loads(request)["body"]).json()
    live_ticks = live["usage"]["cost_in_usd_ticks"]
    assert body["usage"]["cost_in_usd_ticks"] == round(live_ticks * batch_share)
    assert breakdown["total_cost_usd_ticks"] == body["usage"]["cost_in_usd_ticks"]


def test_requests_finish_over_the_delay_and_cancel_stops_the_rest() -> None:
    clock = Clock()
    client, _ = http(batches=BatchStore(0.6, clock=clock))
    batch = create(client, jsonl(6))
    first = client.get(f"/batches/{batch['batch_id']}").json()["state"]
    assert first["num_pending"] == 6 and first["num_success"] == 0
    assert client.get(f"/batches/{batch['batch_id']}/results").json() == {
        "results": [],
        "pagination_token": None,
    }
    clock.advance(0.25)
    cancelled = client.post(f"/batches/{batch['batch_id']}:cancel").json()
    jsonschema.validate(cancelled, BATCH)
    state = cancelled["state"]
    assert 1 <= state["num_success"] < 6 and state["num_pending"] == 0
    assert state["num_cancelled"] == 6 - state["num_success"] and "cancel_time" in cancelled
    clock.advance(0.4)
    later = client.get(f"/batches/{batch['batch_id']}/results").json()["results"]
    assert len(later) == state["num_success"]


def test_failures_and_bad_lines_are_reported_per_request() -> None:
    client, _ = http(batch_failures={"r1"})
    bad_effort = line("r2", "/v1/chat/completions", "2+2", reasoning_effort="extreme")
    batch = create(client, jsonl(2) + bad_effort)
    state = client.get(f"/batches/{batch['batch_id']}").json()["state"]
    assert state["num_success"] == 1 and state["num_error"] == 2  # a failure and a 400
    results = client.get(f"/batches/{batch['batch_id']}/results").json()["results"]
    for result in results:
        jsonschema.validate(result, RESULT)
    assert results[1]["batch_result"]["error"]["code"] == 13
    assert results[2]["batch_result"]["error"]["code"] == 3
    assert (
        "does not support reasoningEffort 'extreme'"
        in results[2]["batch_result"]["error"]["message"]
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json\n", "Line 1 of the input file is not JSON"),
        (jsonl(1) + jsonl(1), "not unique"),
        (b'{"custom_id": "a", "method": "GET", "url": "/v1/models", "body": {}}\n', "POST"),
    ],
)
def test_a_file_that_does_not_parse_is_rejected_as_xai_reports_it(
    data: bytes, message: str
) -> None:
    client, _ = http()
    batch = create(client, data)
    assert message in batch["cancel_by_xai_message"] and "cancel_time" in batch
    assert batch["state"]["num_requests"] == 0
    assert gb.batch.batch_status(batch) == "failed"


def test_batch_errors_say_what_to_do() -> None:
    client, _ = http()
    missing = client.post("/batches", json={"name": "x"})
    assert missing.status_code == 400 and "POST /v1/files" in missing.json()["error"]
    assert client.post("/batches", json={"input_file_id": "file_nope"}).status_code == 404
    assert client.get("/batches/batch_nope").status_code == 404
    batch = create(client, jsonl(1))
    token = client.get(f"/batches/{batch['batch_id']}/results", params={"pagination_token": "x"})
    assert token.status_code == 400
    assert client.delete("/batches").status_code == 405


def test_deferred_completions_are_202_then_200_once() -> None:
    client, _ = http()
    clock = Clock()
    simulator = Simulator(latency=0.2, batches=BatchStore(clock=clock))
    slow = httpx.Client(transport=SimTransport(simulator=simulator), base_url="http://sim/v1")
    body = {
        "model": "grok-3-mini-beta",
        "messages": [{"role": "user", "content": "What is 101*3?"}],
        "deferred": True,
    }
    started = slow.post("/chat/completions", json=body)
    validate("StartDeferredChatResponse", started.json())
    request_id = started.json()["request_id"]
    pending = slow.get(f"/chat/deferred-completion/{request_id}")
    assert pending.status_code == 202 and pending.content == b""
    clock.advance(30)
    done = slow.get(f"/chat/deferred-completion/{request_id}")
    assert done.status_code == 200
    validate("ChatResponse", done.json())
    assert slow.get(f"/chat/deferred-completion/{request_id}").status_code == 404
    streamed = client.post("/chat/completions", json={**body, "stream": True})
    assert streamed.status_code == 400


def test_the_loopback_server_serves_batches_too() -> None:
    with SimServer(batch_delay=0.0) as server, httpx.Client(base_url=server.base_url) as client:
        batch = create(client, jsonl(3))
        results = client.get(f"/batches/{batch['batch_id']}/results").json()["results"]
        assert len(results) == 3 and server.simulator.batches.created == 1


def test_client_request_goes_through_the_retry_policy() -> None:
    client = gb.Client(provider="sim", transport=SimTransport(latency="none", faults="503"))
    reply = client.request("GET", "/batches", params={"limit": 1, "pagination_token": None})
    assert reply.status_code == 200 and client.stats["retries"] == 1
    with pytest.raises(gb.errors.NotFoundError, match="not found"):
        client.request("GET", "/batches/batch_nope")
    with pytest.raises(gb.errors.UnsupportedParameterError, match="start with '/'"):
        client.request("GET", "batches")


def test_the_batch_simulator_is_configurable_from_python_and_the_cli() -> None:
    from grokbook.cli import build_parser

    args = build_parser().parse_args(["sim", "--batch-delay", "5", "--batch-failures", "0.1"])
    assert (args.batch_delay, args.batch_failures) == (5.0, 0.1)
    with pytest.raises(gb.errors.UnsupportedParameterError, match="batch delay"):
        SimServer(batch_delay=-1)
    with pytest.raises(ValueError, match="fraction"):
        Simulator(batch_failures=1.5)
    some = Simulator(batch_failures=0.25).batches
    failing = sum(some.fails(f"gb-{i}") for i in range(4000))
    assert 800 < failing < 1200  # a quarter, picked by a hash: the same ids every run
    assert some.fails("gb-7") == Simulator(batch_failures=0.25).batches.fails("gb-7")
    assert Simulator().batches is Simulator().batches  # in-process: one shared store
