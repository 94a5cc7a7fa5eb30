"""Usage frames and effort summaries (pandas): what accuracy, plots and reports build on.

The public names are :mod:`grokbook.tables`'s (this module is its core; the ``df.grok``
accessor, which reaches up to plots and reports, lives in the package's ``__init__``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .._columns import DEFAULT_EFFORT_LABEL, TOKEN_COLUMNS, USAGE_COLUMNS, completion_row
from ..result import Completion

__all__ = [
    "EFFORT_ORDER",
    "FRAME_COLUMNS",
    "effort_summary",
    "frame_from_rows",
    "order_efforts",
    "simulated_flags",
    "simulated_note",
    "usage_frame",
]

#: The columns of a usage frame and of a sweep's rows, in order.
FRAME_COLUMNS: tuple[str, ...] = (*USAGE_COLUMNS, "answer", "model_served")

#: How efforts sort in tables and plots; unknown efforts follow, alphabetically.
EFFORT_ORDER: tuple[str, ...] = (DEFAULT_EFFORT_LABEL, "none", "minimal", "low", "medium", "high")

_FLOAT_COLUMNS = ("latency_s", "cost_usd", "billed_usd", "fetch_s")
_FLAG_COLUMNS = ("cached", "simulated")
_FRAME_COLUMN_SET = frozenset(FRAME_COLUMNS)
_TYPED_COLUMNS = frozenset((*TOKEN_COLUMNS, "repeat", *_FLOAT_COLUMNS, *_FLAG_COLUMNS))


def order_efforts(efforts: Iterable[Any]) -> list[str]:
    """The distinct efforts in display order: default, none, minimal, low, medium, high, rest."""
    seen = {str(e) for e in efforts if e is not None and not (isinstance(e, float) and e != e)}
    known = [e for e in EFFORT_ORDER if e in seen]
    return known + sorted(seen - set(EFFORT_ORDER))


def frame_from_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A usage frame from row dicts (``_columns.completion_row`` / ``error_row`` shapes).

    Columns: :data:`FRAME_COLUMNS` first, then any extra keys the rows carry. Token counts and
    ``repeat`` become ``Int64`` (missing = ``<NA>``), latency, cost, billed and fetch time
    ``float64``, ``cached`` and ``simulated`` nullable booleans.
    """
    records = [row if isinstance(row, dict) else dict(row) for row in rows]
    # Extra keys in order of first appearance, gathered at C speed.
    keys = dict.fromkeys(itertools.chain.from_iterable(records))
    extra = [k for k in keys if k not in _FRAME_COLUMN_SET]
    columns = [*FRAME_COLUMNS, *extra]
    frame = pd.DataFrame.from_records(records, columns=columns)
    if frame.empty:
        frame = frame.astype(object)
    for name in (*TOKEN_COLUMNS, "repeat"):
        frame[name] = frame[name].astype("Int64")
    for name in _FLOAT_COLUMNS:
        frame[name] = frame[name].astype("float64")
    for name in _FLAG_COLUMNS:
        frame[name] = frame[name].astype("boolean")
    for name in columns:
        if name not in _TYPED_COLUMNS:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def usage_frame(completions: Iterable[Completion | Mapping[str, Any]] | Completion) -> pd.DataFrame:
    """One row per Completion, with the same columns as :func:`grokbook.sweep` returns.

    ``repeat`` counts earlier completions of the same (model, effort, prompt) in the list, so a
    list of five identical calls gets repeats 0..4. Row dicts (e.g. a sweep's error rows) are
    accepted too and kept as they are.
    """
    items: Sequence[Completion | Mapping[str, Any]]
    items = [completions] if isinstance(completions, Completion) else list(completions)
    if set(map(type, items)) == {Completion}:  # the common case, checked at C speed
        return _completions_frame(items)  # type: ignore[arg-type]
    counts: dict[tuple[str, str, str], int] = {}
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Completion):
            prompt = item.prompt
            key = (item.requested_model, item.reasoning_effort or DEFAULT_EFFORT_LABEL, prompt)
            repeat = counts.get(key, 0)
            counts[key] = repeat + 1
            row = completion_row(item, prompt=prompt, repeat=repeat)
            row["answer"] = item.content
            row["model_served"] = item.model
            rows.append(row)
        elif isinstance(item, Mapping):
            rows.append(dict(item))
        else:
            raise TypeError(
                f"usage_frame takes Completions (what client.chat returns), not "
                f"{type(item).__name__}."
            )
    return frame_from_rows(rows)


def _objects(values: list[Any]) -> pd.Series:
    import numpy as np

    # fromiter: no search for nested sequences, which np.array does even for dtype=object.
    column = np.fromiter(values, dtype=object, count=len(values))
    return pd.Series(column, dtype=object, copy=False)


def _floats(values: list[Any]) -> Any:
    """Floats (None when missing, which becomes NaN) as a float64 array."""
    import numpy as np

    try:
        return np.fromiter(values, dtype="float64", count=len(values))
    except TypeError:  # None (or another non-float): numpy's conversion, None to NaN
        return np.array(values, dtype="float64")


def _counts(values: list[Any]) -> Any:
    """Token counts (ints, None when missing) as an ``Int64`` array.

    numpy converts the ints at C speed; anything but ints and None (floats, huge numbers) goes
    through pandas' own conversion, with its checks and errors.
    """
    import numpy as np

    data = np.array(values)
    if data.dtype == np.int64:
        return pd.arrays.IntegerArray(data, np.zeros(len(data), dtype=bool))
    if data.dtype == object and len(data):
        missing = pd.isna(data)
        present = np.array(data[~missing].tolist())
        if present.dtype == np.int64 or not len(present):
            full = np.zeros(len(data), dtype=np.int64)
            full[~missing] = present
            return pd.arrays.IntegerArray(full, missing.astype(bool))
    return pd.array(values, dtype="Int64")


def _token_columns(usages: list[Any]) -> dict[str, Any]:
    """The six token counts of every Usage as ``Int64`` arrays.

    One pass reads them all and numpy converts them together (as float64, exact below 2**53);
    counts that are not whole numbers, or too large for that, go column by column through
    pandas' own conversion, with its checks and errors.
    """
    import numpy as np

    flat = [
        value
        for u in usages
        for value in (
            u.prompt_tokens,
            u.cached_prompt_tokens,
            u.reasoning_tokens,
            u.completion_tokens,
            u.output_tokens,
            u.total_tokens,
        )
    ]
    try:
        values = np.array(flat, dtype=np.float64).reshape(-1, len(TOKEN_COLUMNS))
    except (TypeError, ValueError):  # not numbers: pandas says what is wrong below
        values = None
    if values is not None:
        missing = np.isnan(values)
        known = np.where(missing, 0.0, values)
        if np.all(known == np.trunc(known)) and np.all(np.abs(known) < 2.0**53):
            ints = known.astype(np.int64)
            return {
                name: pd.arrays.IntegerArray(ints[:, j].copy(), missing[:, j].copy())
                for j, name in enumerate(TOKEN_COLUMNS)
            }
    return {name: _counts([getattr(u, name) for u in usages]) for name in TOKEN_COLUMNS}


def _completions_frame(items: Sequence[Completion]) -> pd.DataFrame:
    """:func:`usage_frame` of Completions only, built column by column (no row dicts).

    The same frame as ``frame_from_rows`` of ``completion_row``s (tested), in about the time
    ``DataFrame.from_records`` takes for plain dicts.
    """
    import numpy as np

    n = len(items)
    usages = [c.usage for c in items]
    models = [c.requested_model for c in items]
    efforts = [c.reasoning_effort or DEFAULT_EFFORT_LABEL for c in items]
    prompts = [c.prompt for c in items]
    cached = [c.cached for c in items]
    latency = [c.latency_s for c in items]
    cost = [c.cost_usd for c in items]
    lookup = [c.cache_lookup_s for c in items]
    columns: dict[str, Any] = {
        "model": _objects(models),
        "reasoning_effort": _objects(efforts),
        "prompt": _objects(prompts),
    }
    # repeat: earlier rows with the same (model, effort, prompt), counted in C.
    key = np.zeros(n, dtype=np.int64)
    for name in ("model", "reasoning_effort", "prompt"):
        codes, uniques = pd.factorize(columns[name], use_na_sentinel=False)
        key = pd.factorize(key * len(uniques) + codes)[0]  # dense again: never overflows
    repeat = pd.Series(key).groupby(key, sort=False).cumcount().to_numpy(dtype=np.int64)
    columns["repeat"] = pd.arrays.IntegerArray(repeat, np.zeros(n, dtype=bool))
    columns.update(_token_columns(usages))
    # Completion.billed_usd and fetch_s, from the columns already read.
    hits = np.array(cached, dtype=bool)
    latency_s, cost_usd = _floats(latency), _floats(cost)
    columns.update(
        latency_s=latency_s,
        cost_usd=cost_usd,
        cached=pd.array(hits, dtype="boolean"),
        billed_usd=np.where(hits, 0.0, cost_usd),
        fetch_s=np.where(hits, _floats(lookup), latency_s),
        status=_objects(["ok"] * n),
        error=_objects([None] * n),
        provider=_objects([c.provider for c in items]),
        simulated=pd.array([c.simulated for c in items], dtype="boolean"),
        answer=_objects([c.content for c in items]),
        model_served=_objects([c.model for c in items]),
    )
    return pd.DataFrame(columns, columns=list(FRAME_COLUMNS), copy=False)


_REQUIRED = ("model", "reasoning_effort", "status")


def _check_frame(df: pd.DataFrame, what: str) -> None:
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} needs a usage frame (from gb.sweep or gb.usage_frame); this DataFrame has "
            f"no {', '.join(missing)} column(s)."
        )


_SUMMARY_TOKENS = ("reasoning_tokens", "completion_tokens", "output_tokens")
_SUMMARY_COUNTS = ("calls", "ok", "errors", "cached")
_SUMMARY_COLUMNS = (
    *_SUMMARY_COUNTS,
    "reasoning_tokens_mean",
    "reasoning_tokens_median",
    "completion_tokens_mean",
    "completion_tokens_median",
    "output_tokens_mean",
    "output_tokens_median",
    "reasoning_share",
    "latency_mean_s",
    "cost_total_usd",
    "cost_per_call_usd",
    "billed_total_usd",
    "simulated",
)


def _label_codes(series: pd.Series, missing: str | None = None) -> tuple[Any, list[str]]:
    """Per row, the code of its label, and the distinct labels in order of first appearance.

    A label is the value itself when it is a string, else its ``str()``; a missing value's is
    ``missing`` when given. The column is hashed once and ``str()`` runs on its distinct
    values only: grouping by these codes is what makes :func:`effort_summary` fast.
    """
    import numpy as np

    codes, uniques = pd.factorize(series)  # a missing value: -1
    labels = [value if isinstance(value, str) else str(value) for value in uniques]
    gaps = codes < 0
    if gaps.any():
        if missing is not None:
            codes[gaps] = len(labels)
            labels.append(missing)
        else:  # None, NaN and <NA> label differently: str() of each
            texts = [str(value) for value in series.to_numpy(dtype=object)[gaps]]
            more_codes, more = pd.factorize(np.array(texts, dtype=object))
            codes[gaps] = more_codes + len(labels)
            labels.extend(more)
        # Appended labels may have appeared first: renumber in order of first appearance.
        first = pd.unique(codes)
        rank = np.empty(len(labels), dtype=codes.dtype)
        rank[first] = np.arange(len(first))
        codes, labels = rank[codes], [labels[code] for code in first]
    # Distinct values can share a label (1 and "1"; "default" and a missing effort).
    merged, distinct = pd.factorize(np.array(labels, dtype=object))
    if len(distinct) < len(labels):
        codes, labels = merged[codes], list(distinct)
    return codes, labels


def _float_values(df: pd.DataFrame, name: str) -> Any:
    """A column as a float64 array (missing or unparsable values NaN; all NaN without it)."""
    import numpy as np

    if name not in df:
        return np.full(len(df), np.nan)
    series = df[name]
    if pd.api.types.is_numeric_dtype(series.dtype):  # Int64, float64, boolean: no parsing
        return series.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def effort_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Aggregates per model x effort (index), efforts ordered default/none/low/medium/high.

    Columns:

    - ``calls`` rows; ``ok`` successful calls; ``errors`` failed calls; ``cached`` how many
      rows came from grokbook's cache (their cost and latency are the original calls').
    - ``{reasoning,completion,output}_tokens_{mean,median}`` over successful calls with a count
      (NaN when the server sent none).
    - ``reasoning_share``: reasoning / output tokens, summed over calls that have both.
    - ``latency_mean_s``: mean latency of successful calls, seconds.
    - ``cost_total_usd`` (sum of known costs) and ``cost_per_call_usd`` (their mean): what
      the calls cost, the same on a re-run from the cache.
    - ``billed_total_usd``: the money this run spent (sum of ``billed_usd``; a cache hit
      bills 0).
    - ``simulated``: True when any of the group's calls was answered by grokbook's offline
      simulator (its numbers are the simulator's model, not Grok's).
    """
    import numpy as np

    _check_frame(df, "effort_summary")
    nan = float("nan")
    # One integer key per (model, effort) label pair: pandas groups it far faster than two
    # columns of strings, and each column is hashed once.
    model_codes, models = _label_codes(df["model"])
    effort_codes, efforts = _label_codes(df["reasoning_effort"], missing=DEFAULT_EFFORT_LABEL)
    keys = model_codes * len(efforts) + effort_codes

    ok = (df["status"] == "ok").to_numpy(dtype=bool, na_value=False)
    tokens = [np.where(ok, _float_values(df, name), nan) for name in _SUMMARY_TOKENS]
    # reasoning_share: over successful calls that report both counts.
    both = ~(np.isnan(tokens[0]) | np.isnan(tokens[2]))
    cached = (
        df["cached"].astype("boolean").to_numpy(dtype="float64", na_value=0.0)
        if "cached" in df
        else np.zeros(len(df))
    )
    # One float64 block: each aggregation below is one pass over the columns it names.
    names = [*_SUMMARY_TOKENS, "share_r", "share_o", "latency", "cost", "billed"]
    names += ["ok", "cached", "simulated"]
    block = np.empty((len(names), len(df)))
    block[:3] = tokens
    block[3] = np.where(both, tokens[0], nan)
    block[4] = np.where(both, tokens[2], nan)
    block[5] = np.where(ok, _float_values(df, "latency_s"), nan)
    block[6] = _float_values(df, "cost_usd")
    block[7] = _float_values(df, "billed_usd")
    block[8] = ok
    block[9] = cached
    block[10] = simulated_flags(df).to_numpy(dtype="float64")
    groups = pd.DataFrame(block.T, columns=names, copy=False).groupby(keys, sort=False)
    sums = groups[["ok", "cached", "share_r", "share_o", "cost", "billed", "simulated"]].sum()
    means = groups[[*_SUMMARY_TOKENS, "latency", "cost"]].mean()
    medians = groups[list(_SUMMARY_TOKENS)].median()
    known = groups[["cost", "billed"]].count()
    calls = groups.size()

    # Rows: models in order of appearance, each model's efforts in display order.
    present: dict[int, dict[str, int]] = {}
    for key in sums.index.tolist():
        present.setdefault(key // len(efforts), {})[efforts[key % len(efforts)]] = key
    order = [
        (model, effort, present[code][effort])
        for code, model in enumerate(models)
        if code in present
        for effort in order_efforts(present[code])
    ]
    rows = [key for _, _, key in order]
    sums, means, medians, known = (f.reindex(rows) for f in (sums, means, medians, known))
    share_r, share_o = sums["share_r"].to_numpy(), sums["share_o"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(share_o > 0, share_r / share_o, nan)
    ok_calls = sums["ok"].to_numpy(dtype="int64")
    all_calls = calls.reindex(rows).to_numpy(dtype="int64")
    columns: dict[str, Any] = {
        "calls": all_calls,
        "ok": ok_calls,
        "errors": all_calls - ok_calls,
        "cached": sums["cached"].to_numpy(dtype="int64"),
        **{
            f"{name}_{stat}": frame[name].to_numpy(dtype="float64")
            for name in _SUMMARY_TOKENS
            for stat, frame in (("mean", means), ("median", medians))
        },
        "reasoning_share": share,
        "latency_mean_s": means["latency"].to_numpy(dtype="float64"),
        # A sum over no known value is unknown (NaN), not 0.
        "cost_total_usd": np.where(known["cost"] > 0, sums["cost"], nan),
        "cost_per_call_usd": means["cost"].to_numpy(dtype="float64"),
        "billed_total_usd": np.where(known["billed"] > 0, sums["billed"], nan),
        "simulated": sums["simulated"].to_numpy() > 0,
    }
    summary = pd.DataFrame(
        {name: columns[name] for name in _SUMMARY_COLUMNS},
        index=pd.MultiIndex.from_tuples(
            [(model, effort) for model, effort, _ in order], names=["model", "reasoning_effort"]
        ),
        columns=list(_SUMMARY_COLUMNS),
    )
    summary.attrs["simulated"] = bool(summary["simulated"].any())
    return summary


def simulated_flags(df: pd.DataFrame) -> pd.Series:
    """Per row, whether grokbook's offline simulator answered: the ``simulated`` column, else
    (a frame from before it existed) ``provider == "sim"``; False when neither is there."""
    if "simulated" in df.columns:
        return df["simulated"].astype("boolean").fillna(False).astype(bool)
    if "provider" in df.columns:
        return (df["provider"] == "sim").fillna(False).astype(bool)
    return pd.Series(False, index=df.index, dtype=bool)


def simulated_note(df: pd.DataFrame) -> str | None:
    """One line when any row of ``df`` was simulated ("simulated: 12 of 12 calls ..."), else
    None: what every table, summary and plot of such a frame says."""
    flags = simulated_flags(df)
    count = int(flags.sum())
    if not count:
        return None
    return f"simulated: {count} of {len(flags)} calls from grokbook's offline simulator, not Grok"
