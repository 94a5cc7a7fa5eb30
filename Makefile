# grokbook's two commands: `make lab` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.grokbook-installed
JUPYTER_PORT ?= 8888
# No key leaks into tests: CI and `make test` always run on the offline simulator.
TEST_ENV := env -u XAI_API_KEY -u AIMLAPI_KEY -u OPENROUTER_API_KEY -u GROKBOOK_PROVIDER \
	-u GROKBOOK_BASE_URL -u GROKBOOK_WIRE -u GROKBOOK_MODEL MPLBACKEND=Agg PYTHONHASHSEED=0
# Bytecode is cached (in __pycache__/, ignored by git) even where the environment says not
# to (an empty PYTHONDONTWRITEBYTECODE is unset): else every pytest worker, kernel and
# subprocess of a test run compiles grokbook again and pytest rewrites the asserts of every
# test module again, seconds of CPU each.
UNIT_ENV := $(TEST_ENV) PYTHONDONTWRITEBYTECODE= GROKBOOK_SIM_LATENCY=none

.PHONY: venv lab test lint typecheck unit notebooks test-browser test-binder bench demo interop readme-images clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lab]'
	@touch $(STAMP)

## make lab: JupyterLab on the tour notebooks (offline simulator unless a key is set).
lab: $(STAMP)
	@$(BIN)/python -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int('$(JUPYTER_PORT)')))" 2>/dev/null \
		|| { echo "grokbook: port $(JUPYTER_PORT) is busy (another JupyterLab?). Stop that server, or pick another port: JUPYTER_PORT=8889 make lab"; exit 1; }
	@echo "grokbook: starting JupyterLab on notebooks/ at http://127.0.0.1:$(JUPYTER_PORT)/lab (open the URL with its token, printed below)"
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
		--ServerApp.port=$(JUPYTER_PORT) --ServerApp.port_retries=0 \
		$$( [ -n "$$DISPLAY" ] || echo --no-browser ) \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root )

## make test: lint, types, unit tests, docstring examples and the notebooks under nbval, offline.
## Lint first (it fails in a second), then mypy beside pytest.
test: lint
	@$(MAKE) --no-print-directory -j2 typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check grokbook tests bench interop conftest.py
	$(BIN)/ruff format --check grokbook tests bench interop conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy

# The tests, the docstring examples of grokbook/ (--doctest-modules) and the notebooks, on
# PYTEST_WORKERS pytest-xdist workers (conftest.py keeps each notebook's cells on one worker,
# in order). The tours run on the simulator at `none` latency here (GROKBOOK_SIM_LATENCY;
# their outputs do not depend on it, the `latency` sanitizer masks seconds); `make lab`, Binder
# and the browser test keep the default `demo` latency a reader sees.
PYTEST_WORKERS ?= 2
unit: $(STAMP)
	$(UNIT_ENV) GROKBOOK_HOME=$$(mktemp -d) $(BIN)/pytest -n $(PYTEST_WORKERS) \
		--nbval --nbval-sanitize-with notebooks/sanitize.cfg --nbval-current-env \
		--doctest-modules -p no:cacheprovider --ignore=tests/browser tests grokbook notebooks

## make demo: compare reasoning efforts offline (simulator unless a key is set); writes only
## into build/ (efforts.png, efforts.csv; frontier.png: accuracy vs cost on the built-in
## problems, simulator only), so the checkout stays clean.
demo: $(STAMP)
	@mkdir -p build
	$(BIN)/grokbook compare "What is 101*3?" -n 5 --plot build/efforts.png --csv build/efforts.csv
	$(BIN)/python docs/frontier.py build/frontier.png

## make readme-images: redraw the README's figures (docs/efforts.png, docs/frontier.png) on the
## offline simulator, always (no key is read), with its default `demo` latency and a fresh
## run log: the one step that writes into docs/.
readme-images: $(STAMP)
	$(TEST_ENV) GROKBOOK_HOME=$$(mktemp -d) $(BIN)/grokbook compare "What is 101*3?" -n 5 \
		--provider sim --no-progress --plot docs/efforts.png
	$(TEST_ENV) GROKBOOK_HOME=$$(mktemp -d) $(BIN)/python docs/frontier.py docs/frontier.png

## make test-browser: the widgets in JupyterLab, driven in Debian's Chromium by Playwright.
## Installs chromium with apt-get when missing (as root) and the `browser` extra; screenshots
## land in build/screenshots/. Fails (never skips) without a browser.
CHROMIUM ?= /usr/bin/chromium
test-browser: $(STAMP)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "grokbook: $(CHROMIUM) is missing; installing Debian's chromium with apt-get"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
				|| { echo "grokbook: apt-get install chromium failed; install it, then run make test-browser again"; exit 1; }; \
		else \
			echo "grokbook: $(CHROMIUM) is missing. Install Debian's chromium (sudo apt-get install chromium), or set CHROMIUM=/path/to/chromium, then run make test-browser again."; \
			exit 1; \
		fi; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[test,lab,browser]'
	$(TEST_ENV) GROKBOOK_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -p no:cacheprovider -m browser -rA tests/browser

## make test-binder: a fresh venv built from binder/ alone, as mybinder.org would, runs every
## notebook (no key, outputs to a temp folder). Needs no .venv; about 2 minutes with pip's cache.
test-binder:
	bash binder/check.sh

## make bench: grokbook vs httpx, aiohttp, requests and the openai SDK on loopback servers, in
## ratios; prints a table, writes docs/benchmarks.md, fails if a target is missed (about 20
## minutes). BENCH_ARGS passes flags to bench/run.py: --report-only (exit 0 on a miss), --quick
## (every case at tiny sizes, writes nothing), --only cpu,percall (some cases; see --help).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,lab,bench]'
	$(TEST_ENV) $(BIN)/python bench/run.py $(BENCH_ARGS)

## make interop: clients nobody here wrote read `grokbook sim` as they read xAI: the openai SDK's
## responses.create and the AI SDK's @ai-sdk/xai (versions pinned in interop/package.json,
## installed from npm into build/interop, run with node), streamed and not. Not part of make test.
interop: $(STAMP)
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "grokbook: make interop needs node and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	mkdir -p build/interop
	cp interop/package.json interop/ai-sdk.mjs build/interop/
	cd build/interop && npm install --no-audit --no-fund --no-package-lock --loglevel=error
	$(TEST_ENV) $(BIN)/python interop/run.py build/interop

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache .pytest_cache
