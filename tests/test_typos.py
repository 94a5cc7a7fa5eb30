"""A typo in a model name gets help; efforts are read in any case (issue 23.2)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import grokbook as gb
from grokbook import catalog, cli, errors, render
from grokbook.widgets import ModelPicker

WIRES = ["responses", "chat"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("grok-4.3-mini", ["grok-4.3", "grok-3-mini-beta"]),
        ("grok4.3", ["grok-4.3"]),
        ("grok-4-3", ["grok-4.3"]),
        ("GROK-4.3-MINI", ["grok-4.3", "grok-3-mini-beta"]),
        ("x-ai/grok-4.3-mini", ["grok-4.3", "grok-3-mini-beta"]),
        ("grok-3-mini-betta", ["grok-3-mini-beta"]),
        ("grok-3-mini", ["grok-3-mini-beta", "grok-3-mini-fast-beta"]),
        ("grok-4.20", ["grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning"]),
        ("grok-5", ["grok-4.5"]),
        ("grok-nope", []),
        ("gpt-4o", []),
        ("", []),
    ],
)
def test_closest_catalog_ids(typed: str, meant: list[str]) -> None:
    assert catalog.closest(typed) == meant


def _not_found(wire: str, stream: bool, model: str) -> errors.NotFoundError:
    client = gb.Client(provider="sim", wire=wire)  # type: ignore[arg-type]
    with client, pytest.raises(errors.NotFoundError) as caught:
        if stream:
            with client.stream("What is 1+1?", model=model) as events:
                list(events)
        else:
            client.chat("What is 1+1?", model=model)
    return caught.value


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("wire", WIRES)
def test_a_404_for_a_mistyped_model_suggests_the_closest_ids_once(wire: str, stream: bool) -> None:
    text = str(_not_found(wire, stream, "grok-4.3-mini"))
    assert text.startswith("HTTP 404: The model grok-4.3-mini does not exist")
    assert text.count("does not exist") == 1  # the server's sentence, not repeated by a hint
    assert text.count("Did you mean grok-4.3 or grok-3-mini-beta?") == 1
    assert "`" not in text


@pytest.mark.parametrize("wire", WIRES)
async def test_the_async_client_suggests_too(wire: str) -> None:
    async with gb.AsyncClient(provider="sim", wire=wire) as client:  # type: ignore[arg-type]
        with pytest.raises(errors.NotFoundError, match=r"Did you mean grok-4\.3\?"):
            await client.chat("What is 1+1?", model="grok4.3")


@pytest.mark.parametrize(
    ("model", "hint"),
    [
        ("grok-nope", "Check the model id"),  # nothing close: the general hint
        ("grok-4.3", "Check the model id"),  # a known id: the endpoint or access is the issue
    ],
)
def test_no_suggestion_without_a_close_unknown_id(model: str, hint: str) -> None:
    from grokbook._pipeline import Policy, Send

    policy = Policy(0, lambda: ())
    import httpx

    response = httpx.Response(404, json={"code": "x", "error": f"The model {model} is gone."})
    send = Send("POST", "http://x/v1/responses", {"model": model, "input": "hi"})
    text = str(policy.status_error(response, send))
    assert hint in text and "Did you mean" not in text


def test_the_notebook_error_box_has_no_literal_backticks(grok_shell: tuple[Any, Any, Any]) -> None:
    shell, magics, pub = grok_shell
    magics.provider = "sim"
    shell.run_cell_magic("grok", "-m grok-4.3-mini --no-cache", "What is 1+1?")
    (box,) = [o["data"] for o in pub.outputs if "grokbook-error" in o["data"].get("text/html", "")]
    html_doc = box["text/html"]
    assert "Did you mean grok-4.3 or grok-3-mini-beta?" in html_doc
    assert html_doc.count("does not exist") == 1 and "`" not in html_doc
    # A name in backticks in any grokbook message is shown as code.
    assert "<code>%grok login</code>" in render.error_html("Run `%grok login`.")


def test_cli_ask_with_a_typo(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "What is 1+1?", "-m", "grok-4.3-mini"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    (error,) = [line for line in err if line.startswith("grokbook: error:")]
    assert error == err[-1]  # one line, the last, no traceback
    assert error.count("does not exist") == 1
    assert error.count("Did you mean grok-4.3 or grok-3-mini-beta?") == 1


# -- efforts in any case ---------------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("typed", ["HIGH", "High", " high "])
def test_the_client_takes_efforts_in_any_case_and_records_the_canonical_one(
    wire: str, typed: str
) -> None:
    with gb.Client(provider="sim", wire=wire) as client:  # type: ignore[arg-type]
        completion = client.chat("What is 1+1?", model="grok-3-mini-beta", reasoning_effort=typed)
        with client.stream("What is 1+1?", model="grok-3-mini-beta", reasoning_effort=typed) as s:
            list(s)
    assert completion.reasoning_effort == "high" == s.completion.reasoning_effort
    sent = completion.raw  # what the server echoes back is of the request sent
    assert "HIGH" not in json.dumps(sent) and "High" not in json.dumps(sent)
    history = gb.history()
    assert set(history["reasoning_effort"]) == {"high"}
    with pytest.raises(errors.UnsupportedParameterError, match="got 'huge'"):
        gb.Client(provider="sim").chat("hi", model="grok-3-mini-beta", reasoning_effort="HUGE")


def test_sweeps_magic_cli_and_widgets_take_efforts_in_any_case(
    grok_shell: tuple[Any, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    frame = gb.sweep("What is 1+1?", models="grok-3-mini-beta", efforts=["LOW", "High", "DEFAULT"],
                     progress=False)  # fmt: skip
    assert list(frame["reasoning_effort"]) == ["low", "high", "default"]
    assert (frame["status"] == "ok").all()

    shell, magics, _pub = grok_shell
    magics.provider = "sim"
    shell.run_cell_magic("grok", "-m grok-3-mini-beta -e HIGH --no-cache", "What is 1+1?")
    shell.run_line_magic("grok", "config effort=MEDIUM")
    assert magics.default_effort == "medium"
    shell.run_cell_magic("grok", "-m grok-4.3 --no-cache", "What is 1+1?")
    assert [c.reasoning_effort for c in magics.calls] == ["high", "medium"]
    assert not magics.failures
    shell.run_line_magic("grok", "config effort=default")

    assert cli.main(["ask", "What is 1+1?", "-m", "grok-3-mini-beta", "-e", "HIGH"]) == 0
    assert "effort high" in capsys.readouterr().err
    assert cli.main(["compare", "What is 1+1?", "-m", "grok-3-mini-beta", "-e", "LOW", "HIGH"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"\blow\b", table) and re.search(r"\bhigh\b", table) and "LOW" not in table

    picker = ModelPicker(model="grok-3-mini-beta", reasoning_effort="HIGH")
    assert picker.reasoning_effort == "high" and picker.effort_buttons.value == "high"
