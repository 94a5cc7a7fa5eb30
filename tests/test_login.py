"""``%grok login`` serves every grokbook entry point of the kernel, in memory only (issue 23.1).

The provider is a loopback simulator server that insists on the key (``require_key``): a
call without ``Authorization: Bearer <the key>`` gets HTTP 401, so every answer below proves
the key reached the provider. ``GROKBOOK_BASE_URL`` points xAI's profile at it.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import grokbook as gb
from grokbook import errors, providers
from grokbook.sim import serve_in_background
from grokbook.widgets import Playground

from .conftest import FAKE_KEY

PROMPT = "What is 101*3?"


@pytest.fixture
def provider_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with serve_in_background(latency="none", require_key=FAKE_KEY) as server:
        monkeypatch.setenv("GROKBOOK_BASE_URL", server.base_url)
        yield server


@pytest.fixture
def typed_key(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """getpass answers FAKE_KEY, as a person typing it would; the prompts are kept."""
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return f"  {FAKE_KEY}\n"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return prompts


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("wire", ["responses", "chat"])
async def test_login_reaches_every_entry_point_and_the_key_shows_nowhere(
    grok_shell: tuple[Any, Any, Any],
    provider_url: Any,
    typed_key: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    wire: str,
) -> None:
    monkeypatch.setenv("GROKBOOK_WIRE", wire)
    shell, magics, pub = grok_shell
    early = gb.Client()  # made before the login, for want of a key: the simulator
    assert early.simulated
    shell.run_line_magic("grok", "login")
    assert "XAI_API_KEY" in typed_key[0] and "memory only" in typed_key[0]
    assert "XAI_API_KEY" not in os.environ  # never exported, never written

    served = provider_url.requests_served
    client = gb.Client()
    assert client.provider.name == "xai" and client.base_url == provider_url.base_url
    answers = [client.chat(PROMPT, cache=False)]
    async with gb.AsyncClient() as async_client:
        answers.append(await async_client.chat(PROMPT, cache=False))
    frame = gb.sweep(PROMPT, models="grok-4.3", efforts=["low", "high"], progress=False)
    assert list(frame["status"]) == ["ok", "ok"], frame["error"].tolist()
    conversation = gb.Conversation()
    answers.append(conversation.ask(PROMPT))
    playground = Playground(PROMPT, cache=False)
    ran = await playground.run()
    assert ran is not None, playground.output.value
    answers.append(ran)
    shell.run_cell_magic("grok", "--no-cache", PROMPT)
    assert not magics.failures, magics.failures
    assert len(magics.calls) == 1
    answers.append(magics.calls[0])
    # 6 calls, each answered by the provider with the key; none by the in-process simulator.
    assert provider_url.requests_served - served == 7
    assert {a.provider for a in answers} == {"xai"}
    assert all("303" in a.content for a in answers)

    # The client made before the login says once, when next used, that it is still simulated.
    before = capsys.readouterr()
    served = provider_url.requests_served
    assert (gb.sweep(PROMPT, efforts="low", client=early, progress=False)["status"] == "ok").all()
    assert early.chat(PROMPT).simulated
    early.chat("What is 7*8?")
    assert provider_url.requests_served == served  # all three answered by the simulator
    told = capsys.readouterr()
    assert (told.out + told.err).count("created before %grok login") == 1, told
    assert "still runs on the offline simulator" in told.err  # not a notebook: stderr

    # The key is in no output, no repr, no store row, no namespace.
    seen = json.dumps(pub.outputs) + json.dumps([before, told])
    seen += repr(client) + repr(async_client) + repr(conversation) + repr(playground)
    seen += frame.to_json() + repr(magics.calls) + playground.output.value
    seen += json.dumps(shell.user_ns, default=repr)
    assert "Key for xAI stored in memory" in seen
    assert FAKE_KEY not in seen
    for stored in _files_under(Path(os.environ["GROKBOOK_HOME"])):
        assert FAKE_KEY.encode() not in stored.read_bytes(), stored

    # %grok logout forgets it: in new clients and in the ones that used it.
    shell.run_line_magic("grok", "logout")
    assert magics.provider is None
    assert gb.Client().simulated
    with pytest.raises(errors.MissingAPIKeyError):
        client.chat(PROMPT, cache=False)
    with pytest.raises(errors.MissingAPIKeyError):
        conversation.ask("now double it")
    assert "Forgot the key for xAI" in json.dumps(pub.outputs)
    for made in (client, conversation.client):
        made.close()
    assert playground._client is not None
    await playground._client.aclose()


def test_login_prints_no_simulator_notice_before_asking(
    grok_shell: tuple[Any, Any, Any],
    typed_key: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(providers, "_notice_shown", False)
    shell, _magics, _pub = grok_shell
    shell.run_line_magic("grok", "login")
    assert typed_key  # it asked
    captured = capsys.readouterr()
    assert "offline simulator" not in captured.out + captured.err


def test_login_and_logout_in_python() -> None:
    assert providers.logged_in() is None
    providers.login("openrouter", f" {FAKE_KEY} ")
    assert providers.logged_in() == "openrouter"
    client = gb.Client()
    assert client.provider.name == "openrouter" and client.has_key
    assert client._secrets() == (FAKE_KEY,)
    assert FAKE_KEY not in repr(client) and FAKE_KEY not in repr(
        providers.session_key("openrouter")
    )
    # An explicit provider or key still wins.
    assert gb.Client(provider="sim").simulated
    assert gb.Client(provider="openrouter", api_key="other")._secrets() == ("other",)
    assert providers.logout("xai") == []
    assert providers.logout() == ["openrouter"]
    assert not client.has_key and "api_key=unset" in repr(client)
    with pytest.raises(errors.UnsupportedParameterError):
        providers.login("xai", "   ")


# -- the simulator notice (issue 23.4) ----------------------------------------------------------
def test_simulator_notice_is_one_calm_stdout_line_once_per_kernel(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import grokbook as gb\n\nclient = gb.Client()"),
        nbformat.v4.new_code_cell("again = gb.Client()\ngb.sweep('What is 1+1?', progress=False)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    streams = [o for cell in nb.cells for o in cell.outputs if o.output_type == "stream"]
    assert [o.name for o in streams] == ["stdout"], streams  # once, and not on stderr
    (line,) = streams[0].text.splitlines()
    assert line.startswith("grokbook: no XAI_API_KEY set; using the offline simulator")
    assert "%grok login" in line


def test_simulator_notice_is_a_warning_users_can_filter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(providers, "_notice_shown", False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=errors.SimulatorNotice)
        assert gb.Client().simulated
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(providers, "_notice_shown", False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=errors.SimulatorNotice)
        with pytest.raises(errors.SimulatorNotice, match="offline simulator"):
            gb.Client()
    assert issubclass(errors.SimulatorNotice, UserWarning)


@pytest.mark.parametrize(("kernel", "stream"), [(True, "out"), (False, "err")])
def test_simulator_notice_goes_to_stdout_in_a_notebook_only(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kernel: bool,
    stream: str,
) -> None:
    monkeypatch.setattr(providers, "_notice_shown", False)
    monkeypatch.setattr(providers, "in_kernel", lambda: kernel)
    gb.Client()
    gb.Client()
    captured = capsys.readouterr()
    text = getattr(captured, stream)
    assert text.count("offline simulator") == 1 and text.count("\n") == 1
    assert ("%grok login" in text) is kernel
    assert (captured.out if stream == "err" else captured.err) == ""


async def test_a_playground_made_before_the_login_says_so_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    playground = Playground(PROMPT, cache=False)
    assert await playground.run() is not None
    assert "created before" not in playground.status.value
    providers.login("xai", FAKE_KEY)
    first = await playground.run()
    assert first is not None and first.simulated  # it still runs on the simulator...
    assert "this Playground was created before %grok login" in playground.status.value  # says so
    assert "still runs on the offline simulator" in playground.status.value
    assert await playground.run() is not None
    assert "created before" not in playground.status.value  # once
    captured = capsys.readouterr()
    assert "created before" not in captured.out + captured.err  # shown where the user looks


async def test_an_effort_comparer_made_before_the_login_says_so_once() -> None:
    from grokbook.widgets import EffortComparer

    comparer = EffortComparer(PROMPT, model="grok-3-mini-beta", repeats=1, autorun=False)
    providers.login("xai", FAKE_KEY)
    frame = await comparer.run()
    assert frame is not None and (frame["status"] == "ok").all()
    assert "this EffortComparer was created before %grok login" in comparer.message.value
    assert await comparer.run() is not None
    assert "created before" not in comparer.message.value


def test_a_second_login_replaces_the_key_in_the_clients_made_with_the_first() -> None:
    providers.login("xai", "xai-typo")
    client = gb.Client(provider="xai", transport=None)
    providers.login("xai", FAKE_KEY)
    assert client._secrets() == (FAKE_KEY,)
    with pytest.raises(errors.UnsupportedParameterError, match="from %grok login holds a"):
        providers.login("xai", "xai-\u00e9t\u00e9")
    assert client._secrets() == (FAKE_KEY,)  # a refused key changes nothing
    with pytest.raises(errors.UnsupportedParameterError, match="api_key must be a string"):
        gb.Client(provider="xai", api_key=42)  # type: ignore[arg-type]
