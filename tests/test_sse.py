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
