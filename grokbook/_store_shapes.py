"""What a decoded run-log entry must look like, checked on every read path.

Part of :mod:`grokbook.store` (see ``_store_schema`` for the split). A cache entry, a saved
conversation turn and a batch row are decoded from the SQLite file, which anything can have
damaged or crafted: a hand edit, a disk error, another program. Each decoded entry is checked
against the annotations of the dataclass it becomes (:class:`~grokbook.Completion` with its
:class:`~grokbook.Usage` and :class:`~grokbook.result.ToolCall`, a batch record) before it is
used; one that does not fit raises :class:`DamagedEntry`, which the readers turn into a miss
(and one :class:`~grokbook.store.StoreWarning`), never a wrong answer or a raw exception.

>>> entry = {"content": 5, "reasoning": None, "model": "m", "requested_model": "m",
...          "reasoning_effort": None, "usage": {}, "latency_s": 1.0, "cost_usd": None,
...          "id": None, "provider": "sim"}
>>> completion(entry)
Traceback (most recent call last):
...
grokbook._store_shapes.DamagedEntry: content should be str, not int
>>> completion(dict(entry, content="303")).content
'303'
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from ._store_codec import unpack
from .result import Completion

__all__ = ["DamagedEntry", "check", "completion", "decode_completion"]

T = TypeVar("T")


class DamagedEntry(ValueError):
    """A stored entry that does not decode to what it should be."""


def _fits(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if origin in (tuple, list):  # JSON has lists only; tuple[X, ...] and list[X] alike
        args = typing.get_args(hint)
        return isinstance(value, list | tuple) and all(_fits(item, args[0]) for item in value)
    if origin is dict:
        _, values = typing.get_args(hint)
        return isinstance(value, dict) and all(
            isinstance(key, str) and _fits(item, values) for key, item in value.items()
        )
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, hint) or (
            isinstance(value, dict) and _problem(value, hint) is None
        )
    return isinstance(value, hint) if isinstance(hint, type) else True


def _problem(data: dict[str, Any], cls: type) -> str | None:
    """What is wrong with ``data`` as the fields of dataclass ``cls`` (None: nothing)."""
    hints = _hints(cls)
    for spec in dataclasses.fields(cls):
        if spec.name not in data:
            missing = spec.default is dataclasses.MISSING
            if missing and spec.default_factory is dataclasses.MISSING:
                return f"{spec.name} is missing"
            continue
        value = data[spec.name]
        if not _fits(value, hints[spec.name]):
            return f"{spec.name} should be {_name(hints[spec.name])}, not {type(value).__name__}"
    return None


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def check(data: Any, cls: type[T], build: Callable[[dict[str, Any]], T]) -> T:
    """``build(data)`` once ``data`` fits the fields of dataclass ``cls``; DamagedEntry
    (naming the first field that does not fit) otherwise, or when building fails."""
    if not isinstance(data, dict):
        raise DamagedEntry(f"should be an object, not {type(data).__name__}")
    problem = _problem(data, cls)
    if problem is not None:
        raise DamagedEntry(problem)
    try:
        return build(data)
    except Exception as exc:
        raise DamagedEntry(f"{type(exc).__name__}: {exc}") from None


def completion(data: Any) -> Completion:
    """The Completion a decoded entry describes (see the module docstring)."""
    return check(data, Completion, Completion.from_dict)


def decode_completion(stored: Any) -> Completion:
    """A stored Completion (packed or plain JSON) decoded and checked; DamagedEntry for any
    failure (undecodable, too deeply nested, the wrong shape)."""
    try:
        data = unpack(stored)
    except Exception as exc:  # ValueError, IndexError, TypeError, RecursionError ...
        raise DamagedEntry(f"{type(exc).__name__}: {exc}") from None
    return completion(data)
