"""Nothing the ``grokbook`` command prints from a server or the run log can drive the terminal
(issue 22 item 15): a server's error text (``ask``, ``compare``), model ids a server lists
(``models --remote``), and prompts, model ids and efforts stored in the run log
(``history``) reach the terminal through :func:`grokbook.render.terminal_text`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import grokbook as gb
from grokbook import cli

from .conftest import FAKE_KEY, chat_body

#: A window title, a screen clear, a colour, a bell, a carriage return and a backspace.
ATTACK = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\r\x08"
BANNED = ("\x1b", "\x07", "\x08", "\r", "\x9b", "pwned", "[2J", "[31m")


def hostile(request: httpx.Request) -> httpx.Response:
    """Errors and model ids laced with terminal escape sequences."""
    if request.url.path.endswith("/models"):
        return httpx.Response(200, json={"data": [{"id": f"grok-4.3{ATTACK}"}, {"id": "ok-1"}]})
    body = json.loads(request.content)
    messages = body.get("messages") or body.get("input") or [{}]
    if "fail" in json.dumps(messages):
        return httpx.Response(400, json={"code": "bad", "error": f"Model says {ATTACK} no"})
    return httpx.Response(200, json=chat_body(content="fine", model=f"grok-3-mini{ATTACK}"))


def _client_kwargs() -> dict[str, Any]:
    return {
        "provider": "xai",
        "wire": "chat",
        "api_key": FAKE_KEY,
        "max_retries": 0,
        "transport": httpx.MockTransport(hostile),
    }


@pytest.fixture
def hostile_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands' clients talk to the hostile server."""

    class Client(gb.Client):
        def __init__(self, **_: Any) -> None:
            super().__init__(**_client_kwargs())

    class AsyncClient(gb.AsyncClient):
        def __init__(self, **_: Any) -> None:
            super().__init__(**_client_kwargs())

    monkeypatch.setattr("grokbook.client.Client", Client)
    monkeypatch.setattr("grokbook.client.AsyncClient", AsyncClient)


def _history_with_hostile_rows() -> None:
    """Run-log rows whose prompt, model ids and effort carry escape sequences."""
    with gb.Client(**_client_kwargs()) as client:
        client.chat(f"What is {ATTACK} 2+2?")
        client.chat(f"Hi {ATTACK}", model=f"my-model{ATTACK}", reasoning_effort=f"hi{ATTACK}")
        with pytest.raises(gb.errors.BadRequestError):
            client.chat(f"please fail {ATTACK}")
    db = gb.store.get_store()
    assert db is not None and db.flush()


#: name -> (argv, the exit status, a text the output must still show)
COMMANDS: dict[str, tuple[list[str], int, str]] = {
    "ask: a server's error": (["ask", "please fail", "-m", "grok-4.3"], 1, "Model says"),
    "ask --no-stream: a server's error": (
        ["ask", "please fail", "-m", "grok-4.3", "--no-stream"], 1, "Model says",
    ),
    "ask: the model id a server answers with": (["ask", "Hi", "-m", "grok-4.3"], 0, "grok-3-mini"),
    "compare: a server's error": (
        ["compare", "please fail", "-m", "grok-4.3", "-e", "low", "--no-progress"], 1,
        "Model says",
    ),
    "models --remote: ids a server lists": (["models", "--remote"], 0, "grok-4.3red"),
    "history: stored prompts, model ids, efforts": (["history"], 0, "my-modelred"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_cli_prints_no_terminal_sequence_it_did_not_write(
    name: str, hostile_clients: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, status, visible = COMMANDS[name]
    if argv[0] == "history":
        _history_with_hostile_rows()
        capsys.readouterr()
    assert cli.main(argv) == status
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    for banned in BANNED:
        assert banned not in shown, (repr(banned), shown)
    assert visible in shown  # the text between the sequences is kept
