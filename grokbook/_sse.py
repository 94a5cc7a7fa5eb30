"""An incremental Server-Sent Events decoder for streamed chat completions.

Bytes go in as the network delivers them (chunk boundaries anywhere, even inside a
multi-byte UTF-8 character); complete events' ``data`` payloads come out. Comments
(``:keep-alive``), ``event:``/``id:``/``retry:`` fields and blank lines are handled per the
SSE spec; CRLF, LF and CR line endings are all accepted.
"""

from __future__ import annotations

import codecs

__all__ = ["SSEDecoder"]


class SSEDecoder:
    """Feed bytes, get back the ``data`` of each completed event."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """Decode ``chunk``; return the data payloads of events it completed."""
        return self._consume(self._utf8.decode(chunk))

    def flush(self) -> list[str]:
        """End of stream: finish the last line and dispatch a pending event if any."""
        out = self._consume(self._utf8.decode(b"", final=True))
        if self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        if self._data:
            event = "\n".join(self._data)
            self._data = []
            if event:
                out.append(event)
        return out

    def _consume(self, text: str) -> list[str]:
        out: list[str] = []
        if self._pending_cr and text.startswith("\n"):
            # The "\n" of a CRLF split across chunks.
            text = text[1:]
        self._pending_cr = False
        buffer = self._buffer + text
        start = 0
        i = 0
        n = len(buffer)
        while i < n:
            ch = buffer[i]
            if ch == "\r" or ch == "\n":
                line = buffer[start:i]
                if ch == "\r":
                    if i + 1 < n and buffer[i + 1] == "\n":
                        i += 1
                    elif i + 1 == n:
                        self._pending_cr = True
                event = self._line(line)
                if event is not None:
                    out.append(event)
                start = i + 1
            i += 1
        self._buffer = buffer[start:]
        return out

    def _line(self, line: str) -> str | None:
        if line == "":
            if not self._data:
                return None
            event = "\n".join(self._data)
            self._data = []
            # The SSE spec: an event whose data buffer is empty is not dispatched.
            return event or None
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        return None
