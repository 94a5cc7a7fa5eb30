"""The offline simulator through the real client: answers, usage arithmetic, effort, errors."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import warnings
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import grokbook as gb
from grokbook import catalog, errors
from grokbook.result import Completion, StreamEvent
from grokbook.sim import SimTransport, _behaviour, _latency, handle, latency_factor, parse_faults
from grokbook.sim._arith import solve
from grokbook.sim._behaviour import prompt_tokens
from grokbook.sim._latency import REAL_TIME_FACTOR, preset_name

PROMPTS = [
    "What is 101*3?",
    "12 + 7 * 2",
    "(3+4)**2",
    "100/8",
    "What is 2^10?",
    "Compute 45 - 17 + 3.",
    "Explain why the sky is blue.",
    "Write a haiku about autumn leaves.",
    "What is the capital of France?",
    "Summarize the plot of Hamlet in two sentences.",
    "How do vaccines train the immune system?",
    "Give me three names for a grey cat.",
    "Is 97 a prime number? Explain your reasoning.",
    "What are the trade-offs between SQL and NoSQL databases?",
    "Translate 'good morning' into Spanish and German.",
    "Why do we have leap years?",
    "Describe the water cycle for a ten-year-old.",
    "What is the difference between weather and climate?",
    "Suggest a name for a bakery run by robots.",
    "How many legs does a spider have, and why?",
]


@pytest.fixture(autouse=True)
def _chat_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests cover the Chat Completions path (grok-3-mini's reasoning_content); the
    Responses path has its own in test_sim_responses.py and test_wires.py."""
    monkeypatch.setenv("GROKBOOK_WIRE", "chat")


def client(**kwargs: Any) -> gb.Client:
    kwargs.setdefault("log", False)
    return gb.Client(provider="sim", **kwargs)


def post(transport: SimTransport, body: Any, path: str = "/v1/chat/completions") -> httpx.Response:
    with httpx.Client(transport=transport, base_url="http://sim") as http:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return http.post(path, content=content, headers={"content-type": "application/json"})


def body(prompt: str = "What is 101*3?", **extra: Any) -> dict[str, Any]:
    return {"model": "grok-3-mini-beta", "messages": [{"role": "user", "content": prompt}], **extra}


# -- the default ------------------------------------------------------------------------------
def test_no_key_means_simulator_with_reasoning_and_arithmetic() -> None:
    c = gb.Client(log=False)
    assert c.provider.name == "sim" and isinstance(c._transport, SimTransport)
    r = c.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
    assert "303" in r.content
    assert r.reasoning is not None and "101 * 3 = 303" in r.reasoning
    assert r.usage.reasoning_tokens is not None and r.usage.reasoning_tokens > 100
    assert r.model == "grok-3-mini-beta" and r.simulated
    assert r.system_fingerprint == "fp_grokbook_sim" and r.id is not None
    assert r.id.startswith("sim-")
    # xAI arithmetic: completion excludes reasoning; total = prompt + completion + reasoning.
    raw = r.raw["usage"]
    details = raw["completion_tokens_details"]
    assert raw["total_tokens"] == (
        raw["prompt_tokens"] + raw["completion_tokens"] + details["reasoning_tokens"]
    )
    assert r.usage.completion_tokens is not None
    assert r.usage.output_tokens == r.usage.completion_tokens + r.usage.reasoning_tokens
    assert r.usage.convention == "reasoning-excluded"


def test_stream_reasoning_then_content_then_completion_matches_chat() -> None:
    c = client()
    s = c.stream("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
    events = list(s)
    kinds = [e.kind for e in events]
    assert kinds[0] == "reasoning" and kinds[-1] == "content"
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning")  # all reasoning first
    done = s.completion
    assert "303" in "".join(e.text for e in events if e.kind == "content")
    assert done.content == "101 * 3 = 303"
    plain = c.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
    # Streaming does not change the seeded numbers: same usage, same texts.
    assert done.usage == plain.usage and done.reasoning == plain.reasoning
    assert done.content == plain.content and done.cost_usd == plain.cost_usd


def test_sync_and_async_parity() -> None:
    c = client()
    sync_chat = c.chat("12 + 7 * 2", model="grok-4.3", reasoning_effort="medium")
    sync_stream = c.stream("12 + 7 * 2", model="grok-4.3", reasoning_effort="medium")
    sync_events = list(sync_stream)

    async def run() -> tuple[Completion, list[StreamEvent], Completion]:
        async with gb.AsyncClient(provider="sim", log=False) as ac:
            chat = await ac.chat("12 + 7 * 2", model="grok-4.3", reasoning_effort="medium")
            s = ac.stream("12 + 7 * 2", model="grok-4.3", reasoning_effort="medium")
            events = [e async for e in s]
            return chat, events, s.completion

    async_chat, async_events, async_done = asyncio.run(run())
    assert async_chat.content == sync_chat.content == "12 + 7 * 2 = 26"
    assert async_chat.usage == sync_chat.usage == async_done.usage == sync_stream.completion.usage
    assert async_events == sync_events
    assert sync_chat.reasoning is None  # grok-4.3 hides its reasoning text...
    assert sync_chat.usage.reasoning_tokens  # ...but still reasons


async def test_async_transport_never_blocks_the_event_loop() -> None:
    transport = SimTransport(latency="none", faults=["slow:0.2"] * 5)
    started = time.perf_counter()
    async with gb.AsyncClient(provider="sim", transport=transport, log=False) as ac:
        results = await asyncio.gather(*(ac.chat(f"{i}+1") for i in range(5)))
    elapsed = time.perf_counter() - started
    assert [r.content for r in results] == [f"{i} + 1 = {i + 1}" for i in range(5)]
    assert elapsed < 0.8, f"5 concurrent 0.2 s waits took {elapsed:.2f}s: the loop was blocked"


# -- effort and determinism -------------------------------------------------------------------
def test_high_effort_reasons_at_least_three_times_low_over_20_prompts() -> None:
    c = client()
    tokens = {
        effort: [
            c.chat(p, model="grok-3-mini-beta", reasoning_effort=effort).usage.reasoning_tokens
            for p in PROMPTS
        ]
        for effort in ("low", "high")
    }
    low = statistics.median(t or 0 for t in tokens["low"])
    high = statistics.median(t or 0 for t in tokens["high"])
    assert low > 0 and high >= 3 * low, (low, high)
    # Not a constant factor: per-prompt ratios vary.
    ratios = {
        round((h or 0) / (lo or 1), 2) for lo, h in zip(tokens["low"], tokens["high"], strict=True)
    }
    assert len(ratios) > 5


def test_grok_4_3_efforts_are_ordered() -> None:
    c = client()
    medians = []
    for effort in ("none", "low", "medium", "high"):
        counts = [
            c.chat(p, model="grok-4.3", reasoning_effort=effort).usage.reasoning_tokens or 0
            for p in PROMPTS[:10]
        ]
        medians.append(statistics.median(counts))
    assert medians[0] == 0
    assert medians[0] < medians[1] < medians[2] < medians[3], medians


def test_same_request_same_numbers_seed_changes_them() -> None:
    c = client()
    first = c.chat("Why do we have leap years?", model="grok-3-mini-beta", reasoning_effort="high")
    again = c.chat("Why do we have leap years?", model="grok-3-mini-beta", reasoning_effort="high")
    assert first.usage == again.usage and first.raw["usage"] == again.raw["usage"]
    seeded = {
        c.chat(
            "Why do we have leap years?",
            model="grok-3-mini-beta",
            reasoning_effort="high",
            seed=seed,
        ).usage.reasoning_tokens
        for seed in range(8)
    }
    assert len(seeded) >= 4  # a spread across repeats, not one number
    same_seed = [
        c.chat("Why?", model="grok-3-mini-beta", seed=7).usage.reasoning_tokens for _ in range(2)
    ]
    assert same_seed[0] == same_seed[1]


# -- models -----------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [m.id for m in catalog.all_models()])
def test_every_catalog_model_answers(model: str) -> None:
    record = catalog.get(model)
    assert record is not None
    c = client()
    effort = record.efforts[-1] if record.efforts else None
    r = c.chat("What is 6*7?", model=model, reasoning_effort=effort)
    s = c.stream("What is 6*7?", model=model, reasoning_effort=effort)
    list(s)
    assert "42" in r.content and s.completion.content == r.content
    assert catalog.get(r.model) is not None, "the response model must be a catalog id"
    if record.retired:
        assert r.model == record.served_by == "grok-4.3"
        assert r.model_notice is not None and "retired" in r.model_notice
    else:
        assert r.model == record.id
    served = catalog.get(r.model)
    assert served is not None
    reasons = bool(r.usage.reasoning_tokens)
    assert (r.reasoning is not None) == (served.returns_reasoning_text and reasons)
    assert reasons == (served.reasoning and (effort or record.served_effort) != "none")


def test_aliases_resolve_to_the_canonical_id() -> None:
    r = client().chat("hi", model="grok-3-mini-latest")
    assert r.model == "grok-3-mini-beta" and r.requested_model == "grok-3-mini-latest"


def test_retired_models_are_served_by_grok_4_3_at_its_prices() -> None:
    c = client()
    r = c.chat("Explain why the sky is blue.", model="grok-4-0709")
    assert r.model == "grok-4.3" and r.reasoning is None and r.usage.reasoning_tokens
    same_at_low = c.chat("Explain why the sky is blue.", model="grok-4.3", reasoning_effort="low")
    assert r.usage.reasoning_tokens and same_at_low.usage.reasoning_tokens
    price = catalog.get("grok-4.3")
    assert price is not None
    expected = price.cost_usd(
        prompt_tokens=r.usage.prompt_tokens,
        cached_prompt_tokens=r.usage.cached_prompt_tokens,
        output_tokens=r.usage.output_tokens,
    )
    assert r.cost_usd == pytest.approx(expected, abs=1e-10)
    non_reasoning = c.chat("Explain why the sky is blue.", model="grok-3-beta")
    assert non_reasoning.model == "grok-4.3" and non_reasoning.usage.reasoning_tokens == 0


def test_cost_ticks_match_catalog_prices_with_cached_prompt() -> None:
    messages = [
        {"role": "system", "content": "You are a careful calculator. " * 10},
        {"role": "user", "content": "What is 101*3?"},
    ]
    r = client().chat(messages, model="grok-3-mini-beta", reasoning_effort="low")
    raw = r.raw["usage"]
    assert raw["prompt_tokens_details"]["cached_tokens"] > 0
    assert raw["prompt_tokens_details"]["text_tokens"] == raw["prompt_tokens"]
    assert raw["num_sources_used"] == 0 and isinstance(raw["cost_in_usd_ticks"], int)
    mini = catalog.get("grok-3-mini-beta")
    assert mini is not None
    expected = mini.cost_usd(
        prompt_tokens=r.usage.prompt_tokens,
        cached_prompt_tokens=r.usage.cached_prompt_tokens,
        output_tokens=r.usage.output_tokens,
    )
    assert expected is not None
    assert raw["cost_in_usd_ticks"] / 1e10 == pytest.approx(expected, abs=1e-10)


def test_model_lists_and_prices() -> None:
    c = client()
    ids = c.models()
    assert ids == [m.id for m in catalog.all_models()]
    transport = SimTransport(latency="none")
    with httpx.Client(transport=transport, base_url="http://sim/v1") as http:
        models = http.get("/language-models").json()["models"]
        one = http.get("/models/grok-3-mini-latest").json()
    mini = next(m for m in models if m["id"] == "grok-3-mini-beta")
    # USD 0.30 / 0.075 / 0.50 per 1M tokens = 3000 / 750 / 5000 cents per 100M.
    assert mini["prompt_text_token_price"] == 3000
    assert mini["cached_prompt_text_token_price"] == 750
    assert mini["completion_text_token_price"] == 5000
    assert "grok-3-mini-latest" in mini["aliases"]
    assert one["id"] == "grok-3-mini-beta"
    updated = c.refresh_catalog()
    assert "grok-3-mini-beta" in updated
    refreshed = catalog.get("grok-3-mini-beta")
    assert refreshed is not None and refreshed.input_price == pytest.approx(0.30)


# -- answers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "answer", "step"),
    [
        ("What is 101*3?", "303", "101 * 3 = 303"),
        ("12 + 7 * 2", "26", "7 * 2 = 14"),
        ("(3+4)**2", "49", "7 ** 2 = 49"),
        ("100/8", "12.5", "100 / 8 = 12.5"),
    ],
)
def test_arithmetic_answered_with_steps(prompt: str, answer: str, step: str) -> None:
    r = client().chat(prompt, model="grok-3-mini-beta", reasoning_effort="low")
    assert r.content.endswith(f"= {answer}")
    assert r.reasoning is not None and step in r.reasoning


@pytest.mark.parametrize("prompt", ["9**9**9", "2**100000", "10**400 + 1", "1/0", "__import__"])
def test_hostile_arithmetic_is_refused_safely(prompt: str) -> None:
    started = time.perf_counter()
    r = client().chat(f"What is {prompt}?", model="grok-3-mini-beta")
    assert time.perf_counter() - started < 1.0
    assert r.content  # an answer, not a hang or a crash
    assert "undefined" in r.content or "[simulated" in r.content


@settings(max_examples=50, deadline=None)
@given(
    a=st.integers(-10_000, 10_000),
    b=st.integers(-10_000, 10_000),
    op=st.sampled_from(["+", "-", "*"]),
)
def test_arithmetic_is_correct(a: int, b: int, op: str) -> None:
    expected = {"+": a + b, "-": a - b, "*": a * b}[op]
    solution = solve(f"What is {a} {op} ({b})?")
    assert solution is not None and solution.answer == str(expected)


@given(st.text(max_size=300))
def test_solve_never_crashes(text: str) -> None:
    solve(text)


def test_other_prompts_get_a_plainly_simulated_answer() -> None:
    long_prompt = "Tell me everything about the history of the Byzantine empire " * 5
    r = client().chat(long_prompt, model="grok-3-mini-beta")
    assert r.content.startswith("[simulated grok-3-mini-beta] You asked:")
    assert "Tell me everything about the history" in r.content and "…" in r.content
    assert "not from Grok" in r.content
    assert r.reasoning is not None and "simulated" in r.reasoning


@pytest.mark.parametrize("prompt", ["What is 101*3?", "(12+7)*3 - 4", PROMPTS[6], PROMPTS[12]])
@pytest.mark.parametrize("effort", ["low", "high"])
def test_reasoning_text_is_as_long_as_its_tokens_and_says_it_is_simulated(
    prompt: str, effort: str
) -> None:
    r = client().chat(prompt, model="grok-3-mini-beta", reasoning_effort=effort)
    text, tokens = r.reasoning, r.usage.reasoning_tokens
    assert text is not None and tokens
    # ~4 characters a token, the rule the simulator counts prompts and answers by; never cut.
    assert 4 * tokens <= len(text) < 4 * tokens + 200
    lines = text.splitlines()
    assert lines[0].startswith("(simulated reasoning)")
    filler = [line for line in lines if line.startswith("Pass ")]
    assert filler and all(line.endswith("(simulated).") for line in filler)
    assert f"bills {tokens:,} reasoning tokens" in text
    again = client().chat(prompt, model="grok-3-mini-beta", reasoning_effort=effort)
    assert again.reasoning == text  # the same request gives the same text


def test_the_documented_figures_are_the_measured_ones() -> None:
    doc = " ".join((_behaviour.__doc__ or "").split())  # the docstring, unwrapped
    c = client(transport=SimTransport(latency="none"))
    ask = "What is 101*3?"
    low, high = (
        c.chat(ask, model="grok-3-mini-beta", reasoning_effort=e, cache=False)
        for e in ("low", "high")
    )
    assert low.usage.reasoning_tokens == 153 and high.usage.reasoning_tokens == 631
    assert '"What is 101*3?" on grok-3-mini-beta: 153 at low and 631 at high' in doc
    assert high.reasoning is not None and low.reasoning is not None
    assert (len(low.reasoning), len(low.reasoning.split())) == (628, 107)
    assert (len(high.reasoning), len(high.reasoning.split())) == (2_540, 447)
    assert "153 tokens: 628 characters, 107 words; 631: 2,540 and 447" in doc
    seeded = {
        effort: [
            c.chat(
                ask, model="grok-3-mini-beta", reasoning_effort=effort, seed=seed, cache=False
            ).usage.reasoning_tokens
            or 0
            for seed in range(200)
        ]
        for effort in ("low", "high")
    }
    lows, highs = seeded["low"], seeded["high"]
    assert (statistics.median(lows), statistics.median(highs)) == (153, 639)
    assert (min(lows), max(lows), min(highs), max(highs)) == (85, 240, 405, 1169)
    assert "medians 153 and 639 (85-240 and 405-1169)" in doc


def test_prompt_tokens_are_a_simple_estimate() -> None:
    short, _, _ = prompt_tokens([{"role": "user", "content": "x" * 40}])
    longer, _, _ = prompt_tokens([{"role": "user", "content": "x" * 400}])
    assert short == 10 + 4 + 3 and longer == 100 + 4 + 3
    _, images, _ = prompt_tokens(
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    )
    assert images == 256


def test_max_tokens_caps_the_visible_answer() -> None:
    r = client().chat("Explain why the sky is blue.", model="grok-3-mini-beta", max_tokens=3)
    assert r.usage.completion_tokens == 3 and r.finish_reason == "length"
    assert len(r.content) <= 12


# -- errors -----------------------------------------------------------------------------------
def test_effort_on_a_model_that_rejects_it_is_a_400() -> None:
    with pytest.raises(errors.BadRequestError) as info:
        client().chat(
            "hi", model="grok-4.20-0309-reasoning", extra_body={"reasoning_effort": "high"}
        )
    assert info.value.status_code == 400
    assert info.value.server_message == (
        "Model grok-4.20-0309-reasoning does not support parameter reasoningEffort."
    )
    assert isinstance(info.value.body, dict) and set(info.value.body) == {"code", "error"}


def test_effort_the_model_does_not_take_is_a_400() -> None:
    with pytest.raises(errors.BadRequestError, match="medium"):
        client().chat("hi", model="grok-3-mini-beta", extra_body={"reasoning_effort": "medium"})


def test_unknown_model_is_a_404() -> None:
    with pytest.raises(errors.NotFoundError, match="grok-9-imaginary"):
        client().chat("hi", model="grok-9-imaginary")


def test_malformed_field_is_a_422() -> None:
    with pytest.raises(errors.UnprocessableEntityError, match="temperature"):
        client().chat("hi", model="grok-3-mini-beta", extra_body={"temperature": "hot"})


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        (b"{not json", 422, "JSON"),
        ({"model": "grok-3-mini-beta"}, 422, "messages"),
        ({"model": "grok-3-mini-beta", "messages": []}, 422, "messages"),
        ({"messages": [{"role": "user", "content": "hi"}]}, 422, "model"),
        (body(messages=[{"role": "robot", "content": "hi"}]), 422, "robot"),
        (body(stream="yes"), 422, "stream"),
        (body(temperature=3), 400, "temperature"),
        (body(stop=["\n"]), 400, "stop"),
    ],
)
def test_request_validation(payload: Any, status: int, needle: str) -> None:
    response = post(SimTransport(latency="none"), payload)
    assert response.status_code == status
    data = response.json()
    assert set(data) == {"code", "error"} and needle in data["error"]


def test_unknown_path_and_wrong_method() -> None:
    transport = SimTransport(latency="none")
    with httpx.Client(transport=transport, base_url="http://sim") as http:
        assert http.get("/v1/nothing").status_code == 404
        assert http.get("/v1/chat/completions").status_code == 405
        assert http.get("/v1/models/grok-9").status_code == 404
    assert transport.requests_served == 3


def test_require_key_is_a_401_through_the_client() -> None:
    transport = SimTransport(latency="none", require_key="sekrit-key")
    with pytest.raises(errors.AuthenticationError) as info:
        client(transport=transport, api_key="wrong-key").chat("hi")
    assert info.value.status_code == 401 and "sekrit" not in str(info.value)
    with pytest.raises(errors.AuthenticationError, match="No API key"):
        client(transport=transport).chat("hi")
    assert client(transport=transport, api_key="sekrit-key").chat("2+2").content == "2 + 2 = 4"


# -- latency ------------------------------------------------------------------------------------
def test_latency_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert latency_factor("none") == 0.0 and latency_factor("demo") == 1.0
    assert latency_factor("0.1") == 0.1
    assert latency_factor("modelled") == latency_factor("real") == REAL_TIME_FACTOR == 25.0
    with pytest.raises(ValueError, match="'demo', 'none', 'modelled'"):
        latency_factor("fast-please")
    monkeypatch.setenv("GROKBOOK_SIM_LATENCY", "0.5")
    assert latency_factor() == 0.5
    assert latency_factor("none") == 0.0  # an explicit argument wins over the environment
    monkeypatch.setenv("GROKBOOK_SIM_LATENCY", "warp")
    with pytest.warns(UserWarning, match="Using 'demo'"):
        assert latency_factor() == 1.0
    monkeypatch.delenv("GROKBOOK_SIM_LATENCY")
    assert latency_factor() == 1.0
    assert [preset_name(f) for f in (0.0, 1.0, 25.0, 0.1)] == ["none", "demo", "modelled", "x0.1"]


def test_the_old_realistic_name_still_works_and_warns_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_latency, "_warned", set())
    with pytest.warns(DeprecationWarning, match="now called 'demo'") as caught:
        SimTransport(latency="realistic")
    assert caught[0].filename == __file__  # it points at the caller, not at grokbook
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert latency_factor(" Realistic ") == 1.0  # once per process, not per request
        monkeypatch.setenv("GROKBOOK_SIM_LATENCY", "realistic")
        assert latency_factor() == 1.0
        c = client(transport=SimTransport(latency="realistic"))
        assert c.chat("2+2", model="grok-3-mini-beta").content == "2 + 2 = 4"


def _planned_seconds(effort: str, factor: float, prompt: str = "What is 101*3?") -> float:
    request = httpx.Request(
        "POST", "http://sim/v1/chat/completions", json=body(prompt, reasoning_effort=effort)
    )
    return handle(request, latency=factor).head_delay_s


def test_latency_grows_with_effort_and_scales_with_the_factor() -> None:
    low, high = _planned_seconds("low", 1.0), _planned_seconds("high", 1.0)
    assert 0.02 < low < high < 1.0  # modelled timings 25x faster: a cell stays well under 1 s
    assert high > 2.5 * low
    assert _planned_seconds("high", 0.5) == pytest.approx(high / 2)
    assert _planned_seconds("high", 0.0) == 0.0


def test_demo_latency_is_really_waited_for() -> None:
    c = client(transport=SimTransport(latency="demo"))
    r = c.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="low")
    planned = _planned_seconds("low", 1.0)
    assert r.latency_s is not None and planned * 0.9 <= r.latency_s < planned + 0.5


def test_fault_syntax() -> None:
    faults = parse_faults("429:retry-after=2, 503*2, cut:after=3, html502, slow:5, ok")
    assert [str(f) for f in faults] == [
        "429:retry-after=2",
        "503",
        "503",
        "cut:after=3",
        "html502",
        "slow:5",
        "ok",
    ]
    assert parse_faults(["429"])[0].retry_after == 1.0
    for bad in ("418x", "slow", "999", "cut:after=x", "500:colour=red"):
        with pytest.raises(ValueError, match="Bad fault"):
            parse_faults(bad)
