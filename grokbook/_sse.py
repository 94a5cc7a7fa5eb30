"""An incremental Server-Sent Events decoder for streamed chat completions.

Bytes go in as the network delivers them (chunk boundaries anywhere, even inside a
multi-byte UTF-8 character); complete events' ``data`` payloads come out. Comments
(``:keep-alive``), ``event:``/``id:``/``retry:`` fields and blank lines are handled per the
SSE spec; CRLF, LF and CR line endings are all accepted, and a leading byte-order mark is
dropped. An event whose data is empty (``data:`` and a blank line) is not dispatched.

The scan runs in C: one incremental UTF-8 decode per chunk, ``str.rfind`` for the last line
break, one ``replace``/``split`` pass over the complete lines; Python only looks at each line
once (``splitlines`` is not used: it also breaks at ``\\x85``, ``\\u2028`` and other characters
that are not SSE line ends).
"""

from __future__ import annotations

import codecs

from .errors import REDACTED

__all__ = ["SSEDecoder"]


class SSEDecoder:
    """Feed bytes, get back the ``data`` of each completed event."""

    __slots__ = ("_buffer", "_data", "_incremental", "_pending_cr", "_redacted", "_utf8")

    def __init__(self, redacted: tuple[str, ...] = ()) -> None:
        #: Texts replaced by ``[redacted]`` in every payload (the API key's spellings, see
        #: :func:`grokbook.errors.spellings`): a stream's data enters grokbook here.
        self._redacted = redacted
        # utf-8-sig: a BOM at the very start of the stream is dropped, as the spec says.
        self._utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        #: The last, incomplete line (no line break seen yet).
        self._buffer = ""
        #: The data lines of the event being read.
        self._data: list[str] = []
        #: The previous chunk ended with "\r": a "\n" starting this one belongs to it.
        self._pending_cr = False
        #: The incremental decoder holds bytes (a split character) or has not seen 3 bytes
        #: yet (a BOM?): chunks go through it. Otherwise ``bytes.decode`` does, in C.
        self._incremental = True

    def feed(self, chunk: bytes) -> list[str]:
        """Decode ``chunk``; return the data payloads of events it completed."""
        if not self._incremental:
            try:
                text = chunk.decode()
            except UnicodeDecodeError:  # a character split across chunks, or invalid bytes
                pass
            else:
                return self._consume(text)
        text = self._utf8.decode(chunk)
        self._incremental = self._utf8.getstate() != (b"", 0)
        return self._consume(text)

    def flush(self) -> list[str]:
        """End of stream: finish the last line and dispatch a pending event if any."""
        out = self._consume(self._utf8.decode(b"", final=True))
        if self._buffer:
            self._lines([self._buffer], out)
            self._buffer = ""
        if self._data:
            event = "\n".join(self._data)
            self._data = []
            if event:
                out.append(self._redact(event))
        return out

    def _redact(self, event: str) -> str:
        for secret in self._redacted:
            if secret in event:
                event = event.replace(secret, REDACTED)
        return event

    def _consume(self, text: str) -> list[str]:
        out: list[str] = []
        if not text:
            return out
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":  # the "\n" of a CRLF split across chunks
                text = text[1:]
                if not text:
                    return out
        elif (
            # The common chunk: one whole event with one data line, e.g. "data: {...}\n\n" or
            # "event: x\ndata: {...}\n\n". Found with str.find, no line loop.
            not self._buffer
            and not self._data
            and text.endswith("\n\n")
            and text.find("\n\n") == len(text) - 2
            and "\r" not in text
        ):
            start = 0 if text.startswith("data") else text.find("\ndata") + 1
            if start == 0 and not text.startswith("data"):
                return out  # an event without data (comments, retry:): nothing to dispatch
            if text.startswith("data:", start) and text.find("\ndata", start) < 0:
                value = text[start + 5 : text.find("\n", start)]
                if value.startswith(" "):
                    value = value[1:]
                if value:
                    for secret in self._redacted:
                        if secret in value:
                            value = value.replace(secret, REDACTED)
                    out.append(value)
                return out
        end = max(text.rfind("\n"), text.rfind("\r"))
        if end < 0:  # no line ends yet: keep buffering
            self._buffer += text
            return out
        complete = self._buffer + text[: end + 1]
        self._buffer = text[end + 1 :]
        if complete[-1] == "\r":
            self._pending_cr = True
        if "\r" in complete:
            complete = complete.replace("\r\n", "\n").replace("\r", "\n")
        lines = complete.split("\n")
        lines.pop()  # the empty string after the last line break
        self._lines(lines, out)
        return out

    def _lines(self, lines: list[str], out: list[str]) -> None:
        data = self._data
        for line in lines:
            if not line:  # a blank line ends the event
                if data:
                    event = "\n".join(data) if len(data) > 1 else data[0]
                    data.clear()
                    # The SSE spec: an event whose data buffer is empty is not dispatched.
                    if event:
                        out.append(self._redact(event))
            elif line.startswith("data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(" ") else value)
            elif line == "data":
                data.append("")
            # Comments (":..."), event/id/retry and unknown fields carry no data.
