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
        ("grok-4.7", "grok-4.7"),
        ("x-ai/grok-4.7", "grok-4.7"),
        ("grok-4.6-latest", "grok-4.6"),
        ("grok-4.5-latest", "grok-4.5"),
        ("grok-4.20-reasoning", "grok-4.20-0309-reasoning"),
        ("grok-4.20-non-reasoning", "grok-4.20-0309-non-reasoning"),
        ("grok-4.20-multi-agent", "grok-4.20-multi-agent-0309"),
        ("grok-4.20-multi-agent-beta-0309", "grok-4.20-multi-agent-0309"),
    ],
)
def test_aliases_resolve(name: str, canonical: str) -> None:
    record = catalog.get(name)
    assert record is not None and record.id == canonical


def test_unknown_model_is_none() -> None:
    assert catalog.get("grok-99-ultra") is None
    assert catalog.resolve("grok-99-ultra") is None


FOUR = ("low", "medium", "high", "xhigh")


@pytest.mark.parametrize(
    ("name", "efforts", "default"),
    [
        ("grok-4.7", FOUR, "high"),
        ("grok-4.6", FOUR, "high"),
        ("grok-4.5", ("low", "medium", "high"), "high"),
        ("grok-4.3", ("none", "low", "medium", "high"), "low"),
        ("grok-4.20-0309-reasoning", (), None),
        ("grok-4.20-0309-non-reasoning", (), None),
        ("grok-4.20-multi-agent", FOUR, None),  # the effort picks the agents; no default
        ("grok-3-mini-beta", ("low", "high"), None),
        ("grok-3-mini-fast-beta", ("low", "high"), None),
        ("grok-3-fast-beta", (), None),
        # Retired: grok-4.3 answers them, so they take its efforts; unsent, the effort xAI
        # applies to the retired id (none for a model that did not reason, else low).
        ("grok-3-beta", ("none", "low", "medium", "high"), "none"),
        ("grok-4", ("none", "low", "medium", "high"), "low"),
        ("grok-4-1-fast-reasoning", ("none", "low", "medium", "high"), "low"),
        ("grok-code-fast-1", ("none", "low", "medium", "high"), "low"),
    ],
)
def test_efforts_and_default_efforts_are_data(
    name: str, efforts: tuple[str, ...], default: str | None
) -> None:
    record = catalog.get(name)
    assert record is not None
    assert (record.efforts, record.default_effort) == (efforts, default)


def test_multi_agent_efforts_pick_the_number_of_agents() -> None:
    record = catalog.get("grok-4.20-multi-agent")
    assert record is not None
    assert record.extra["agents"] == {"low": 4, "medium": 4, "high": 16, "xhigh": 16}


def test_a_default_effort_must_be_one_of_the_efforts() -> None:
    with pytest.raises(ValueError, match="default_effort"):
        catalog.Model("grok-x", efforts=("low", "high"), default_effort="medium")
    with pytest.raises(ValueError, match="wires"):
        catalog.Model("grok-x", reasoning_text_on=frozenset({"grpc"}))


@pytest.mark.parametrize(
    ("name", "chat", "responses"),
    [
        ("grok-3-mini-beta", "reasoning_content", "summary"),
        ("grok-4.7", None, "reasoning_text"),
        ("grok-4.6", None, "reasoning_text"),
        ("grok-4.5", None, "summary"),
        ("grok-4.3", None, "summary"),
        ("grok-4.20-0309-reasoning", None, "summary"),
        ("grok-4.20-0309-non-reasoning", None, None),
    ],
)
def test_readable_reasoning_per_wire(name: str, chat: str | None, responses: str | None) -> None:
    record = catalog.get(name)
    assert record is not None
    assert record.readable_reasoning("chat") == chat
    assert record.readable_reasoning("responses") == responses
    assert record.returns_reasoning_text == (chat is not None)
    with pytest.raises(ValueError):
        record.readable_reasoning("grpc")


def test_only_grok_4_7_encrypts_its_reasoning_unasked() -> None:
    assert [m.id for m in catalog.all_models() if m.always_encrypts_reasoning] == ["grok-4.7"]


@pytest.mark.parametrize(
    ("name", "short", "long", "context"),
    [
        ("grok-4.7", (2.0, 0.50, 6.0), (4.0, 1.0, 12.0), 500_000),
        ("grok-4.6", (2.0, 0.50, 6.0), (4.0, 1.0, 12.0), 500_000),
        # cached $0.50: what real grok-4.5 bills imply (tests/real 05, 28, 32), not $0.30
        ("grok-4.5", (2.0, 0.50, 6.0), (4.0, 1.0, 12.0), 500_000),
        ("grok-4.3", (1.25, 0.20, 2.50), (2.50, 0.40, 5.0), 1_000_000),
        ("grok-4.20-0309-reasoning", (1.25, 0.20, 2.50), (2.50, 0.40, 5.0), 2_000_000),
        ("grok-4.20-multi-agent", (1.25, 0.20, 2.50), (2.50, 0.40, 5.0), 2_000_000),
    ],
)
def test_long_context_tier(
    name: str,
    short: tuple[float, float, float],
    long: tuple[float, float, float],
    context: int,
) -> None:
    record = catalog.get(name)
    assert record is not None and record.context_window == context
    assert record.long_context_threshold == 200_000
    assert record.prices(199_999) == short and record.prices(200_000) == long
    # The tier the prompt reaches prices EVERY token of the request, output included.
    inp, cached, out = short
    below = record.cost_usd(prompt_tokens=199_999, cached_prompt_tokens=1_000, output_tokens=500)
    assert below == pytest.approx((198_999 * inp + 1_000 * cached + 500 * out) / 1e6)
    inp, cached, out = long
    at = record.cost_usd(prompt_tokens=200_000, cached_prompt_tokens=1_000, output_tokens=500)
    assert at == pytest.approx((199_000 * inp + 1_000 * cached + 500 * out) / 1e6)


def test_models_without_a_tier_keep_one_price() -> None:
    mini = catalog.get("grok-3-mini-beta")
    assert mini is not None and mini.long_context_threshold is None
    assert mini.prices(1_000_000) == mini.prices(10) == (0.30, 0.075, 0.50)


def test_table_rows_show_defaults_tiers_and_reasoning_per_wire() -> None:
    rows = {
        row[0]: dict(zip(catalog.TABLE_HEADERS, row, strict=True)) for row in catalog.table_rows()
    }
    assert rows["grok-4.7"]["default"] == "high"
    assert rows["grok-4.7"]["from 200k: in / cached / out"] == "4 / 1 / 12"
    assert rows["grok-4.7"]["reasoning text"] == "responses"
    assert rows["grok-4.3"]["context"] == "1M" and rows["grok-4.3"]["reasoning text"] == "summary"
    assert rows["grok-3-mini-beta"]["reasoning text"] == "chat, summary"
    assert rows["grok-3-mini-beta"]["status"] == "legacy"
    # One style for context windows: thousands as K, millions as M.
    assert rows["grok-3-mini-beta"]["context"] == "131K" and rows["grok-4.7"]["context"] == "500K"
    assert (
        rows["grok-4-0709"]["context"] == "256K"
        and rows["grok-4.20-0309-reasoning"]["context"] == "2M"
    )
    assert rows["grok-4.20-0309-reasoning"]["efforts"] == "(rejected)"
    # A retired model is answered by grok-4.3: it shows grok-4.3's reasoning.
    assert rows["grok-code-fast-1"]["reasoning text"] == "summary"
    assert rows["grok-3-beta"]["status"] == "retired 2026-05-15 → grok-4.3"
    # ... and takes grok-4.3's efforts, at none unless one is sent.
    assert rows["grok-3-beta"]["efforts"] == "none | low | medium | high"
    assert rows["grok-3-beta"]["default"] == "none"


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
    assert catalog.update_from_language_models(
        {"models": [{"id": "grok-4.6", "prompt_text_token_price": 25000}]}
    ) == ["grok-4.6"]
    flagship = catalog.get("grok-4.6")
    assert flagship is not None and flagship.input_price == pytest.approx(2.5)
    # The listing has base prices only: the long-context tier and the efforts stay as recorded.
    assert flagship.prices(200_000) == (4.0, 1.0, 12.0) and flagship.default_effort == "high"
    new = catalog.get("grok-5")
    assert new is not None and new.output_price == pytest.approx(15.0) and new.efforts == ()
    catalog.reset()
    assert catalog.get("grok-5") is None


# -- Batch API terms and default efforts (issue 21) ----------------------------------------------
@pytest.mark.parametrize(
    ("model", "terms_of", "supported", "discount"),
    [
        ("grok-4.20-0309-reasoning", "grok-4.20-0309-reasoning", True, 0.20),
        ("x-ai/grok-4.20-reasoning", "grok-4.20-0309-reasoning", True, 0.20),
        ("grok-4.7", "grok-4.7", False, None),
        ("grok-4.6-latest", "grok-4.6", False, None),
        ("grok-4.5", "grok-4.5", False, None),
        ("grok-build-0.1", "grok-build-0.1", False, None),
        ("grok-4.3", "grok-4.3", None, None),  # the page states no discount: unknown
        ("grok-4-0709", "grok-4.3", None, None),  # retired: grok-4.3 answers it, on its terms
        ("grok-code-fast-1", "grok-4.3", None, None),
        ("grok-3-mini-beta", "grok-3-mini-beta", None, None),
        ("grok-4.20-0309-non-reasoning", "grok-4.20-0309-non-reasoning", None, None),
        ("my-own-model", "my-own-model", None, None),
    ],
)
def test_batch_terms_are_sourced_catalog_data_and_unknown_stays_unknown(
    model: str, terms_of: str, supported: bool | None, discount: float | None
) -> None:
    terms = catalog.batch_terms(model)
    assert (terms.model, terms.supported, terms.discount) == (terms_of, supported, discount)
    assert terms.source and terms.checked[:4] == "2026"
    assert terms.discount != 0.5  # never the old universal "half price"
    label = terms.discount_label
    assert ("discount unknown" in label) == (discount is None) and terms.source in label


def test_batch_models_are_the_ones_xai_marks_supported() -> None:
    assert catalog.batch_models() == ["grok-4.20-0309-reasoning"]


@pytest.mark.parametrize(
    ("model", "note"),
    [
        ("grok-4.5", "grok-4.5: no effort means 'high', its most expensive effort"),
        ("grok-4.7", "grok-4.7: no effort means 'high' (only 'xhigh' costs more)"),
        ("grok-4.6", "grok-4.6: no effort means 'high' (only 'xhigh' costs more)"),
        ("grok-4.3", None),  # low: not its most expensive
        ("grok-3-mini-beta", None),  # no documented default
        ("grok-4", None),
        ("unknown-model", None),
    ],
)
def test_default_effort_note(model: str, note: str | None) -> None:
    got = catalog.default_effort_note(model)
    assert got == note if note is None else (got is not None and got.startswith(note))
