"""The incremental SSE decoder: arbitrary chunking, UTF-8 splits, comments, line endings."""

from __future__ import annotations

from grokbook._sse import SSEDecoder


def decode_all(chunks: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    out: list[str] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.flush())
    return out


def test_events_split_anywhere() -> None:
    raw = b'data: {"a": 1}\n\ndata: {"b": 2}\n\ndata: [DONE]\n\n'
    whole = decode_all([raw])
    assert whole == ['{"a": 1}', '{"b": 2}', "[DONE]"]
    for size in range(1, len(raw)):
        assert decode_all([raw[i : i + size] for i in range(0, len(raw), size)]) == whole


def test_multibyte_utf8_split_across_chunks() -> None:
    raw = 'data: {"t": "héllo 🌍 世界"}\n\n'.encode()
    split = raw.index("🌍".encode()) + 2  # in the middle of the emoji's 4 bytes
    assert decode_all([raw[:split], raw[split:]]) == ['{"t": "héllo 🌍 世界"}']


def test_comments_fields_and_crlf() -> None:
    raw = b": keep-alive\r\nevent: message\r\nid: 7\r\ndata: x\r\n\r\nretry: 5\r\ndata: y\r\n\r\n"
    assert decode_all([raw]) == ["x", "y"]


def test_crlf_split_between_chunks() -> None:
    assert decode_all([b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]) == ["a", "b"]


def test_multiline_data_and_missing_final_blank_line() -> None:
    assert decode_all([b"data: one\ndata: two\n\ndata: tail"]) == ["one\ntwo", "tail"]


def test_no_space_after_colon_and_blank_lines() -> None:
    assert decode_all([b"\n\n\ndata:x\n\n\n\n"]) == ["x"]


def test_a_leading_bom_is_dropped_once_even_split_across_chunks() -> None:
    raw = "\ufeffdata: a\n\ndata: \ufeffb\n\n".encode()
    assert decode_all([raw]) == ["a", "\ufeffb"]
    assert decode_all([raw[i : i + 1] for i in range(len(raw))]) == ["a", "\ufeffb"]
    # A BOM anywhere but the very start is data; two at the start: only the first goes.
    assert decode_all(["\ufeff\ufeffdata: c\n\n".encode()]) == []  # "\ufeffdata" is no field
    assert decode_all([b"", b"\xef\xbb", b"\xbfdata: d\n\n"]) == ["d"]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert decode_all([b"data: \xff\xfe x\n\n"]) == ["\ufffd\ufffd x"]
    # A truncated character at the very end of the stream.
    assert decode_all([b"data: ok\n\ndata: \xe2\x82"]) == ["ok", "\ufffd"]


def test_empty_data_field_is_not_dispatched_in_any_framing() -> None:
    for nl in ("\n", "\r\n", "\r"):
        raw = f"data:{nl}{nl}data: {nl}{nl}data{nl}{nl}data: x{nl}{nl}".encode()
        assert decode_all([raw]) == ["x"], repr(nl)
        assert decode_all([raw[i : i + 1] for i in range(len(raw))]) == ["x"], repr(nl)


def test_one_event_chunks_and_mixed_chunks_agree() -> None:
    """The one-event-per-chunk fast path and the general line scan give the same payloads."""
    events = [
        b"data: {}\n\n",
        b"event: e\ndata: 1\n\n",
        b": hi\ndata:2\n\n",
        b"id: 3\n\n",
        b"data: a\ndata: b\n\n",
        b"datax: no\ndata: 4\n\n",
        b"data: 5\nevent: late\n\n",
        b"data:  6\n\n",
    ]
    expected = ["{}", "1", "2", "a\nb", "4", "5", " 6"]
    assert decode_all(events) == expected
    assert decode_all([b"".join(events)]) == expected
    assert decode_all([b"data: {}\n", b"\n", *events[1:]]) == expected


def test_payloads_are_read_as_strictly_as_json_loads() -> None:
    import pytest

    from grokbook import _wire_chat, _wire_responses
    from grokbook._core import build_request
    from grokbook.errors import IncompleteStreamError
    from grokbook.providers import PROVIDERS

    request = build_request(PROVIDERS["xai"], "http://x/v1", "hi", model="grok-3-mini-beta")
    for wire in (_wire_chat, _wire_responses):
        for good in ('{"choices": []}', ' {"choices": []}\t', '{"choices": []}\r\n '):
            wire.Stream(request, 0.0).feed(good)
        for bad in ('{"a": 1} x', '{"a": 1}{"b": 2}', "\ufeff{}", "{", "[1]", '{"a": 1}\x0b'):
            with pytest.raises(IncompleteStreamError):
                wire.Stream(request, 0.0).feed(bad)
