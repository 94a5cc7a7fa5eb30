"""The repository is complete on its own: nothing in it reads a path outside it.

A user clones grokbook with nothing beside it, so no test, module, notebook, doc or build file
may refer to a folder above the checkout (such as a ``../shared`` folder a developer happens
to have) or climb out of it with ``parents[N]``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Text that points above the repository: "../shared", "../<anything>/specs", a "shared"
# path part, or "design.md" (a document only the developers have). ``parents[N]`` climbs are
# checked against the file's own depth instead (see _climbs_out).
_OUTSIDE = re.compile(r"\.\./shared|\.\.[/\\][\w.-]+[/\\]specs|\"shared\" */|design\.md")
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
    for text in (
        'SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"',
        "open('../shared/specs/xai/xai-openapi.json')",
        "see design.md section 4",
        "../seeds/specs/x.json",
    ):
        assert _OUTSIDE.search(text), text
    assert not _OUTSIDE.search('Path(__file__).resolve().parent / "specs"')
    here = ROOT / "tests" / "test_x.py"
    assert _climbs_out(here, "Path(__file__).resolve().parents[2]")
    assert not _climbs_out(here, "Path(__file__).resolve().parents[1]")
    assert not _climbs_out(ROOT / "tests" / "browser" / "t.py", "x(__file__).resolve().parents[2]")


def test_no_file_refers_outside_the_repository() -> None:
    offenders = []
    for path in _tracked_files():
        if path == Path(__file__).resolve() or path.suffix in (".png", ".json"):
            continue  # this file names the patterns; images and spec copies are data
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
