"""grokbook: a Jupyter-first toolkit for xAI's Grok reasoning models.

>>> import grokbook as gb
>>> client = gb.Client()            # xAI when XAI_API_KEY is set, else the offline simulator
>>> r = client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
>>> r.content
'101 * 3 = 303'
>>> r.usage.reasoning_tokens > r.usage.completion_tokens   # it thought far longer than it wrote
True

In a notebook: ``%load_ext grokbook`` then ``%%grok -e high``. Every public name is loaded on
first use, so ``import grokbook`` stays light (no pandas, matplotlib, ipywidgets or IPython).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = [
    "AsyncClient",
    "Client",
    "Completion",
    "Conversation",
    "StreamEvent",
    "SweepInterrupted",
    "ToolCall",
    "Usage",
    "__version__",
    "accuracy_summary",
    "asweep",
    "batch_result",
    "batches",
    "cache_clear",
    "catalog",
    "effort_summary",
    "errors",
    "history",
    "last_sweep",
    "load_cases",
    "load_ipython_extension",
    "paired_test",
    "plot_accuracy_latency",
    "plot_cost",
    "plot_efforts",
    "plot_frontier",
    "plot_latency",
    "problems",
    "recommend",
    "report",
    "score",
    "scoring",
    "sweep",
    "unload_ipython_extension",
    "usage_frame",
]

# public name -> module that defines it (imported on first access)
_LAZY = {
    "Client": "client",
    "AsyncClient": "client",
    "Completion": "result",
    "Conversation": "conversation",
    "Usage": "result",
    "StreamEvent": "result",
    "ToolCall": "result",
    "SweepInterrupted": "sweeps",
    "sweep": "sweeps",
    "asweep": "sweeps",
    "last_sweep": "sweeps",
    "usage_frame": "tables",
    "effort_summary": "tables",
    "plot_efforts": "plots",
    "plot_latency": "plots",
    "plot_cost": "plots",
    "history": "store",
    "batches": "batch",
    "batch_result": "batch",
    "cache_clear": "store",
    "score": "scoring",
    "accuracy_summary": "accuracy",
    "paired_test": "accuracy",
    "recommend": "accuracy",
    "problems": "cases",
    "load_cases": "cases",
    "plot_frontier": "plots",
    "plot_accuracy_latency": "plots",
    "report": "reports",
}
_SUBMODULES = {
    "accuracy",
    "cases",
    "scoring",
    "batch",
    "catalog",
    "errors",
    "providers",
    "reports",
    "widgets",
    "plots",
    "tables",
    "store",
    "sim",
    "sweeps",
}

if TYPE_CHECKING:  # pragma: no cover
    from . import catalog, errors, scoring
    from .accuracy import accuracy_summary, paired_test, recommend
    from .batch import batch_result, batches
    from .cases import load_cases, problems
    from .client import AsyncClient, Client
    from .conversation import Conversation
    from .plots import (
        plot_accuracy_latency,
        plot_cost,
        plot_efforts,
        plot_frontier,
        plot_latency,
    )
    from .reports import report
    from .result import Completion, StreamEvent, ToolCall, Usage
    from .scoring import score
    from .store import cache_clear, history
    from .sweeps import SweepInterrupted, asweep, last_sweep, sweep
    from .tables import effort_summary, usage_frame


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'grokbook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | _SUBMODULES)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext grokbook``: register ``%%grok`` / ``%grok`` (imports the magic lazily)."""
    from .magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magic import unload_ipython_extension as unload

    unload(ipython)
