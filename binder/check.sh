#!/usr/bin/env bash
# make test-binder: prove the Binder configuration still works, so it cannot rot.
#
# Builds a fresh virtual environment from exactly the files mybinder.org reads (binder/runtime.txt,
# binder/requirements.txt, binder/postBuild, run as Binder runs them), checks that JupyterLab
# will show the widgets, then executes every notebook in notebooks/ with `jupyter nbconvert
# --execute` (outputs go to a temporary folder; the committed notebooks are not touched), with no
# API key set. Any failure stops the check with a message saying what broke.
#
# Environment: PYTHON (interpreter for the venv; default: the one binder/runtime.txt names,
# else python3), KEEP=1 keeps the temporary folder for inspection. pip's cache is used.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
started=$(date +%s)
fail() {
    echo "test-binder: FAILED: $*" >&2
    exit 1
}

# -- the interpreter binder/runtime.txt asks for ----------------------------------------------
want=$(sed -n 's/^python-\([0-9][0-9.]*\).*/\1/p' "$root/binder/runtime.txt" 2>/dev/null || true)
[ -n "$want" ] || fail "binder/runtime.txt must name a Python version (python-3.X): grokbook needs >= 3.11 and Binder's default is older"
if [ -z "${PYTHON:-}" ]; then
    if command -v "python$want" >/dev/null 2>&1; then PYTHON="python$want"; else PYTHON=python3; fi
fi
have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
    || fail "cannot run $PYTHON"
if [ "$have" != "$want" ]; then
    echo "test-binder: warning: binder/runtime.txt asks for Python $want; testing with $have ($PYTHON)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/grokbook-binder.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "test-binder: keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi

# A Binder session has no key and a fresh Jupyter/grokbook state; keep this user's out of it.
unset XAI_API_KEY AIMLAPI_KEY OPENROUTER_API_KEY OPENAI_API_KEY GROKBOOK_PROVIDER \
    GROKBOOK_BASE_URL GROKBOOK_MODEL VIRTUAL_ENV PYTHONPATH PYTHONHOME MPLBACKEND
export JUPYTER_CONFIG_DIR="$tmp/jupyter-config" JUPYTER_DATA_DIR="$tmp/jupyter-data" \
    JUPYTER_RUNTIME_DIR="$tmp/jupyter-runtime" GROKBOOK_HOME="$tmp/grokbook-home" \
    MPLCONFIGDIR="$tmp/mpl" PIP_DISABLE_PIP_VERSION_CHECK=1

# -- build the environment as repo2docker does -------------------------------------------------
echo "test-binder: python $have venv in $tmp/venv"
"$PYTHON" -m venv "$tmp/venv" || fail "python -m venv failed"
export PATH="$tmp/venv/bin:$PATH"
hash -r
echo "test-binder: pip install -r binder/requirements.txt"
(cd "$root" && python -m pip install -r binder/requirements.txt) >"$tmp/pip.log" 2>&1 \
    || { cat "$tmp/pip.log" >&2; fail "pip install -r binder/requirements.txt failed (log above)"; }
echo "test-binder: binder/postBuild (from the repository root)"
[ -x "$root/binder/postBuild" ] || fail "binder/postBuild is not executable (chmod +x binder/postBuild)"
(cd "$root" && ./binder/postBuild) >"$tmp/postBuild.log" 2>&1 \
    || { cat "$tmp/postBuild.log" >&2; fail "binder/postBuild failed (log above)"; }

# -- what a Binder user relies on --------------------------------------------------------------
cd "$tmp"  # away from the checkout: `import grokbook` must find the installed package
python - "$tmp/venv" <<'PY' || fail "grokbook is not installed into the Binder environment"
import os, sys
import grokbook
venv = os.path.realpath(sys.argv[1])
where = os.path.realpath(grokbook.__file__)
assert where.startswith(venv + os.sep), f"grokbook imported from {where}, not from {venv}"
print(f"test-binder: grokbook {grokbook.__version__} from {where}")
PY
command -v jupyter-lab >/dev/null || fail "binder/ does not install JupyterLab"
jupyter labextension list 2>&1 | grep -Eq '@jupyter-widgets/jupyterlab-manager.*enabled.*OK' \
    || fail "the ipywidgets JupyterLab extension is missing or disabled: widgets would not render"
spec=$(jupyter kernelspec list --json | python -c \
    'import json, sys; print(json.load(sys.stdin)["kernelspecs"]["python3"]["resource_dir"])') \
    || fail "no python3 kernel"
case "$spec" in
    "$tmp"/*) ;;
    *) fail "the python3 kernel comes from $spec, not from the Binder environment" ;;
esac

# -- run every notebook, as a Binder user pressing "Run All" would -----------------------------
shopt -s nullglob
notebooks=("$root"/notebooks/*.ipynb)
[ ${#notebooks[@]} -gt 0 ] || fail "no notebooks in notebooks/"
for nb in "${notebooks[@]}"; do
    name=$(basename "$nb")
    t0=$(date +%s)
    if ! jupyter nbconvert --to notebook --execute --output-dir "$tmp/executed" \
        --ExecutePreprocessor.timeout=300 --log-level=WARN "$nb" >"$tmp/nbconvert.log" 2>&1; then
        cat "$tmp/nbconvert.log" >&2
        fail "notebooks/$name raised an error in the Binder environment (log above)"
    fi
    echo "test-binder: ok   notebooks/$name ($(($(date +%s) - t0))s)"
done
echo "test-binder: ok: ${#notebooks[@]} notebooks ran in a fresh Binder environment in $(($(date +%s) - started))s"
