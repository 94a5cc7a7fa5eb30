"""The widgets in a real browser: JupyterLab + Debian's Chromium, driven by Playwright.

Run with ``make test-browser`` (it installs chromium and playwright). Plain ``make test`` does
not collect this folder. The test FAILS when Chromium or Playwright is missing: a browser test
that skips proves nothing.

What happens: a JupyterLab server starts on a free 127.0.0.1 port with a random token, a
throw-away notebook folder, settings folder and GROKBOOK_HOME, and no API key (so the kernel
uses the offline simulator). Chromium opens a notebook that displays ``Playground()`` and
``EffortComparer(...)``, runs all cells, types a prompt, clicks Run, and checks what a person
would see. Screenshots land in ``build/screenshots/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path(os.environ.get("GROKBOOK_CHROMIUM", "/usr/bin/chromium"))
JUPYTER = Path(sys.executable).with_name("jupyter")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
KEY_VARS = (
    "XAI_API_KEY",
    "AIMLAPI_KEY",
    "OPENROUTER_API_KEY",
    "OPENAI_API_KEY",
    "GROKBOOK_PROVIDER",
    "GROKBOOK_BASE_URL",
    "GROKBOOK_MODEL",
)
PROMPT = "What is 101*3?"
COMPARER_MODEL = "grok-3-mini-beta"

NOTEBOOK_CELLS = [
    "from grokbook.widgets import EffortComparer, Playground\n\npg = Playground()\npg",
    f"cmp = EffortComparer({PROMPT!r}, model={COMPARER_MODEL!r}, repeats=2)\ncmp",
]

# JupyterLab settings: render every cell (no windowing, so off-screen widgets exist in the
# DOM) and never ask about news or updates (the machine has no internet).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path
    timings: dict[str, float] = field(default_factory=dict)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _notebook(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its kernels (its own process group), however the test ended."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}. Run `make test-browser` as root (it installs "
            "Debian's chromium), or `apt-get install chromium` yourself."
        )
    if not JUPYTER.exists():
        pytest.fail(f"JupyterLab is not installed next to {sys.executable}: run `make venv`.")
    base = tmp_path_factory.mktemp("lab")
    notebooks = base / "notebooks"
    notebooks.mkdir()
    (notebooks / "widgets.ipynb").write_text(json.dumps(_notebook(NOTEBOOK_CELLS)))
    settings = base / "settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env.update(
        GROKBOOK_HOME=str(base / "grokbook-home"),
        # 10x slower than the simulator's default: a run streams for a second or two, long
        # enough to see the live token count and the Stop button.
        GROKBOOK_SIM_LATENCY="10",
        MPLBACKEND="Agg",
        JUPYTER_CONFIG_DIR=str(base / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(base / "jupyter-runtime"),
        IPYTHONDIR=str(base / "ipython"),
        PYTHONHASHSEED="0",
    )
    port = _free_port()
    token = secrets.token_hex(16)
    command = [
        str(JUPYTER),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = base / "jupyter.log"
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited early ({process.returncode}):\n{server.log_tail()}")
            try:
                response = httpx.get(f"{server.url}/api/status", params={"token": token}, timeout=2)
                if response.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within 60 s:\n{server.log_tail()}")
            time.sleep(0.25)
        server.timings["server_start_s"] = time.perf_counter() - started
        yield server
    finally:
        _stop(process)
        _write_timings(server.timings)


def _write_timings(timings: dict[str, float]) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{name}: {value:.1f}\n" for name, value in timings.items())
    (SCREENSHOTS / "timings.txt").write_text(text)
    print("\nbrowser test timings (s):\n" + text)


@pytest.fixture(scope="module")
def page(lab: Lab) -> Iterator[Any]:
    """The notebook open in Chromium with all its cells run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: run `.venv/bin/pip install -e '.[browser]'`.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            started = time.perf_counter()
            page.goto(f"{lab.url}/lab/tree/widgets.ipynb?token={lab.token}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                "&& window.jupyterapp.shell.currentWidget.sessionContext"
            )
            page.evaluate(
                "async () => {"
                "  const panel = window.jupyterapp.shell.currentWidget;"
                "  await panel.sessionContext.ready;"
                "  await window.jupyterapp.commands.execute('notebook:run-all-cells');"
                "}"
            )
            page.locator(".grokbook-playground").wait_for(state="visible")
            lab.timings["open_and_run_all_s"] = time.perf_counter() - started
            yield page
            assert not errors, f"JavaScript errors in the page: {errors}"
        finally:
            browser.close()


def _expected_reasoning_tokens(effort: str) -> int:
    """The simulator is deterministic: the same call in this process gives the same count."""
    import grokbook as gb

    with gb.Client(provider="sim") as client:
        completion = client.chat(PROMPT, reasoning_effort=effort)
    count = completion.usage.reasoning_tokens
    assert count, "the simulator should report reasoning tokens for its default model"
    return count


def test_playground_streams_answer_in_browser(lab: Lab, page: Any) -> None:
    started = time.perf_counter()
    playground = page.locator(".grokbook-playground")
    playground.locator(".grokbook-prompt textarea").fill(PROMPT)
    playground.locator(".grokbook-effort button", has_text="high").click()
    run = playground.locator("button.grokbook-run")
    assert run.inner_text().strip() == "Run"
    run.click()
    # While it streams: Run is disabled, Stop is shown, the estimated reasoning count grows live.
    page.wait_for_function(
        "() => { const p = document.querySelector('.grokbook-playground');"
        "  const o = p.querySelector('.grokbook-output');"
        "  const m = /Reasoning · ~([\\d,]+) tokens so far \\(estimate\\)/.exec(o.innerText);"
        "  return m && Number(m[1].replace(/,/g, '')) >= 4; }"
    )
    assert run.is_disabled()
    assert playground.locator("button.grokbook-stop").is_visible()
    playground.screenshot(path=str(SCREENSHOTS / "playground-streaming.png"))
    output = playground.locator(".grokbook-output")
    page.wait_for_function(
        "() => { const o = document.querySelector('.grokbook-playground .grokbook-output');"
        "  return o && o.querySelector('.grokbook-usage') && o.innerText.includes('303'); }"
    )
    # Run is enabled again once the run ended.
    page.wait_for_function(
        "() => !document.querySelector('.grokbook-playground button.grokbook-run').disabled"
    )
    lab.timings["playground_run_s"] = time.perf_counter() - started
    assert not playground.locator("button.grokbook-stop").is_visible()
    text = output.inner_text()
    assert "303" in text
    expected = _expected_reasoning_tokens("high")
    assert f"Reasoning · {expected:,} tokens" in text, text  # exact, from usage
    assert "(estimate)" not in text, text
    assert f"reasoning {expected:,}" in text, text  # the usage footer
    assert "effort high" in text, text
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
    playground.screenshot(path=str(SCREENSHOTS / "playground.png"))
    page.screenshot(path=str(SCREENSHOTS / "jupyterlab.png"))


def test_comparer_renders_table_and_chart_in_browser(lab: Lab, page: Any) -> None:
    started = time.perf_counter()
    comparer = page.locator(".grokbook-comparer")
    comparer.wait_for(state="attached")
    table = comparer.locator(".grokbook-summary table")
    table.wait_for(state="visible")
    chart = comparer.locator(".grokbook-chart img")
    chart.wait_for(state="visible")
    page.wait_for_function(
        "() => { const i = document.querySelector('.grokbook-comparer .grokbook-chart img');"
        "  return i && i.complete && i.naturalWidth > 100; }"
    )
    lab.timings["comparer_visible_s"] = time.perf_counter() - started
    table_text = table.inner_text()
    for effort in ("low", "high"):
        assert effort in table_text, f"effort {effort!r} missing from the table: {table_text!r}"
    assert re.search(r"reasoning", table_text, re.I), table_text
    answers = comparer.locator(".grokbook-answers").inner_text()
    assert "303" in answers, answers
    comparer.screenshot(path=str(SCREENSHOTS / "effort-comparer.png"))


def test_playground_buttons_show_their_whole_labels(lab: Lab, page: Any) -> None:
    """ipywidgets' default button width cut "New conversation" to "New conversat..."."""
    playground = page.locator(".grokbook-playground")
    for name, label in (("new", "New conversation"), ("run", "Run")):
        button = playground.locator(f"button.grokbook-{name}")
        button.wait_for(state="visible")
        assert button.inner_text().strip() == label
        # A truncated label overflows its box (text-overflow: ellipsis hides the rest).
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth"), label
    playground.locator("button.grokbook-new").screenshot(
        path=str(SCREENSHOTS / "playground-new-conversation.png")
    )
