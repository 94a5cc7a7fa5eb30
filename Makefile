# grokbook's two commands: `make lab` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.grokbook-installed
JUPYTER_PORT ?= 8888
# No key leaks into tests: CI and `make test` always run on the offline simulator.
TEST_ENV := env -u XAI_API_KEY -u AIMLAPI_KEY -u OPENROUTER_API_KEY -u GROKBOOK_PROVIDER \
	-u GROKBOOK_BASE_URL MPLBACKEND=Agg PYTHONHASHSEED=0

.PHONY: venv lab test lint typecheck unit notebooks test-browser bench demo clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lab]'
	@touch $(STAMP)

## make lab: JupyterLab on the tour notebooks (offline simulator unless a key is set).
lab: $(STAMP)
	@echo "grokbook: starting JupyterLab on notebooks/ at http://127.0.0.1:$(JUPYTER_PORT)/lab (open the URL with its token, printed below)"
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
		--ServerApp.port=$(JUPYTER_PORT) --ServerApp.port_retries=0 \
		$$( [ -n "$$DISPLAY" ] || echo --no-browser ) \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root )

## make test: lint, types, unit tests and the notebooks under nbval, all offline.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check grokbook tests bench
	$(BIN)/ruff format --check grokbook tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(TEST_ENV) GROKBOOK_HOME=$$(mktemp -d) $(BIN)/pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg \
		--nbval-current-env -p no:cacheprovider tests notebooks

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache .pytest_cache
