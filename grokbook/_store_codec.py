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
(b'gbz2', True)
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

#: What every packed value starts with (and the version of the encoding): ``gbz2`` is
#: compressed with :data:`_ZDICT` as zlib's preset dictionary; ``gbz1`` without one.
MAGIC = b"gbz2"
_MAGIC_V1 = b"gbz1"
#: Strings shorter than this are cheaper inline than as a reference.
MIN_SHARED = 32
_REF = "\x00"
#: What a packed text column (the run log's ``reasoning``) starts with.
TEXT_MAGIC = b"gbt1"
#: Texts shorter than this stay plain TEXT (zlib gains little on them).
PACK_TEXT_MIN = 256
#: zlib's level 6: within a few percent of level 9's size at about half its time.
_LEVEL = 6
#: zlib's preset dictionary: the skeleton of a stored Completion (its keys, and a Chat
#: Completions and a Responses body with every value blanked). Entries share this structure,
#: so compressing against it halves them (a typical entry: ~940 bytes -> ~500). NEVER edit it:
#: entries written with it need these exact bytes to be read; a new one needs a new MAGIC.
_ZDICT = (
    b'{"content":"","reasoning":"","model":"","requested_model":"","reasoning_effort":null,"usag'
    b'e":{"prompt_tokens":0,"cached_prompt_tokens":0,"reasoning_tokens":0,"completion_tokens":0,'
    b'"output_tokens":0,"total_tokens":0,"convention":"","num_sources_used":0,"num_server_side_t'
    b'ools_used":null},"latency_s":0,"cost_usd":0,"id":"","provider":"","raw":{"id":"","object":'
    b'"","created":0,"model":"","choices":[{"index":0,"message":{"role":"","content":"","reasoni'
    b'ng_content":"","refusal":null},"finish_reason":""}],"usage":{"prompt_tokens":0,"completion'
    b'_tokens":0,"total_tokens":0,"prompt_tokens_details":{"text_tokens":0,"audio_tokens":0,"ima'
    b'ge_tokens":0,"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_t'
    b'okens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0},"num_sources_used"'
    b':0,"cost_in_usd_ticks":0},"system_fingerprint":""},"finish_reason":"","system_fingerprint"'
    b':"","created":0,"cached":false,"cache_lookup_s":null,"messages":[{"role":"","content":""}]'
    b',"params":{"temperature":null,"max_tokens":null,"top_p":null,"seed":null},"wire":"","reaso'
    b'ning_summary":null,"reasoning_items":[],"tool_calls":[],"server_tool_calls":[],"citations"'
    b':[]}{"content":"","reasoning":"","model":"","requested_model":"","reasoning_effort":"","us'
    b'age":{"prompt_tokens":0,"cached_prompt_tokens":0,"reasoning_tokens":0,"completion_tokens":'
    b'0,"output_tokens":0,"total_tokens":0,"convention":"","num_sources_used":0,"num_server_side'
    b'_tools_used":0},"latency_s":0,"cost_usd":0,"id":"","provider":"","raw":{"id":"","object":"'
    b'","created_at":0,"completed_at":0,"model":"","status":"","output":[{"id":"","type":"","sum'
    b'mary":[{"type":"","text":""}],"status":""},{"id":"","type":"","role":"","status":"","conte'
    b'nt":[{"type":"","text":"","annotations":[],"logprobs":[]}]}],"usage":{"input_tokens":0,"in'
    b'put_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reason'
    b'ing_tokens":0},"total_tokens":0,"num_sources_used":0,"num_server_side_tools_used":0,"cost_'
    b'in_usd_ticks":0},"instructions":null,"previous_response_id":null,"store":true,"reasoning":'
    b'{"effort":"","summary":""},"max_output_tokens":null,"temperature":null,"top_p":null,"text"'
    b':{"format":{"type":""}},"tools":[],"tool_choice":"","parallel_tool_calls":true,"prompt_cac'
    b'he_key":null,"incomplete_details":null,"error":null,"user":null,"metadata":{},"background"'
    b':false,"service_tier":"","truncation":"","top_logprobs":0,"presence_penalty":0,"frequency_'
    b'penalty":0,"system_fingerprint":""},"finish_reason":"","system_fingerprint":null,"created"'
    b':0,"cached":false,"cache_lookup_s":null,"messages":[{"role":"","content":""}],"params":{"t'
    b'emperature":null,"max_tokens":null,"top_p":null,"seed":null,"wire":""},"wire":"","reasonin'
    b'g_summary":"","reasoning_items":[{"id":"","type":"","summary":[{"type":"","text":""}],"sta'
    b'tus":""}],"tool_calls":[],"server_tool_calls":[],"citations":[]}'
)


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
    compressor = zlib.compressobj(_LEVEL, zdict=_ZDICT)
    return MAGIC + compressor.compress(text.encode("utf-8")) + compressor.flush()


def unpack(stored: bytes | str) -> Any:
    """What :func:`pack` encoded (or an older entry's plain JSON text); ValueError when
    ``stored`` is neither."""
    if isinstance(stored, str):
        return json.loads(stored)
    if not isinstance(stored, bytes) or not stored.startswith((MAGIC, _MAGIC_V1)):
        raise ValueError("not a grokbook-encoded value")
    try:
        if stored.startswith(MAGIC):
            decompressor = zlib.decompressobj(zdict=_ZDICT)
            raw = decompressor.decompress(stored[len(MAGIC) :]) + decompressor.flush()
        else:
            raw = zlib.decompress(stored[len(_MAGIC_V1) :])
        text = raw.decode("utf-8")
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
