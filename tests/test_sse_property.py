"""Property-based: the SSE parser and stream accumulator survive any chunking."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from grokbook._core import build_request
from grokbook._sse import SSEDecoder
from grokbook._wire_chat import Stream as StreamAccumulator
from grokbook.errors import IncompleteStreamError
from grokbook.providers import PROVIDERS

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
    min_size=0,
    max_size=20,
)


def encode(reasoning: list[str], content: list[str], *, crlf: bool, comments: bool, done: bool):
    nl = "\r\n" if crlf else "\n"
    base = {"id": "r", "object": "chat.completion.chunk", "created": 1, "model": "grok-3-mini-beta"}
    out = []
    if comments:
        out.append(f": keep-alive{nl}{nl}")
    for piece in reasoning:
        delta = {"reasoning_content": piece}
        out.append(
            f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': delta}]})}{nl}{nl}"
        )
    for piece in content:
        chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece}}]}
        out.append(f"data: {json.dumps(chunk, ensure_ascii=False)}{nl}{nl}")
        if comments:
            out.append(f":{nl}{nl}{nl}")
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    out.append(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}{nl}{nl}")
    if done:
        out.append(f"data: [DONE]{nl}{nl}")
    return "".join(out).encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(
    reasoning=st.lists(texts, max_size=4),
    content=st.lists(texts, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    crlf=st.booleans(),
    comments=st.booleans(),
    done=st.booleans(),
)
def test_any_chunking_gives_the_same_answer(
    reasoning: list[str],
    content: list[str],
    cuts: list[int],
    crlf: bool,
    comments: bool,
    done: bool,
) -> None:
    raw = encode(reasoning, content, crlf=crlf, comments=comments, done=done)
    points = sorted({c % (len(raw) + 1) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    request = build_request(PROVIDERS["xai"], "http://x/v1", "hi", model="grok-3-mini-beta")
    acc = StreamAccumulator(request, 0.0)
    decoder = SSEDecoder()
    for piece in pieces:
        for payload in decoder.feed(piece):
            acc.feed(payload)
    for payload in decoder.flush():
        acc.feed(payload)
    if done:
        completion = acc.finish()
        assert completion.content == "".join(content)
        assert (completion.reasoning or "") == "".join(reasoning)
        assert completion.usage.completion_tokens == 2
    else:
        try:
            acc.finish()
        except IncompleteStreamError as exc:
            assert exc.partial_content == "".join(content)
        else:  # pragma: no cover - the assertion below explains
            raise AssertionError("a stream without [DONE] must not finish cleanly")


# -- the decoder alone: every SSE framing the spec allows ------------------------------------
# Text of any kind (multi-byte UTF-8 included, "\x85" and "\u2028" which are NOT SSE line
# breaks); a fixed multi-byte piece makes sure a cut can land inside a character.
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
comment_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=8,
)


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A stream in any legal framing, and the data payloads a correct decoder dispatches."""
    nl = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    payloads: list[str] = []
    out: list[str] = []
    if draw(st.booleans()):
        out.append(f"retry: 1000{nl}{nl}")  # an event with no data dispatches nothing
    for text in draw(st.lists(any_text, max_size=5)):
        chunk = {"choices": [{"delta": {"content": "é€𝄞" + text}}]}
        indent = draw(st.sampled_from([None, 1]))  # indented JSON spans several data lines
        payload = json.dumps(chunk, ensure_ascii=draw(st.booleans()), indent=indent)
        payloads.append(payload)
        for _ in range(draw(st.integers(0, 2))):
            out.append(f":{draw(comment_text)}{nl}")  # comments anywhere in an event
        if draw(st.booleans()):
            out.append(f"event: chunk{nl}id: {len(payloads)}{nl}")
        for line in payload.split("\n"):
            # "data:value" and "data: value" are the same, unless the value starts with a space.
            sep = ": " if line.startswith(" ") or draw(st.booleans()) else ":"
            out.append(f"data{sep}{line}{nl}")
            if draw(st.booleans()):
                out.append(f": between data lines{nl}")
        out.append(nl * draw(st.integers(1, 3)))  # the blank line ends it; extra ones are no-ops
    if draw(st.booleans()):
        payloads.append("[DONE]")
        out.append(f"data: [DONE]{nl}")
        if draw(st.booleans()):  # a last event without its blank line: dispatched by flush()
            out.append(nl)
    return "".join(out).encode("utf-8"), payloads


def decode(pieces: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    out: list[str] = []
    for piece in pieces:
        out.extend(decoder.feed(piece))
    return out + decoder.flush()


@settings(max_examples=200, deadline=None)
@given(stream=sse_streams(), cuts=st.lists(st.integers(min_value=0), max_size=16))
def test_decoder_dispatches_exactly_the_payloads_under_any_framing(
    stream: tuple[bytes, list[str]], cuts: list[int]
) -> None:
    raw, payloads = stream
    points = sorted({c % (len(raw) + 1) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    assert decode(pieces) == payloads
    assert decode([raw[i : i + 1] for i in range(len(raw))]) == payloads  # byte by byte
