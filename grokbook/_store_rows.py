"""What the run log stores for a call: the cache key, the writer's records, and their rows.

Part of :mod:`grokbook.store` (see ``_store_schema`` for the split). A finished call is handed
to the writer thread as a small :class:`_Call` record; :func:`_call_row` turns it into a
``calls`` row off the request path (secrets redacted, long reasoning packed, nothing stored
twice that the row already holds).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._columns import TOKEN_COLUMNS
from ._store_codec import pack_text
from ._store_schema import iso
from .errors import redact
from .result import Completion

if TYPE_CHECKING:  # pragma: no cover
    from ._core import ChatRequest

__all__ = ["cache_key", "canonical_json", "session_id"]

_CALL_COLUMNS = (
    "time",
    "ts",
    "provider",
    "base_host",
    "model",
    "response_model",
    "reasoning_effort",
    "params",
    "messages",
    "prompt",
    "answer",
    "reasoning",
    *TOKEN_COLUMNS,
    "usage_convention",
    "latency_s",
    "original_latency_s",
    "cost_usd",
    "billed_usd",
    "fetch_s",
    "status",
    "error",
    "error_type",
    "status_code",
    "cached",
    "stream",
    "repeat",
    "response_id",
    "finish_reason",
    "system_fingerprint",
    "cache_key",
    "sweep_id",
    "session_id",
    "source",
    "tags",
    "pid",
)
_INSERT_CALL = (
    f"INSERT INTO calls ({', '.join(_CALL_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _CALL_COLUMNS)})"
)
_INSERT_CACHE = (
    "INSERT OR REPLACE INTO cache (key, created, provider, model, completion) "
    "VALUES (?, ?, ?, ?, ?)"
)


# -- the cache key -----------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data, equal text (dict order ignored)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _number(value: Any) -> Any:
    # 1 and 1.0 are the same temperature.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def cache_key(request: ChatRequest, repeat: int = 0) -> str:
    """sha256 (hex) of everything that changes the answer, and never the key.

    Provider, base URL, model, messages, effort, every parameter (temperature, top_p,
    max_tokens, seed, extra body fields) and the repeat index, so repeats are distinct samples.
    """
    params = {k: v for k, v in request.params.items() if v is not None and v != {}}
    for name in ("temperature", "top_p"):
        if name in params:
            params[name] = _number(params[name])
    payload = {
        "v": 1,
        "provider": request.provider.name,
        "base_url": request.base_url.rstrip("/"),
        "model": request.model,
        "messages": list(request.messages),
        "reasoning_effort": request.reasoning_effort,
        "params": params,
        "repeat": int(repeat),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


_SESSION_ID = uuid.uuid4().hex[:12]


def renew_session_id() -> None:
    """A new session id (a forked child is a session of its own)."""
    global _SESSION_ID
    _SESSION_ID = uuid.uuid4().hex[:12]


def session_id() -> str:
    """This process's session id (logged with every call unless ``tags`` name another)."""
    return _SESSION_ID


# -- what the writer thread receives ---------------------------------------------------------
@dataclass(slots=True)
class _Call:
    """A finished call as handed over by the client: turned into a row off the request path."""

    ts: float
    request: ChatRequest
    completion: Completion | None
    error: str | None
    error_type: str | None
    status_code: int | None
    partial: str | None
    repeat: int
    tags: dict[str, Any]
    secrets: tuple[str, ...]
    cache_key: str | None = None


@dataclass(slots=True)
class _CachePut:
    key: str
    completion: Completion
    secrets: tuple[str, ...]


def _opt_redact(text: str | None, secrets: Sequence[str]) -> str | None:
    return None if text is None else redact(text, secrets)


def _host(base_url: str) -> str | None:
    try:
        parts = urlsplit(base_url)
        host = parts.hostname
        if host and parts.port:
            host = f"{host}:{parts.port}"
        return host
    except ValueError:
        return None


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def _call_row(item: _Call) -> dict[str, Any]:
    request, completion, secrets = item.request, item.completion, item.secrets
    tags = item.tags
    row: dict[str, Any] = dict.fromkeys(_CALL_COLUMNS)
    row.update(
        time=iso(item.ts),
        ts=item.ts,
        provider=request.provider.name,
        base_host=_host(request.base_url),
        model=request.model,
        reasoning_effort=request.reasoning_effort,
        # Unset options, a lone prompt and tags that have columns are not stored twice.
        params=redact(
            canonical_json({k: v for k, v in request.params.items() if v is not None}), secrets
        ),
        messages=_messages_column(_new_messages(request.messages, tags), secrets),
        prompt=redact(_last_user_text(request.messages), secrets),
        stream=int(request.stream),
        repeat=item.repeat,
        cache_key=item.cache_key,
        sweep_id=_opt_str(tags.get("sweep_id")),
        session_id=_opt_str(tags.get("session_id")) or _SESSION_ID,
        source=_opt_str(tags.get("source")),
        tags=redact(
            canonical_json({k: v for k, v in tags.items() if k not in _TAG_COLUMNS}), secrets
        ),
        pid=os.getpid(),
    )
    if completion is not None:
        usage = completion.usage
        row.update(
            response_model=completion.model,
            answer=redact(completion.content, secrets),
            reasoning=pack_text(_opt_redact(completion.reasoning, secrets)),
            prompt_tokens=usage.prompt_tokens,
            cached_prompt_tokens=usage.cached_prompt_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            completion_tokens=usage.completion_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
            usage_convention=usage.convention,
            latency_s=completion.latency_s,
            original_latency_s=completion.original_latency_s,
            cost_usd=completion.cost_usd,
            billed_usd=completion.billed_usd,
            fetch_s=completion.fetch_s,
            cached=int(completion.cached),
            response_id=completion.id,
            finish_reason=completion.finish_reason,
            system_fingerprint=completion.system_fingerprint,
        )
    if item.error is not None:
        row.update(
            status="error",
            error=redact(item.error, secrets),
            error_type=item.error_type,
            status_code=item.status_code,
            cached=0,
        )
        if row["answer"] is None:  # a cut stream keeps what had arrived
            row["answer"] = _opt_redact(item.partial, secrets)
    else:
        row["status"] = "ok"
    return row


def _unstorable_row(item: _Call, exc: BaseException) -> dict[str, Any]:
    """The row for a call whose own row could not be stored: the request as sent (when even
    that fails, the bare facts), ``status='error'`` and an error saying why."""
    error = (
        f"the run log could not store this call's result ({type(exc).__name__}: {exc}); "
        "the caller received it"
    )
    try:
        row = _call_row(replace(item, completion=None, error=error, error_type="StoreError"))
    except Exception:
        row = dict.fromkeys(_CALL_COLUMNS)
        row.update(
            time=iso(item.ts),
            ts=item.ts,
            provider=item.request.provider.name,
            model=str(item.request.model),
            status="error",
            error=error,
            error_type="StoreError",
            cached=0,
            stream=0,
            session_id=_SESSION_ID,
            pid=os.getpid(),
        )
    row["error"] = redact(str(row["error"]), item.secrets)
    return row


#: Tags stored in columns of their own (so not again in the ``tags`` JSON).
_TAG_COLUMNS = frozenset({"sweep_id", "session_id", "source"})


def _messages_column(messages: Sequence[Mapping[str, Any]], secrets: Sequence[str]) -> str:
    """The ``messages`` column: '' when the request was the prompt alone (one user message
    of text, which the ``prompt`` column holds), else the messages as JSON."""
    if len(messages) == 1 and set(messages[0]) == {"role", "content"}:
        only = messages[0]
        if only["role"] == "user" and isinstance(only["content"], str):
            return ""
    return redact(canonical_json(list(messages)), secrets)


def _new_messages(
    messages: Sequence[Mapping[str, Any]], tags: Mapping[str, Any] | None
) -> Sequence[Mapping[str, Any]]:
    """The messages a call added: its last ``new_messages`` (a tag a Conversation sets when
    it resends its history; the history is its saved turns), else all of them."""
    new = (tags or {}).get("new_messages")
    if isinstance(new, int) and not isinstance(new, bool) and 0 < new < len(messages):
        return messages[-new:]
    return messages


def without_history(completion: Completion, tags: Mapping[str, Any] | None) -> Completion:
    """``completion`` keeping only the messages its call added (see :func:`_new_messages`):
    what a cache entry stores, so a conversation's entries do not each hold its history."""
    new = _new_messages(completion.messages, tags)
    return (
        completion
        if len(new) == len(completion.messages)
        else completion.replace(messages=tuple(new))
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


#: Errors that mean one row cannot be stored (a value SQLite cannot hold, a constraint), as
#: opposed to the database itself being unusable (locked, full, damaged: OperationalError and
#: plain DatabaseError), which fails the whole write.
_ROW_PROBLEMS = (
    OverflowError,
    TypeError,
    ValueError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
)


def _call(
    request: ChatRequest,
    completion: Completion | None,
    error: BaseException | None,
    repeat: int,
    tags: Mapping[str, Any] | None,
    secrets: tuple[str, ...],
    key: str | None,
) -> _Call:
    return _Call(
        ts=time.time(),
        request=request,
        completion=completion,
        error=None if error is None else (str(error) or type(error).__name__),
        error_type=None if error is None else type(error).__name__,
        status_code=getattr(error, "status_code", None) if error is not None else None,
        partial=(getattr(error, "partial_content", None) or None) if error is not None else None,
        repeat=repeat,
        tags=dict(tags or {}),
        secrets=secrets,
        cache_key=key,
    )
