"""Where a call's time goes, read from a cProfile run by function name.

The pieces are named by the functions that do them (grokbook's request building, httpx's
send, the wire parser, the store), matched by file and function name in the profile, so
nothing private is imported; when the reorganisation renames one, its row says "not found"
instead of failing the run (mend the pattern here). Times under a profiler are inflated,
the more so the more Python calls a piece makes: read the shares, not the microseconds.
"""

from __future__ import annotations

import cProfile
import functools
import importlib.util
import pstats
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A function in the profile: (the package it is in, a substring of its file's path inside
#: that package, its name), e.g. ("httpx", "_client.py", "send").
Pattern = tuple[str, str, str]


@functools.cache
def package_dir(package: str) -> str:
    """Where ``package`` is installed, as the profile names its files ("" if it is not)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return ""
    return Path(next(iter(spec.submodule_search_locations))).resolve().as_posix() + "/"


def _inside(path: str, package: str, part: str) -> bool:
    root = package_dir(package)
    path = Path(path).as_posix()
    return bool(root) and path.startswith(root) and part in path[len(root) :]


@dataclass(frozen=True)
class Piece:
    label: str
    patterns: tuple[Pattern, ...]


def profile(work: Callable[[], Any]) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    return pstats.Stats(profiler)


def _entries(stats: pstats.Stats) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    return stats.stats  # type: ignore[attr-defined,no-any-return]


def cumulative(stats: pstats.Stats, patterns: Sequence[Pattern]) -> float | None:
    """Seconds spent in (and under) the functions matching any pattern; None: none ran."""
    total, found = 0.0, False
    for (path, _, name), (_, _, _, cum, _) in _entries(stats).items():
        if any(name == want and _inside(path, package, part) for package, part, want in patterns):
            total += cum
            found = True
    return total if found else None


def breakdown(
    stats: pstats.Stats, whole: Piece, pieces: Sequence[Piece], calls: int
) -> list[tuple[str, float | None, float | None]]:
    """(label, µs per call under the profiler, share of ``whole``) for each piece, then the
    rest of ``whole`` that no piece covers; shares are None when ``whole`` was not found."""
    total = cumulative(stats, whole.patterns)
    rows: list[tuple[str, float | None, float | None]] = []
    covered = 0.0
    for piece in pieces:
        seconds = cumulative(stats, piece.patterns)
        if seconds is not None:
            covered += seconds
        share = seconds / total if seconds is not None and total else None
        rows.append((piece.label, None if seconds is None else seconds / calls * 1e6, share))
    if total:
        rest = max(total - covered, 0.0)
        rows.append(("the rest of " + whole.label, rest / calls * 1e6, rest / total))
    return rows


def top(stats: pstats.Stats, calls: int, package: str = "grokbook", n: int = 8) -> list[str]:
    """The ``n`` functions of ``package`` with the most own time, as ``file:function N µs``
    per call."""
    root = package_dir(package)
    mine = [
        (tottime, Path(path).as_posix()[len(root) :], name)
        for (path, _, name), (_, _, tottime, _, _) in _entries(stats).items()
        if _inside(path, package, "")
    ]
    mine.sort(reverse=True)
    return [f"{where}:{name} {tottime / calls * 1e6:.0f} µs" for tottime, where, name in mine[:n]]
