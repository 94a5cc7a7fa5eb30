"""How a stored Completion is encoded: compact JSON, each long string kept once, then zlib.

A Completion's dict repeats its longest text: the answer and the reasoning appear at the top
level, again inside ``raw`` (the server's response as sent) and, on the Responses wire, a
third time in ``reasoning_items``. Stored as plain JSON in a ``WITHOUT ROWID`` table, that
made a cache entry ~7 KB that spilled onto overflow pages. :func:`pack` replaces every later
occurrence of a string of :data:`MIN_SHARED` characters or more with a reference to its first
occurrence (``{"\\u0000": n}``; a key of the data that starts with NUL is stored with one more,
so none is mistaken for a reference), then compresses; :func:`unpack` restores it exactly (the
dict is traversed in the same order both ways). Entries written before this encoding are
plain JSON text and still read.

>>> data = {"content": "x" * 40, "raw": {"text": "x" * 40}, "n": 3}
>>> blob = pack(data)
>>> blob[:4], unpack(blob) == data
(b'gbz1', True)
>>> unpack('{"content": "old entry"}')
{'content': 'old entry'}
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any

from .errors import redact

__all__ = [
    "MAGIC",
    "MIN_SHARED",
    "PACK_TEXT_MIN",
    "TEXT_MAGIC",
    "pack",
    "pack_text",
    "unpack",
    "unpack_text",
]

#: What every packed value starts with (and the version of the encoding).
MAGIC = b"gbz1"
#: Strings shorter than this are cheaper inline than as a reference.
MIN_SHARED = 32
_REF = "\x00"
#: What a packed text column (the run log's ``reasoning``) starts with.
TEXT_MAGIC = b"gbt1"
#: Texts shorter than this stay plain TEXT (zlib gains little on them).
PACK_TEXT_MIN = 256
#: zlib's level 6: within a few percent of level 9's size at about half its time.
_LEVEL = 6


def _escape(key: Any) -> Any:
    return _REF + key if isinstance(key, str) and key.startswith(_REF) else key


def _unescape(key: str) -> str:
    return key[1:] if key.startswith(_REF) else key


def pack(data: Any, secrets: Iterable[str] = ()) -> bytes:
    """``data`` (JSON-ready) encoded for storage, with ``secrets`` redacted from it."""
    secrets = tuple(secret for secret in secrets if secret)
    seen: dict[str, int] = {}

    def share(value: Any) -> Any:
        if isinstance(value, str):
            # Redacted before it is measured: unpack() counts the strings as stored.
            value = redact(value, secrets) if secrets else value
            if len(value) < MIN_SHARED:
                return value
            index = seen.get(value)
            if index is not None:
                return {_REF: index}
            seen[value] = len(seen)
            return value
        if isinstance(value, dict):
            # A key starting with NUL gets one more, so no stored key is the bare marker.
            return {_escape(key): share(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [share(item) for item in value]
        return value

    text = json.dumps(share(data), separators=(",", ":"), ensure_ascii=False, default=str)
    text = redact(text, secrets) if secrets else text  # keys, too
    return MAGIC + zlib.compress(text.encode("utf-8"), _LEVEL)


def unpack(stored: bytes | str) -> Any:
    """What :func:`pack` encoded (or an older entry's plain JSON text); ValueError when
    ``stored`` is neither."""
    if isinstance(stored, str):
        return json.loads(stored)
    if not isinstance(stored, bytes) or not stored.startswith(MAGIC):
        raise ValueError("not a grokbook-encoded value")
    try:
        text = zlib.decompress(stored[len(MAGIC) :]).decode("utf-8")
    except zlib.error as exc:
        raise ValueError(f"a damaged stored value ({exc})") from exc
    strings: list[str] = []

    def restore(value: Any) -> Any:
        if isinstance(value, str):
            if len(value) >= MIN_SHARED:
                strings.append(value)
            return value
        if isinstance(value, dict):
            if len(value) == 1 and _REF in value:
                return strings[value[_REF]]
            return {_unescape(key): restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [restore(item) for item in value]
        return value

    return restore(json.loads(text))


def pack_text(text: str | None) -> str | bytes | None:
    """A long text column value compressed (``TEXT_MAGIC`` + zlib), a short one as is.

    The run log's ``reasoning`` column is stored this way: reasoning runs to thousands of
    characters and is rarely read back, while ``history()`` never decodes it.

    >>> pack_text("short") == "short", unpack_text(pack_text("step " * 100)) == "step " * 100
    (True, True)
    """
    if text is None or len(text) < PACK_TEXT_MIN:
        return text
    return TEXT_MAGIC + zlib.compress(text.encode("utf-8"), _LEVEL)


def unpack_text(stored: str | bytes | None) -> str | None:
    """A text column as stored by :func:`pack_text` (or plain TEXT) back as a string."""
    if stored is None or isinstance(stored, str):
        return stored
    if not stored.startswith(TEXT_MAGIC):
        raise ValueError("not a grokbook-encoded text")
    try:
        return zlib.decompress(stored[len(TEXT_MAGIC) :]).decode("utf-8")
    except zlib.error as exc:
        raise ValueError(f"a damaged stored text ({exc})") from exc
