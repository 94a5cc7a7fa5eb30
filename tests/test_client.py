"""Client and AsyncClient on httpx.MockTransport: every case runs through both (parity)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import errors
from grokbook.result import Completion, StreamEvent
from tests.conftest import FAKE_KEY, Recorder, chat_body, sse, stream_chunks

MODES = ["sync", "async"]


class SplitStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given pieces, to sync and async clients alike."""

    def __init__(self, pieces: list[bytes], error: Exception | None = None) -> None:
        self.pieces = pieces
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.error is not None:
            raise self.error


def sse_response(pieces: list[bytes], error: Exception | None = None) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=SplitStream(pieces, error)
    )


def make_client(mode: str, handler: Any, **kwargs: Any) -> gb.Client | gb.AsyncClient:
    kwargs.setdefault("provider", "xai")
    kwargs.setdefault("wire", "chat")
    kwargs.setdefault("api_key", FAKE_KEY)
    kwargs.setdefault("log", False)
    transport = httpx.MockTransport(handler)
    if mode == "sync":
        return gb.Client(transport=transport, **kwargs)
    return gb.AsyncClient(transport=transport, **kwargs)


def chat(client: gb.Client | gb.AsyncClient, prompt: Any, **kwargs: Any) -> Completion:
    if isinstance(client, gb.AsyncClient):
        return asyncio.run(client.chat(prompt, **kwargs))
    return client.chat(prompt, **kwargs)


def stream(
    client: gb.Client | gb.AsyncClient, prompt: Any, **kwargs: Any
) -> tuple[list[StreamEvent], Completion]:
    if isinstance(client, gb.AsyncClient):

        async def run() -> tuple[list[StreamEvent], Completion]:
            s = client.stream(prompt, **kwargs)
            events = [event async for event in s]
            return events, s.completion

        return asyncio.run(run())
    s = client.stream(prompt, **kwargs)
    events = list(s)
    return events, s.completion


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries wait for real otherwise; record the waits instead."""
    waits: list[float] = []

    async def fake_async_sleep(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr("grokbook._pipeline.time.sleep", waits.append)
    monkeypatch.setattr("grokbook._pipeline.asyncio.sleep", fake_async_sleep)
    return waits


# -- requests and responses -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_reasoning_model_chat(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body()))
    client = make_client(mode, rec)
    r = chat(client, "What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
    assert r.content == "303"
    assert r.reasoning == "101 * 3 = 303"
    assert (r.model, r.requested_model, r.reasoning_effort) == (
        "grok-3-mini-beta",
        "grok-3-mini-beta",
        "high",
    )
    assert r.usage.reasoning_tokens == 310 and r.usage.completion_tokens == 4
    assert r.usage.cached_prompt_tokens == 2 and r.usage.total_tokens == 326
    assert r.cost_usd == pytest.approx((10 * 0.30 + 2 * 0.075 + 314 * 0.50) / 1e6)
    assert r.id == "resp-1" and r.raw["id"] == "resp-1" and r.latency_s is not None
    request = rec.requests[0]
    assert request.url == "https://api.x.ai/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert rec.bodies[0] == {
        "model": "grok-3-mini-beta",
        "messages": [{"role": "user", "content": "What is 101*3?"}],
        "reasoning_effort": "high",
    }


@pytest.mark.parametrize("mode", MODES)
def test_non_reasoning_model(mode: str) -> None:
    body = chat_body(
        content="Hi there!",
        reasoning=None,
        model="grok-3-fast-beta",
        usage={"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59},
    )
    rec = Recorder(httpx.Response(200, json=body))
    r = chat(make_client(mode, rec), "Hello", model="grok-3-fast-beta", temperature=0.7)
    assert r.reasoning is None and r.usage.reasoning_tokens is None
    assert r.usage.output_tokens == 9
    assert "reasoning_effort" not in rec.bodies[0]
    assert rec.bodies[0]["temperature"] == 0.7


@pytest.mark.parametrize("mode", MODES)
def test_messages_list_system_and_options(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body()))
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "What is 101*3?"},
    ]
    chat(
        make_client(mode, rec),
        messages,
        system="Be brief.",
        max_tokens=100,
        top_p=0.9,
        seed=7,
        extra_body={"user": "u1"},
    )
    body = rec.bodies[0]
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][1:] == messages
    assert body["max_completion_tokens"] == 100
    assert (body["top_p"], body["seed"], body["user"]) == (0.9, 7, "u1")


@pytest.mark.parametrize("mode", MODES)
def test_alias_and_retirement_are_kept_and_noted(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body(model="grok-4.3", reasoning=None)))
    r = chat(make_client(mode, rec), "hi", model="grok-4")
    assert (r.requested_model, r.model) == ("grok-4", "grok-4.3")
    assert r.model_notice is not None
    assert "grok-4.3" in r.model_notice and "retired" in r.model_notice
    rec2 = Recorder(httpx.Response(200, json=chat_body(model="grok-3-mini-beta")))
    alias = chat(make_client(mode, rec2), "hi", model="grok-3-mini-latest")
    assert alias.model_notice is None


# -- providers on the wire ------------------------------------------------------------------------
OPENROUTER_BODY = {
    "id": "gen-1",
    "object": "chat.completion",
    "created": 1,
    "model": "x-ai/grok-3-mini-beta",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "303", "reasoning": "101*3=303"},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 12,
        "completion_tokens": 314,
        "total_tokens": 326,
        "completion_tokens_details": {"reasoning_tokens": 310},
    },
}


@pytest.mark.parametrize("mode", MODES)
def test_openrouter_effort_shape_reasoning_field_and_arithmetic(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=OPENROUTER_BODY))
    client = make_client(mode, rec, provider="openrouter")
    r = chat(client, "What is 101*3?", model="grok-3-mini-beta", reasoning_effort="low")
    assert rec.requests[0].url == "https://openrouter.ai/api/v1/chat/completions"
    assert rec.bodies[0]["model"] == "x-ai/grok-3-mini-beta"
    assert rec.bodies[0]["reasoning"] == {"effort": "low"}
    assert "reasoning_effort" not in rec.bodies[0]
    assert r.reasoning == "101*3=303"
    assert r.model == "grok-3-mini-beta"
    # OpenRouter counts reasoning inside completion_tokens; grokbook normalizes to xAI's.
    assert (r.usage.completion_tokens, r.usage.reasoning_tokens, r.usage.output_tokens) == (
        4,
        310,
        314,
    )


@pytest.mark.parametrize("mode", MODES)
def test_aimlapi_ids_and_effort(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body(model="x-ai/grok-3-mini-beta")))
    chat(
        make_client(mode, rec, provider="aimlapi"),
        "hi",
        model="grok-3-mini-beta",
        reasoning_effort="high",
    )
    assert rec.requests[0].url == "https://api.aimlapi.com/v1/chat/completions"
    assert rec.bodies[0]["model"] == "x-ai/grok-3-mini-beta"
    assert rec.bodies[0]["reasoning"] == {"effort": "high"}


@pytest.mark.parametrize("mode", MODES)
def test_openai_compatible_needs_base_url_and_uses_it(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(errors.UnsupportedParameterError, match="GROKBOOK_BASE_URL"):
        make_client(mode, Recorder(httpx.Response(200)), provider="openai", api_key=None)
    monkeypatch.setenv("GROKBOOK_BASE_URL", "http://127.0.0.1:9/v1/")
    rec = Recorder(httpx.Response(200, json=chat_body()))
    chat(make_client(mode, rec, provider="openai", api_key=None), "hi")
    assert rec.requests[0].url == "http://127.0.0.1:9/v1/chat/completions"
    assert "authorization" not in rec.requests[0].headers


def test_provider_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    from grokbook.providers import select

    assert select(env={}).name == "sim"
    assert select(env={"XAI_API_KEY": "k"}).name == "xai"
    assert select(env={"XAI_API_KEY": "k", "GROKBOOK_PROVIDER": "openrouter"}).name == "openrouter"
    assert select("aimlapi", env={"GROKBOOK_PROVIDER": "xai"}).name == "aimlapi"
    with pytest.raises(errors.UnsupportedParameterError, match="Choose one of"):
        select("nope", env={})


def test_missing_key_names_env_var_console_and_simulator() -> None:
    with pytest.raises(errors.MissingAPIKeyError) as info:
        gb.Client(provider="xai", wire="chat")
    message = str(info.value)
    assert "XAI_API_KEY" in message and "console.x.ai" in message and "simulator" in message
    with pytest.raises(errors.MissingAPIKeyError, match="OPENROUTER_API_KEY"):
        gb.AsyncClient(provider="openrouter")


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMLAPI_KEY", FAKE_KEY)
    rec = Recorder(httpx.Response(200, json=chat_body()))
    gb.Client(provider="aimlapi", transport=httpx.MockTransport(rec), log=False).chat("hi")
    assert rec.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


# -- streaming ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_stream_reasoning_then_content_then_usage(mode: str) -> None:
    rec = Recorder(sse_response([sse(stream_chunks())]))
    client = make_client(mode, rec)
    events, completion = stream(client, "What is 101*3?", reasoning_effort="low")
    assert [e.kind for e in events] == ["reasoning", "reasoning", "content", "content"]
    assert "".join(e.text for e in events if e.kind == "content") == "The answer is 303."
    assert completion.reasoning == "101 * 3 = 303"
    assert completion.content == "The answer is 303."
    assert completion.usage.reasoning_tokens == 310 and completion.usage.completion_tokens == 5
    assert completion.finish_reason == "stop"
    assert rec.bodies[0]["stream"] is True
    assert rec.bodies[0]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("mode", MODES)
def test_stream_utf8_split_across_network_chunks(mode: str) -> None:
    raw = sse(stream_chunks(reasoning=["Überlegung 🤔"], content=["Réponse: 303 ✓ 世界"]))
    pieces = [raw[i : i + 3] for i in range(0, len(raw), 3)]  # splits every multi-byte char
    events, completion = stream(make_client(mode, Recorder(sse_response(pieces))), "hi")
    assert completion.reasoning == "Überlegung 🤔"
    assert completion.content == "Réponse: 303 ✓ 世界"
    assert "\ufffd" not in "".join(e.text for e in events)


@pytest.mark.parametrize("mode", MODES)
def test_stream_cut_before_done_keeps_partial_text(mode: str) -> None:
    chunks = stream_chunks(content=["The answer", " is"])[:3]  # no finish, usage or [DONE]
    rec = Recorder(sse_response([sse(chunks, done=False)]))
    client = make_client(mode, rec)
    with pytest.raises(errors.IncompleteStreamError) as info:
        stream(client, "hi")
    assert info.value.partial_content == "The answer"
    assert info.value.partial_reasoning == "101 * 3 = 303"
    assert len(rec.requests) == 1  # never retried after the first byte


@pytest.mark.parametrize("mode", MODES)
def test_stream_connection_reset_mid_answer(mode: str) -> None:
    chunks = stream_chunks()[:3]
    rec = Recorder(sse_response([sse(chunks, done=False)], httpx.ReadError("reset by peer")))
    with pytest.raises(errors.IncompleteStreamError) as info:
        stream(make_client(mode, rec), "hi")
    assert info.value.partial_content == "The answer"
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert len(rec.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_stream_retries_status_errors_before_first_byte(mode: str, _no_sleep: list[float]) -> None:
    rec = Recorder(
        httpx.Response(503, json={"code": "unavailable", "error": "busy"}),
        sse_response([sse(stream_chunks())]),
    )
    client = make_client(mode, rec)
    _, completion = stream(client, "hi")
    assert completion.content == "The answer is 303."
    assert len(rec.requests) == 2 and client.stats["retries"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_stream_server_ignoring_stream_returns_json(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body()))
    events, completion = stream(make_client(mode, rec), "hi")
    assert [e.kind for e in events] == ["reasoning", "content"]
    assert completion.content == "303"


@pytest.mark.parametrize("mode", MODES)
def test_stream_error_chunk_mid_stream(mode: str) -> None:
    chunks = [*stream_chunks()[:2], {"error": {"message": "overloaded", "code": 502}}]
    with pytest.raises(errors.IncompleteStreamError, match="overloaded") as info:
        stream(make_client(mode, Recorder(sse_response([sse(chunks)]))), "hi")
    assert info.value.partial_reasoning == "101 * 3 = 303"


def test_stream_completion_before_end_is_a_clear_error() -> None:
    client = make_client("sync", Recorder(sse_response([sse(stream_chunks())])))
    assert isinstance(client, gb.Client)
    s = client.stream("hi")
    with pytest.raises(RuntimeError, match="iterate"):
        _ = s.completion
    assert s.until_done().content == "The answer is 303."


def test_stream_closed_early_releases_connection() -> None:
    closed: list[bool] = []

    class Tracked(SplitStream):
        def close(self) -> None:
            closed.append(True)

    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        stream=Tracked([sse(stream_chunks())]),
    )
    client = make_client("sync", Recorder(response))
    assert isinstance(client, gb.Client)
    with client.stream("hi") as s:
        for _event in s:
            break
    assert closed == [True]


# -- errors ---------------------------------------------------------------------------------------
STATUS_CASES = [
    (400, errors.BadRequestError),
    (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError),
    (404, errors.NotFoundError),
    (422, errors.UnprocessableEntityError),
    (429, errors.RateLimitError),
    (500, errors.InternalServerError),
    (502, errors.InternalServerError),
    (503, errors.InternalServerError),
    (504, errors.InternalServerError),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
def test_status_codes_map_to_the_tree(mode: str, status: int, cls: type[Exception]) -> None:
    body = {"code": "Some code", "error": f"xai says {status}"}
    response = httpx.Response(status, json=body, headers={"x-request-id": "req-42"})
    rec = Recorder(response)
    client = make_client(mode, rec, max_retries=0)
    with pytest.raises(cls) as info:
        chat(client, "hi")
    exc = info.value
    assert isinstance(exc, errors.APIStatusError) and isinstance(exc, errors.GrokbookError)
    assert exc.status_code == status and exc.request_id == "req-42"
    assert exc.server_message == f"xai says {status}"
    assert f"HTTP {status}" in str(exc)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"code": "x", "error": "Model grok-4 does not support parameter reasoningEffort."},
            "Model grok-4 does not support parameter reasoningEffort.",
        ),
        ({"error": {"message": "openai shaped", "type": "invalid"}}, "openai shaped"),
        ({"message": "aiml shaped", "statusCode": 400}, "aiml shaped"),
        ({"message": ["field a", "field b"], "statusCode": 422}, "field a; field b"),
    ],
)
def test_error_bodies_of_every_provider_shape(body: dict[str, Any], message: str) -> None:
    client = make_client("sync", Recorder(httpx.Response(400, json=body)), max_retries=0)
    with pytest.raises(errors.BadRequestError) as info:
        chat(client, "hi")
    assert info.value.server_message == message


@pytest.mark.parametrize("mode", MODES)
def test_html_error_page_and_non_json_success(mode: str) -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
    client = make_client(mode, Recorder(httpx.Response(502, content=html)), max_retries=0)
    with pytest.raises(errors.InternalServerError, match="502 Bad Gateway") as info:
        chat(client, "hi")
    assert "<h1>" not in str(info.value)
    ok_html = Recorder(httpx.Response(200, content=b"<html>captive portal</html>"))
    with pytest.raises(errors.ResponseParseError, match="HTML page") as parse_info:
        chat(make_client(mode, ok_html), "hi")
    assert isinstance(parse_info.value.__cause__, ValueError)
    truncated = Recorder(httpx.Response(200, content=b'{"id": "x", "choices": [{"mess'))
    with pytest.raises(errors.ResponseParseError, match="not JSON"):
        chat(make_client(mode, truncated), "hi")
    wrong_shape = Recorder(httpx.Response(200, json={"id": "x", "choices": []}))
    with pytest.raises(errors.ResponseParseError, match="no choices"):
        chat(make_client(mode, wrong_shape), "hi")


# -- retries --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_retries_5xx_then_succeeds(mode: str, _no_sleep: list[float]) -> None:
    rec = Recorder(
        httpx.Response(503, json={"code": "x", "error": "busy"}),
        httpx.Response(500, json={"code": "x", "error": "oops"}),
        httpx.Response(200, json=chat_body()),
    )
    client = make_client(mode, rec)
    assert chat(client, "hi").content == "303"
    assert len(rec.requests) == 3
    assert client.stats == {"requests": 3, "retries": 2, "rate_limited": 0}
    assert len(_no_sleep) == 2 and all(0.3 < w < 1.5 for w in _no_sleep)


@pytest.mark.parametrize("mode", MODES)
def test_retries_exhausted_reports_count(mode: str) -> None:
    rec = Recorder(httpx.Response(503, json={"code": "x", "error": "busy"}))
    client = make_client(mode, rec, max_retries=2)
    with pytest.raises(errors.InternalServerError) as info:
        chat(client, "hi")
    assert len(rec.requests) == 3 and info.value.retries == 2


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_honours_retry_after(mode: str, _no_sleep: list[float]) -> None:
    rec = Recorder(
        httpx.Response(429, json={"code": "x", "error": "slow down"}, headers={"Retry-After": "3"}),
        httpx.Response(200, json=chat_body()),
    )
    client = make_client(mode, rec)
    assert chat(client, "hi").content == "303"
    assert _no_sleep == [3.0]
    assert client.stats["rate_limited"] == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(mode: str, status: int) -> None:
    rec = Recorder(httpx.Response(status, json={"code": "x", "error": "no"}))
    client = make_client(mode, rec, max_retries=5)
    with pytest.raises(errors.APIStatusError):
        chat(client, "hi")
    assert len(rec.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("refused"), errors.APIConnectionError),
        (httpx.ReadTimeout("slow"), errors.APITimeoutError),
        (httpx.RemoteProtocolError("reset"), errors.APIConnectionError),
    ],
)
def test_transport_errors_retried_then_converted(
    mode: str, exc: Exception, cls: type[Exception]
) -> None:
    rec = Recorder(exc)
    client = make_client(mode, rec, max_retries=1)
    with pytest.raises(cls) as info:
        chat(client, "hi")
    assert len(rec.requests) == 2
    assert info.value.__cause__ is exc  # converted at the boundary, with the original kept
    assert not isinstance(info.value, httpx.HTTPError)
    recover = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=chat_body()))
    assert chat(make_client(mode, recover), "hi").content == "303"


# -- validation sends nothing ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prompt": ""}, "empty"),
        ({"prompt": "   \n"}, "empty"),
        ({"prompt": []}, "empty"),
        ({"prompt": [{"role": "wizard", "content": "x"}]}, "role"),
        ({"prompt": [{"role": "user"}]}, "content"),
        ({"prompt": 42}, "string or a list"),
        ({"model": "grok-3-mini-beta", "reasoning_effort": "medium"}, "low \\| high; got 'medium'"),
        (
            {"model": "grok-4.20-0309-reasoning", "reasoning_effort": "low"},
            "does not take reasoning_effort",
        ),
        (
            {"model": "grok-3-fast-beta", "reasoning_effort": "high"},
            "does not take reasoning_effort",
        ),
        ({"model": "grok-4.3", "reasoning_effort": "extreme"}, "none \\| low \\| medium \\| high"),
        ({"temperature": 2.5}, "between 0 and 2"),
        ({"temperature": -0.1}, "between 0 and 2"),
        ({"temperature": "hot"}, "number"),
        ({"max_tokens": 0}, "positive integer"),
        ({"max_tokens": -5}, "positive integer"),
        ({"max_tokens": 1.5}, "positive integer"),
        ({"top_p": 1.5}, "top_p"),
        ({"extra_body": {"model": "x"}}, "extra_body"),
        ({"system": "a", "prompt": [{"role": "system", "content": "b"}]}, "system"),
    ],
)
def test_validation_errors_send_nothing(mode: str, kwargs: dict[str, Any], match: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body()))
    client = make_client(mode, rec)
    kwargs = dict(kwargs)  # parametrize shares the dict between modes
    prompt = kwargs.pop("prompt", "What is 101*3?")
    with pytest.raises(errors.UnsupportedParameterError, match=match) as info:
        chat(client, prompt, **kwargs)
    assert isinstance(info.value, ValueError)
    with pytest.raises(errors.UnsupportedParameterError):
        stream(client, prompt, **kwargs)
    assert rec.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_unknown_models_pass_parameters_through(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json=chat_body(model="grok-5")))
    r = chat(make_client(mode, rec), "hi", model="grok-5", reasoning_effort="ultra")
    assert rec.bodies[0]["reasoning_effort"] == "ultra"
    assert r.cost_usd is None  # no price known, and the server sent none


# -- key hygiene ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_key_never_in_repr_or_errors(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    echo = {"code": "bad key", "error": f"Incorrect API key provided: {FAKE_KEY}"}
    rec = Recorder(httpx.Response(400, json=echo))
    client = make_client(mode, rec)
    assert FAKE_KEY not in repr(client) and "api_key=set" in repr(client)
    with pytest.raises(errors.BadRequestError) as info:
        chat(client, "hi")
    texts = [str(info.value), repr(info.value), str(info.value.server_message)]
    assert all(FAKE_KEY not in text for text in texts)
    assert "[redacted]" in str(info.value)
    connect = Recorder(httpx.ConnectError(f"failed with {FAKE_KEY}"))
    with pytest.raises(errors.APIConnectionError) as conn_info:
        chat(make_client(mode, connect, max_retries=0), "hi")
    assert FAKE_KEY not in str(conn_info.value)
    assert FAKE_KEY not in caplog.text


# -- models and catalog refresh -------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_models_and_refresh_catalog(mode: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/language-models"):
            return httpx.Response(
                200,
                json={
                    "models": [
                        {
                            "id": "grok-3-mini-beta",
                            "aliases": [],
                            "prompt_text_token_price": 3000,
                            "cached_prompt_text_token_price": 750,
                            "completion_text_token_price": 8000,
                        }
                    ]
                },
            )
        return httpx.Response(200, json={"object": "list", "data": [{"id": "grok-4.3"}]})

    client = make_client(mode, handler)
    if isinstance(client, gb.AsyncClient):
        ids = asyncio.run(client.models())
        updated = asyncio.run(client.refresh_catalog())
    else:
        ids = client.models()
        updated = client.refresh_catalog()
    assert ids == ["grok-4.3"]
    assert updated == ["grok-3-mini-beta"]
    record = gb.catalog.get("grok-3-mini-beta")
    assert record is not None and record.output_price == pytest.approx(0.80)


def test_completion_round_trips_through_json() -> None:
    client = make_client("sync", Recorder(httpx.Response(200, json=chat_body())))
    r = chat(client, "What is 101*3?", reasoning_effort="low")
    again = Completion.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again == r
    assert again.usage == r.usage and again.messages == r.messages
    assert again.prompt == "What is 101*3?"
    assert "303" in repr(r) and "reasoning 310" in repr(r)
    hit = r.replace(cached=True, cache_lookup_s=0.0002)
    assert Completion.from_dict(json.loads(json.dumps(hit.to_dict()))) == hit
    assert "billed_usd=0.0" in repr(hit) and "billed_usd" not in repr(r)
    # a hit saved by an older grokbook: latency_s was the lookup's, the original apart
    old = {**r.to_dict(), "cached": True, "latency_s": 0.0002, "original_latency_s": 0.9}
    assert Completion.from_dict(old).latency_s == 0.9


def test_parameters_validated_at_construction() -> None:
    with pytest.raises(errors.UnsupportedParameterError, match="max_retries"):
        gb.Client(provider="xai", wire="chat", api_key="k", max_retries=-1)
    with pytest.raises(errors.UnsupportedParameterError, match="timeout"):
        gb.Client(provider="xai", wire="chat", api_key="k", timeout=0)
    with pytest.raises(errors.UnsupportedParameterError, match="http"):
        gb.Client(provider="xai", wire="chat", api_key="k", base_url="ftp://x")
    client = gb.Client(provider="xai", wire="chat", api_key="k", timeout=5)
    assert client.timeout.read == 5 and client.timeout.connect == 5


@pytest.mark.parametrize("mode", MODES)
def test_stream_cache_replays_without_calling_the_api(mode: str) -> None:
    rec = Recorder(lambda request: sse_response([sse(stream_chunks())]))
    client = make_client(mode, rec)
    first_events, first = stream(client, "What is 101*3?", reasoning_effort="low", cache=True)
    assert not first.cached and len(rec.requests) == 1
    gb.store.flush()
    events, again = stream(client, "What is 101*3?", reasoning_effort="low", cache=True)
    assert len(rec.requests) == 1  # served from the cache
    assert again.cached and again.billed_usd == 0.0 and again.content == first.content
    assert (again.cost_usd, again.latency_s, again.usage) == (
        first.cost_usd,
        first.latency_s,
        first.usage,
    )
    assert again.fetch_s is not None and again.fetch_s < 0.05
    assert [e.kind for e in events] == ["reasoning", "content"]
    assert "".join(e.text for e in events) == "".join(e.text for e in first_events)
    # Without cache=True the API is called again; another repeat index is another sample.
    stream(client, "What is 101*3?", reasoning_effort="low")
    stream(client, "What is 101*3?", reasoning_effort="low", cache=True, repeat=1)
    assert len(rec.requests) == 3


@pytest.mark.parametrize("mode", MODES)
def test_parse_error_snippet_is_redacted(mode: str) -> None:
    page = f"<html>proxy saw Authorization: Bearer {FAKE_KEY}</html>".encode()
    client = make_client(mode, Recorder(httpx.Response(200, content=page)))
    with pytest.raises(errors.ResponseParseError) as info:
        chat(client, "hi")
    assert "proxy saw" in info.value.snippet
    assert FAKE_KEY not in info.value.snippet and FAKE_KEY not in str(info.value)
