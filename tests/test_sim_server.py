"""The loopback server, driven by the official openai SDK and raw sockets; the CLI."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest

import grokbook as gb
from grokbook import cli, errors
from grokbook.sim import SimServer, serve_in_background

MESSAGES: Any = [{"role": "user", "content": "What is 101*3?"}]


def sdk(server: SimServer, **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("api_key", "sim")
    return openai.OpenAI(base_url=server.base_url, max_retries=0, timeout=10, **kwargs)


def extra(obj: Any, name: str) -> Any:
    """A field the SDK does not model (xAI's reasoning_content), from its extras."""
    return (obj.model_extra or {}).get(name)


def test_openai_sdk_non_streaming() -> None:
    with serve_in_background(latency="none") as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1" and server.port > 0
        response = sdk(server).chat.completions.create(
            model="grok-3-mini-latest", messages=MESSAGES, reasoning_effort="high"
        )
    message = response.choices[0].message
    assert message.content is not None and "303" in message.content
    assert "101 * 3 = 303" in extra(message, "reasoning_content")
    assert response.model == "grok-3-mini-beta"
    assert response.system_fingerprint == "fp_grokbook_sim"
    usage = response.usage
    assert usage is not None and usage.completion_tokens_details is not None
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert reasoning and usage.total_tokens == (
        usage.prompt_tokens + usage.completion_tokens + reasoning
    )


def test_openai_sdk_streaming() -> None:
    with serve_in_background(latency="none") as server:
        stream = sdk(server).chat.completions.create(
            model="grok-3-mini-beta",
            messages=MESSAGES,
            reasoning_effort="low",
            stream=True,
            stream_options={"include_usage": True},
        )
        reasoning: list[str] = []
        content: list[str] = []
        usage = None
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                if extra(choice.delta, "reasoning_content"):
                    assert not content, "reasoning must come before the answer"
                    reasoning.append(extra(choice.delta, "reasoning_content"))
                if choice.delta.content:
                    content.append(choice.delta.content)
        served = server.requests_served
    assert "101 * 3 = 303" in "".join(reasoning)
    assert "".join(content) == "101 * 3 = 303"
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens
    assert served == 1


def test_openai_sdk_lists_models_and_sees_xai_errors() -> None:
    with serve_in_background(latency="none") as server:
        client = sdk(server)
        ids = [m.id for m in client.models.list()]
        with pytest.raises(openai.BadRequestError) as bad:
            client.chat.completions.create(
                model="grok-4.20-0309-reasoning", messages=MESSAGES, reasoning_effort="high"
            )
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="grok-9", messages=MESSAGES)
    assert "grok-4.3" in ids
    assert bad.value.status_code == 400
    # xAI's shape, which the SDK keeps as the raw body rather than parsing.
    assert bad.value.response.json()["error"] == (
        "Model grok-4.20-0309-reasoning does not support parameter reasoningEffort."
    )


def test_require_key_with_the_sdk() -> None:
    with serve_in_background(latency="none", require_key="k-123") as server:
        with pytest.raises(openai.AuthenticationError):
            sdk(server, api_key="wrong").models.list()
        assert len(sdk(server, api_key="k-123").models.list().data) > 0


def test_grokbook_client_against_the_server() -> None:
    with serve_in_background(latency="none", faults=["503:retry-after=0"]) as server:
        client = gb.Client(provider="openai", base_url=server.base_url, log=False)
        r = client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
        stream = client.stream("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
        events = list(stream)
        client.close()
        served = server.requests_served
    assert "303" in r.content and r.simulated and client.stats["retries"] == 1
    assert r.usage.convention == "reasoning-excluded"  # decided by xAI's total arithmetic
    assert events[0].kind == "reasoning" and stream.completion.usage == r.usage
    assert served == 3


@pytest.mark.parametrize("streamed", [False, True])
def test_a_responses_reply_through_provider_openai_is_known_as_simulated(streamed: bool) -> None:
    # Responses carry the fingerprint in metadata, where xAI puts it (tests/real 04); grokbook
    # reads it there, so a grokbook sim server reached as "openai" is still marked simulated.
    options: dict[str, Any] = {"model": "grok-4.3", "wire": "responses"}
    with (
        serve_in_background(latency="none") as server,
        gb.Client(provider="openai", base_url=server.base_url, log=False) as client,
    ):
        if streamed:
            with client.stream("What is 101*3?", **options) as stream:
                list(stream)
            r = stream.completion
        else:
            r = client.chat("What is 101*3?", **options)
    assert r.provider == "openai" and r.system_fingerprint == "fp_grokbook_sim" and r.simulated
    assert r.usage.convention == "reasoning-included"  # as real xAI Responses count it


def test_server_faults_over_real_sockets() -> None:
    faults = ["cut", "reset", "html502", "truncated", "notjson", "429:retry-after=0", "slow:0.1"]
    with serve_in_background(latency="none", faults=faults) as server:
        client = gb.Client(provider="openai", base_url=server.base_url, max_retries=0, log=False)
        with pytest.raises(errors.IncompleteStreamError) as cut:
            list(client.stream("What is 101*3?", model="grok-3-mini-beta"))
        assert cut.value.partial_content
        with pytest.raises(errors.APIConnectionError):
            client.chat("hi")
        with pytest.raises(errors.InternalServerError):
            client.chat("hi")
        with pytest.raises(errors.ResponseParseError):
            client.chat("hi")
        with pytest.raises(errors.ResponseParseError):
            client.chat("hi")
        with pytest.raises(errors.RateLimitError) as limited:
            client.chat("hi")
        assert limited.value.retry_after_s == 0
        started = time.perf_counter()
        assert client.chat("2+2").content == "2 + 2 = 4"
        assert time.perf_counter() - started >= 0.1
        # Keep-alive survives all of that: the connection pool is reused.
        assert client.chat("3+3").content == "3 + 3 = 6"
        client.close()


def test_fifty_concurrent_connections_with_200ms_latency() -> None:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with (
        serve_in_background(latency="none", faults=["slow:0.2"] * 50) as server,
        httpx.Client(limits=limits, timeout=10) as http,
    ):

        def call(i: int) -> str:
            response = http.post(
                server.base_url + "/chat/completions",
                json={
                    "model": "grok-3-mini-beta",
                    "messages": [{"role": "user", "content": f"{i}*2"}],
                },
            )
            assert response.status_code == 200
            return str(response.json()["choices"][0]["message"]["content"])

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(call, range(50)))
        elapsed = time.perf_counter() - started
        assert server.requests_served == 50
    assert answers == [f"{i} * 2 = {i * 2}" for i in range(50)]
    assert elapsed < 1.5, f"50 concurrent 0.2 s requests took {elapsed:.2f}s (serial is 10s)"


def test_stop_frees_the_port_and_closes_idle_connections() -> None:
    server = serve_in_background(latency="none")
    port = server.port
    with httpx.Client() as http:  # keeps its connection alive after the request
        assert http.get(server.base_url + "/models").status_code == 200
        started = time.perf_counter()
        server.stop()
        server.stop()  # idempotent
        assert time.perf_counter() - started < 2.0
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_non_loopback_needs_allow_remote() -> None:
    with pytest.raises(errors.UnsupportedParameterError, match="allow-remote"):
        SimServer("0.0.0.0", 0)


# -- the CLI -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["-e", "high"],  # the default model (grok-4.3) on the default wire (Responses)
        ["--wire", "chat", "-m", "grok-3-mini-beta", "-e", "high"],  # the seeds' path
    ],
)
def test_cli_ask_prints_reasoning_then_answer_then_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["ask", "What is 101*3?", *argv])
    out, err = capsys.readouterr()
    assert status == 0
    assert "101 * 3 = 303." in out  # a reasoning step
    reasoning_at = out.index("The question asks for")
    answer_at = out.rindex("101 * 3 = 303")
    assert reasoning_at < answer_at and out.rstrip().endswith("303")
    usage_line = err.strip().splitlines()[-1]
    assert "reasoning" in usage_line and "simulated" in usage_line


def test_cli_sim_refuses_a_public_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sim", "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err
    assert "Refusing" in err and "--allow-remote" in err and "127.0.0.1" in err


def test_cli_sim_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sim", "--port", "0", "--latency", "warp"]) == 1
    assert "--latency" in capsys.readouterr().err
    assert cli.main(["sim", "--port", "0", "--faults", "explode"]) == 1
    assert "Bad fault" in capsys.readouterr().err


def test_cli_sim_prints_where_it_listens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(self: SimServer) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(SimServer, "serve_forever", interrupted)
    argv = ["sim", "--port", "0", "--latency", "none", "--faults", "429,503*2", "--faults", "cut"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "listening on 127.0.0.1:" in out and "loopback only" in out
    assert "http://127.0.0.1:" in out and "/v1" in out
    assert 'OpenAI(base_url="http://127.0.0.1:' in out.replace("'", '"')
    assert "429:retry-after=1, 503, 503, cut" in out and "stopped after 0 requests" in out
