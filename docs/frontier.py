"""Draw docs/frontier.png (the README's accuracy/cost figure) on the offline simulator.

Run: ``make readme-images`` (``make demo`` writes build/frontier.png instead), or
``.venv/bin/python docs/frontier.py [OUT.png]`` (default: build/frontier.png). The accuracy is
the simulator's documented accuracy model (README, "The offline simulator"), not a measurement
of Grok.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GROKBOOK_HOME", tempfile.mkdtemp(prefix="grokbook-frontier-"))
os.environ.setdefault("MPLBACKEND", "Agg")

import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import grokbook as gb  # noqa: E402


def main() -> None:
    client = gb.AsyncClient(provider="sim")
    cases = gb.problems()
    df = pd.concat(
        [
            gb.sweep(cases, models="grok-4.3", efforts=["none", "low", "medium", "high"],
                     client=client, progress=False),
            gb.sweep(cases, models="grok-3-mini-beta", efforts=["low", "high"],
                     client=client, progress=False),
        ],
        ignore_index=True,
    )
    figure = Figure(figsize=(13, 4.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    gb.plot_frontier(df, ax=left, target=0.9)
    gb.plot_accuracy_latency(df, ax=right, target=0.9)
    figure.suptitle("gb.problems() on grokbook's offline simulator (simulated accuracy model)")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build") / "frontier.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    print(gb.recommend(df, target=0.9))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
