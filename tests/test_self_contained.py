"""The repository is complete on its own: nothing in it reads a path outside it.

A user clones grokbook with nothing beside it, so no test, module, notebook, doc or build file
may refer to a folder above the checkout (such as the developers' shared folder they happen
to have) or climb out of it with ``parents[N]``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Text that points above the repository: the developers' shared folder one level up, any
# specs folder one level up, a quoted shared path part, or the developers' design document
# (which users do not have). ``parents[N]`` climbs are
# checked against the file's own depth instead (see _climbs_out).
# (Assembled from pieces, so that this file passes its own scan.)
_SHARED, _DESIGN = "shar" + "ed", re.escape("design" + ".md")
_OUTSIDE = re.compile(rf"\.\.[/\\]{_SHARED}|\.\.[/\\][\w.-]+[/\\]specs|\"{_SHARED}\" */|{_DESIGN}")
_CLIMB = re.compile(r"__file__\)\.resolve\(\)\.parents\[(\d+)\]")


def _climbs_out(path: Path, line: str) -> bool:
    """Whether ``Path(__file__).resolve().parents[N]`` on this line leaves the repository."""
    for match in _CLIMB.finditer(line):
        depth = int(match.group(1))
        parents = path.parents
        if depth >= len(parents) or not parents[depth].is_relative_to(ROOT):
            return True
    return False


def _tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / name for name in out.splitlines() if (ROOT / name).is_file()]


def test_pattern_catches_the_ways_out() -> None:
    # The examples are assembled from pieces so that this file itself names no such path.
    up, shared, design = "..", "shared", "design" + ".md"
    climb = "(__file__).resolve().parents" + "[{}]"
    for text in (
        f'SPECS = Path{climb.format(2)} / "{shared}" / "specs"',
        f"open('{up}/{shared}/specs/xai/xai-openapi.json')",
        f"see {design} section 4",
        f"{up}/seeds/specs/x.json",
    ):
        assert _OUTSIDE.search(text), text
    assert not _OUTSIDE.search('Path(__file__).resolve().parent / "specs"')
    here = ROOT / "tests" / "test_x.py"
    assert _climbs_out(here, "Path" + climb.format(2))
    assert not _climbs_out(here, "Path" + climb.format(1))
    assert not _climbs_out(ROOT / "tests" / "browser" / "t.py", "x" + climb.format(2))


def test_no_file_refers_outside_the_repository() -> None:
    offenders = []
    for path in _tracked_files():
        if path.suffix in (".png", ".json"):
            continue  # images and spec copies are data
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line) or _climbs_out(path, line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "files refer outside the repository:\n" + "\n".join(offenders)


def test_the_specs_ship_with_the_tests() -> None:
    specs = ROOT / "tests" / "specs"
    assert (specs / "xai" / "xai-openapi.json").is_file()
    assert len(list((specs / "aimlapi").glob("*.json"))) == 4
    readme = (specs / "README.md").read_text(encoding="utf-8")
    assert "xai-openapi.json" in readme and "aimlapi" in readme
