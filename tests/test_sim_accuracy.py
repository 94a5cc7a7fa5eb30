"""The simulator's accuracy model: one- and two-step arithmetic always right, slips beyond,
seeded, labelled, and falling with effort."""

from __future__ import annotations

import pytest

import grokbook as gb
from grokbook.sim import SimTransport
from grokbook.sim._accuracy import SLIP_PER_STEP, p_correct

HARD = "What is 12 * 7 + 5 * 9 - 3 * 4 + 10?"  # 6 steps: 127 + ... = 127


def _client() -> gb.Client:
    return gb.Client(provider="sim", transport=SimTransport(latency="none"), log=False)


def test_documented_numbers() -> None:
    assert SLIP_PER_STEP == {"none": 0.30, "low": 0.12, "medium": 0.05, "high": 0.02, "xhigh": 0.01}
    assert p_correct("grok-4.3", "none", 6) == pytest.approx(0.7**4)
    assert p_correct("grok-4.3", "high", 3) == pytest.approx(0.98)
    assert p_correct("grok-3-mini-beta", "low", 4) == pytest.approx((1 - 0.12 * 1.4) ** 2)
    assert p_correct("grok-4.20-0309-non-reasoning", None, 4) == pytest.approx(0.7**2)


@pytest.mark.parametrize("effort", ["none", "low", "medium", "high"])
def test_one_and_two_step_arithmetic_is_right_at_every_effort(effort: str) -> None:
    client = _client()
    for seed in range(40):
        one = client.chat("What is 47 * 86?", model="grok-4.3", reasoning_effort=effort, seed=seed)
        two = client.chat("12 + 7 * 2", model="grok-4.3", reasoning_effort=effort, seed=seed)
        assert one.content == "47 * 86 = 4042"
        assert two.content == "12 + 7 * 2 = 26"


def test_slips_fall_with_effort_are_seeded_and_labelled() -> None:
    client = _client()
    right: dict[str, int] = {}
    for effort in ("none", "low", "high"):
        answers = [
            client.chat(HARD, model="grok-4.3", reasoning_effort=effort, seed=seed)
            for seed in range(200)
        ]
        right[effort] = sum(a.content.endswith("= 127") for a in answers)
        for a in answers:
            if not a.content.endswith("= 127"):
                assert a.content.startswith("(simulated slip) ")
                assert a.reasoning is None or "(simulated slip)" in a.reasoning
        # Close to the model's chance (200 draws: within about 4 standard errors).
        p = p_correct("grok-4.3", effort, 6)
        assert abs(right[effort] / 200 - p) < 4 * (p * (1 - p) / 200) ** 0.5 + 0.01
    assert right["none"] < right["low"] < right["high"]
    again = client.chat(HARD, model="grok-4.3", reasoning_effort="none", seed=3)
    first = client.chat(HARD, model="grok-4.3", reasoning_effort="none", seed=3)
    assert again.content == first.content  # seeded: the same request, the same verdict


def test_a_slip_moves_no_other_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """The accuracy draw has its own generator: with slips switched off, every request gets
    the same reasoning tokens, and only the slipped answers' text changes."""
    from grokbook.sim import _behaviour

    def run() -> list[tuple[str, int, float]]:
        client = _client()
        out = []
        for seed in range(30):
            a = client.chat(HARD, model="grok-4.3", reasoning_effort="low", seed=seed)
            out.append((a.content or "", a.usage.reasoning_tokens or 0, a.latency_s))
        return out

    with_slips = run()
    monkeypatch.setattr(_behaviour, "p_correct", lambda *args: 1.0)
    without = run()
    assert any(c.startswith("(simulated slip)") for c, _t, _l in with_slips)
    assert all(c.endswith("= 127") for c, _t, _l in without)
    assert [t for _c, t, _l in with_slips] == [t for _c, t, _l in without]
    for (c1, _t1, _l1), (c2, _t2, _l2) in zip(with_slips, without, strict=True):
        assert c1 == c2 or c1.startswith("(simulated slip)")


def test_follow_up_after_a_slip_uses_the_slipped_number() -> None:
    client = _client()
    for seed in range(60):
        first = client.chat(HARD, model="grok-4.3", reasoning_effort="none", seed=seed)
        if first.content.startswith("(simulated slip)"):
            break
    wrong = first.content.rsplit("= ", 1)[1]
    conversation = [
        {"role": "user", "content": HARD},
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": "Now double it"},
    ]
    follow = client.chat(conversation, model="grok-4.3", reasoning_effort="high")
    assert follow.content == f"{wrong} * 2 = {int(wrong) * 2}"
