"""How fast the simulator answers: ``GROKBOOK_SIM_LATENCY`` and the ``latency=`` argument.

``realistic`` (the default, factor 1.0) keeps the shape of real serving (time to first token,
then tokens at the model's throughput, so high effort takes several times longer than low)
but runs about 25x faster than Grok so notebook cells finish in a fraction of a second.
``none`` (0.0) never sleeps (tests). A number scales ``realistic``: ``0.1`` is ten times
faster, ``25`` (alias ``real``) is roughly real-world speed.

>>> latency_factor("none"), latency_factor("realistic"), latency_factor(0.5)
(0.0, 1.0, 0.5)
"""

from __future__ import annotations

import math
import os
import warnings

__all__ = ["ENV_VAR", "REAL_TIME_FACTOR", "latency_factor"]

ENV_VAR = "GROKBOOK_SIM_LATENCY"
#: ``realistic`` runs this many times faster than real-world Grok serving.
REAL_TIME_FACTOR = 25.0

_NAMES = {"realistic": 1.0, "default": 1.0, "none": 0.0, "off": 0.0, "0": 0.0}


def _parse(value: str | float) -> float:
    if isinstance(value, bool):
        raise ValueError(f"latency must be 'realistic', 'none', 'real' or a number, not {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = value.strip().lower()
        if text in _NAMES:
            return _NAMES[text]
        if text == "real":
            return REAL_TIME_FACTOR
        try:
            number = float(text)
        except ValueError:
            raise ValueError(
                f"latency must be 'realistic', 'none', 'real' or a factor such as 0.1; "
                f"got {value!r}."
            ) from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"latency factor must be a finite number >= 0; got {value!r}.")
    return number


def latency_factor(value: str | float | None = None) -> float:
    """The latency factor: ``value`` when given, else ``GROKBOOK_SIM_LATENCY``, else 1.0.

    A bad explicit value raises ValueError; a bad environment value warns and falls back to
    ``realistic`` (a typo in the environment should not break every call).
    """
    if value is not None:
        return _parse(value)
    env = os.environ.get(ENV_VAR)
    if not env:
        return 1.0
    try:
        return _parse(env)
    except ValueError as exc:
        warnings.warn(f"{ENV_VAR}: {exc} Using 'realistic'.", stacklevel=2)
        return 1.0
