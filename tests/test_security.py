"""Security: the API key never leaks, model output never runs, the simulator stays local.

The key is conftest's distinctive ``FAKE_KEY``; every place it could end up is searched for
its bytes: reprs, exception texts, warnings, DEBUG logs (grokbook, httpx, httpcore), the
SQLite store (db, wal, shm) and everything else under GROKBOOK_HOME, and a notebook executed
with nbclient against the loopback simulator and saved. Model output full of script tags,
event-handler attributes and remote images is rendered inert by every display path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import errors, render, store
from grokbook._store_codec import unpack
from grokbook.sim import SimServer, serve_in_background

from .conftest import FAKE_KEY, chat_body, sse, stream_chunks
from .test_render import IMG, MD_IMAGE, SCRIPT, assert_inert, parsed_tags

pytestmark = pytest.mark.timeout(90)

SSE_HEADERS = {"content-type": "text/event-stream"}
EVIL = (
    f'Hi {SCRIPT} {IMG} {MD_IMAGE} <a href="javascript:alert(1)">x</a> '
    '<div onmouseover="alert(2)">hover</div> [click](javascript:alert(3)) '
    "<iframe src=https://evil.example></iframe> <svg onload=alert(4)></svg> end"
)


def echo_handler(request: httpx.Request) -> httpx.Response:
    """A hostile server: echoes the Authorization header into errors and into answers."""
    auth = request.headers.get("authorization", "")
    body = json.loads(request.content) if request.content else {}
    prompt = body.get("messages", [{}])[-1].get("content", "")
    if "fail" in prompt:
        return httpx.Response(
            400,
            json={"code": "Client specified an invalid argument", "error": f"Bad key: {auth}"},
            headers={"x-request-id": "req-1"},
        )
    if "html" in prompt:
        return httpx.Response(502, text=f"<html><body>proxy saw {auth}</body></html>")
    if "notjson" in prompt:
        return httpx.Response(200, text=f"oops {auth}")
    if body.get("stream"):
        chunks = stream_chunks(reasoning=[f"thinking {auth}"], content=["echo ", auth])
        return httpx.Response(200, content=sse(chunks), headers=SSE_HEADERS)
    return httpx.Response(200, json=chat_body(content=f"echo {auth}", reasoning=f"r {auth}"))


def exercise(client: gb.Client) -> list[BaseException]:
    """A successful call, a stream and three failures; returns the exceptions raised."""
    # The hostile server did echo it; it was redacted as the answer arrived (issue 22 item 7).
    assert client.chat("hello").content == "echo Bearer [redacted]"
    list(client.stream("hello"))
    raised: list[BaseException] = []
    for prompt in ("please fail", "html page", "notjson"):
        with pytest.raises(errors.APIError) as info:
            client.chat(prompt)
        raised.append(info.value)
    return raised


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# -- reprs, exception texts --------------------------------------------------------------------
def test_key_not_in_reprs_or_exception_texts() -> None:
    client = gb.Client(
        provider="xai", wire="chat", api_key=FAKE_KEY, transport=httpx.MockTransport(echo_handler)
    )
    aclient = gb.AsyncClient(provider="xai", wire="chat", api_key=FAKE_KEY)
    for obj in (client, aclient, client.stream("hello"), client.provider):
        assert FAKE_KEY not in repr(obj) and FAKE_KEY not in str(obj)
    raised = exercise(client)
    assert {type(e) for e in raised} == {
        errors.BadRequestError,
        errors.InternalServerError,
        errors.ResponseParseError,
    }
    for exc in raised:
        texts = [str(exc), repr(exc), render.error_message(exc)]
        # (ResponseParseError.snippet still quotes the raw body: see the report of issue 9.)
        texts += [str(getattr(exc, name, "")) for name in ("server_message", "body")]
        for text in texts:
            assert FAKE_KEY not in text, (type(exc).__name__, text)
    assert "[redacted]" in str(raised[0])  # redacted, not dropped: the user sees what happened


def test_key_not_in_missing_key_or_connection_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.MissingAPIKeyError) as missing:
        gb.Client(provider="xai", wire="chat")
    assert FAKE_KEY not in str(missing.value)
    # A connection error quoting the URL (a key pasted into the base URL by mistake).
    client = gb.Client(
        provider="xai",
        wire="chat",
        api_key=FAKE_KEY,
        base_url=f"http://127.0.0.1:9/v1/{FAKE_KEY}",
        timeout=0.5,
        max_retries=0,
    )
    with pytest.raises(errors.APIConnectionError) as info:
        client.chat("hi")
    assert FAKE_KEY not in str(info.value) and FAKE_KEY not in repr(info.value)


# -- warnings and DEBUG logs -------------------------------------------------------------------
def test_key_not_in_warnings_or_debug_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("grokbook", "httpx", "httpcore", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Over real sockets, so httpcore's connection and request logging runs too.
        with serve_in_background(latency="none", faults=["503", "ok"]) as server:
            client = gb.Client(
                provider="xai", wire="chat", api_key=FAKE_KEY, base_url=server.base_url
            )
            assert "303" in client.chat("What is 101*3?").content  # after one retry
            list(client.stream("What is 101*3?"))
            client.close()

            async def run_async() -> None:
                async with gb.AsyncClient(
                    provider="xai", wire="chat", api_key=FAKE_KEY, base_url=server.base_url
                ) as aclient:
                    await aclient.chat("What is 2+2?")

            asyncio.run(run_async())
        exercise(
            gb.Client(
                provider="xai",
                wire="chat",
                api_key=FAKE_KEY,
                transport=httpx.MockTransport(echo_handler),
            )
        )
        # A store that cannot be opened warns (and the call still works).
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("x")
        monkeypatch.setenv("GROKBOOK_HOME", str(blocker / "home"))
        store.reset()
        hostile = gb.Client(
            provider="xai",
            wire="chat",
            api_key=FAKE_KEY,
            transport=httpx.MockTransport(echo_handler),
        )
        assert hostile.chat("hello again", cache=True).content == "echo Bearer [redacted]"
    store.reset()
    assert any(issubclass(w.category, store.StoreWarning) for w in caught)
    for warning in caught:
        assert FAKE_KEY not in str(warning.message), warning
    loggers = {record.name for record in caplog.records}
    assert {"httpx", "grokbook"} <= loggers and any(n.startswith("httpcore") for n in loggers)
    assert FAKE_KEY not in caplog.text
    for record in caplog.records:
        assert FAKE_KEY not in record.getMessage()
        assert FAKE_KEY not in repr(record.args)


# -- the store: db, wal, shm, cache ------------------------------------------------------------
def test_key_not_in_store_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "store-home"
    monkeypatch.setenv("GROKBOOK_HOME", str(home))
    store.reset()
    try:
        client = gb.Client(
            provider="xai",
            wire="chat",
            api_key=FAKE_KEY,
            transport=httpx.MockTransport(echo_handler),
        )
        exercise(client)
        # Cached calls, one with the key pasted into the prompt and the system prompt.
        client.chat(f"my key is {FAKE_KEY}", system=f"key {FAKE_KEY}", cache=True, seed=1)
        # Cache hits right after the call: served from the entries still pending in memory
        # (the writer has not committed them yet), which hold the answer as the server sent it.
        for i in range(5):
            client.chat(f"hello cache {i}", cache=True)
            assert client.chat(f"hello cache {i}", cache=True).cached
        store.flush()
        # Read the files while the connection is open: the -wal and -shm files exist now.
        names = {p.name for p in files_under(home)}
        assert {"grokbook.db", "grokbook.db-wal", "grokbook.db-shm"} <= names, names
        for path in files_under(home):
            assert FAKE_KEY.encode() not in path.read_bytes(), path
        history = gb.history()
        assert len(history) == 16 and (history["status"] == "error").sum() == 3
        assert FAKE_KEY not in history.to_json(date_format="iso")
        # The rows are there, redacted, not dropped.
        with sqlite3.connect(home / "grokbook.db") as conn:
            answers = [row[0] for row in conn.execute("SELECT answer FROM calls")]
            cached = [row[0] for row in conn.execute("SELECT completion FROM cache")]
        assert any("[redacted]" in (a or "") for a in answers)
        # Entries are compressed: a byte scan cannot see inside them, so decode each one.
        assert len(cached) == 6
        assert all(FAKE_KEY not in json.dumps(unpack(c)) for c in cached)
    finally:
        store.reset()
    for path in files_under(home):  # after checkpoint and close, too
        assert FAKE_KEY.encode() not in path.read_bytes(), path


# -- a notebook run with nbclient and saved ----------------------------------------------------
def test_key_not_in_an_executed_saved_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "%load_ext grokbook",
        "%%grok --no-cache\nWhat is 101*3?",
        "%%grok --no-cache -m grok-no-such-model\nWhat is 2+2?",
        "%%grok --no-cache --no-stream -e high\nWhat is 7*8?",
        "import grokbook as gb\nclient = gb.Client()\nclient",
        "client.chat('What is 1+1?')",
        "client.chat('Hi', model='grok-no-such-model')",  # raises: a traceback is saved
        "%grok usage",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    home = tmp_path / "nb-home"
    with serve_in_background(latency="none", require_key=FAKE_KEY) as server:
        monkeypatch.setenv("XAI_API_KEY", FAKE_KEY)
        monkeypatch.setenv("GROKBOOK_PROVIDER", "xai")
        monkeypatch.setenv("GROKBOOK_BASE_URL", server.base_url)
        monkeypatch.setenv("GROKBOOK_HOME", str(home))
        NotebookClient(
            nb,
            timeout=60,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()
        served = server.requests_served
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    text = path.read_text()
    outputs = [json.dumps(cell.get("outputs", [])) for cell in nb.cells]
    # The key was really used: the server insists on it, and the answers came back.
    assert served >= 5
    assert "303" in outputs[1] and "56" in outputs[3] and "1 + 1 = 2" in outputs[5]
    assert "grokbook-error" in outputs[2] and "grok-no-such-model" in outputs[2]
    assert "NotFoundError" in outputs[6]
    assert "api_key=set" in outputs[4]
    assert FAKE_KEY not in text
    for stored in files_under(home):
        assert FAKE_KEY.encode() not in stored.read_bytes(), stored


# -- model output is inert in every display path -----------------------------------------------
def evil_handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if "error please" in body["messages"][-1]["content"]:
        return httpx.Response(400, json={"code": "bad", "error": f"Model says {EVIL}"})
    if body.get("stream"):
        chunks = stream_chunks(reasoning=[EVIL[:30], EVIL[30:]], content=[EVIL[:50], EVIL[50:]])
        return httpx.Response(200, content=sse(chunks), headers=SSE_HEADERS)
    return httpx.Response(200, json=chat_body(content=EVIL, reasoning=EVIL, model=body["model"]))


def assert_html_inert(html_text: str) -> None:
    """What a browser would build from ``html_text`` runs nothing and loads nothing."""
    lowered = html_text.lower()
    for tag in ("<script", "<img", "<iframe", "<svg", "<object", "<embed"):
        assert tag not in lowered, tag
    for tag, attrs in parsed_tags(html_text):
        assert tag not in ("script", "img", "iframe", "svg", "object", "embed"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
        for value in attrs.values():
            assert "javascript:" not in (value or "").lower(), (tag, attrs)


def test_completion_repr_is_inert_in_every_reasoning_mode() -> None:
    client = gb.Client(
        provider="xai",
        wire="chat",
        api_key="xai-evil-test-key",  # a key the evil text does not contain (it is redacted)
        transport=httpx.MockTransport(evil_handler),
    )
    completion = client.chat("hi")
    assert completion.content == EVIL  # the raw text is kept as sent
    bundle = completion._repr_mimebundle_()
    assert_inert(bundle)
    assert_html_inert(bundle["text/html"])
    for mode in render.REASONING_MODES:
        mode_bundle = render.completion_bundle(completion, reasoning=mode)
        assert_inert(mode_bundle)
        assert_html_inert(mode_bundle["text/html"])
    streamed = client.stream("hi").until_done()
    assert_inert(streamed._repr_mimebundle_())


@pytest.fixture
def session(grok_shell: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
    _, magics, _ = grok_shell
    magics.update_interval = 0.0  # redraw on every chunk: every intermediate state is checked
    magics.client_factory = lambda provider, key: gb.Client(
        provider="xai",
        wire="chat",
        api_key="k",
        transport=httpx.MockTransport(evil_handler),
        max_retries=0,
    )
    return grok_shell


def test_magic_output_is_inert_streamed_whole_errors_and_tables(session: Any) -> None:
    shell, magics, pub = session
    shell.run_cell_magic("grok", "--reasoning show", f"Tell me {SCRIPT}")
    shell.run_cell_magic("grok", "--no-stream --reasoning show", "Tell me again")
    shell.run_cell_magic("grok", "--no-stream --no-cache", "error please")
    shell.run_cell_magic("grok", "--no-cache", "error please")
    shell.run_line_magic("grok", "usage")
    shell.run_line_magic("grok", "history")
    assert len(magics.calls) == 2 and len(magics.failures) == 2
    outputs = pub.outputs
    assert len(outputs) > 10  # streamed updates included
    errors_seen = 0
    for output in outputs:
        data = output["data"]
        html_text = data.get("text/html", "")
        assert_html_inert(html_text)
        if "grokbook-error" in html_text:
            errors_seen += 1  # an error box is HTML only: the model's text in it is escaped
        elif "grokbook-table" in html_text:
            continue  # %grok usage / history: checked as HTML above
        elif html_text:
            assert_inert(data)  # answers: no live Markdown image in any mimetype either
    assert errors_seen == 2
    everything = json.dumps(outputs)
    assert "&lt;script&gt;" in everything  # shown as text, escaped


async def test_widget_outputs_are_inert() -> None:
    from grokbook.widgets import EffortComparer, Playground

    client = gb.AsyncClient(
        provider="xai", wire="chat", api_key="k", transport=httpx.MockTransport(evil_handler)
    )
    playground = Playground("hi", client=client, reasoning="show")
    seen: list[str] = []
    playground.output.observe(lambda change: seen.append(change["new"]), names="value")
    assert await playground.run() is not None
    error_pg = Playground("error please", client=client)
    error_pg.output.observe(lambda change: seen.append(change["new"]), names="value")
    assert await error_pg.run() is None
    comparer = EffortComparer("hi", model="grok-3-mini-beta", repeats=1, client=client)
    frame = await comparer.run()
    assert frame is not None and (frame["status"] == "ok").all()
    seen += [comparer.answers.value, comparer.table.value, comparer.message.value]
    assert len(seen) >= 4 and any("&lt;script&gt;" in value for value in seen)
    for value in seen:
        assert_html_inert(value)


# -- the simulator stays on this machine -------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_simulator_refuses_non_loopback_without_the_flag(host: str) -> None:
    with pytest.raises(errors.UnsupportedParameterError, match="allow_remote"):
        SimServer(host, 0)
    with pytest.raises(errors.UnsupportedParameterError, match="allow-remote"):
        serve_in_background(0, host)


def test_simulator_binds_loopback_by_default_and_remote_only_when_asked() -> None:
    with serve_in_background() as server:
        assert server.host == "127.0.0.1"
        assert server.base_url.startswith("http://127.0.0.1:")
    for host in ("localhost", "127.0.0.2"):
        local = SimServer(host, 0)
        local.stop()
    remote = SimServer("0.0.0.0", 0, allow_remote=True)  # bound, never started
    try:
        assert remote.port > 0
    finally:
        remote.stop()


# == The key never appears in an error, on any path: one table over every error class =======
# == (both wires, sync and async, streamed and not; issue 13) ================================
def _error_json(status: int) -> Any:
    return lambda wire: httpx.Response(status, json={"error": {"message": f"bad key {FAKE_KEY}"}})


def _stream_error(wire: str) -> httpx.Response:
    if wire == "responses":
        events = [
            {"type": "response.created", "response": {"id": "r", "status": "in_progress"}},
            {"type": "response.output_text.delta", "delta": "partial "},
            {"type": "error", "code": "server_error", "message": f"boom for {FAKE_KEY}"},
        ]
        body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    else:
        chunks = [*stream_chunks()[:3], {"error": {"message": f"boom for {FAKE_KEY}"}}]
        body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return httpx.Response(200, content=body.encode(), headers=SSE_HEADERS)


def _stream_junk(wire: str) -> httpx.Response:
    return httpx.Response(200, content=f"data: oops {FAKE_KEY}\n\n".encode(), headers=SSE_HEADERS)


def _transport_error(wire: str) -> httpx.Response:
    raise httpx.ConnectError(f"proxy refused Authorization: Bearer {FAKE_KEY}")


LEAKS: dict[str, tuple[Any, type[errors.APIError]]] = {
    "400 json": (_error_json(400), errors.BadRequestError),
    "401 json": (_error_json(401), errors.AuthenticationError),
    "403 json": (_error_json(403), errors.PermissionDeniedError),
    "404 json": (_error_json(404), errors.NotFoundError),
    "422 json": (_error_json(422), errors.UnprocessableEntityError),
    "429 json": (_error_json(429), errors.RateLimitError),
    "500 json": (_error_json(500), errors.InternalServerError),
    "400 text": (lambda w: httpx.Response(400, text=f"no {FAKE_KEY}"), errors.BadRequestError),
    "502 html": (
        lambda w: httpx.Response(502, text=f"<html><p>saw {FAKE_KEY}</p></html>"),
        errors.InternalServerError,
    ),
    "400 nested": (
        lambda w: httpx.Response(400, text=f'["{FAKE_KEY}", ' + "[" * 50_000 + "]" * 50_000 + "]"),
        errors.ResponseParseError,
    ),
    "200 error body": (
        lambda w: httpx.Response(200, json={"error": f"invalid key {FAKE_KEY}"}),
        errors.APIStatusError,
    ),
    "200 wrong shape": (
        lambda w: httpx.Response(200, json={"unexpected": FAKE_KEY}),
        errors.ResponseParseError,
    ),
    "200 not json": (
        lambda w: httpx.Response(200, text=f"oops {FAKE_KEY}"),
        errors.ResponseParseError,
    ),
    "transport error": (_transport_error, errors.APIConnectionError),
    "error event mid-stream": (_stream_error, errors.IncompleteStreamError),
    "junk event": (_stream_junk, errors.StreamParseError),
}
_STREAM_ONLY = {"error event mid-stream", "junk event"}


def _texts_of(exc: BaseException) -> list[str]:
    """Everything a user or a log can see of an error: str, repr, every attribute, the
    formatted traceback with its causes, and grokbook's one-line message."""
    import traceback

    texts = [str(exc), repr(exc), render.error_message(exc)]
    texts += ["".join(traceback.format_exception(exc))]
    for value in vars(exc).values():
        texts.append(json.dumps(value, default=repr))
    return texts


def _call(mode: str, streamed: bool, wire: str, handler: Any) -> BaseException:
    settings: dict[str, Any] = {
        "provider": "xai",
        "api_key": FAKE_KEY,
        "wire": wire,
        "max_retries": 0,
        "transport": httpx.MockTransport(lambda request: handler(wire)),
    }
    if mode == "sync":
        with gb.Client(**settings) as client, pytest.raises(errors.APIError) as info:
            if streamed:
                with client.stream("hi") as stream:
                    stream.until_done()
            else:
                client.chat("hi")
        return info.value

    async def run() -> BaseException:
        async with gb.AsyncClient(**settings) as client:
            with pytest.raises(errors.APIError) as info:
                if streamed:
                    async with client.stream("hi") as stream:
                        await stream.until_done()
                else:
                    await client.chat("hi")
            return info.value

    return asyncio.run(run())


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("wire", ["responses", "chat"])
@pytest.mark.parametrize("name", list(LEAKS))
def test_key_in_a_hostile_answer_never_reaches_an_error(
    name: str, wire: str, mode: str, streamed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, expected = LEAKS[name]
    if name in _STREAM_ONLY and not streamed:
        streamed = True
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path))
    store.reset()
    exc = _call(mode, streamed, wire, handler)
    assert isinstance(exc, expected), repr(exc)
    for text in _texts_of(exc):
        assert FAKE_KEY not in text, (type(exc).__name__, text[:300])
    assert errors.REDACTED in str(exc) + json.dumps(vars(exc), default=repr)  # said, not dropped
    db = store.get_store()
    assert db is not None and db.flush()
    everything = b"".join(p.read_bytes() for p in files_under(tmp_path))
    assert FAKE_KEY.encode() not in everything
    store.reset()


def test_a_sweeps_error_column_never_holds_the_key() -> None:
    handlers = [LEAKS[name][0] for name in LEAKS if name not in _STREAM_ONLY]

    def route(request: httpx.Request) -> httpx.Response:
        index = int(json.loads(request.content)["input"][-1]["content"])
        return handlers[index]("responses")  # type: ignore[no-any-return]

    client = gb.AsyncClient(
        provider="xai", api_key=FAKE_KEY, max_retries=0, transport=httpx.MockTransport(route)
    )
    prompts = [str(i) for i in range(len(handlers))]
    df = gb.sweep(prompts, models=["grok-4.3"], efforts=["low"], client=client, progress=False)
    assert len(df) == len(handlers) and set(df["status"]) == {"error"}
    assert FAKE_KEY not in df.to_csv()
    assert df["error"].str.contains(errors.REDACTED, regex=False).sum() >= len(handlers) - 3


# -- a pasted key: cleaned, or refused without echoing it ------------------------------------
@pytest.mark.parametrize("cls", [gb.Client, gb.AsyncClient])
@pytest.mark.parametrize("pasted", [f"{FAKE_KEY}\n", f"  {FAKE_KEY}  ", f"\t{FAKE_KEY}\r\n"])
def test_a_pasted_key_with_whitespace_is_cleaned(cls: Any, pasted: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=chat_body())

    settings = {"provider": "xai", "wire": "chat", "transport": httpx.MockTransport(handler)}
    if cls is gb.Client:
        cls(api_key=pasted, **settings).chat("hi")
    else:
        asyncio.run(cls(api_key=pasted, **settings).chat("hi"))
    assert seen == [f"Bearer {FAKE_KEY}"]


@pytest.mark.parametrize("cls", [gb.Client, gb.AsyncClient])
@pytest.mark.parametrize("where", ["argument", "environment"])
@pytest.mark.parametrize(
    "bad", [f"{FAKE_KEY}é", f"{FAKE_KEY[:8]}\u200b{FAKE_KEY[8:]}", "ключ" + FAKE_KEY]
)
def test_a_key_that_cannot_be_sent_is_refused_without_echoing_it(
    cls: Any, where: str, bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where == "environment":
        monkeypatch.setenv("XAI_API_KEY", bad)
        settings: dict[str, Any] = {}
    else:
        settings = {"api_key": bad}
    with pytest.raises(errors.UnsupportedParameterError) as info:
        cls(provider="xai", **settings)
    for text in _texts_of(info.value):
        assert FAKE_KEY not in text and FAKE_KEY[:8] not in text


# -- verbose tracebacks hold no key -----------------------------------------------------------
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("failure", ["401", "echo in a 500", "connection refused"])
def test_a_verbose_traceback_in_a_real_shell_shows_no_key(
    grok_shell: Any, capsys: pytest.CaptureFixture[str], mode: str, failure: str
) -> None:
    shell, _, _ = grok_shell
    handlers = {
        "401": lambda request: httpx.Response(401, json={"error": "no"}),
        "echo in a 500": lambda request: httpx.Response(500, text=request.headers["authorization"]),
        "connection refused": lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused")),
    }
    shell.user_ns.update(gb=gb, httpx=httpx, transport=httpx.MockTransport(handlers[failure]))
    shell.run_line_magic("xmode", "verbose")
    try:
        api_key = FAKE_KEY  # noqa: F841 - as a user's notebook would hold it
        shell.user_ns["key"] = FAKE_KEY
        if mode == "sync":
            cell = (
                "client = gb.Client(provider='xai', api_key=key, transport=transport, "
                "max_retries=0)\n"
                "client.chat('hi')\n"
            )
        else:
            cell = (
                "client = gb.AsyncClient(provider='xai', api_key=key, transport=transport, "
                "max_retries=0)\nawait client.chat('hi')\n"
            )
        capsys.readouterr()
        result = shell.run_cell(cell)
        assert isinstance(result.error_in_exec, errors.APIError)
        shown = capsys.readouterr()
        text = shown.out + shown.err
        assert "Traceback" in text or "APIError" in text or "Error" in text
        # Every grokbook frame's locals are printed: none holds the key in plain text.
        grokbook_part = text[text.find("grokbook") :]
        assert FAKE_KEY not in grokbook_part, grokbook_part[:2000]
    finally:
        shell.run_line_magic("xmode", "context")
        for name in ("client", "key", "transport", "gb", "httpx"):
            shell.user_ns.pop(name, None)


# ================================================================================================
# -- ONE TABLE: an echoed key and terminal control sequences, on every display path --------------
# (issue 13 items 9 and 13) A hostile server echoes the API key into the answer and into the
# reasoning (split across stream chunks) next to terminal escape sequences. Every display path
# shows the key redacted; the terminal paths show no escape sequence or control character.
# ================================================================================================
TERMINAL_ATTACK = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\r\x08"


def key_echoing_handler(request: httpx.Request) -> httpx.Response:
    key = request.headers["authorization"].removeprefix("Bearer ")
    body = json.loads(request.content)
    if body.get("stream"):
        chunks = stream_chunks(
            reasoning=[
                "thinking ",
                key[:9],
                f"{key[9:]} {TERMINAL_ATTACK[:7]}",
                TERMINAL_ATTACK[7:],
            ],
            content=["echo ", key[:5], f"{key[5:]} ", TERMINAL_ATTACK[:4], TERMINAL_ATTACK[4:]],
            model=body["model"],
        )
        return httpx.Response(200, content=sse(chunks), headers=SSE_HEADERS)
    return httpx.Response(
        200,
        json=chat_body(
            content=f"echo {key} {TERMINAL_ATTACK}",
            reasoning=f"thinking {key} {TERMINAL_ATTACK}",
            model=body["model"],
        ),
    )


def hostile_client() -> gb.Client:
    return gb.Client(
        provider="xai",
        wire="chat",
        api_key=FAKE_KEY,
        transport=httpx.MockTransport(key_echoing_handler),
        max_retries=0,
    )


def hostile_async_client() -> gb.AsyncClient:
    return gb.AsyncClient(
        provider="xai",
        wire="chat",
        api_key=FAKE_KEY,
        transport=httpx.MockTransport(key_echoing_handler),
        max_retries=0,
    )


def _magic(shell_parts: tuple[Any, Any, Any], frontend: str, line: str, capsys: Any) -> str:
    shell, magics, pub = shell_parts
    magics.frontend = frontend
    magics.update_interval = 0.0  # every intermediate state is published and checked
    magics.client_factory = lambda provider, key: hostile_client()
    shell.run_cell_magic("grok", f"-m grok-3-mini-beta --reasoning show --no-cache {line}", "Hi")
    printed = capsys.readouterr()
    assert magics.calls, "the call failed"
    return json.dumps(pub.outputs, ensure_ascii=False) + printed.out + printed.err


async def _playground(_: Any, __: Any) -> str:
    from grokbook.widgets import Playground

    playground = Playground(
        "Hi", model="grok-3-mini-beta", reasoning="show", client=hostile_async_client()
    )
    seen: list[str] = []
    playground.output.observe(lambda change: seen.append(change["new"]), names="value")
    assert await playground.run() is not None
    return "\n".join(seen)


async def _comparer(_: Any, __: Any) -> str:
    from grokbook.widgets import EffortComparer

    comparer = EffortComparer(
        "Hi", model="grok-3-mini-beta", repeats=1, client=hostile_async_client(), cache=False
    )
    frame = await comparer.run()
    assert frame is not None and (frame["status"] == "ok").all()
    return comparer.answers.value + comparer.message.value


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> str:
    from grokbook import cli

    class Hostile(gb.Client):
        def __init__(self, **_: Any) -> None:
            super().__init__(
                provider="xai",
                wire="chat",
                api_key=FAKE_KEY,
                transport=httpx.MockTransport(key_echoing_handler),
                max_retries=0,
            )

    monkeypatch.setattr("grokbook.client.Client", Hostile)
    assert cli.main(["ask", "Hi", "-m", "grok-3-mini-beta", *argv]) == 0
    printed = capsys.readouterr()
    return printed.out + printed.err


# path -> (how to run it, whether it is a terminal, whether it shows the reasoning)
DISPLAY_PATHS: dict[str, tuple[Any, bool, bool]] = {
    "%%grok rich, streamed": (lambda s, m, c: _magic(s, "rich", "", c), False, True),
    "%%grok rich, whole": (lambda s, m, c: _magic(s, "rich", "--no-stream", c), False, True),
    "%%grok plain, streamed": (lambda s, m, c: _magic(s, "plain", "", c), True, True),
    "%%grok plain, whole": (lambda s, m, c: _magic(s, "plain", "--no-stream", c), True, True),
    "Playground": (lambda s, m, c: _playground(m, c), False, True),
    "EffortComparer": (lambda s, m, c: _comparer(m, c), False, False),
    "grokbook ask, streamed": (lambda s, m, c: _cli([], m, c), True, True),
    "grokbook ask --no-stream": (lambda s, m, c: _cli(["--no-stream"], m, c), True, True),
}


@pytest.mark.parametrize("path", list(DISPLAY_PATHS))
async def test_every_display_path_redacts_an_echoed_key_and_strips_terminal_sequences(
    path: str,
    grok_shell: tuple[Any, Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run, terminal, shows_reasoning = DISPLAY_PATHS[path]
    shown = run(grok_shell, monkeypatch, capsys)
    if asyncio.iscoroutine(shown):
        shown = await shown
    assert FAKE_KEY not in shown
    for piece in (FAKE_KEY[:12], FAKE_KEY[-12:]):  # no half of it either (split chunks)
        assert piece not in shown, piece
    assert "echo [redacted]" in shown  # the echo arrived, redacted
    if shows_reasoning:
        assert "thinking [redacted]" in shown
    if terminal:
        for banned in ("\x1b", "\x07", "\x08", "\r", "pwned", "[2J", "[31m"):
            assert banned not in shown, repr(banned)
        assert "red" in shown  # the text between the sequences stays
