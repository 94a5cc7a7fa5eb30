"""Shared by the tests (tests/) and the doctests of grokbook/ (``--doctest-modules``): every
one runs offline, keyless, on the instant simulator, with its own GROKBOOK_HOME, so no
example reads or writes your real run log and no example sees another's calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The provider keys grokbook reads: unset for every test and doctest.
KEY_VARS = ("XAI_API_KEY", "AIMLAPI_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for var in (*KEY_VARS, "GROKBOOK_PROVIDER", "GROKBOOK_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    for var in ("GROKBOOK_MODEL", "GROKBOOK_WIRE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GROKBOOK_HOME", str(tmp_path / "grokbook-home"))
    monkeypatch.setenv("GROKBOOK_SIM_LATENCY", "none")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
    from grokbook import catalog, providers

    catalog.reset()
    providers.logout()  # a test's %grok login must not reach the next test


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (``make test`` runs ``-n 2``): a notebook's cells go to one worker
    in order (nbval runs them in one kernel, each cell on the state the ones before it left),
    every other test is a unit of its own; units with more tests go first (xdist's default
    reordering), so the notebooks start early and the short tests even out the workers' ends.
    xdist's ``loadgroup`` would group with marks, but under pytest 9.2 it cannot rename the
    node ids it groups by."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

    return NotebookScheduling(config, log)
