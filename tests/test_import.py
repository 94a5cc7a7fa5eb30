"""`import grokbook` stays light: no pandas, matplotlib, ipywidgets or IPython."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "matplotlib", "ipywidgets", "IPython", "numpy")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_grokbook_is_light() -> None:
    modules = loaded_after("import grokbook")
    assert not {m for m in HEAVY if m in modules}
    assert "httpx" not in modules  # even the client loads on first use


def test_client_and_simulator_do_not_pull_in_notebook_stack() -> None:
    modules = loaded_after(
        "import grokbook as gb\nc = gb.Client(provider='sim', log=False)\nc.chat('What is 2+2?')"
    )
    assert "httpx" in modules
    assert not {m for m in HEAVY if m in modules}


def test_public_names_resolve() -> None:
    import grokbook as gb

    assert gb.Client.__name__ == "Client"
    assert gb.catalog.get("grok-3-mini-beta") is not None
    assert issubclass(gb.errors.RateLimitError, gb.errors.APIError)
    assert set(gb.__all__) <= set(dir(gb))
