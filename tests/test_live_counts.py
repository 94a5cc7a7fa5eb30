"""While an answer streams, the live display shows only counts it has (issue 23.3).

On the Responses API only a short reasoning summary streams (the simulator's grok-4.3 sends
118 characters for 116 reasoning tokens; a real one sent "~62 tokens so far" worth of summary
for 1,961): a token figure derived from that text would be invented. Every streaming display
(``%%grok`` rich and plain, the Playground, ``grokbook ask``) goes through render.LiveAnswer and
shows the elapsed time, "reasoning…", the text and its length in characters, and the exact
count from usage once the answer ends. Both wires, same checks.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from grokbook import cli
from grokbook.widgets import Playground

PROMPT = "What is 101*3?"
#: (wire, model, what the streamed reasoning is called)
CASES = [
    ("responses", "grok-4.3", "Reasoning summary"),
    ("chat", "grok-3-mini-beta", "Reasoning"),
]
INVENTED = re.compile(r"~\s*[\d,]+|estimate|tokens so far", re.IGNORECASE)


def _labels(html_doc: str) -> str:
    """What the display says about the answer, without the model's own text (the
    simulator's reasoning talks about tokens)."""
    html_doc = re.sub(r"<pre.*?</pre>", "", html_doc, flags=re.DOTALL)
    return re.sub(r'<div class="grokbook-answer".*?</div>', "", html_doc, flags=re.DOTALL)


def _reasoning_tokens(wire: str, model: str) -> int:
    import grokbook as gb

    with gb.Client(provider="sim", wire=wire) as client:  # type: ignore[arg-type]
        count = client.chat(PROMPT, model=model, reasoning_effort="high").usage.reasoning_tokens
    assert count
    return count


@pytest.mark.parametrize(("wire", "model", "what"), CASES)
def test_grok_magic_streams_no_invented_count(
    grok_shell: tuple[Any, Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    wire: str,
    model: str,
    what: str,
) -> None:
    shell, magics, pub = grok_shell
    monkeypatch.setenv("GROKBOOK_WIRE", wire)
    magics.provider = "sim"
    clock = itertools.count(0.0, 0.25)  # a quarter second between events: no throttling
    monkeypatch.setattr("grokbook.magic._now", lambda: next(clock))
    shell.run_cell_magic("grok", f"-m {model} -e high --no-cache", PROMPT)
    assert not magics.failures, magics.failures
    live = [o["data"] for o in pub.outputs if o["update"] and o["data"]["text/html"]]
    final = pub.outputs[-1]["data"]
    assert len(live) >= 2
    for bundle in live:
        assert not INVENTED.search(_labels(bundle["text/html"])), bundle["text/html"]
        assert not INVENTED.search(bundle["text/plain"]), bundle["text/plain"]
    assert "reasoning…<" in live[0]["text/html"]  # before anything arrived
    reasoning = [b["text/html"] for b in live if f"{what} · " in b["text/html"]]
    assert reasoning, live
    assert re.search(rf"{what} · [\d,]+ characters? so far · tokens counted when", reasoning[0])
    assert re.search(r"reasoning… \d+\.\ds", reasoning[0])  # the time since it started
    exact = _reasoning_tokens(wire, model)
    assert f"Reasoning · {exact:,} tokens" in final["text/html"]


@pytest.mark.parametrize(("wire", "model", "what"), CASES)
def test_terminal_paths_say_when_the_count_comes(
    grok_shell: tuple[Any, Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    wire: str,
    model: str,
    what: str,
) -> None:
    shell, magics, _pub = grok_shell
    monkeypatch.setenv("GROKBOOK_WIRE", wire)
    magics.provider, magics.frontend = "sim", "plain"
    shell.run_cell_magic("grok", f"-m {model} -e high --no-cache", PROMPT)
    assert cli.main(["ask", PROMPT, "-m", model, "-e", "high", "--provider", "sim"]) == 0
    printed = capsys.readouterr()
    summary = "a summary of the reasoning streams; " if what == "Reasoning summary" else ""
    status = f"{model} · reasoning… ({summary}tokens are counted when the answer ends)"
    assert printed.out.count(status) == 1  # %%grok, plain
    assert printed.err.count(status) == 1  # grokbook ask (stdout keeps only the answer)
    exact = _reasoning_tokens(wire, model)
    assert f"[reasoning {exact:,} tokens, collapsed]" in printed.out
    assert f"reasoning {exact:,}" in printed.err.splitlines()[-1]  # the usage line
    ours = [line for line in (printed.out + printed.err).splitlines() if model in line]
    assert len(ours) >= 3 and not INVENTED.search("\n".join(ours))


@pytest.mark.parametrize(("wire", "model", "what"), CASES)
async def test_playground_streams_no_invented_count(
    monkeypatch: pytest.MonkeyPatch, wire: str, model: str, what: str
) -> None:
    monkeypatch.setenv("GROKBOOK_WIRE", wire)
    monkeypatch.setattr("grokbook.widgets.playground.REDRAW_INTERVAL_S", 0.0)
    pg = Playground(PROMPT, model=model, reasoning_effort="high", cache=False)
    shown: list[str] = []
    pg.output.observe(lambda change: shown.append(change["new"]), names="value")
    completion = await pg.run()
    assert completion is not None
    *live, final = shown
    assert any(f"{what} · " in html and "characters so far" in html for html in live), live
    for html_doc in live:
        assert not INVENTED.search(_labels(html_doc)), html_doc
    assert f"Reasoning · {completion.usage.reasoning_tokens:,} tokens" in final
