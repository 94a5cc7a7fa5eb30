"""What a simulated model says, how many tokens it uses and how long it takes. Pure functions.

Everything here is the simulator's model, not a measurement of Grok. The token model (all
randomness seeded from the request, so the same request gives the same numbers; a different
``seed`` field or temperature gives a different draw):

* prompt tokens: ``ceil(chars / 4) + 4`` per message, ``+ 3`` to prime the reply; image parts
  count 256 tokens; earlier messages (everything before the last one) count as cached.
* reasoning tokens: ``base x difficulty x effort multiplier x noise`` where
  ``base = 120 + 5 x min(prompt_tokens, 400) + 30 x arithmetic steps``, ``difficulty`` is a
  per-prompt draw in [0.75, 1.35], the multiplier is none 0 / low 1 / medium 2.1 / high 4.2 /
  xhigh 6.3, the model's scale (:data:`_REASONING_SCALE`) and ``noise`` is log-normal
  (sigma 0.18). "What is 101*3?" on grok-3-mini-beta: 153 at low
  and 631 at high without a seed; over seeds 0-199, medians 153 and 639 (85-240 and 405-1169).
* reasoning text (models that return it): the lines that work the question (labelled
  simulated), padded with numbered filler passes, also labelled simulated, to about
  ``4 x reasoning tokens`` characters, never cut. "What is 101*3?" as above: 153 tokens: 628
  characters, 107 words; 631: 2,540 and 447.
* accuracy (:mod:`grokbook.sim._accuracy`): arithmetic of ``k`` steps is right with
  probability ``(1 - q) ** max(0, k - 2)`` (one- and two-step arithmetic always), ``q`` per
  effort none 0.30 / low 0.12 / medium 0.05 / high 0.02 / xhigh 0.01 (0.30 without
  reasoning), x1.4 for grok-3-mini; drawn on a generator of its own, so no other number moves.
  A wrong answer starts ``(simulated slip)``.
* completion tokens: ``ceil(len(answer) / 4)``, capped by ``max_completion_tokens``.
* latency: time to first token (model's base + prompt / 8000 tok/s prefill), then
  reasoning + completion tokens at the model's modelled throughput, with +-12% seeded jitter,
  divided by :data:`~grokbook.sim._latency.REAL_TIME_FACTOR` (the ``demo`` preset) and scaled
  by the latency factor.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import catalog
from ._accuracy import judge_verdict, p_correct, slip_rng, slipped
from ._arith import followup_prompt, solve
from ._latency import REAL_TIME_FACTOR

__all__ = [
    "EFFORT_MULTIPLIERS",
    "Answer",
    "default_effort",
    "prompt_tokens",
    "request_rng",
    "simulate",
]

EFFORT_MULTIPLIERS: dict[str, float] = {
    "none": 0.0,
    "low": 1.0,
    "medium": 2.1,
    "high": 4.2,
    "xhigh": 6.3,
}
_IMAGE_TOKENS = 256
_NOISE_SIGMA = 0.18
_LATENCY_JITTER_SIGMA = 0.12
_PREFILL_TOKENS_PER_S = 8000.0

#: Modelled serving speed per model: (time to first token in s, output tokens per s). The
#: simulator's assumptions, not measured Grok speeds.
_SPEED: dict[str, tuple[float, float]] = {
    "grok-3-mini-beta": (0.35, 90.0),
    "grok-3-mini-fast-beta": (0.25, 180.0),
    "grok-3-beta": (0.40, 60.0),
    "grok-3-fast-beta": (0.30, 120.0),
    "grok-4.3": (0.45, 120.0),
    "grok-4.5": (0.50, 100.0),
    "grok-4.6": (0.50, 110.0),
    "grok-4.7": (0.50, 110.0),
    "grok-4.20-0309-reasoning": (0.40, 150.0),
    "grok-4.20-0309-non-reasoning": (0.25, 180.0),
    "grok-4.20-multi-agent-0309": (1.20, 90.0),
}
_DEFAULT_SPEED = (0.40, 100.0)
_FAST_SPEED = (0.25, 180.0)

#: How much a model reasons relative to grok-3-mini at the same effort (the simulator's
#: model). Multi-agent runs 4 or 16 agents, so it reasons the most.
_REASONING_SCALE: dict[str, float] = {
    "grok-4.3": 0.8,
    "grok-4.5": 1.0,
    "grok-4.6": 1.0,
    "grok-4.7": 1.1,
    "grok-4.20-0309-reasoning": 0.9,
    "grok-4.20-multi-agent-0309": 2.5,
}


@dataclass(frozen=True)
class Answer:
    """The simulated answer to one chat request."""

    model: str
    effort: str | None
    content: str
    reasoning_text: str | None
    prompt_tokens: int
    text_tokens: int
    image_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    completion_tokens: int
    finish_reason: str
    #: Seconds (already scaled by the latency factor).
    first_token_s: float
    reasoning_s: float
    content_s: float

    @property
    def total_s(self) -> float:
        return self.first_token_s + self.reasoning_s + self.content_s

    def usage(self) -> dict[str, Any]:
        """xAI's Chat Completions usage object (tests/real/18): completion excludes the
        reasoning; total includes it."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens + self.reasoning_tokens,
            "prompt_tokens_details": {
                "text_tokens": self.text_tokens,
                "audio_tokens": 0,
                "image_tokens": self.image_tokens,
                "cached_tokens": self.cached_tokens,
            },
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
            "num_sources_used": 0,
            "cost_in_usd_ticks": cost_ticks(
                self.model,
                prompt_tokens=self.prompt_tokens,
                cached_tokens=self.cached_tokens,
                output_tokens=self.completion_tokens + self.reasoning_tokens,
            ),
        }


def cost_ticks(model: str, *, prompt_tokens: int, cached_tokens: int, output_tokens: int) -> int:
    """Cost in USD ticks (1 USD = 1e10 ticks) at the catalog's list prices.

    A price of 1 USD per 1M tokens is 1e4 ticks per token; reasoning bills at the output rate,
    and the prompt size picks the price tier (:meth:`grokbook.catalog.Model.cost_usd`).
    """
    record = catalog.get(model)
    cost = None
    if record is not None:
        cost = record.cost_usd(
            prompt_tokens=prompt_tokens,
            cached_prompt_tokens=cached_tokens,
            output_tokens=output_tokens,
        )
    return 0 if cost is None else round(cost * 10_000_000_000)


def _text_of(content: Any) -> tuple[str, int]:
    """(text, image count) of a message's content: a string or a list of parts."""
    if isinstance(content, str):
        return content, 0
    if isinstance(content, list):
        texts: list[str] = []
        images = 0
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping):
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") in ("image_url", "image"):
                    images += 1
        return "\n".join(texts), images
    return "", 0


def _message_tokens(message: Mapping[str, Any]) -> tuple[int, int]:
    text, images = _text_of(message.get("content"))
    return math.ceil(len(text) / 4) + 4, images * _IMAGE_TOKENS


def prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> tuple[int, int, int]:
    """(text tokens, image tokens, cached tokens): ~4 characters a token plus overheads."""
    counts = [_message_tokens(m) for m in messages]
    text = sum(t for t, _ in counts) + 3
    images = sum(i for _, i in counts)
    # Everything before the last message is a prefix the server has seen: call it cached.
    cached = sum(t + i for t, i in counts[:-1])
    return text, images, cached


def request_rng(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    effort: str | None,
    temperature: Any,
    seed: Any,
) -> random.Random:
    """A generator seeded from the canonical JSON of what determines the answer."""
    canonical = json.dumps(
        {
            "model": model,
            "messages": list(messages),
            "effort": effort,
            "temperature": temperature,
            "seed": seed,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _prompt_difficulty(text: str) -> float:
    # Seeded by the prompt alone, so a prompt is "hard" at every effort and for every seed.
    digest = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    return 0.75 + 0.6 * (int.from_bytes(digest[:8], "big") / 2**64)


def default_effort(record: catalog.Model) -> str | None:
    """The effort a model applies when the request names none: the catalog's
    ``default_effort``; where xAI documents none, the simulator assumes the lowest effort
    (or "medium" for a model that reasons without an effort parameter)."""
    if record.default_effort is not None:
        return record.default_effort
    if record.efforts:
        return "low" if "low" in record.efforts else record.efforts[0]
    if record.reasoning:
        return "medium"
    return None


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))[0]
    return _text_of(messages[-1].get("content"))[0] if messages else ""


def _quote(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _reasoning_lines(
    prompt: str,
    effort: str | None,
    rng: random.Random,
    *,
    model: str = "",
    slip: random.Random | None = None,
) -> tuple[list[str], str]:
    """(reasoning lines, answer) for a prompt.

    ``slip`` (a generator of its own) draws whether the answer to arithmetic is wrong, with
    the chance :func:`~grokbook.sim._accuracy.p_correct` gives ``model`` at ``effort``.
    """
    level = {"none": 0, "low": 1, "medium": 2, "high": 3}.get(effort or "medium", 2)
    verdict = judge_verdict(prompt)
    if verdict is not None:
        lines = [
            "(simulated reasoning) This is a grading request: comparing the answer to grade "
            "with the expected answer.",
            f"Verdict: {verdict.splitlines()[-1].removeprefix('VERDICT: ')}.",
        ]
        return lines, verdict
    solution = solve(prompt)
    if solution is not None:
        steps = list(solution.steps)
        result = solution.answer
        prefix = ""
        if slip is not None and slip.random() >= p_correct(model, effort, len(steps)):
            wrong = slipped(result, slip)
            if wrong != result:
                head = steps[-1].rsplit(" = ", 1)[0]
                steps[-1] = f"(simulated slip) {head} = {wrong}"
                result, prefix = wrong, "(simulated slip) "
        solution = type(solution)(solution.expression, steps, result)
        lines = [
            f"(simulated reasoning) The question asks for {solution.expression}. "
            "Working it out step by step:"
        ]
        lines += [f"{step}." for step in solution.steps]
        if level >= 2:
            lines.append(f"Double-checking the last step: {solution.steps[-1]}. Consistent.")
        if level >= 3:
            lines.append(
                "Going through it once more from the start: "
                + "; ".join(solution.steps)
                + ". Same result."
            )
        lines.append(f"So the answer is {solution.answer}.")
        answer = f"{prefix}{solution.expression} = {solution.answer}"
        return lines, answer
    quote = _quote(prompt)
    lines = [
        f'(simulated reasoning) The question is: "{quote}".',
        "This is grokbook's offline simulator, so no real model is thinking here.",
    ]
    angles = [
        "Considering what the question is really asking (simulated).",
        "Weighing a couple of possible answers (simulated).",
        "Checking the draft answer against the question (simulated).",
        "Looking for anything the first pass missed (simulated).",
    ]
    lines += rng.sample(angles, k=min(level + 1, len(angles)))
    lines.append("I will answer briefly and say plainly that the answer is simulated.")
    return lines, ""


#: The simulator's text-to-token rule (the same ~4 characters a token as its prompt count).
_CHARS_PER_TOKEN = 4
_FILLER = (
    "re-reading the question to be sure of what it asks",
    "checking the draft answer against the question",
    "looking for anything an earlier pass missed",
    "weighing another way to get to the answer",
    "considering an edge case the question might hide",
    "comparing this pass with the one before it",
    "making sure no step was skipped",
    "going over the wording of the answer",
)


def _reasoning_text(lines: list[str], tokens: int, rng: random.Random) -> str:
    """The reasoning text, about as long as ``tokens`` implies (~4 characters a token).

    The lines that carry content come first and the conclusion last; in between, numbered
    filler passes labelled as simulated make up the length the simulator bills. Nothing is cut:
    when the content lines alone are longer, the text is simply that long. The filler draws from
    a generator seeded by ``rng``'s state (so the same request gives the same text) without
    drawing from ``rng`` itself (so no number the simulator reports moves).
    """
    target = tokens * _CHARS_PER_TOKEN
    body, conclusion = lines[:-1], lines[-1:]
    length = sum(len(line) + 1 for line in lines) - 1
    if length >= target:
        return "\n".join(lines)
    state = repr(rng.getstate()).encode()
    filler_rng = random.Random(hashlib.sha256(state).digest())
    # Arithmetic steps ("19 * 3 = 57."): the body's short unlabelled lines.
    echoes = [line.rstrip(".") for line in body[1:] if ":" not in line and "simulat" not in line]
    header = (
        f"(simulated reasoning) The simulator bills {tokens:,} reasoning tokens here; the "
        f"passes below are filler that make this text about that long (~{_CHARS_PER_TOKEN} "
        "characters a token)."
    )
    padded = [*body, header]
    length += len(header) + 1
    number = 0
    while length < target:
        number += 1
        if echoes and filler_rng.random() < 0.4:
            what = f're-checking "{filler_rng.choice(echoes)}"'
        else:
            what = filler_rng.choice(_FILLER)
        line = f"Pass {number}: {what} (simulated)."
        padded.append(line)
        length += len(line) + 1
    return "\n".join(padded + conclusion)


def simulate(
    asked: catalog.Model,
    served: catalog.Model,
    effort: str | None,
    messages: Sequence[Mapping[str, Any]],
    *,
    temperature: Any = None,
    seed: Any = None,
    max_tokens: int | None = None,
    latency: float = 1.0,
    with_reasoning_text: bool | None = None,
) -> Answer:
    """The answer of ``served`` (which may differ from ``asked``, a retired model) at ``effort``.

    ``with_reasoning_text``: whether the answer carries the reasoning text when the model reasons
    (None: as the model does on Chat Completions; the Responses wire asks for it always and
    decides itself what of it to show).
    """
    rng = request_rng(asked.id, messages, effort, temperature, seed)
    prompt = followup_prompt(_last_user_text(messages), messages)
    text_tokens, image_tokens, cached = prompt_tokens(messages)
    total_prompt = text_tokens + image_tokens

    reasons = served.reasoning or bool(served.efforts)
    effort_used = effort if reasons else None
    # The accuracy draw has a generator of its own, so no other reported number moves.
    slip = slip_rng(rng.getstate())
    lines, answer = _reasoning_lines(prompt, effort_used, rng, model=served.id, slip=slip)
    if not answer:
        answer = (
            f'[simulated {served.id}] You asked: "{_quote(prompt)}". This answer comes from '
            "grokbook's offline simulator, not from Grok: set XAI_API_KEY to ask the real model."
        )

    reasoning_tokens = 0
    if reasons:
        solution = solve(prompt)
        steps = len(solution.steps) if solution else 0
        base = 120 + 5 * min(total_prompt, 400) + 30 * steps
        multiplier = EFFORT_MULTIPLIERS.get(effort_used or "medium", 2.1)
        scale = _REASONING_SCALE.get(served.id, 1.0)
        noise = rng.lognormvariate(0.0, _NOISE_SIGMA)
        reasoning_tokens = round(base * _prompt_difficulty(prompt) * multiplier * scale * noise)
    reasoning_text: str | None = None
    show = served.returns_reasoning_text if with_reasoning_text is None else with_reasoning_text
    if show and reasoning_tokens > 0:
        reasoning_text = _reasoning_text(lines, reasoning_tokens, rng)

    finish_reason = "stop"
    completion_tokens = max(1, math.ceil(len(answer) / 4))
    if max_tokens is not None and completion_tokens > max_tokens:
        answer = answer[: max_tokens * 4]
        completion_tokens = max_tokens
        finish_reason = "length"

    first, throughput = _SPEED.get(
        served.id, _FAST_SPEED if "fast" in served.id else _DEFAULT_SPEED
    )
    scale_s = latency / REAL_TIME_FACTOR * rng.lognormvariate(0.0, _LATENCY_JITTER_SIGMA)
    return Answer(
        model=served.id,
        effort=effort_used,
        content=answer,
        reasoning_text=reasoning_text,
        prompt_tokens=total_prompt,
        text_tokens=text_tokens,
        image_tokens=image_tokens,
        cached_tokens=cached,
        reasoning_tokens=reasoning_tokens,
        completion_tokens=completion_tokens,
        finish_reason=finish_reason,
        first_token_s=(first + total_prompt / _PREFILL_TOKENS_PER_S) * scale_s,
        reasoning_s=reasoning_tokens / throughput * scale_s,
        content_s=completion_tokens / throughput * scale_s,
    )
