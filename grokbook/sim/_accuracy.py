"""The simulator's accuracy model: when a simulated answer to arithmetic is wrong, and by how much.

This is the simulator's model, chosen so that an offline demo shows a real trade-off between
reasoning effort and accuracy. It is not a measurement of Grok: a real key measures the real
models, which may be far more (or less) accurate.

* An expression of ``k`` operations (the ``k`` steps :func:`~grokbook.sim._arith.solve`
  works) is answered correctly with probability ``(1 - q) ** max(0, k - 2)``: the first two
  steps never slip, so one-step and two-step arithmetic ("What is 101*3?", "12 + 7 * 2") is
  right at every effort, and each further step slips with chance ``q``.
* ``q`` is the effort's slip rate (:data:`SLIP_PER_STEP`: none 0.30, low 0.12, medium 0.05,
  high 0.02, xhigh 0.01; a model that does not reason: 0.30) times the model's factor
  (:data:`SLIP_SCALE`: grok-3-mini models 1.4, others 1.0). A reasoning model asked with no
  effort uses the effort it applies by default.
* For grok-4.3 that makes a 6-step expression right with probability 0.24 at effort none,
  0.60 at low, 0.81 at medium and 0.92 at high.
* The draw is seeded from the request (model, messages, effort, temperature, seed) through a
  generator of its own, so the same request always gets the same verdict, another ``seed``
  gives another draw, and no other number the simulator reports (tokens, latency) moves.
* A slipped answer is off by a small amount in its last step and says so: its text starts
  ``(simulated slip)``, as does the reasoning line of the step that went wrong.

It also plays a model-graded scorer's judge (:func:`judge_verdict`): given a prompt in
:mod:`grokbook.scoring`'s judge format, it compares the final numbers (or the normalized texts)
of the expected and graded answers and replies with a sentence labelled simulated and the
verdict line the format asks for (``VERDICT: CORRECT`` or ``VERDICT: INCORRECT``). A real
judge reads the rubric; the simulator does not.
"""

from __future__ import annotations

import hashlib
import math
import random

from .. import scoring

__all__ = ["FREE_STEPS", "SLIP_PER_STEP", "SLIP_SCALE", "judge_verdict", "p_correct", "slipped"]

#: Steps that never slip: one- and two-step arithmetic is right at every effort.
FREE_STEPS = 2
#: The chance that one step beyond :data:`FREE_STEPS` goes wrong, per effort.
SLIP_PER_STEP: dict[str, float] = {
    "none": 0.30,
    "low": 0.12,
    "medium": 0.05,
    "high": 0.02,
    "xhigh": 0.01,
}
#: The slip rate of a model that does not reason (no effort).
SLIP_NO_REASONING = 0.30
#: Per-model factors on the slip rate (1.0 when not listed).
SLIP_SCALE: dict[str, float] = {
    "grok-3-mini-beta": 1.4,
    "grok-3-mini-fast-beta": 1.4,
}
_OFFSETS = (-10, -2, -1, 1, 2, 10)


def p_correct(model: str, effort: str | None, steps: int) -> float:
    """The chance the simulator answers a ``steps``-step expression right (see module doc).

    >>> p_correct("grok-4.3", "low", 1), p_correct("grok-4.3", "low", 2)
    (1.0, 1.0)
    >>> round(p_correct("grok-4.3", "low", 6), 4), round(p_correct("grok-4.3", "high", 6), 4)
    (0.5997, 0.9224)
    """
    rate = SLIP_NO_REASONING if effort is None else SLIP_PER_STEP.get(effort, 0.05)
    q = min(1.0, rate * SLIP_SCALE.get(model, 1.0))
    return float((1.0 - q) ** max(0, steps - FREE_STEPS))


def slip_rng(canonical_state: object) -> random.Random:
    """A generator of its own, seeded from the request generator's state (draws nothing)."""
    digest = hashlib.sha256(b"grokbook-slip:" + repr(canonical_state).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def slipped(answer: str, rng: random.Random) -> str:
    """``answer`` (a number as text) off by a small amount; unchanged when it is no number."""
    try:
        value = float(answer)
    except ValueError:
        return answer
    if not math.isfinite(value):
        return answer
    offset = rng.choice(_OFFSETS)
    wrong = value + offset
    if wrong.is_integer() and abs(wrong) < 1e15:
        return str(int(wrong))
    return f"{wrong:.10g}"


# -- the simulated judge --------------------------------------------------------------------------
def judge_verdict(prompt: str) -> str | None:
    """The simulated judge's reply to a :func:`grokbook.scoring.judge` prompt, else None: a
    sentence, then the verdict line the format asks for."""
    parts = scoring.judge_prompt_parts(prompt)
    if parts is None:
        return None
    expected, graded = (part.strip() for part in parts)
    want, got = scoring.final_number(expected), scoring.final_number(graded)
    if want is not None and got is not None:
        right = math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-9)
        how = "compared the final numbers"
    else:
        right = scoring.normalize(expected) in scoring.normalize(graded)
        how = "looked for the expected text"
    verdict = "CORRECT" if right else "INCORRECT"
    return (
        f"(simulated judge: grokbook's offline simulator {how}; it does not read the rubric, "
        f"a real model would.)\nVERDICT: {verdict}"
    )
