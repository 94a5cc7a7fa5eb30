"""Conversation state for the Responses wire: input items, stored responses, sealed reasoning.

* :func:`read_input` turns a request's ``input`` (a string or a list of items) into
  :class:`Turn` s, checking every item as xAI would (422 for a malformed one, 400 for a
  reasoning blob that was not issued by this simulator or was altered).
* :class:`ResponseStore` keeps ``store: true`` responses in memory, per
  :class:`~grokbook.sim.Simulator` (the in-process transport and the loopback server share
  one), bounded (least recently used first out) and thread-safe, so ``previous_response_id``
  and ``GET /v1/responses/{id}`` work.
* :func:`seal` / :func:`unseal`: the simulator's ``encrypted_content``, an opaque string that
  round-trips. Its format (clients must treat it as opaque, as they must xAI's):
  ``"gbsim1." + base64url(JSON) + "." + base64url(HMAC-SHA256(key, JSON)[:16])``, the key fixed
  (so a resumed conversation verifies), the JSON
  ``{"sim": "grokbook", "model", "effort", "reasoning_tokens"}``.

>>> blob = seal({"model": "grok-4.7", "effort": "high", "reasoning_tokens": 42})
>>> unseal(blob)["reasoning_tokens"]
42
>>> unseal(blob[:-2] + "xx")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
grokbook.sim._plan.Reject: Could not decrypt the provided encrypted_content. ...
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._plan import Reject

__all__ = [
    "MAX_STORED",
    "ResponseStore",
    "StoredResponse",
    "Turn",
    "read_input",
    "seal",
    "to_messages",
    "unseal",
]

#: How many stored responses one simulator keeps (least recently used dropped first).
MAX_STORED = 10_000
_PREFIX = "gbsim1."
# A fixed key, as xAI's is fixed on its side: a blob from an earlier process (a resumed
# conversation) still verifies, and an altered one does not. Not a secret: it only makes the
# simulator's blobs tamper-evident, it protects nothing.
_KEY = hashlib.sha256(b"grokbook simulator encrypted reasoning v1").digest()
_MAC_BYTES = 16
_ROLES = ("user", "assistant", "system", "developer")
_DECRYPT_ERROR = (
    "Could not decrypt the provided encrypted_content. Ensure the value is the unmodified "
    "encrypted_content from a previous response."
)


# -- sealed reasoning ---------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes) -> bytes:
    return hmac.new(_KEY, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def seal(fields: Mapping[str, Any]) -> str:
    """An opaque ``encrypted_content`` string carrying ``fields`` (see the module docstring)."""
    payload = json.dumps(
        {"sim": "grokbook", **fields}, separators=(",", ":"), sort_keys=True
    ).encode()
    return f"{_PREFIX}{_b64(payload)}.{_b64(_mac(payload))}"


def unseal(blob: Any) -> dict[str, Any]:
    """The fields of a blob :func:`seal` made in this process; 400 (xAI's wording) otherwise."""
    if not isinstance(blob, str) or not blob.startswith(_PREFIX):
        raise Reject(400, _DECRYPT_ERROR)
    body, _, tag = blob[len(_PREFIX) :].partition(".")
    try:
        payload = _unb64(body)
        valid = hmac.compare_digest(_unb64(tag), _mac(payload))
        fields = json.loads(payload) if valid else None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        fields = None
    if not isinstance(fields, dict) or fields.get("sim") != "grokbook":
        raise Reject(400, _DECRYPT_ERROR)
    return fields


# -- conversation turns -------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    """One item of a conversation, as the simulator models it.

    ``role`` is a chat role ("system", "user", "assistant", "tool") and ``content`` a string
    or chat-style parts; a ``reasoning`` turn has no text the model reads again, only the
    reasoning tokens it carries back into context (known from a stored response or a valid
    encrypted blob; 0 when neither).
    """

    role: str
    content: Any = ""
    reasoning_tokens: int = 0

    @property
    def is_reasoning(self) -> bool:
        return self.role == "reasoning"


def _where(index: int | None) -> str:
    return "input" if index is None else f"input[{index}]"


def _content(value: Any, where: str) -> Any:
    """A message's content as chat-style content: a string, or text / image parts."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise Reject(422, f"{where}.content: expected a string or a list of content parts.")
    parts: list[dict[str, Any]] = []
    for number, part in enumerate(value):
        if not isinstance(part, Mapping):
            raise Reject(422, f"{where}.content[{number}]: expected an object with a `type`.")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            if not isinstance(part.get("text"), str):
                raise Reject(422, f"{where}.content[{number}]: missing field `text`.")
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image":
            parts.append({"type": "image_url"})
        elif kind == "input_file":
            parts.append({"type": "text", "text": str(part.get("filename") or "")})
        else:
            raise Reject(
                422,
                f"{where}.content[{number}].type: unknown variant {kind!r}, expected one of "
                "`input_text`, `output_text`, `input_image`, `input_file`.",
            )
    return parts


def _reasoning_turn(item: Mapping[str, Any], where: str) -> Turn:
    if not isinstance(item.get("summary"), list):
        raise Reject(422, f"{where}: missing field `summary` (a list; send [] when empty).")
    blob = item.get("encrypted_content")
    if blob is None:
        return Turn("reasoning")
    fields = unseal(blob)
    tokens = fields.get("reasoning_tokens")
    return Turn("reasoning", reasoning_tokens=tokens if isinstance(tokens, int) else 0)


def _item(item: Any, index: int) -> Turn:
    where = _where(index)
    if not isinstance(item, Mapping):
        raise Reject(422, f"{where}: expected an object (a message or an output item).")
    kind = item.get("type")
    if kind in (None, "message") and "role" in item:
        role = item.get("role")
        if role not in _ROLES:
            raise Reject(
                422,
                f"{where}.role: unknown variant {role!r}, expected one of "
                + ", ".join(f"`{r}`" for r in _ROLES),
            )
        if "content" not in item:
            raise Reject(422, f"{where}: missing field `content`.")
        chat_role = "system" if role == "developer" else str(role)
        return Turn(chat_role, _content(item["content"], where))
    if kind == "reasoning":
        return _reasoning_turn(item, where)
    if kind == "function_call_output":
        if not isinstance(item.get("call_id"), str) or not isinstance(item.get("output"), str):
            raise Reject(422, f"{where}: a function_call_output needs `call_id` and `output`.")
        return Turn("tool", item["output"])
    if kind == "function_call":
        if not isinstance(item.get("name"), str) or not isinstance(item.get("arguments"), str):
            raise Reject(422, f"{where}: a function_call needs `name` and `arguments`.")
        return Turn("assistant", f"{item['name']}({item['arguments']})")
    raise Reject(
        422,
        f"{where}.type: unknown variant {kind!r}, expected a message ({{role, content}}), "
        "`reasoning`, `function_call` or `function_call_output`.",
    )


def read_input(value: Any) -> list[Turn]:
    """The turns of a request's ``input``: a string (one user message) or a list of items."""
    if isinstance(value, str):
        return [Turn("user", value)]
    if not isinstance(value, list):
        raise Reject(422, "invalid type for field `input`: expected a string or a list of items.")
    if not value:
        raise Reject(422, "field `input` must contain at least one item.")
    return [_item(item, index) for index, item in enumerate(value)]


def to_messages(turns: Sequence[Turn]) -> tuple[list[dict[str, Any]], int]:
    """(chat-style messages for the answer model, reasoning tokens carried back in context)."""
    messages = [{"role": t.role, "content": t.content} for t in turns if not t.is_reasoning]
    return messages, sum(t.reasoning_tokens for t in turns if t.is_reasoning)


# -- stored responses ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredResponse:
    """A ``store: true`` response: its body and the whole conversation up to and including it."""

    body: dict[str, Any]
    conversation: tuple[Turn, ...] = field(default=(), repr=False)


class ResponseStore:
    """In-memory stored responses of one simulator: bounded LRU, thread-safe."""

    def __init__(self, limit: int = MAX_STORED) -> None:
        if limit < 1:
            raise ValueError("a response store keeps at least one response")
        self.limit = limit
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, response_id: str, stored: StoredResponse) -> None:
        with self._lock:
            self._items[response_id] = stored
            self._items.move_to_end(response_id)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            stored = self._items.get(response_id)
            if stored is not None:
                self._items.move_to_end(response_id)
            return stored

    def delete(self, response_id: str) -> bool:
        with self._lock:
            return self._items.pop(response_id, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, response_id: object) -> bool:
        with self._lock:
            return response_id in self._items
