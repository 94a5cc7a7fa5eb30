"""A key echoed by a server is redacted where the response enters grokbook, and no grokbook
frame shows the key in a verbose traceback (issue 22 items 7 and 8).

A hostile server puts the caller's key into every text field a response can carry, on both
wires, whole and split across stream events, once spelled with a JSON ``\\u`` escape: the
answer, the reasoning (text and summary), a tool call's arguments, a citation, an id, a
server-side tool call, the encrypted reasoning. Every surface that shows a Completion, a
stream's events, a partial answer, a conversation, a usage frame or a sweep shows it
redacted, including cells executed in a real IPython shell. ``%xmode verbose`` prints every
grokbook frame's locals: none holds the key, whether it came as ``api_key=``, from the
environment, or echoed by the server into a body, a stream chunk or an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import errors

from .conftest import FAKE_KEY
from .test_wires import CHAT_USAGE, RESPONSES_USAGE

pytestmark = pytest.mark.timeout(120)

SSE = {"content-type": "text/event-stream"}
#: Pieces of the key a display must not show either (a key cut in two by a stream).
KEY_PIECES = (FAKE_KEY, FAKE_KEY[:12], FAKE_KEY[-12:])


def assert_key_free(text: str, where: str = "") -> None:
    for piece in KEY_PIECES:
        assert piece not in text, (where, piece, text[max(0, text.find(piece) - 200) :][:400])


def escaped(key: str) -> str:
    """``key`` spelled with a JSON escape for its first character (as JSON text)."""
    return f"\\u{ord(key[0]):04x}{key[1:]}"


# -- the hostile server -----------------------------------------------------------------------
def _responses_body(key: str) -> dict[str, Any]:
    return {
        "id": f"resp_{key}",
        "object": "response",
        "model": "grok-4.3",
        "status": "completed",
        "output": [
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": f"thinking {key}"}],
                "encrypted_content": f"blob {key}",
            },
            {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"q": key}},
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "content": [
                    {
                        "type": "output_text",
                        "text": f"echo {key} done",
                        "annotations": [{"type": "url_citation", "url": f"https://x.example/{key}"}],
                    }
                ],
            },
            {"type": "function_call", "call_id": "c1", "name": "look",
             "arguments": f'{{"k": "{key}"}}'},
        ],
        "usage": RESPONSES_USAGE,
    }  # fmt: skip


def _responses_events(key: str) -> list[dict[str, Any]]:
    body = _responses_body(key)
    reasoning, search, message, call = body["output"]
    events = [
        {"type": "response.created", "response": {"id": body["id"], "status": "in_progress"}},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 0,
         "delta": "thinking "},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 0,
         "delta": key[:9]},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "summary_index": 0,
         "delta": key[9:]},
        {"type": "response.output_item.done", "item": reasoning},
        {"type": "response.output_item.done", "item": search},
        {"type": "response.output_text.delta", "delta": "echo "},
        {"type": "response.output_text.delta", "delta": key[:5]},
        {"type": "response.output_text.delta", "delta": key[5:20]},
        {"type": "response.output_text.delta", "delta": key[20:] + " done"},
        {"type": "response.output_text.annotation.added",
         "annotation": {"type": "url_citation", "url": f"https://x.example/{key}"}},
        {"type": "response.output_item.done", "item": message},
        {"type": "response.output_item.done", "item": call},
        {"type": "response.completed", "response": body},
    ]  # fmt: skip
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def _chat_body(key: str) -> dict[str, Any]:
    return {
        "id": f"chat_{key}",
        "object": "chat.completion",
        "model": "grok-3-mini-beta",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": f"echo {key} done",
                    "reasoning_content": f"thinking {key}",
                    "tool_calls": [
                        {"id": "c1", "type": "function",
                         "function": {"name": "look", "arguments": f'{{"k": "{key}"}}'}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "citations": [f"https://x.example/{key}"],
        "usage": CHAT_USAGE,
    }  # fmt: skip


def _chat_chunks(key: str) -> list[dict[str, Any]]:
    base = {"id": f"chat_{key}", "object": "chat.completion.chunk", "model": "grok-3-mini-beta"}

    def delta(**fields: Any) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": fields}]}

    return [
        delta(role="assistant", reasoning_content="thinking "),
        delta(reasoning_content=key[:9]),
        delta(reasoning_content=key[9:]),
        delta(content="echo "),
        delta(content=key[:5]),
        delta(content=key[5:20]),
        delta(content=key[20:] + " done"),
        delta(tool_calls=[{"index": 0, "id": "c1",
                           "function": {"name": "look", "arguments": '{"k": "' + key[:7]}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": key[7:] + '"}'}}]),
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
         "citations": [f"https://x.example/{key}"]},
        {**base, "choices": [], "usage": CHAT_USAGE},
    ]  # fmt: skip


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body sent as these network chunks (for the sync and the async client alike)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Any:
        yield from self.chunks

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk


def _escape_one(raw: str, key: str) -> str:
    """The citation's key spelled with a JSON escape: a byte scan cannot see it."""
    return raw.replace(f"x.example/{key}", f"x.example/{escaped(key)}", 1)


def echoing_handler(
    request: httpx.Request, *, cut_after: int | None = None, chunk_bytes: int | None = None
) -> httpx.Response:
    """Answers with the caller's key in every field; ``cut_after``: the stream ends after
    that many events, without its terminal one; ``chunk_bytes``: the stream arrives in
    network chunks of that many bytes (cutting events, and keys, anywhere)."""
    key = request.headers["authorization"].removeprefix("Bearer ")
    body = json.loads(request.content)
    responses = request.url.path.endswith("/responses")
    if not body.get("stream"):
        data = _responses_body(key) if responses else _chat_body(key)
        raw = _escape_one(json.dumps(data), key)
        return httpx.Response(
            200, content=raw.encode(), headers={"content-type": "application/json"}
        )
    events: list[Any] = _responses_events(key) if responses else _chat_chunks(key)
    events = events[:cut_after] if cut_after is not None else events
    lines = [f"data: {_escape_one(json.dumps(e), key)}\n\n" for e in events]
    if not responses and cut_after is None:
        lines.append("data: [DONE]\n\n")
    chunks = [line.encode() for line in lines]  # one event per chunk, as servers flush them
    if chunk_bytes is not None:
        whole = b"".join(chunks)
        chunks = [whole[i : i + chunk_bytes] for i in range(0, len(whole), chunk_bytes)]
    return httpx.Response(200, stream=Chunks(chunks), headers=SSE)


def _settings(wire: str, **handler: Any) -> dict[str, Any]:
    return {
        "provider": "xai",
        "api_key": FAKE_KEY,
        "wire": wire,
        "max_retries": 0,
        "transport": httpx.MockTransport(lambda request: echoing_handler(request, **handler)),
    }


def call(
    wire: str, mode: str, streamed: bool, **handler: Any
) -> tuple[list[gb.StreamEvent], gb.Completion | BaseException]:
    events: list[gb.StreamEvent] = []
    settings = _settings(wire, **handler)
    if mode == "sync":
        with gb.Client(**settings) as client:
            try:
                if not streamed:
                    return events, client.chat("hi")
                with client.stream("hi") as stream:
                    events.extend(stream)
                return events, stream.completion
            except errors.APIError as exc:
                return events, exc

    async def run() -> gb.Completion | BaseException:
        async with gb.AsyncClient(**settings) as client:
            try:
                if not streamed:
                    return await client.chat("hi")
                async with client.stream("hi") as stream:
                    events.extend([event async for event in stream])
                return stream.completion
            except errors.APIError as exc:
                return exc

    return events, asyncio.run(run())


def completion_surfaces(completion: gb.Completion) -> dict[str, str]:
    """Every way a Completion can be shown or saved."""
    return {
        "repr": repr(completion),
        "str": str(completion),
        "to_dict": json.dumps(completion.to_dict(), default=repr),
        "raw": json.dumps(completion.raw, default=repr),
        "display": json.dumps(completion._repr_mimebundle_()),
        "tool_calls": repr(completion.tool_calls),
        "citations": repr(completion.citations),
        "reasoning_items": repr(completion.reasoning_items),
        "server_tool_calls": repr(completion.server_tool_calls),
        "usage_frame": gb.usage_frame([completion]).to_csv(),
    }


CASES = [
    (wire, mode, streamed)
    for wire in ("responses", "chat")
    for mode in ("sync", "async")
    for streamed in (False, True)
]


# == item 7: redacted where the response enters =============================================
@pytest.mark.parametrize(("wire", "mode", "streamed"), CASES)
def test_every_field_of_a_completion_holds_an_echoed_key_redacted(
    wire: str, mode: str, streamed: bool
) -> None:
    events, completion = call(wire, mode, streamed)
    assert isinstance(completion, gb.Completion), repr(completion)
    for where, text in completion_surfaces(completion).items():
        assert_key_free(text, where)
    shown = "".join(event.text for event in events)
    assert_key_free(shown, "events")
    # Said, not dropped: every field still carries what the server sent around the key.
    assert completion.content == "echo [redacted] done"
    assert completion.reasoning == "thinking [redacted]"
    assert completion.tool_calls[0].parsed() == {"k": "[redacted]"}
    assert completion.citations == ("https://x.example/[redacted]",)
    if streamed:
        assert "".join(e.text for e in events if e.kind == "content") == completion.content
    if wire == "responses":
        assert completion.id == "resp_[redacted]"
        assert completion.encrypted_reasoning == "blob [redacted]"
        assert completion.server_tool_calls[0]["action"] == {"q": "[redacted]"}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("wire", ["responses", "chat"])
@pytest.mark.parametrize("chunk_bytes", [7, 64])
def test_a_key_cut_by_network_chunks_inside_one_event_is_redacted(
    wire: str, mode: str, chunk_bytes: int
) -> None:
    events, completion = call(wire, mode, True, chunk_bytes=chunk_bytes)
    assert isinstance(completion, gb.Completion), repr(completion)
    for where, text in completion_surfaces(completion).items():
        assert_key_free(text, where)
    assert_key_free("".join(event.text for event in events), "events")
    assert completion.content == "echo [redacted] done"


#: (events sent before the cut, the partial answer and reasoning that remain)
CUTS = {
    "responses": {
        "key whole": (10, "echo [redacted] done", "thinking [redacted]"),
        "key cut in the answer": (9, "echo [redacted]", "thinking [redacted]"),
        "key cut in the reasoning": (3, "", "thinking [redacted]"),
    },
    "chat": {
        "key whole": (7, "echo [redacted] done", "thinking [redacted]"),
        "key cut in the answer": (6, "echo [redacted]", "thinking [redacted]"),
        "key cut in the reasoning": (2, "", "thinking [redacted]"),
    },
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("wire", ["responses", "chat"])
@pytest.mark.parametrize("cut", ["key whole", "key cut in the answer", "key cut in the reasoning"])
def test_a_partial_answer_holds_an_echoed_key_redacted(wire: str, mode: str, cut: str) -> None:
    sent, content, reasoning = CUTS[wire][cut]
    events, error = call(wire, mode, True, cut_after=sent)
    assert isinstance(error, errors.IncompleteStreamError), repr(error)
    assert (error.partial_content, error.partial_reasoning) == (content, reasoning)
    for text in (error.partial_content, error.partial_reasoning, str(error), repr(vars(error))):
        assert_key_free(text)
    assert_key_free("".join(event.text for event in events), "events")


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_conversations_usage_frames_and_sweeps_hold_an_echoed_key_redacted(wire: str) -> None:
    client = gb.Client(**_settings(wire))
    conversation = gb.Conversation(client)
    conversation.ask("hi")
    conversation.ask("and again")
    shown = {
        "conversation html": conversation._repr_html_(),
        "conversation repr": repr(conversation),
        "conversation usage_frame": conversation.usage_frame().to_csv(),
        "conversation last": repr(conversation.last),
    }
    aclient = gb.AsyncClient(**_settings(wire))
    frame = gb.sweep(["hi", "hello"], models="grok-4.3", efforts=["low"], client=aclient,
                     progress=False, cache=False)  # fmt: skip
    assert (frame["status"] == "ok").all(), frame["error"].tolist()
    shown["sweep frame"] = frame.to_csv()
    shown["sweep frame html"] = frame.to_html()
    shown["usage frame"] = gb.usage_frame([conversation.last]).to_csv()  # type: ignore[list-item]
    for where, text in shown.items():
        assert_key_free(text, where)
    assert "echo [redacted] done" in shown["sweep frame"]


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_cells_in_a_real_shell_show_an_echoed_key_redacted(
    wire: str, grok_shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The notebook of the review: a real InteractiveShell runs the cells a user would, with a
    server that echoes the key; every output (displays, printed text) is searched."""
    shell, _, pub = grok_shell
    shell.user_ns.update(gb=gb, settings=_settings(wire), cut=_settings(wire, cut_after=9))
    cells = [
        "client = gb.Client(**settings)\nr = client.chat('hi')\nr",
        "display(r)",
        "print(repr(r)); print(r); print(r.tool_calls, r.citations)",
        "conv = gb.Conversation(client)\nconv.ask('hi')\ndisplay(conv)",
        "display(conv.usage_frame())",
        "display(gb.usage_frame([r]))",
        "df = gb.sweep(['hi'], models='grok-4.3', efforts=['low'], client=client, "
        "progress=False)\ndisplay(df)",
        "with client.stream('hi') as s:\n    for e in s:\n        print(e.text, end='')",
        "try:\n    gb.Client(**cut).stream('hi').until_done()\n"
        "except gb.errors.IncompleteStreamError as e:\n    print(e.partial_content)\n    err = e",
        "err",
    ]
    capsys.readouterr()
    try:
        for cell in cells:
            result = shell.run_cell(cell)
            assert result.error_in_exec is None, (cell, result.error_in_exec)
        printed = capsys.readouterr()
        outputs = json.dumps(pub.outputs, ensure_ascii=False) + printed.out + printed.err
        assert "echo [redacted] done" in outputs  # the cells did show the answers
        assert_key_free(outputs, "cells")
        for name in ("r", "conv", "df", "err"):
            formatted = shell.display_formatter.format(shell.user_ns[name])[0]
            assert_key_free(json.dumps(formatted, ensure_ascii=False), name)
    finally:
        for name in ("client", "r", "conv", "df", "s", "e", "err", "settings", "cut", "gb"):
            shell.user_ns.pop(name, None)


# == item 8: no frame shows the key in a verbose traceback ==================================
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FRAME = re.compile(r"^(?=File |Cell In\[)", re.M)


def _verbose_traceback(shell: Any, capsys: Any, cell: str) -> str:
    """The grokbook frames of ``cell``'s traceback under %xmode verbose (each with the
    arguments and the variables of the line it was running), and the error's message."""
    shell.run_line_magic("xmode", "verbose")
    try:
        capsys.readouterr()
        result = shell.run_cell(cell)
        assert isinstance(result.error_in_exec, errors.GrokbookError), result.error_in_exec
        shown = capsys.readouterr()
    finally:
        shell.run_line_magic("xmode", "context")
    frames = _FRAME.split(_ANSI.sub("", shown.out + shown.err))
    ours = [f for f in frames if f.startswith("File ") and f"{os.sep}grokbook{os.sep}" in f[:300]]
    assert ours, frames
    return "".join(ours) + frames[-1].rstrip().rsplit("\n", 1)[-1]


def _responds(kind: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        if kind == "body":
            return httpx.Response(200, json={"unexpected": f"echo {key}"})
        if kind == "citations":
            return httpx.Response(200, json={**_chat_body(key), "citations": key})
        if kind == "junk event":
            chunks = [
                b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\n',
                f"data: {key}\n\n".encode(),
            ]
        else:  # an error event
            chunks = [f'data: {{"error": {{"message": "bad key {key}"}}}}\n\n'.encode()]
        return httpx.Response(200, stream=Chunks(chunks), headers=SSE)

    return handler


#: name -> (the cell, what the shell needs; ``CLS`` is Client or AsyncClient)
VERBOSE_CELLS: dict[str, str] = {
    "a bad timeout": "CLS(provider='xai', api_key=key, timeout=-1)",
    "a bad wire": "CLS(provider='xai', api_key=key, wire='bogus')",
    "a bad base_url": "CLS(provider='xai', api_key=key, base_url='ftp://x')",
    "a key that cannot be sent": "CLS(provider='xai', api_key=key + '\\u200b')",
    "a key from the environment that cannot be sent": "CLS(provider='xai')",
    "an echoed key in a body that is not a completion": "CALL(handler('body'), stream=False)",
    "an echoed key in a wrong-typed field": "CALL(handler('citations'), stream=False)",
    "an echoed key in a junk stream event": "CALL(handler('junk event'), stream=True)",
    "an echoed key in an error event": "CALL(handler('error event'), stream=True)",
}

_CALL_SYNC = """
def CALL(handler, stream):
    client = gb.Client(provider='xai', api_key=key, wire='chat', max_retries=0,
                       transport=httpx.MockTransport(handler))
    return client.stream('hi').until_done() if stream else client.chat('hi')
"""
_CALL_ASYNC = """
async def CALL(handler, stream):
    client = gb.AsyncClient(provider='xai', api_key=key, wire='chat', max_retries=0,
                            transport=httpx.MockTransport(handler))
    if stream:
        async with client.stream('hi') as s:
            return await s.until_done()
    return await client.chat('hi')
"""


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", list(VERBOSE_CELLS))
def test_no_grokbook_frame_shows_the_key_in_a_verbose_traceback(
    name: str, mode: str, grok_shell: Any, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    shell, _, _ = grok_shell
    monkeypatch.setenv("XAI_API_KEY", FAKE_KEY + "\u200b")  # a pasted zero-width space
    shell.user_ns.update(gb=gb, httpx=httpx, key=FAKE_KEY, handler=_responds)
    shell.user_ns["CLS"] = gb.Client if mode == "sync" else gb.AsyncClient
    shell.run_cell(_CALL_SYNC if mode == "sync" else _CALL_ASYNC)
    cell = VERBOSE_CELLS[name]
    if mode == "async" and cell.startswith("CALL"):
        cell = "await " + cell
    try:
        shown = _verbose_traceback(shell, capsys, cell)
        assert_key_free(shown, name)
    finally:
        for variable in ("gb", "httpx", "key", "handler", "CLS", "CALL"):
            shell.user_ns.pop(variable, None)


def test_the_key_a_client_holds_shows_redacted_everywhere_and_survives_pickle() -> None:
    """The key object every grokbook frame holds: its repr, str, f-string spelling, a tuple of
    it and a client's repr say redacted; it still works as the key, and pickles (a client
    sent to a worker process) at every protocol."""
    import pickle

    client = gb.Client(provider="xai", api_key=f"  {FAKE_KEY}\n")
    key = client._key
    assert key is not None
    shown = [repr(key), str(key), f"{key}", format(key), repr(client._secrets()), repr(client)]
    assert all(FAKE_KEY not in text for text in shown), shown
    assert key.reveal() == FAKE_KEY and key.hidden() == FAKE_KEY  # the shared holder's text
    assert errors.redact(f"echo {FAKE_KEY}", client._secrets()) == "echo [redacted]"
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(key, protocol=protocol))
        assert again.reveal() == FAKE_KEY and repr(again) == repr(key), protocol
