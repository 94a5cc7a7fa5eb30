"""grokbook's benchmarks against the peers: ``make bench`` (or ``python bench/run.py``).

Every figure is measured in the same run as its baseline, against a server on loopback in a
separate process (grokbook's simulator, or for cases 11 and 12 an independent aiohttp app
returning a recorded xAI answer), without latency or with a fixed 200 ms before the first
byte, so the ratios mean something on any machine while the absolute numbers only describe
this one. One module per case, run in the order of their numbers:

1. ``case_overhead``: 1,000 sequential calls, grokbook.Client (run log on) vs 3 sync clients
2. ``case_sweep``: 500 calls at concurrency 50, 200 ms, grokbook.sweep vs five semaphore loops
3. ``case_import``: import grokbook / %load_ext grokbook vs httpx, openai, in fresh interpreters
4. ``case_stream``: a 4,000-token answer through %%grok's display path
5. ``case_tables``: usage_frame and effort_summary on 100k and 1M rows vs plain pandas
6. ``case_sse``: a 2,000-chunk stream through Client.stream on both wires vs httpx iter_lines
7. ``case_display``: bytes %%grok publishes for 2k/10k/40k-token answers at model pace
8. ``case_limit``: sweeps at concurrency 50/200/500 vs pool-sized aiohttp and httpx loops
9. ``case_store``: run-log disk per call; history() vs pd.read_sql_query at 100k and 1M rows
10. ``case_cpu``: client CPU per call in a 10k-call sweep at c=100 vs aiohttp + semaphore
11. ``case_independent``: 1,000 calls at c=200 and c=50 on the independent server
12. ``case_percall``: per call, sync, run log on, both wires, on the independent server vs
    httpx and requests, with a profile of what each piece of a call costs
13. ``case_disk``: run-log disk per call of a simulator reasoning sweep on each wire
14. ``case_summary``: effort_summary on 100k rows with default efforts vs groupby().agg

Cases that compare with peers use the fastest of EVERY peer measured in the same run (none is
left out, least of all a winner), name each one's HTTP stack, and report client CPU per call
next to wall time. Prints a table, writes docs/benchmarks.md (with a description of the
machine) and exits 1 if a target is missed. ``--only overhead,sweep`` runs some cases (by the
names above, without ``case_``); ``--no-write`` leaves the docs alone; ``--quick`` runs every
case at tiny sizes (a check that each runs, well under a minute; writes nothing);
``--report-only`` exits 0 despite misses (to record a before-state). A case runs alone too:
``python bench/case_sweep.py [--quick] [--report-only]``. The full run takes about 20 minutes.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: F401 - first: isolates the store before grokbook is imported
from _report import main


def cases() -> list[ModuleType]:
    """Every ``bench/case_*.py``, in the order of their numbers."""
    here = Path(__file__).resolve().parent
    modules = [importlib.import_module(p.stem) for p in sorted(here.glob("case_*.py"))]
    numbers = [m.NUMBER for m in modules]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"bench: two cases share a number: {sorted(numbers)}")
    return sorted(modules, key=lambda m: m.NUMBER)


if __name__ == "__main__":
    sys.exit(main(cases(), doc=__doc__))
