"""What every generating endpoint checks the same way: the model, its effort, the parameters
reasoning models refuse, and which model answers (retired ids are served by their successor).

>>> asked, served, used = resolve_model({"model": "grok-4"}, effort=None, param="effort")
>>> asked.id, served.id, used
('grok-4-0709', 'grok-4.3', 'low')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import catalog
from ._behaviour import default_effort
from ._plan import Reject

__all__ = ["REASONING_REFUSES", "check_effort", "resolve_model"]

#: Parameters xAI's reasoning models reject with a 400 (docs.x.ai, reasoning guide).
REASONING_REFUSES = ("presence_penalty", "frequency_penalty", "stop")


def _model(body: Mapping[str, Any]) -> catalog.Model:
    model = body.get("model")
    if model is None:
        raise Reject(422, "missing field `model`: name a model, e.g. grok-4.3.")
    if not isinstance(model, str) or not model:
        raise Reject(422, "invalid type for field `model`: expected a non-empty string.")
    record = catalog.get(model)
    if record is None:
        raise Reject(
            404, f"The model {model} does not exist or your team does not have access to it."
        )
    return record


def check_effort(record: catalog.Model, name: str, effort: Any, param: str) -> str | None:
    """``effort`` if ``record`` takes it; 422 for a non-string, 400 for one it rejects."""
    if effort is None:
        return None
    if not isinstance(effort, str):
        raise Reject(422, f"invalid type for field `{param}`: expected a string.")
    if not record.efforts:
        raise Reject(400, f"Model {name} does not support parameter reasoningEffort.")
    if effort not in record.efforts:
        raise Reject(
            400,
            f"Model {name} does not support reasoningEffort {effort!r}; "
            f"it takes one of: {', '.join(record.efforts)}.",
        )
    return effort


def resolve_model(
    body: Mapping[str, Any],
    *,
    effort: Any,
    param: str,
    refuse: tuple[str, ...] = REASONING_REFUSES,
) -> tuple[catalog.Model, catalog.Model, str | None]:
    """(asked, served, effort used) for a request naming ``body["model"]`` and ``effort``.

    Raises :class:`Reject` as xAI would: 422 for a missing model, 404 for an unknown one, 400
    for an effort the model rejects or a parameter in ``refuse`` sent to a reasoning model.
    """
    asked = _model(body)
    name = str(body["model"])
    chosen = check_effort(asked, name, effort, param)
    if asked.reasoning and not asked.retired:
        for parameter in refuse:
            if body.get(parameter) is not None:
                raise Reject(400, f"Model {name} does not support parameter {parameter}.")
    served = asked
    used = chosen if chosen is not None else default_effort(asked)
    if asked.retired and asked.served_by:
        # xAI's migration: retired models are answered by their successor at its prices.
        successor = catalog.get(asked.served_by)
        if successor is not None:
            served = successor
            # It takes the successor's efforts (the catalog says so); unsent, the one xAI
            # applies to this retired id.
            used = (
                chosen if chosen is not None else asked.served_effort or default_effort(successor)
            )
    return asked, served, used
