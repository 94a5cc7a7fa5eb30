"""The offline simulator: a deterministic, wire-compatible stand-in for xAI's Grok API.

It speaks both of xAI's wires (JSON shapes, SSE events, usage arithmetic, error bodies and
status codes): ``POST /v1/chat/completions``, ``POST /v1/responses`` (with ``store`` /
``previous_response_id`` kept in memory per :class:`Simulator`, and sealed reasoning that
round-trips), ``GET`` / ``DELETE /v1/responses/{id}``, ``GET /v1/models``, ``GET
/v1/language-models``, and xAI's Files and Batch APIs and deferred chat completions
(``POST /v1/files``, ``/v1/batches``, paged results, cancel; ``deferred: true``; see
:mod:`grokbook.sim._batch`: a batch's processing delay and per-request failures are settings).
It answers simple arithmetic honestly (parsed with :mod:`ast`, never
``eval``), follow-ups such as "now double it" included, and labels everything as simulated
(``system_fingerprint="fp_grokbook_sim"``, ids ``sim-...``). Reasoning tokens and latency grow
with effort in a seeded, repeatable way: the simulator's model, not measurements of Grok. So
does accuracy: beyond two steps, arithmetic can slip at low effort, with a seeded chance per
step that falls with effort (:mod:`grokbook.sim._accuracy`); a slipped answer starts
``(simulated slip)``.

In-process (the default when no API key is set)::

    >>> import grokbook as gb
    >>> client = gb.Client(provider="sim")
    >>> r = client.chat("What is 101*3?", model="grok-3-mini-beta", reasoning_effort="high")
    >>> "303" in r.content, r.usage.reasoning_tokens > 0, r.simulated
    (True, True, True)

Scripted faults for tests and demos::

    >>> from grokbook.sim import SimTransport
    >>> flaky = gb.Client(transport=SimTransport(latency="none", faults="503*2"), provider="sim")
    >>> flaky.chat("2+2").content, flaky.stats["retries"]     # two 503s, retried, then the answer
    ('2 + 2 = 4', 2)

As a real loopback HTTP server, for any OpenAI-compatible client::

    >>> from grokbook.sim import serve_in_background
    >>> from openai import OpenAI
    >>> with serve_in_background(latency="none") as server:
    ...     openai_client = OpenAI(base_url=server.base_url, api_key="sim")
    ...     "grok-3-mini-beta" in [model.id for model in openai_client.models.list()]
    True

or from a shell: ``grokbook sim --port 8000``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._faults import Fault, parse_faults
from ._handler import FINGERPRINT, Plan, handle
from ._latency import ENV_VAR, latency_factor
from ._transport import SimTransport, Simulator

if TYPE_CHECKING:  # pragma: no cover
    from ._server import SimServer, serve_in_background

__all__ = [
    "ENV_VAR",
    "FINGERPRINT",
    "Fault",
    "Plan",
    "SimServer",
    "SimTransport",
    "Simulator",
    "handle",
    "latency_factor",
    "parse_faults",
    "serve_in_background",
]


def __getattr__(name: str) -> Any:
    # The server pulls in http.server and socketserver: load it only when asked for.
    if name in ("SimServer", "serve_in_background"):
        from . import _server

        return getattr(_server, name)
    raise AttributeError(f"module 'grokbook.sim' has no attribute {name!r}")
