"""The model catalog: aliases, efforts as data, retirement, refresh from the API."""

from __future__ import annotations

import pytest

from grokbook import catalog


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("grok-3-mini-beta", "grok-3-mini-beta"),
        ("grok-3-mini", "grok-3-mini-beta"),
        ("grok-3-mini-latest", "grok-3-mini-beta"),
        ("x-ai/grok-3-mini-beta", "grok-3-mini-beta"),
        ("GROK-3-MINI-FAST", "grok-3-mini-fast-beta"),
        ("grok-3", "grok-3-beta"),
        ("grok-3-fast-beta", "grok-3-fast-beta"),
        ("grok-4", "grok-4-0709"),
        ("grok-4.3-latest", "grok-4.3"),
        ("grok-code-fast-1", "grok-code-fast-1"),
    ],
)
def test_aliases_resolve(name: str, canonical: str) -> None:
    record = catalog.get(name)
    assert record is not None and record.id == canonical


def test_unknown_model_is_none() -> None:
    assert catalog.get("grok-99-ultra") is None
    assert catalog.resolve("grok-99-ultra") is None


@pytest.mark.parametrize(
    ("name", "efforts"),
    [
        ("grok-3-mini-beta", ("low", "high")),
        ("grok-3-mini-fast-beta", ("low", "high")),
        ("grok-3-beta", ()),
        ("grok-3-fast-beta", ()),
        ("grok-4", ()),
        ("grok-4-1-fast-reasoning", ()),
        ("grok-code-fast-1", ()),
        ("grok-4.3", ("none", "low", "medium", "high")),
    ],
)
def test_efforts_are_data(name: str, efforts: tuple[str, ...]) -> None:
    record = catalog.get(name)
    assert record is not None and record.efforts == efforts


def test_retired_models_name_their_successor() -> None:
    retired = {m.id for m in catalog.all_models() if m.retired}
    assert retired == {
        "grok-3-beta",
        "grok-4-0709",
        "grok-code-fast-1",
        "grok-4-fast-reasoning",
        "grok-4-fast-non-reasoning",
        "grok-4-1-fast-reasoning",
        "grok-4-1-fast-non-reasoning",
    }
    for model_id in retired:
        record = catalog.get(model_id)
        assert record is not None and record.served_by == "grok-4.3"
        assert record.served_effort == ("low" if record.reasoning else "none")
    assert "grok-3-beta" not in {m.id for m in catalog.all_models(include_retired=False)}


def test_prices_per_million_tokens() -> None:
    mini = catalog.get("grok-3-mini-beta")
    assert mini is not None
    assert (mini.input_price, mini.cached_input_price, mini.output_price) == (0.30, 0.075, 0.50)
    fast = catalog.get("grok-3-mini-fast-beta")
    assert fast is not None and fast.output_price == 4.0


def test_update_from_language_models_converts_cents_per_100m() -> None:
    payload = {
        "models": [
            {
                "id": "grok-3-mini-beta",
                "aliases": ["grok-3-mini-2025"],
                "prompt_text_token_price": 4000,  # 40 cents / 100M = $0.40 / 1M
                "cached_prompt_text_token_price": 1000,
                "completion_text_token_price": 6000,
            },
            {
                "id": "grok-5",
                "prompt_text_token_price": 30000,
                "completion_text_token_price": 150000,
            },
            {"no": "id"},
        ]
    }
    assert catalog.update_from_language_models(payload) == ["grok-3-mini-beta", "grok-5"]
    mini = catalog.get("grok-3-mini-2025")
    assert mini is not None and mini.id == "grok-3-mini-beta"
    assert mini.input_price == pytest.approx(0.40)
    assert mini.cached_input_price == pytest.approx(0.10)
    assert mini.output_price == pytest.approx(0.60)
    assert mini.efforts == ("low", "high")  # kept
    new = catalog.get("grok-5")
    assert new is not None and new.output_price == pytest.approx(15.0) and new.efforts == ()
    catalog.reset()
    assert catalog.get("grok-5") is None
