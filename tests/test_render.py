"""grokbook.render: what a finished or streaming call looks like, and that model output is inert."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import Any

import pytest

import grokbook as gb
from grokbook import errors, render
from grokbook.result import Completion, Usage

from .conftest import FAKE_KEY

SCRIPT = "<script>alert('pwned')</script>"
IMG = "<img src=x onerror=alert(1)>"
MD_IMAGE = "![x](https://evil.example/p.png)"
PAYLOAD = f"Hello {SCRIPT} then {IMG} and {MD_IMAGE} end"


def make(
    content: str = "The answer is **303**.",
    reasoning: str | None = "101 * 3 = 303",
    *,
    model: str = "grok-3-mini-beta",
    requested: str | None = None,
    provider: str = "xai",
    cached: bool = False,
    usage: Usage | None = None,
    cost: float | None = 0.000165,
) -> Completion:
    return Completion(
        content=content,
        reasoning=reasoning,
        model=model,
        requested_model=requested or model,
        reasoning_effort="high",
        usage=usage or Usage(12, 2, 310, 4, 314, 326),
        latency_s=0.4242,
        cost_usd=cost,
        id="resp-1",
        provider=provider,
        cached=cached,
        cache_lookup_s=0.0002 if cached else None,
    )


class _Tags(HTMLParser):
    """Collects the tags and attributes a browser would build from an HTML string."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parsed_tags(html_text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html_text)
    return parser.tags


def assert_inert(bundle: dict[str, str]) -> None:
    """No mimetype carries a live tag, an event handler or an auto-loaded image."""
    assert set(bundle) >= {"text/plain", "text/html"}
    for mime, data in bundle.items():
        assert "<script" not in data.lower(), mime
        assert "<img" not in data.lower(), mime
        assert "![" not in data, mime
        assert "](https://evil.example/p.png)" not in data or "image not loaded" in data, mime
    for tag, attrs in parsed_tags(bundle["text/html"]):
        assert tag not in ("script", "img", "iframe", "object", "embed"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith(("https://", "http://")), href


def test_bundle_has_three_mimetypes_answer_reasoning_and_footer() -> None:
    bundle = render.completion_bundle(make())
    assert set(bundle) == {"text/plain", "text/html", "text/markdown"}
    html_doc = bundle["text/html"]
    assert "<strong>303</strong>" in html_doc
    # Collapsed by default: a <details> whose summary shows the reasoning token count.
    assert re.search(r"<details[^>]*><summary[^>]*>Reasoning · 310 tokens</summary>", html_doc)
    assert "101 * 3 = 303" in html_doc
    footer = render.usage_footer_text(make())
    assert footer == (
        "grok-3-mini-beta · effort high · prompt 12 · reasoning 310 · completion 4 tokens · "
        "0.42s · $0.000165"
    )
    for mime in bundle:
        assert "0.42s" in bundle[mime] and "$0.000165" in bundle[mime], mime
    assert "**303**" in bundle["text/markdown"]
    assert "<details><summary>Reasoning · 310 tokens</summary>" in bundle["text/markdown"]


def test_repr_mimebundle_is_the_same_rendering() -> None:
    c = make()
    assert c._repr_mimebundle_() == render.completion_bundle(c)


@pytest.mark.parametrize("mode", ["show", "hide", "collapse"])
def test_reasoning_modes(mode: str) -> None:
    bundle = render.completion_bundle(make(reasoning="thinking <hard>"), reasoning=mode)
    html_doc, text = bundle["text/html"], bundle["text/plain"]
    assert ("<details" in html_doc) is (mode == "collapse")
    assert ("thinking &lt;hard&gt;" in html_doc) is (mode != "hide")
    assert ("thinking &lt;hard&gt;" in text) is (mode == "show")
    assert "310 tokens" in text and "310 tokens" in html_doc
    if mode == "hide":
        assert "(hidden)" in html_doc


def test_bad_reasoning_mode_says_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="collapse, show, hide"):
        render.completion_bundle(make(), reasoning="loud")


def test_hidden_reasoning_text_still_shows_its_tokens() -> None:
    bundle = render.completion_bundle(make(reasoning=None))
    line = "310 reasoning tokens; this model does not show its reasoning"
    assert line in bundle["text/html"]
    markdown = bundle["text/markdown"]  # Markdown-escaped, still one line
    assert "*310 reasoning tokens\\; this model does not show its reasoning*" in markdown
    assert f"[{line}]" in bundle["text/plain"]
    assert make(reasoning=None).reasoning_note == line
    none_at_all = render.completion_bundle(make(reasoning=None, usage=Usage(5, None, None, 2)))
    assert "Reasoning" not in none_at_all["text/html"]


def test_flags_cached_and_simulated_in_every_mimetype() -> None:
    bundle = render.completion_bundle(make(provider="sim", cached=True))
    for mime, data in bundle.items():
        assert "simulated" in data, mime
        # a cached answer shows its original latency and cost, and that nothing was billed
        assert "0.42s" in data and "$0.000165" in data and "cached: $0 billed now" in data, mime
    plain = render.completion_bundle(make())
    for data in plain.values():
        assert "simulated" not in data and "cached" not in data


def test_unknown_counts_and_cost_are_not_zero() -> None:
    c = make(usage=Usage(prompt_tokens=None, completion_tokens=3), cost=None)
    footer = render.usage_footer_text(c)
    assert "prompt ? · completion 3 tokens" in footer
    assert "cost unknown" in footer and "$0" not in footer


def test_model_notice_in_one_line_when_another_model_answered() -> None:
    c = make(model="grok-4.3", requested="grok-4")
    bundle = render.completion_bundle(c)
    notice = "Asked for grok-4; answered by grok-4.3 (grok-4-0709 was retired on 2026-05-15)."
    assert f"Note: {notice}" in bundle["text/plain"]
    assert notice in bundle["text/html"]
    assert "answered by grok\\-4\\.3" in bundle["text/markdown"]
    assert "Asked for" not in render.completion_bundle(make())["text/html"]


def test_xss_payloads_are_inert_in_every_mimetype() -> None:
    c = make(content=PAYLOAD, reasoning=f"thinking {PAYLOAD}")
    for mode in render.REASONING_MODES:
        bundle = render.completion_bundle(c, reasoning=mode)
        assert_inert(bundle)
        assert "&lt;script&gt;" in bundle["text/html"]
        assert "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]
        assert "[image not loaded: x](https://evil.example/p.png)" in bundle["text/markdown"]
        assert "image not loaded: x" in bundle["text/html"]


def test_untrusted_model_id_is_escaped_too() -> None:
    c = make(model=f"grok{IMG}", requested="grok-3-mini-beta")
    bundle = render.completion_bundle(c)
    assert_inert(bundle)
    assert "&lt;img" in bundle["text/html"]


@pytest.mark.parametrize(
    "answer",
    [
        "[click](javascript:alert(1))",
        "[click]( JavaScript:alert(1))",
        "[r]: javascript:alert(2)\n\n[click][r]",
        "![y][r]\n\n[r]: https://evil.example/p.png",
        "<https://evil.example/p.png>",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_markdown_has_no_unsafe_links_or_images(answer: str) -> None:
    markdown = render.answer_markdown(answer)
    assert "![" not in markdown
    assert "<" not in markdown
    assert not re.search(r"\]\(\s*(javascript|data):", markdown, re.IGNORECASE)
    assert not re.search(r"^\s{0,3}\[[^\]]+\]:\s*javascript:", markdown, re.MULTILINE | re.I)
    html_doc = render.answer_html(answer)
    for _tag, attrs in parsed_tags(html_doc):
        href = attrs.get("href")
        assert href is None or href.startswith("https://"), href


def test_code_blocks_are_literal_and_cannot_be_closed_early() -> None:
    answer = "Run:\n\n`````python\nprint('<b>')\n````\n<img src=x onerror=alert(1)>\n`````\ndone"
    markdown = render.answer_markdown(answer)
    # Re-fenced with a fence longer than any backtick run inside.
    assert "`````python\nprint('<b>')\n````\n<img src=x onerror=alert(1)>\n`````" in markdown
    html_doc = render.answer_html(answer)
    assert "<pre" in html_doc and "&lt;img src=x onerror=alert(1)&gt;" in html_doc
    assert 'class="language-python"' in html_doc
    assert [t for t, _ in parsed_tags(html_doc) if t == "img"] == []


def test_answer_html_subset() -> None:
    html_doc = render.answer_html(
        "# Title\nUse `a < b` and **bold**, not 2**3**4.\n\nSee [docs](https://docs.x.ai)."
    )
    assert "<strong>Title</strong>" in html_doc
    assert "<code>a &lt; b</code>" in html_doc
    assert "<strong>bold</strong>" in html_doc and "2**3**4" in html_doc
    assert '<a href="https://docs.x.ai" target="_blank" rel="noopener noreferrer nofollow">' in (
        html_doc
    )
    assert html_doc.count("<p ") == 2


def test_markdown_text_renders_literally() -> None:
    text = render.markdown_text("# not a heading\n- not a list\n<b>x</b> & *y*")
    assert text == ("\\# not a heading\\\n\\- not a list\\\n&lt;b&gt;x&lt;\\/b&gt; &amp; \\*y\\*")


def test_plain_text_can_skip_html_escaping_for_terminals() -> None:
    c = make(content="if a < b: ![i](https://evil.example/p.png)")
    assert "a &lt; b" in render.completion_text(c)
    terminal = render.completion_text(c, escape_html=False)
    assert "if a < b: [image not loaded: i](https://evil.example/p.png)" in terminal


def test_stream_html_phases_and_escaping() -> None:
    waiting = render.stream_html("", "", model="grok-3-mini-beta")
    assert "grok-3-mini-beta · waiting…" in waiting
    assert "grok-4.3 · reasoning…<" in render.stream_html("", "", model="grok-4.3", reasons=True)
    thinking = render.stream_html(SCRIPT, "", reasoning_mode="collapse", model="m", elapsed_s=2.25)
    assert '<details class="grokbook-reasoning" open' in thinking
    assert "m · reasoning… 2.2s" in thinking and "&lt;script&gt;" in thinking
    answering = render.stream_html("r" * 30, IMG, reasoning_mode="collapse")
    assert "open" not in answering.split("<summary")[0]
    # No usage yet: what is known (its length), never a token count it does not have.
    assert "Reasoning · 30 characters so far · tokens counted when the answer ends" in answering
    assert "tokens so far" not in answering and "~" not in answering
    assert "&lt;img src=x onerror=alert(1)&gt;" in answering
    hidden = render.stream_html("secret thoughts", "ok", reasoning_mode="hide", done=True)
    assert "secret thoughts" not in hidden and "(hidden)" in hidden and "…" not in hidden
    for html_doc in (waiting, thinking, answering, hidden):
        assert not [t for t, _ in parsed_tags(html_doc) if t in ("script", "img")]
    assert (
        render.stream_text("r", "a <b>", model="m")
        == "m · answering…\n[Reasoning · 1 character so far · tokens counted when the answer "
        "ends, collapsed]\na &lt;b&gt;"
    )


@pytest.mark.parametrize(("summary", "what"), [(True, "Reasoning summary"), (False, "Reasoning")])
def test_live_reasoning_shows_characters_until_usage_gives_the_exact_count(
    summary: bool, what: str
) -> None:
    """Issue 23.3: a Responses summary of 62 "tokens" finished at 1,961; no estimate is shown."""
    text = "x" * 2_522
    assert render.estimate_tokens(text) == 631 and render.estimate_tokens("") == 0
    live = render.stream_html(text, "", summary=summary)
    assert f"{what} · 2,522 characters so far · tokens counted when the answer ends" in live
    assert "631" not in live and "estimate" not in live
    stopped = render.stream_html(text, "", done=True, summary=summary)  # Stop: no usage comes
    assert f"{what} · 2,522 characters · no token count (the answer did not finish)" in stopped
    assert "so far" not in stopped
    exact = render.stream_html(text, "ok", reasoning_tokens=700, summary=summary)
    assert "Reasoning · 700 tokens" in exact and "characters" not in exact
    finished = render.completion_bundle(make(reasoning=text))["text/html"]
    assert "Reasoning · 310 tokens" in finished  # the exact usage.reasoning_tokens
    assert "estimate" not in finished and "so far" not in finished


@pytest.mark.parametrize(
    ("model", "wire", "summary"),
    [
        ("grok-4.3", "responses", True),  # only a summary streams there
        ("grok-4.3", "chat", False),  # no reasoning text at all
        ("grok-3-mini-beta", "chat", False),  # the raw reasoning_content
        ("grok-4.6", "responses", False),  # streams its reasoning text
        ("grok-4.3", None, False),  # wire not known yet
        ("no-such-model", "responses", False),
    ],
)
def test_live_answer_labels_a_responses_summary_as_one(
    model: str, wire: str | None, summary: bool
) -> None:
    live = render.LiveAnswer(model, wire=wire)
    assert live.summary is summary
    assert ("a summary of the reasoning streams" in live.terminal_status()) is summary
    assert "tokens are counted when the answer ends" in live.terminal_status()
    live.update(10.0, force=True)
    live.add("reasoning", "Checking the arithmetic.")
    bundle = live.update(13.5)
    assert bundle is not None
    what = "Reasoning summary" if summary else "Reasoning"
    assert f"{what} · 24 characters so far" in bundle["text/html"]
    assert "reasoning… 3.5s" in bundle["text/html"] and "reasoning… 3.5s" in bundle["text/plain"]
    assert "token" not in bundle["text/plain"]


def test_error_rendering_is_escaped_and_redacted() -> None:
    message = render.error_message(
        errors.AuthenticationError(
            f"HTTP 401: bad key {FAKE_KEY}. <b>x</b>",
            status_code=401,
            server_message=f"Incorrect API key {FAKE_KEY}",
        ),
        secrets=(FAKE_KEY,),
    )
    assert FAKE_KEY not in message
    assert "XAI_API_KEY" in message and "%grok login" in message
    html_doc = render.error_html("Server said <b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in html_doc and "<b>" not in html_doc
    assert render.error_text("a <b>") == "grokbook: a &lt;b&gt;"
    assert render.error_bundle("x") == {
        "text/plain": "grokbook: x",
        "text/html": render.error_html("x"),
    }


def test_error_messages_say_what_to_do() -> None:
    limited = errors.RateLimitError("HTTP 429", status_code=429)
    limited.retries = 2
    assert "after 2 retries" in render.error_message(limited)
    effort = errors.BadRequestError(
        "HTTP 400: Model grok-4 does not support parameter reasoningEffort.",
        status_code=400,
        server_message="Model grok-4 does not support parameter reasoningEffort.",
    )
    assert "drop -e" in render.error_message(effort)
    wrong_key_400 = errors.BadRequestError(
        "HTTP 400: Incorrect API key provided", status_code=400, server_message="Incorrect API key"
    )
    assert "rejected the API key" in render.error_message(wrong_key_400)
    missing = errors.MissingAPIKeyError("xai", "XAI_API_KEY", "https://console.x.ai")
    assert "%grok login" in render.error_message(missing)
    cut = errors.APIConnectionError("Could not reach api.x.ai")
    cut.retries = 1
    assert render.error_message(cut).endswith("(retried 1 time)")


def test_render_does_not_import_ipython() -> None:
    code = "import sys, grokbook.render; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the live-answer renderer ---------------------------------------------------------------------
def feed_at_pace(
    live: render.LiveAnswer, tokens: int, *, pace: float = 100.0, reasoning: int = 0
) -> list[dict[str, str]]:
    """Stream ``reasoning`` then ``tokens - reasoning`` pieces of ~6 characters, ``pace`` per
    second of a fake clock; return every update the renderer let through."""
    published = [live.update(0.0, force=True)]
    for i in range(tokens):
        live.add("reasoning" if i < reasoning else "content", f"w{i % 1000} " if i % 12 else "\n\n")
        published.append(live.update((i + 1) / pace))
    return [p for p in published if p is not None]


def test_live_bytes_grow_linearly_with_the_answer() -> None:
    per_token = {}
    for tokens in (2_000, 10_000, 40_000):
        live = render.LiveAnswer("grok-4.3")
        updates = feed_at_pace(live, tokens, reasoning=tokens // 4)
        assert live.bytes_published == sum(render.bundle_size(u) for u in updates)
        chars = len(live.text("reasoning")) + len(live.text("content"))
        # The rule every update obeys, summed: bytes <= 40 per new character + 1000 each.
        assert live.bytes_published <= 40 * chars + 1000 * live.updates
        per_token[tokens] = live.bytes_published / tokens
        # Still live: several updates a second of model time (100 tokens/s here).
        assert live.updates / (tokens / 100) >= 2
        assert max(render.bundle_size(u) for u in updates) < 8_000  # an update shows the end only
    assert per_token[40_000] < 1.5 * per_token[2_000]
    assert per_token[40_000] * 40_000 < 20e6


def test_the_old_way_would_have_been_quadratic() -> None:
    """The measure means something: redrawing everything would publish ~the square."""
    live = render.LiveAnswer("m")
    feed_at_pace(live, 10_000)
    whole = render.stream_html("", live.text("content"))
    redraw_everything = len(whole) * live.updates / 2
    assert live.bytes_published * 4 < redraw_everything


def test_live_throttle_by_time_and_by_bytes() -> None:
    live = render.LiveAnswer("m", interval=0.1)
    assert live.update(0.0) is not None  # the first update always goes
    live.add("content", "a")
    assert live.update(0.05) is None  # too soon
    assert live.update(0.1) is not None
    assert live.update(0.5) is None  # nothing new: no update
    live.add("content", "x" * 10_000)
    big = live.update(0.6)
    assert big is not None and "[… 7,001 earlier characters" in big["text/html"]
    live.add("content", "y")  # one new character cannot pay for a ~3 KB redraw
    assert live.update(5.0) is None
    live.add("content", "z" * 200)
    assert live.update(5.1) is not None
    assert live.updates == 4
    forced = live.update(5.11, force=True)
    assert forced is not None and live.updates == 5


def test_live_update_shows_the_end_with_a_note_and_the_length_of_the_whole() -> None:
    live = render.LiveAnswer("grok-4.3", reasoning_mode="show")
    live.add("reasoning", "r" * 5_000)
    bundle = live.update(0.0, force=True)
    assert bundle is not None
    html_doc = bundle["text/html"]
    assert "Reasoning · 5,000 characters so far" in html_doc  # the whole reasoning's length
    assert "[… 3,800 earlier characters, shown in full when the answer ends]" in html_doc
    assert html_doc.count("r" * 1_200) == 1 and "r" * 1_201 not in html_doc
    assert bundle["text/plain"] == "grok-4.3 · reasoning… 0.0s (0 characters of answer so far)"
    live.add("content", SCRIPT)
    answering = live.live_bundle()
    assert "answering…" in answering["text/html"] and "&lt;script&gt;" in answering["text/html"]
    assert_inert(answering)


def test_partial_on_error_shows_everything_that_arrived_redacted() -> None:
    live = render.LiveAnswer("m", reasoning_mode="show", secrets=(FAKE_KEY,))
    live.add("reasoning", "thinking " + "t" * 5_000)
    live.add("content", f"part {FAKE_KEY} " + "c" * 4_000)
    bundle = live.partial_bundle(f"The stream was cut (key {FAKE_KEY})")
    html_doc = bundle["text/html"]
    assert "t" * 5_000 in html_doc and "c" * 4_000 in html_doc  # in full, not the window
    assert "earlier characters" not in html_doc and "…</div>" not in html_doc
    assert FAKE_KEY not in json_dump(bundle) and "part [redacted]" in html_doc
    assert "grokbook-error" in html_doc and bundle["text/plain"].startswith("grokbook: ")
    nothing = render.LiveAnswer("m").partial_bundle("Stopped.")
    assert nothing["text/html"].startswith('<div class="grokbook-error"')


def test_a_key_cut_by_the_window_edge_is_not_shown() -> None:
    live = render.LiveAnswer("m", secrets=(FAKE_KEY,))
    live.add("content", "x" * 5_000 + FAKE_KEY + "y" * (live.ANSWER_WINDOW - 5))
    shown = live.live_bundle()["text/html"]
    assert FAKE_KEY[-5:] not in shown.replace("y", "") or "[redacted]" in shown
    assert FAKE_KEY not in shown


def test_final_bundle_redacts_and_keeps_the_completion() -> None:
    c = make(content=f"echo {FAKE_KEY}", reasoning=f"r {FAKE_KEY}")
    live = render.LiveAnswer("m", reasoning_mode="show", secrets=(FAKE_KEY,))
    bundle = live.final_bundle(c)
    assert FAKE_KEY not in json_dump(bundle) and "echo [redacted]" in bundle["text/html"]
    assert c.content == f"echo {FAKE_KEY}"  # the caller's Completion is untouched
    assert render.LiveAnswer("m").final_bundle(c) == render.completion_bundle(c)


TERMINAL_CASES = [
    ("\x1b]0;pwned\x07title set", "title set"),  # OSC: window title, BEL-terminated
    ("\x1b]0;pwned\x1b\\x", "x"),  # OSC terminated by ST
    ("a\x1b[2Jb\x1b[31mred\x1b[0m", "abred"),  # CSI: clear screen, colours
    ("\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "link"),  # OSC 8 hyperlink
    ("\x1bPq#0;2;0;0;0\x1b\\dcs", "dcs"),  # DCS (sixel)
    ("\x9b2J\x9d0;c1\x9cc1 forms", "c1 forms"),  # 8-bit CSI and OSC
    ("over\rwrite\x08\x07", "overwrite"),  # carriage return, backspace, bell
    ("tabs\tand\nnewlines", "tabs\tand\nnewlines"),  # kept
    ("\x1b(0\x1b=keypad", "keypad"),  # charset and keypad escapes
]


@pytest.mark.parametrize(("raw", "shown"), TERMINAL_CASES)
def test_terminal_text_strips_whole_sequences(raw: str, shown: str) -> None:
    assert render.terminal_text(raw) == shown


@pytest.mark.parametrize(("raw", "shown"), TERMINAL_CASES)
def test_terminal_pieces_strip_sequences_split_anywhere(raw: str, shown: str) -> None:
    for cut in range(len(raw) + 1):
        live = render.LiveAnswer("m")
        pieces = live.terminal("content", raw[:cut]) + live.terminal("content", raw[cut:])
        pieces += live.terminal_end()
        assert "".join(t for _, t in pieces) == shown, cut


def test_terminal_pieces_redact_a_key_split_across_pieces() -> None:
    text = f"echo {FAKE_KEY} done"
    for cut in range(len(text) + 1):
        live = render.LiveAnswer("m", secrets=(FAKE_KEY,))
        pieces = [
            *live.terminal("reasoning", "think "),
            *live.terminal("content", text[:cut]),
            *live.terminal("content", text[cut:]),
            *live.terminal_end(),
        ]
        assert pieces[0] == ("reasoning", "think ") and pieces[1] == ("switch", "")
        assert "".join(t for k, t in pieces if k == "content") == "echo [redacted] done", cut
    assert live.text("content") == text  # the state keeps what arrived


def json_dump(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("cls", [gb.Client, gb.AsyncClient])
def test_terminal_pieces_redact_a_key_only_the_client_knows(cls: Any) -> None:
    """A client keeps its key to itself and offers ``redact`` (issue 24): given it as a
    redactor, the terminal still never shows a piece of a key split across streamed pieces
    (a key is one word: the unfinished word waits for the next piece)."""
    client = cls(provider="xai", api_key=FAKE_KEY)
    assert client.redact(f"key {FAKE_KEY}.") == "key [redacted]."
    text = f"echo {FAKE_KEY} done"
    for cut in range(len(text) + 1):
        live = render.LiveAnswer("m", redactors=[client.redact])
        pieces = [
            *live.terminal("content", text[:cut]),
            *live.terminal("content", text[cut:]),
            *live.terminal_end(),
        ]
        shown = [t for _, t in pieces]
        assert "".join(shown) == "echo [redacted] done", cut
        assert not any(FAKE_KEY[:4] in t or FAKE_KEY[-4:] in t for t in shown), cut
    window = render.LiveAnswer("m", redactors=[client.redact])
    window.add("content", "x" * 5_000 + FAKE_KEY + "y" * (window.ANSWER_WINDOW - 5))
    assert FAKE_KEY[-5:] not in window.live_bundle()["text/html"]  # cut by the window's edge
