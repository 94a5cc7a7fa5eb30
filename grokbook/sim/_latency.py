"""How fast the simulator answers: ``GROKBOOK_SIM_LATENCY`` and the ``latency=`` argument.

The simulator models each model's serving speed (time to first token, then output tokens per
second; the table in :mod:`grokbook.sim._behaviour` holds the simulator's assumed figures, not
measured Grok speeds). The presets scale that model:

* ``demo`` (the default, factor 1.0): the modelled timings divided by
  :data:`REAL_TIME_FACTOR` (25x faster than the modelled speed), so a notebook cell finishes in
  a fraction of a second while high effort still takes longer than low.
* ``none`` (0.0): never sleeps (tests).
* ``modelled`` (alias ``real``, factor 25): the modelled speed itself. Real Grok timings vary
  by model, load and prompt; measure them with a key (``grokbook compare``).
* a number scales ``demo``: ``0.1`` is ten times faster still.

``realistic``, the old name of ``demo``, still works and warns once (DeprecationWarning).

>>> latency_factor("none"), latency_factor("demo"), latency_factor(0.5)
(0.0, 1.0, 0.5)
"""

from __future__ import annotations

import math
import os
import sys
import warnings

__all__ = ["DEFAULT_PRESET", "ENV_VAR", "REAL_TIME_FACTOR", "latency_factor", "preset_name"]

ENV_VAR = "GROKBOOK_SIM_LATENCY"
#: The default preset, ``demo``, runs this many times faster than the simulator's modelled
#: serving speed (a model, not a measurement of Grok).
REAL_TIME_FACTOR = 25.0
DEFAULT_PRESET = "demo"

_NAMES = {
    "demo": 1.0,
    "default": 1.0,
    "none": 0.0,
    "off": 0.0,
    "0": 0.0,
    "modelled": REAL_TIME_FACTOR,
    "real": REAL_TIME_FACTOR,
}
#: Old preset names: still accepted, with one DeprecationWarning per process.
_DEPRECATED = {"realistic": "demo"}
_warned: set[str] = set()
_CHOICES = "'demo', 'none', 'modelled' or a factor such as 0.1"


def _deprecated(old: str) -> float:
    new = _DEPRECATED[old]
    if old not in _warned:
        _warned.add(old)
        warnings.warn(
            f"The simulator latency preset {old!r} is now called {new!r}: it runs "
            f"{REAL_TIME_FACTOR:g}x faster than the simulator's modelled speed, which is itself "
            f"a model, not Grok's. Use {new!r}.",
            DeprecationWarning,
            stacklevel=_caller_outside_grokbook(),
        )
    return _NAMES[new]


def _caller_outside_grokbook() -> int:
    """The ``stacklevel`` of the first caller outside grokbook and httpx (its transport calls
    the simulator), so a notebook sees the warning: Python shows a DeprecationWarning by
    default only when ``__main__`` triggered it."""
    frame = sys._getframe(2)  # stacklevel 2: the caller of the function that warns
    level = 2
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith(
        ("grokbook.", "httpx.")
    ):
        frame = frame.f_back
        level += 1
    return level


def _parse(value: str | float) -> float:
    if isinstance(value, bool):
        raise ValueError(f"latency must be {_CHOICES}, not {value!r}.")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = value.strip().lower()
        if text in _NAMES:
            return _NAMES[text]
        if text in _DEPRECATED:
            return _deprecated(text)
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"latency must be {_CHOICES}; got {value!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"latency factor must be a finite number >= 0; got {value!r}.")
    return number


def latency_factor(value: str | float | None = None) -> float:
    """The latency factor: ``value`` when given, else ``GROKBOOK_SIM_LATENCY``, else 1.0.

    A bad explicit value raises ValueError; a bad environment value warns and falls back to
    ``demo`` (a typo in the environment should not break every call).
    """
    if value is not None:
        return _parse(value)
    env = os.environ.get(ENV_VAR)
    if not env:
        return 1.0
    try:
        return _parse(env)
    except ValueError as exc:
        warnings.warn(f"{ENV_VAR}: {exc} Using {DEFAULT_PRESET!r}.", stacklevel=2)
        return 1.0


def preset_name(factor: float) -> str:
    """A factor's preset name for display (``demo``, ``none``, ``modelled``) or ``xF``."""
    return {0.0: "none", 1.0: DEFAULT_PRESET, REAL_TIME_FACTOR: "modelled"}.get(
        factor, f"x{factor:g}"
    )
