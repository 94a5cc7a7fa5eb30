"""Notebook widgets: pick a model and effort, play with a prompt, compare efforts side by side.

>>> from grokbook.widgets import ModelPicker, Playground, EffortComparer
>>> picker = ModelPicker(model="grok-4.3")
>>> picker.model, picker.reasoning_effort
('grok-4.3', 'low')
>>> Playground()                  # in a notebook: type a prompt, click Run
Playground(ModelPicker(model='grok-4.3', reasoning_effort='low'), results=0)
>>> EffortComparer("What is 101*3?", model="grok-3-mini-beta", repeats=3)   # click Compare
EffortComparer(model='grok-3-mini-beta', efforts=['low', 'high'])

From code (in a notebook cell, ``await`` the run directly)::

    >>> import asyncio
    >>> asyncio.run(Playground("What is 101*3?").run()).content
    '101 * 3 = 303'

Every widget is an ``ipywidgets`` box: display it as the last expression of a cell. Runs go
through :class:`grokbook.AsyncClient` on the kernel's running event loop, so the kernel stays
responsive while an answer streams in. In code, ``await playground.run()`` and
``await comparer.run()`` wait for a run and return its result; ``.task`` is the run in flight.

This package (and only it) imports ipywidgets; pandas loads with the comparer
(``EffortComparer``, its own module, imported on first use) and matplotlib on its first run.
Without an API key every widget runs on the offline simulator. One module per widget:
``picker``, ``playground``, ``comparer``; ``_base`` holds their Run / Stop life cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .picker import ModelPicker
from .picker import model_label as model_label
from .playground import HISTORY_SIZE as HISTORY_SIZE
from .playground import REDRAW_INTERVAL_S as REDRAW_INTERVAL_S
from .playground import Playground

if TYPE_CHECKING:  # pragma: no cover
    from .comparer import EffortComparer

__all__ = ["EffortComparer", "ModelPicker", "Playground"]


def __getattr__(name: str) -> Any:
    if name == "EffortComparer":  # it runs sweeps: pandas loads with it, on first use
        from .comparer import EffortComparer

        globals()[name] = EffortComparer
        return EffortComparer
    raise AttributeError(f"module 'grokbook.widgets' has no attribute {name!r}")
