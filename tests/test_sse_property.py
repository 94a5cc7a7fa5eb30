"""Property-based: the SSE parser and stream accumulator survive any chunking."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from grokbook._core import StreamAccumulator, build_request
from grokbook._sse import SSEDecoder
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
