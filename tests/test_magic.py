"""%%grok / %grok in a real InteractiveShell, against httpx.MockTransport and the simulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

import grokbook as gb
from grokbook import render
from grokbook.client import Client
from grokbook.magic import GrokMagics
from grokbook.result import Completion

from .conftest import FAKE_KEY, Recorder, chat_body, sse, stream_chunks
from .test_render import IMG, MD_IMAGE, SCRIPT, assert_inert

SSE_HEADERS = {"content-type": "text/event-stream"}


def answer(
    content: list[str] | None = None, reasoning: list[str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering streamed requests with SSE and others with one JSON body."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        model = body["model"]
        if body.get("stream"):
            chunks = stream_chunks(
                reasoning=reasoning or ["101 * 3", " = 303"],
                content=content or ["The answer", " is 303."],
                model=model,
            )
            return httpx.Response(200, content=sse(chunks), headers=SSE_HEADERS)
        text = "".join(content or ["The answer is 303."])
        return httpx.Response(
            200,
            json=chat_body(content=text, reasoning="".join(reasoning or ["101*3"]), model=model),
        )

    return handler


class Session:
    """The shell, its GrokMagics, and what the magic displayed."""

    def __init__(self, shell: InteractiveShell, magics: GrokMagics, pub: Any) -> None:
        self.shell = shell
        self.magics = magics
        self.pub = pub
        self.recorder: Recorder | None = None

    def use_mock(
        self, *responses: Any, api_key: str | None = FAKE_KEY, retries: int = 0
    ) -> Recorder:
        recorder = Recorder(*responses)
        self.recorder = recorder

        def factory(provider: str, key: str | None) -> Client:
            return Client(
                provider="xai",
                wire="chat",
                api_key=key or api_key,
                transport=httpx.MockTransport(recorder),
                max_retries=retries,
            )

        self.magics.client_factory = factory
        return recorder

    def cell(self, line: str, body: str) -> None:
        self.shell.run_cell_magic("grok", line, body)

    def line(self, line: str) -> None:
        self.shell.run_line_magic("grok", line)

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return list(self.pub.outputs)

    def all_text(self) -> str:
        return json.dumps(self.outputs, ensure_ascii=False)


@pytest.fixture
def session(grok_shell: tuple[Any, Any, Any], monkeypatch: pytest.MonkeyPatch) -> Session:
    # These tests script grok-3-mini's Chat Completions shapes (reasoning_content, low | high).
    monkeypatch.setenv("GROKBOOK_MODEL", "grok-3-mini-beta")
    return Session(*grok_shell)


# -- options and the prompt ---------------------------------------------------------------------


def test_options_are_parsed_and_sent(session: Session) -> None:
    rec = session.use_mock(answer())
    session.cell(
        '-m grok-3-mini-fast-beta -e low -s "Be terse." -t 0.5 --max-tokens 50 --no-stream',
        "What is 101*3?",
    )
    (body,) = rec.bodies
    assert body["model"] == "grok-3-mini-fast-beta"
    assert body["reasoning_effort"] == "low"
    assert body["temperature"] == 0.5
    assert body["max_completion_tokens"] == 50
    assert "stream" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "What is 101*3?"},
    ]


@pytest.mark.parametrize("stream", [True, False])
def test_prompt_is_sent_verbatim(session: Session, stream: bool) -> None:
    rec = session.use_mock(answer())
    session.shell.user_ns["x"] = "INTERPOLATED"
    prompt = (
        "Explain {os.environ} and {x} and $HOME and {0} and {{x}}\n"
        + json.dumps({"a": [1, {"b": "{c}"}], "d": "$x"}, indent=2)
        + "\n  trailing  "
    )
    session.cell("" if stream else "--no-stream", prompt)
    (body,) = rec.bodies
    assert body["messages"][-1]["content"] == prompt
    assert body.get("stream") is (True if stream else None)
    assert "INTERPOLATED" not in json.dumps(body)


def test_format_opts_in_to_interpolation(session: Session) -> None:
    rec = session.use_mock(answer())
    session.shell.user_ns["topic"] = "cats"
    session.cell("--format --no-stream", "Tell me about {topic} in {{braces}}.")
    assert rec.bodies[0]["messages"][-1]["content"] == "Tell me about cats in {braces}."
    session.cell("--format", "Tell me about {undefined_name_xyz}.")
    assert len(rec.requests) == 1  # nothing sent
    text = session.all_text()
    assert "undefined_name_xyz" in text and "literal braces" in text


def test_defaults_from_traitlets_and_percent_config(session: Session) -> None:
    rec = session.use_mock(answer())
    session.shell.run_line_magic("config", "GrokMagics.default_model = 'grok-3-mini-fast-beta'")
    session.shell.run_line_magic("config", "GrokMagics.default_effort = 'high'")
    assert session.magics.default_model == "grok-3-mini-fast-beta"
    session.cell("--no-stream", "Hi")
    assert rec.bodies[-1]["model"] == "grok-3-mini-fast-beta"
    assert rec.bodies[-1]["reasoning_effort"] == "high"
    session.cell("--no-stream -m grok-3-mini-beta -e low", "Hi")  # options win
    assert (rec.bodies[-1]["model"], rec.bodies[-1]["reasoning_effort"]) == (
        "grok-3-mini-beta",
        "low",
    )


# -- streaming display ------------------------------------------------------------------------


def test_streaming_updates_one_display_in_place_throttled(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = [f"word{i} " for i in range(60)]
    session.use_mock(answer(content=content, reasoning=["think "] * 20))
    clock = iter(i * 0.01 for i in range(10_000))  # 10 ms between events
    monkeypatch.setattr("grokbook.magic._now", lambda: next(clock))
    session.cell("-o r", "Count to sixty.")
    live, *updates, final = session.outputs
    # One display, created empty, updated in place, emptied again; then the final render.
    display_id = live["transient"]["display_id"]
    assert live["update"] is False and live["data"] == {"text/html": "", "text/plain": ""}
    assert all(o["update"] is True for o in updates)
    assert all(o["transient"]["display_id"] == display_id for o in updates)
    assert updates[-1]["data"] == {"text/html": "", "text/plain": ""}
    streamed = [o["data"]["text/html"] for o in updates[:-1]]
    # 80 events 10 ms apart: at most one update per 100 ms (plus the first).
    assert 3 <= len(streamed) <= 80 * 0.01 / 0.1 + 1
    assert "reasoning…<" in streamed[0]  # a reasoning model, nothing arrived yet
    assert any(re.search(r"reasoning… \d+\.\ds", html) for html in streamed)
    assert "answering…" in streamed[-1] and "word4" in streamed[-1]
    completion = session.shell.user_ns["r"]
    assert final["update"] is False
    assert final["data"] == render.completion_bundle(completion)
    assert "completion 5 tokens" in final["data"]["text/html"]


def _published_bytes(outputs: list[dict[str, Any]]) -> int:
    return sum(len(v.encode()) for o in outputs for v in o["data"].values())


@pytest.mark.parametrize("words", [1_000, 8_000])
def test_long_answers_publish_bytes_linear_in_their_length(
    session: Session, monkeypatch: pytest.MonkeyPatch, words: int
) -> None:
    """At model pace (10 ms a chunk), the live display shows the end of the answer and sends
    enough updates to look live, and the bytes it publishes grow with the answer, not its
    square: the same per word at 1,000 and 8,000 words."""
    content = [f"word{i} " if i % 10 else "\n\n" for i in range(words)]
    session.use_mock(answer(content=content, reasoning=["think "] * 200))
    clock = iter(i * 0.01 for i in range(100_000))
    monkeypatch.setattr("grokbook.magic._now", lambda: next(clock))
    session.cell("-o r", "Write.")
    _live, *updates, final = session.outputs
    assert "word1 word2 " in final["data"]["text/html"]  # all of it, at the end
    assert f"word{words - 1} " in final["data"]["text/html"]
    streamed = [o["data"]["text/html"] for o in updates[:-1]]
    seconds = (words + 200) * 0.01
    assert len(streamed) >= 2 * seconds  # still live: several updates a second
    assert max(len(html) for html in streamed) < 8_000  # each shows the end only
    if words > 1_000:
        assert "earlier characters, shown in full when the answer ends" in streamed[-1]
    per_word = _published_bytes(session.outputs[:-1]) / words
    assert per_word < 60 * 8  # ~ the bytes rule's 40 per character of a ~7-character word
    published = _published_bytes(session.outputs[:-1])
    assert published < len(final["data"]["text/html"]) * 50  # a constant times the answer
    if words > 1_000:  # redrawing all of it on each update: about the square of the answer
        assert published * 5 < len(final["data"]["text/html"]) * len(streamed) / 2


def test_fast_streams_send_no_intermediate_updates(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.use_mock(answer())
    # The mock answers at once: on the display's clock no time passes (on the wall clock a
    # loaded machine took over 100 ms, and an update went out).
    monkeypatch.setattr("grokbook.magic._now", lambda: 0.0)
    session.cell("", "Hi")
    _live, *updates, final = session.outputs
    assert len(updates) == 2  # the "waiting" state and the reset
    assert "The answer is 303." in final["data"]["text/html"]


def test_no_stream_shows_a_placeholder_then_the_answer(session: Session) -> None:
    session.use_mock(answer())
    session.cell("--no-stream --reasoning show", "Hi")
    live, waiting, reset, final = session.outputs
    assert "waiting…" in waiting["data"]["text/html"]
    assert waiting["transient"] == reset["transient"] == live["transient"]
    assert reset["data"] == {"text/html": "", "text/plain": ""}
    assert "101*3" in final["data"]["text/html"] and "<details" not in final["data"]["text/html"]


def test_o_stores_the_completion(session: Session) -> None:
    session.use_mock(answer())
    session.cell("-o r -e high", "What is 101*3?")
    result = session.shell.user_ns["r"]
    assert isinstance(result, Completion)
    assert result.content == "The answer is 303."
    assert result.reasoning == "101 * 3 = 303"
    assert result.reasoning_effort == "high"
    assert session.magics.calls == [result]


def test_plain_frontend_prints_text(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    session.magics.frontend = "plain"
    session.use_mock(answer(content=[SCRIPT, " done"]))
    session.cell("--reasoning show", "Hi")
    out = capsys.readouterr().out
    assert out.startswith("[reasoning]\n101 * 3 = 303\n[end of reasoning]\n")
    assert f"{SCRIPT} done" in out  # a terminal shows text as is
    assert "-- grok-3-mini-beta · prompt 12 · reasoning 310 · completion 5 tokens" in out
    assert session.outputs == []
    session.cell("--no-stream", "Hi")
    assert "-- grok-3-mini-beta" in capsys.readouterr().out


def test_terminal_ipython_is_plain_by_default(session: Session) -> None:
    session.magics.frontend = "auto"
    assert not session.magics.rich()  # InteractiveShell has no kernel
    session.shell.kernel = object()  # type: ignore[attr-defined]
    try:
        assert session.magics.rich()
    finally:
        del session.shell.kernel  # type: ignore[attr-defined]


# -- untrusted output -----------------------------------------------------------------------


def test_xss_payloads_are_escaped_in_every_output(session: Session) -> None:
    payload = [f"Hi {SCRIPT} ", f"{IMG} ", MD_IMAGE]
    session.use_mock(answer(content=payload, reasoning=[SCRIPT, IMG, MD_IMAGE]))
    monkeypatch_clock = iter(i * 0.2 for i in range(1000))  # every event updates the display
    import grokbook.magic as magic_module

    original = magic_module._now
    magic_module._now = lambda: next(monkeypatch_clock)
    try:
        for mode in ("collapse", "show", "hide"):
            session.cell(f"--reasoning {mode}", "Say hi")
            session.cell(f"--reasoning {mode} --no-stream --no-cache", "Say hi")
    finally:
        magic_module._now = original
    assert len(session.outputs) > 12
    for output in session.outputs:
        assert_inert(output["data"])
    assert "&lt;script&gt;" in session.outputs[-1]["data"]["text/html"]


# -- errors ----------------------------------------------------------------------------------


def assert_friendly(session: Session, *needles: str) -> str:
    text = session.all_text()
    assert session.outputs, "nothing was displayed"
    for needle in needles:
        assert needle in text, needle
    for banned in (FAKE_KEY, "Traceback", "httpx", 'File "'):
        assert banned not in text, banned
    return text


def test_bad_key_says_how_to_set_it_and_never_shows_it(session: Session) -> None:
    body = {
        "code": "Client specified an invalid argument",
        "error": f"Incorrect API key {FAKE_KEY}",
    }
    session.use_mock(httpx.Response(400, json=body))
    session.cell("-o r", "Hi")
    session.cell("--no-stream", "Hi")
    assert_friendly(session, "rejected the API key", "XAI_API_KEY", "%grok login")
    assert "r" not in session.shell.user_ns
    assert len(session.magics.failures) == 2


def test_missing_key_points_to_login(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    session.magics.provider = "xai"
    session.cell("", "Hi")
    assert_friendly(session, "XAI_API_KEY", "%grok login")


def test_unsupported_effort_lists_allowed_values(session: Session) -> None:
    rec = session.use_mock(answer())
    session.cell("-e medium", "Hi")
    session.cell("-m grok-4.20-0309-reasoning -e high", "Hi")
    assert rec.requests == []
    assert_friendly(session, "takes reasoning_effort low | high; got 'medium'", "grok-4.3")


def test_server_rejecting_effort_says_so(session: Session) -> None:
    error = {"code": "x", "error": "Model grok-9 does not support parameter reasoningEffort."}
    session.use_mock(httpx.Response(400, json=error))
    session.cell("-m grok-9 -e high", "Hi")
    assert_friendly(session, "does not support parameter reasoningEffort", "drop -e")


CONFIGURED = "The effort 'high' is this session's default, set with %grok config"


@pytest.mark.parametrize("line", ["-m grok-3-fast-beta", "-m grok-3-fast-beta --no-stream"])
def test_a_session_default_effort_is_named_in_the_error_it_causes(
    session: Session, line: str
) -> None:
    rec = session.use_mock(answer())
    session.line("config effort=high")
    session.pub.outputs.clear()
    session.cell(line, "Hi")  # grok-3-fast-beta takes no effort: refused before sending
    assert rec.requests == []
    assert_friendly(session, "does not take reasoning_effort", CONFIGURED)
    assert "run %grok config effort=default to clear it, or pass -e" in session.all_text()
    assert CONFIGURED in session.magics.failures[-1][1]
    # An effort given on the cell is the cell's own: no word about the session default.
    session.pub.outputs.clear()
    session.cell("-m grok-3-fast-beta -e high", "Hi")
    assert "does not take reasoning_effort" in session.all_text()
    assert "session's default" not in session.all_text()
    # Cleared, the same cell works.
    session.line("config effort=default")
    session.pub.outputs.clear()
    session.cell(line, "Hi")
    assert "303" in session.all_text() and rec.bodies[-1].get("reasoning_effort") is None


def test_a_server_refusing_the_session_default_effort_names_it_too(session: Session) -> None:
    error = {"code": "x", "error": "Model grok-9 does not support parameter reasoningEffort."}
    session.use_mock(httpx.Response(400, json=error))
    session.shell.run_line_magic("config", "GrokMagics.default_effort = 'high'")
    session.cell("-m grok-9", "Hi")  # not in the catalog: sent, refused by the server mid-stream
    assert_friendly(session, "does not support parameter reasoningEffort", CONFIGURED)


def test_a_session_default_effort_is_not_blamed_for_other_errors(session: Session) -> None:
    session.use_mock(httpx.Response(503, json={"code": "x", "error": "Overloaded"}))
    session.line("config effort=high")
    session.cell("", "Hi")
    assert_friendly(session, "Overloaded")
    assert "session's default" not in session.all_text()


def test_rate_limit_says_how_often_it_was_retried(session: Session) -> None:
    limited = httpx.Response(
        429, json={"code": "x", "error": "Too many requests"}, headers={"retry-after-ms": "1"}
    )
    session.use_mock(limited, retries=2)
    session.cell("", "Hi")
    assert_friendly(session, "Rate limited (HTTP 429) after 2 retries")
    assert session.recorder is not None and len(session.recorder.requests) == 3


def test_cut_stream_keeps_partial_answer_and_explains(session: Session) -> None:
    chunks = stream_chunks(content=["partial <b>answer</b>"])[:3]
    session.use_mock(httpx.Response(200, content=sse(chunks, done=False), headers=SSE_HEADERS))
    session.cell("-o r", "Hi")
    text = assert_friendly(session, "partial &lt;b&gt;answer&lt;/b&gt;", "ended before [DONE]")
    assert "<b>answer" not in text
    assert "r" not in session.shell.user_ns


def test_a_long_cut_stream_shows_the_whole_partial_answer(
    session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The live display showed only the end; the error keeps everything that arrived."""
    content = [f"w{i} " for i in range(3_000)]
    chunks = stream_chunks(reasoning=["r" * 4_000], content=content)[:-2]
    for frontend in ("rich", "plain"):
        session.magics.frontend = frontend
        session.pub.outputs.clear()
        session.use_mock(httpx.Response(200, content=sse(chunks, done=False), headers=SSE_HEADERS))
        session.cell("--reasoning show", "Hi")
        printed = capsys.readouterr()
        shown = session.outputs[-1]["data"]["text/html"] if frontend == "rich" else printed.out
        assert "w0 w1 " in shown and "w2999 " in shown and "r" * 4_000 in shown
        assert "ended before [DONE]" in session.all_text() + printed.err


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("-t abc", "invalid float value"),
        ("--reasoning loud", "invalid choice"),
        ("--bogus", "unrecognized arguments"),
        ("-o 1x", "-o needs a variable name"),
    ],
)
def test_invalid_arguments_get_a_friendly_message(session: Session, line: str, needle: str) -> None:
    rec = session.use_mock(answer())
    session.cell(line, "Hi")
    assert rec.requests == []
    assert_friendly(session, needle)


def test_empty_cell_says_what_to_write(session: Session) -> None:
    session.use_mock(answer())
    session.cell("", "  \n ")
    assert_friendly(session, "The cell is empty")


# -- the simulator ---------------------------------------------------------------------------


def test_simulator_end_to_end_with_cache(session: Session) -> None:
    session.magics.provider = "sim"
    session.cell("-e high -o r", "What is 101*3?")
    first = session.shell.user_ns["r"]
    assert "303" in first.content and first.simulated and not first.cached
    assert first.usage.reasoning_tokens
    assert "simulated" in session.outputs[-1]["data"]["text/html"]
    session.cell("-e high -o r", "What is 101*3?")  # same request: answered from the cache
    again = session.shell.user_ns["r"]
    assert again.cached and again.content == first.content and again.billed_usd == 0.0
    assert (again.cost_usd, again.latency_s) == (first.cost_usd, first.latency_s)
    assert "cached: $0 billed now" in session.outputs[-1]["data"]["text/plain"]
    session.cell("-e high -o r --no-cache", "What is 101*3?")
    assert not session.shell.user_ns["r"].cached


def test_streamed_answers_are_cached_and_no_cache_calls_again(session: Session) -> None:
    rec = session.use_mock(answer())
    session.cell("-o r", "Hi")
    session.cell("-o r", "Hi")
    assert len(rec.requests) == 1
    assert session.shell.user_ns["r"].cached
    session.cell("--no-stream -o r", "Hi")  # the chat path finds the same cache entry
    assert len(rec.requests) == 1
    session.cell("--no-cache -o r", "Hi")
    assert len(rec.requests) == 2 and not session.shell.user_ns["r"].cached


def test_calls_are_logged_with_the_magic_tag(session: Session) -> None:
    from grokbook import store

    session.magics.provider = "sim"
    session.cell("", "What is 2+2?")
    frame = store.history(limit=5)
    assert list(frame["source"]) == ["magic"]
    assert list(frame["status"]) == ["ok"]


# -- %grok -----------------------------------------------------------------------------------


def test_models_lists_catalog_and_key_status_never_the_key(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", FAKE_KEY)
    session.line("models")
    (output,) = session.outputs
    html_doc, text = output["data"]["text/html"], output["data"]["text/plain"]
    for data in (html_doc, text):
        assert "grok-3-mini-beta" in data and "low | high" in data
        assert "none | low | medium | high" in data
        assert "xai: key set" in data and "openrouter: no key" in data
        assert FAKE_KEY not in data
    assert "<table" in html_doc and "0.075" in html_doc


def test_config_sets_shows_and_validates(session: Session) -> None:
    rec = session.use_mock(answer())
    session.line("config model=grok-3-mini-fast-beta effort=high reasoning=show")
    assert session.magics.default_model == "grok-3-mini-fast-beta"
    assert session.magics.default_effort == "high"
    assert session.magics.reasoning == "show"
    session.cell("--no-stream", "Hi")
    assert rec.bodies[-1]["model"] == "grok-3-mini-fast-beta"
    assert rec.bodies[-1]["reasoning_effort"] == "high"
    session.pub.outputs.clear()
    session.line("config")
    shown = session.outputs[0]["data"]["text/plain"]
    assert "grok-3-mini-fast-beta" in shown and "high" in shown and "show" in shown
    session.line("config effort=default provider=sim")
    assert session.magics.default_effort is None and session.magics.provider == "sim"
    session.pub.outputs.clear()
    for bad in ("reasoning=loud", "provider=nowhere", "colour=red", "model"):
        session.line(f"config {bad}")
    text = "".join(o["data"]["text/plain"] for o in session.outputs)
    assert "reasoning must be one of collapse, show, hide" in text
    assert "Unknown provider 'nowhere'" in text
    assert text.count("takes key=value pairs") == 2
    session.line("config model=grok-4.20-0309-reasoning effort=high")
    assert (
        "grok-4.20-0309-reasoning takes reasoning_effort none (leave effort unset)"
        in session.all_text()
    )


def test_usage_table_has_totals(session: Session) -> None:
    session.line("usage")
    assert "No %%grok calls yet" in session.all_text()
    rec = session.use_mock(answer())
    session.cell("--no-stream", "Hi")
    session.cell("", "Hello")
    session.cell("", "Hello")  # cached: its real cost shown, no tokens or dollars spent
    session.cell("-e medium", "Hi")  # fails before sending
    assert len(rec.requests) == 2
    session.pub.outputs.clear()
    session.line("usage")
    text = session.outputs[0]["data"]["text/plain"]
    lines = text.splitlines()
    total = next(line for line in lines if line.startswith("total"))
    assert "3 calls, 1 cached" in total and "24" in total and "620" in total and "9" in total
    assert "$0.000321" in total  # billed: the two live calls
    hit = lines[4].split()
    assert hit[-1] == "cached" and hit[-3:-1] == ["$0.000161", "$0"]  # cost, then billed
    assert "1 of 3 came from the cache" in text
    assert "1 call(s) failed" in text
    assert "<table" in session.outputs[0]["data"]["text/html"]


def test_history_shows_the_run_log(session: Session) -> None:
    session.magics.provider = "sim"
    session.cell("", "What is 6*7?")
    session.pub.outputs.clear()
    session.line("history 5")
    (output,) = session.outputs
    text = output["data"]["text/plain"]
    assert "What is 6*7?" in text and "magic" in text and " ok " in text
    assert "The 1 most recent calls" in text
    assert "What is 6*7?" in output["data"]["text/html"]
    session.cell("", "What is 6*7?")  # a cache hit is logged too
    session.pub.outputs.clear()
    session.line("history")
    # The run-log table `grokbook history` prints too: the newest row, the hit, says cached.
    newest, first = session.outputs[0]["data"]["text/plain"].splitlines()[2:4]
    assert " cached " in newest and " cached " not in first and " ok " in first
    session.line("history many")
    assert "takes a number of calls" in session.all_text()


def test_history_unavailable_is_a_friendly_message(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import grokbook.store

    monkeypatch.delattr(grokbook.store, "history")
    session.line("history")
    assert "run log is not available" in session.all_text()

    def broken(limit: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(grokbook.store, "history", broken, raising=False)
    session.line("history")
    assert "Could not read the run log (OSError: disk on fire)" in session.all_text()


def test_login_keeps_the_key_in_memory_and_never_shows_it(
    session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return FAKE_KEY

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    rec = session.use_mock(answer(), api_key=None)
    session.line("login")
    assert "XAI_API_KEY" in prompts[0] and "hidden" in prompts[0]
    assert session.magics.provider == "xai"
    session.cell("--no-stream", "Hi")
    assert rec.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    session.line("models")
    session.line("config")
    text = session.all_text() + json.dumps(capsys.readouterr())
    assert "stored in memory for this session only" in text
    assert "xai: key set" in text
    assert FAKE_KEY not in text
    assert FAKE_KEY not in json.dumps(session.shell.user_ns, default=repr)
    assert "XAI_API_KEY" not in __import__("os").environ


def test_login_edge_cases(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "xai-\u00e9t\u00e9-key")
    session.line("login")
    assert "holds a character an HTTP header cannot carry" in session.all_text()
    assert "xai-\u00e9t\u00e9-key" not in session.all_text()
    session.line("logout")
    assert "No key from %grok login to forget." in session.all_text()
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    session.line("login")
    session.line("login sim")
    session.line("login nowhere")
    text = session.all_text()
    assert "No key entered; nothing changed." in text
    assert "needs no key" in text
    assert "Unknown provider 'nowhere'" in text
    assert session.magics.provider is None


def test_unknown_and_empty_subcommands_list_the_commands(session: Session) -> None:
    session.line("")
    session.line("ask something")
    text = "".join(o["data"]["text/plain"] for o in session.outputs)
    assert text.count("%grok models | %grok config") == 2
    assert "Unknown %grok command 'ask'" in text


def test_unload_removes_the_magics() -> None:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "grokbook")
    assert "grok" in shell.magics_manager.magics["cell"]
    shell.run_line_magic("unload_ext", "grokbook")
    assert "grok" not in shell.magics_manager.magics["cell"]
    assert "grok" not in shell.magics_manager.magics["line"]
    assert not any(isinstance(c, GrokMagics) for c in shell.configurables)


def test_load_ext_is_light() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'grokbook')\n"
        "assert 'grok' in shell.magics_manager.magics['cell']\n"
        "heavy = ('pandas', 'matplotlib', 'ipywidgets', 'httpx', 'grokbook.client')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- conversations (%%grok --chat) --------------------------------------------------------------
@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_chat_cells_continue_the_notebooks_conversation(
    session: Session, monkeypatch: pytest.MonkeyPatch, wire: str
) -> None:
    monkeypatch.setenv("GROKBOOK_WIRE", wire)
    monkeypatch.setenv("GROKBOOK_MODEL", "grok-4.3")
    session.cell("--chat -e low", "What is 101*3?")
    session.cell("--chat --no-stream", "now double it")
    conversation = session.magics.conversations["default"]
    assert [t.completion.content for t in conversation.turns] == ["101 * 3 = 303", "303 * 2 = 606"]
    assert conversation.wire == wire
    session.cell("", "now double it")  # a cell without --chat stays one-shot
    assert len(conversation.turns) == 2
    assert "303 * 2 = 606" in session.all_text()
    session.cell("--chat other", "What is 2+2?")  # a second, separate conversation
    assert len(session.magics.conversations["other"].turns) == 1
    session.line("new")
    assert "default" not in session.magics.conversations
    assert "starts over (2 earlier turns kept in the run log" in session.all_text()
    session.cell("--chat", "now double it")  # a fresh conversation: no number to double
    assert len(session.magics.conversations["default"].turns) == 1
    # Saved to the run log: a restarted kernel resumes it by id.
    resumed = gb.Conversation.resume(conversation.id, client=gb.Client(provider="sim"))
    assert resumed.ask("add 10").content.endswith("616")
