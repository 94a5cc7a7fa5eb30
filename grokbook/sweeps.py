"""Concurrent sweeps: prompts x models x efforts x repeats, one DataFrame row per call.

>>> import grokbook as gb
>>> df = gb.sweep(["What is 101*3?", "What is 7*8?"], models=["grok-3-mini-beta"],
...               efforts=["low", "high"], repeats=2, progress=False)
>>> len(df), sorted(set(df["reasoning_effort"]))
(8, ['high', 'low'])
>>> gb.effort_summary(df)[["calls", "errors"]]                      # per model x effort
                                   calls  errors
model            reasoning_effort
grok-3-mini-beta low                   4       0
                 high                  4       0

Efforts default to every effort the catalog lists for each model. ``"default"`` (or None) is
resolved to the model's documented default before the grid is built (grok-4.3: low; grok-4.5,
4.6, 4.7: high) and recorded as that effort, so ``efforts=[None, "low", "high"]`` on grok-4.3
sends each distinct request once; it stays "default" (not sent) only for a model whose default
the catalog does not know. When "default" means a model's most expensive effort, the sweep
says so once (stderr). An effort a model does not take gives error rows for that model
(rejected before sending), never an exception.

**Scripts and notebooks.** :func:`sweep` works in both: with no event loop running in the
calling thread it uses :func:`asyncio.run`; inside Jupyter (whose event loop is already
running) it runs the sweep on a private event loop in a worker thread and waits for it, so no
``nest_asyncio`` is needed. In async code, ``await gb.asweep(...)`` (same arguments) runs on
the caller's loop.

**Clients.** ``client`` may be an :class:`~grokbook.AsyncClient` (used as is), a
:class:`~grokbook.Client` (an AsyncClient is built from its provider, base URL, key, timeout,
retries and transport: the simulator's transport and ``httpx.MockTransport`` serve both), or
None (an AsyncClient with the default provider: xAI with a key, else the simulator).

**Repeats.** Repeat ``r`` of a call is sent with ``seed=seed + r`` (``seed=0`` by default):
distinct samples, reproducible run to run, and cached separately. ``seed=None`` sends no
``seed`` field.

**Failures.** Every call is a row: a failed call has ``status="error"`` and the error message
(``"RateLimitError: HTTP 429: ..."``). 429s are retried by the client's policy, and the sweep
lowers its concurrency while they last (AIMD: halve on new 429s, at most once per
:data:`RATE_LIMIT_COOLDOWN_S`; then grow back by about one slot per round of successes).

**Interrupting.** Ctrl-C (or a Jupyter kernel interrupt) cancels the calls in flight within
about a second and raises :class:`SweepInterrupted` (a ``KeyboardInterrupt``) whose ``.frame``
holds the rows that finished; IPython and Jupyter show it as one line, no traceback.
``gb.last_sweep()`` returns the rows of the last sweep, finished or interrupted. When
``asweep`` is cancelled, the ``CancelledError`` carries the same ``.frame``. Finished calls are
already in the run log, and with ``cache=True`` in the cache, so running the same sweep again
only calls the API for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import catalog
from ._columns import DEFAULT_EFFORT_LABEL, completion_row, error_row
from .catalog import default_model
from .client import AsyncClient, Client
from .errors import UnsupportedParameterError
from .tables import frame_from_rows

if TYPE_CHECKING:  # pragma: no cover
    from .scoring import Scorer

__all__ = ["RATE_LIMIT_COOLDOWN_S", "SweepInterrupted", "asweep", "grid", "last_sweep", "sweep"]

#: After a halving, new 429s within this many seconds do not halve again.
RATE_LIMIT_COOLDOWN_S = 1.0
#: How long an interrupted sweep waits for its worker thread to wind down.
_CANCEL_GRACE_S = 5.0


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`sweep`; ``.frame`` (and :func:`last_sweep`) holds the rows of the
    calls that finished. The message is one line, true for the sweep's ``cache`` option."""

    def __init__(
        self, frame: pd.DataFrame, total: int, *, cache: bool = True, batch: bool = False
    ) -> None:
        self.frame = frame
        self.total = total
        answered = int((frame["status"] == "ok").sum()) if "status" in frame.columns else 0
        failed = len(frame) - answered
        done = f"{len(frame)} of {total} calls finished" + (f" ({failed} failed)" if failed else "")
        if batch:
            again = "the batches keep running: run the same sweep again to collect them"
        elif not cache:
            again = "cache=False, so running it again makes every call again"
        elif answered:
            again = (
                f"run the same sweep again to finish it: the {answered} answered "
                f"{'call comes' if answered == 1 else 'calls come'} from the cache"
            )
        else:
            again = "run the same sweep again to start over"
        super().__init__(
            f"Sweep interrupted: {done}; gb.last_sweep() returns their rows (so does this "
            f"exception's .frame); {again}."
        )


#: The rows of the last sweep of this process, finished or interrupted (:func:`last_sweep`).
_last_sweep: pd.DataFrame | None = None


def last_sweep() -> pd.DataFrame | None:
    """The rows of the last sweep this process ran, finished or interrupted (None before
    the first): after a Ctrl-C in Jupyter, ``df = gb.last_sweep()`` keeps what finished.

    >>> import grokbook as gb
    >>> df = gb.sweep("What is 7*8?", efforts="low", progress=False)
    >>> gb.last_sweep() is df
    True
    """
    return _last_sweep


def _remember(frame: pd.DataFrame) -> pd.DataFrame:
    global _last_sweep
    _last_sweep = frame
    return frame


def _one_line_in_ipython() -> None:
    """In IPython (a Jupyter kernel or the terminal), show :class:`SweepInterrupted` as its
    one-line message instead of a traceback through grokbook's internals: a custom
    exception handler, installed once, unless another one is in place (then IPython's
    traceback shows, as before). Checked without importing IPython."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return
    current = getattr(shell, "custom_exceptions", ())
    if current == () or current == (SweepInterrupted,):
        shell.set_custom_exc((SweepInterrupted,), _show_one_line)


def _show_one_line(
    shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None
) -> list[str]:
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    line = [str(value)]  # "Sweep interrupted: ..." already says what happened
    show = getattr(shell, "_showtraceback", None)
    if callable(show):
        show(etype, value, line)  # a kernel sends it as the cell's error; a terminal prints it
    else:  # pragma: no cover - an IPython without it
        print(line[0], file=sys.stderr)
    return line


@dataclass(frozen=True)
class Job:
    """One cell of the grid (``effort`` None = the parameter is not sent)."""

    index: int
    prompt: str
    model: str
    effort: str | None
    repeat: int
    #: The prompt's position in ``prompts`` (the row of a cases frame).
    case: int = 0


def _as_list(value: str | Iterable[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise UnsupportedParameterError(f"Each of {what} must be a non-empty string: {item!r}.")
    return items


def _cases(prompts: Any, expected: Any) -> tuple[Any, Any, pd.DataFrame | None]:
    """(prompts, expected, extra case columns) when ``prompts`` is a frame of cases."""
    if not isinstance(prompts, pd.DataFrame):
        return prompts, expected, None
    if "prompt" not in prompts.columns:
        raise UnsupportedParameterError(
            "A DataFrame of cases needs a 'prompt' column (and 'expected' to score the "
            "answers), like gb.problems()."
        )
    cases = prompts.reset_index(drop=True)
    if expected is None and "expected" in cases.columns:
        expected = cases["expected"]
    extra = cases.drop(columns=[c for c in ("prompt", "expected") if c in cases.columns])
    return list(cases["prompt"]), expected, extra


def _scoring_inputs(
    prompts: Any, expected: Any, scorer: Scorer | None
) -> tuple[Any, list[Any] | None, pd.DataFrame | None]:
    """(the prompts, one expected answer per prompt or None, the cases frame or None), checked
    before anything is sent: a mistake here must not cost a sweep."""
    listed, expected, cases = _cases(prompts, expected)
    expected_list = _expected_list(_as_list(listed, "prompts") or [], expected)
    if scorer is not None and expected_list is None:
        raise UnsupportedParameterError(
            "scorer needs expected answers: pass expected= (a list aligned with prompts or a "
            "dict of prompt -> answer), or a DataFrame of cases with an 'expected' column."
        )
    if expected_list is not None:
        from .scoring import check_scorer

        check_scorer(scorer, expected_list)
    return listed, expected_list, cases


def _scored(
    frame: pd.DataFrame,
    jobs: Sequence[Job],
    expected_list: list[Any] | None,
    cases: pd.DataFrame | None,
    scorer: Scorer | None,
) -> pd.DataFrame:
    """A finished frame, one row per job in ``jobs`` (in that order), with the cases' columns
    (a case column named like a usage column, e.g. "model", is kept as case_NAME) and, given
    expected answers, scored: for live sweeps (:meth:`_Run.result`) and batch sweeps alike."""
    if cases is None and expected_list is None:
        return frame
    index = [job.case for job in jobs]
    if cases is not None:
        picked = cases.take(index)
        for name in cases.columns:
            column = f"case_{name}" if name in frame.columns else str(name)
            frame[column] = picked[name].to_numpy()
    if expected_list is None:
        return frame
    from .scoring import auto, scored_frame

    attrs = dict(frame.attrs)
    # Checked before the calls; a row the scorer fails on now gets a score_error.
    scored = scored_frame(frame, scorer or auto, [expected_list[i] for i in index])
    scored.attrs = {**attrs, **scored.attrs}
    return scored


def _expected_list(prompts: list[str], expected: Any) -> list[Any] | None:
    """``expected`` as one value per prompt (see :func:`grokbook.scoring.expected_values`)."""
    if expected is None:
        return None
    from .scoring import expected_values

    return expected_values(prompts, expected)


def grid(
    prompts: str | Iterable[str] | pd.DataFrame,
    models: str | Iterable[str] | None = None,
    efforts: str | Iterable[str | None] | None = None,
    repeats: int = 1,
    *,
    resolve_defaults: bool = True,
) -> list[Job]:
    """The calls a sweep makes, in row order: prompt, then model, effort, repeat.

    "default" (or None) is resolved to the model's documented default effort first
    (:func:`grokbook.catalog.resolve_effort`: grok-4.3 -> low, grok-4.5 / 4.6 / 4.7 -> high),
    sent and recorded as that effort; it stays "default" (not sent) only for a model whose
    default the catalog does not know. Efforts that name the same request are sent once, so no
    call is paid twice under two names. ``efforts=None`` means each model's catalog efforts
    (plus "default" when its default is unknown); a model the catalog does not know gets
    "default" only. ``prompts`` may be a DataFrame of cases with a ``prompt`` column
    (``Job.case`` is its row). ``resolve_defaults=False`` keeps "default" unsent (the grid of
    a batch recorded before defaults were resolved).
    """
    listed: Any = _cases(prompts, None)[0]
    prompt_list = _as_list(listed, "prompts") or []
    if not prompt_list:
        raise UnsupportedParameterError("prompts is empty: pass a string or a list of strings.")
    model_list = _as_list(models, "models") or [default_model()]
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise UnsupportedParameterError(f"repeats must be an integer >= 1, not {repeats!r}.")
    explicit: list[str | None] | None = None
    if efforts is not None:
        raw = [efforts] if isinstance(efforts, str) else list(efforts)
        raw = [catalog.canonical_effort(e) for e in raw]  # "HIGH" is "high"
        explicit = [None if e in (None, DEFAULT_EFFORT_LABEL) else e for e in raw]
        if not explicit:
            raise UnsupportedParameterError("efforts is empty: leave it None for every effort.")
    jobs: list[Job] = []
    efforts_of = {model: _model_efforts(model, explicit, resolve_defaults) for model in model_list}
    for case, prompt in enumerate(prompt_list):
        for model in model_list:
            for effort in efforts_of[model]:
                for repeat in range(repeats):
                    jobs.append(Job(len(jobs), prompt, model, effort, repeat, case))
    return jobs


def _model_efforts(
    model: str, explicit: list[str | None] | None, resolve: bool = True
) -> list[str | None]:
    """The distinct efforts a grid sends to ``model``, "default" resolved to its effort."""

    def resolved(effort: str | None) -> str | None:
        return catalog.resolve_effort(model, effort) if resolve else effort

    if explicit is None:
        record = catalog.get(model)
        efforts: list[str | None] = list(record.efforts) if record else []
        default = resolved(None)
        if default not in efforts:
            efforts.insert(0, default)
        return efforts
    return list(dict.fromkeys(resolved(e) for e in explicit))


#: Models whose "default means its most expensive effort" note was printed (once per process).
_NOTED_DEFAULTS: set[str] = set()


def _note_expensive_defaults(
    models: str | Iterable[str] | None, efforts: str | Iterable[str | None] | None
) -> None:
    """Say once per model (stderr) when a "default" in ``efforts`` means its priciest effort."""
    if efforts is None:
        return  # every effort is run anyway: nothing is hidden behind "default"
    raw = [efforts] if isinstance(efforts, str) else list(efforts)
    if not any(e in (None, DEFAULT_EFFORT_LABEL) for e in raw):
        return
    for model in _as_list(models, "models") or [default_model()]:
        note = catalog.default_effort_note(model)
        if note is not None and note not in _NOTED_DEFAULTS:
            _NOTED_DEFAULTS.add(note)
            print(f"grokbook: {note}", file=sys.stderr)


class AdaptiveLimit:
    """An AIMD concurrency limit for asyncio: halve on new 429s, grow back on successes.

    ``observe(rate_limited)`` takes the client's cumulative 429 counter; when it has grown,
    the limit halves (not below 1), at most once per ``cooldown_s``. Each success with no new
    429 adds ``1 / limit``, i.e. about one slot per round of ``limit`` calls, up to the maximum.
    """

    def __init__(
        self,
        maximum: int,
        *,
        cooldown_s: float = RATE_LIMIT_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.lowest = maximum
        self.cuts = 0
        self.in_flight = 0
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._seen = 0
        self._last_cut = -math.inf
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def current(self) -> int:
        """The number of calls allowed in flight right now."""
        return max(1, int(self.limit))

    def observe(self, rate_limited: int) -> bool:
        """Note the client's 429 counter; True when it grew since the last look."""
        if rate_limited <= self._seen:
            return False
        self._seen = rate_limited
        now = self._clock()
        if now - self._last_cut >= self._cooldown_s:
            self._last_cut = now
            self.limit = max(1.0, self.limit / 2)
            self.lowest = min(self.lowest, self.current)
            self.cuts += 1
        return True

    def baseline(self, rate_limited: int) -> None:
        """Start counting 429s from the client's current counter (a reused client)."""
        self._seen = rate_limited

    def success(self) -> None:
        if self.limit < self.maximum:
            self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
            self._wake()

    async def acquire(self) -> None:
        """Wait for a free slot (FIFO) and take it."""
        while self.in_flight >= self.current:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        free = self.current - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                free -= 1


async def _rows_durable() -> None:
    """Wait (off the loop) until the run log holds every finished call: a sweep returns (or
    raises) only then, so a kernel killed right after it loses no answer and the same cell
    run again sends nothing."""
    from .store import flush

    waiting = asyncio.ensure_future(asyncio.to_thread(flush))
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        await asyncio.wait([waiting])  # cancelled again meanwhile: still finish the wait
        raise


def _async_client(client: Client | AsyncClient | None) -> tuple[AsyncClient, bool]:
    """The AsyncClient to use, and whether the sweep created it (and so closes it)."""
    if client is None:
        return AsyncClient(), True
    if isinstance(client, AsyncClient):
        return client, False
    if isinstance(client, Client):
        return client._async_twin(), True
    raise UnsupportedParameterError(
        f"client must be a grokbook Client or AsyncClient (or None), not {type(client).__name__}."
    )


class _Run:
    """The state of one sweep: jobs, finished rows, the limit, the progress bar."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        client: AsyncClient,
        owns_client: bool,
        concurrency: int,
        system: str | None,
        temperature: float | None,
        progress: bool,
        cache: bool,
        seed: int | None = 0,
        on_result: Callable[[dict[str, Any]], None] | None = None,
        expected: list[Any] | None = None,
        scorer: Scorer | None = None,
        cases: pd.DataFrame | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.expected = expected
        self.scorer = scorer
        self.cases = cases
        self.seed = seed
        self.on_result = on_result
        self.client = client
        self.owns_client = owns_client
        self.concurrency = concurrency
        self.system = system
        self.temperature = temperature
        self.progress = progress
        self.cache = cache
        self.sweep_id = uuid.uuid4().hex[:12]
        self.rows: list[dict[str, Any] | None] = [None] * len(self.jobs)
        self.limit = AdaptiveLimit(concurrency)
        self.errors = 0
        self._next = 0
        self._bar: Any = None
        self._started = time.perf_counter()
        self._elapsed: float | None = None
        # For cancelling from another thread (the sync wrapper's worker-thread mode).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._stop = threading.Event()

    # -- results ------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """The finished rows, in grid order."""
        df = frame_from_rows(row for row in self.rows if row is not None)
        df.attrs["sweep"] = {
            "sweep_id": self.sweep_id,
            "calls": len(self.jobs),
            "finished": len(df),
            "errors": self.errors,
            "concurrency": self.concurrency,
            "lowest_concurrency": self.limit.lowest,
            "rate_limit_cuts": self.limit.cuts,
            "rate_limited": self.client.stats.get("rate_limited", 0),
            "elapsed_s": self._elapsed
            if self._elapsed is not None
            else time.perf_counter() - self._started,
        }
        return df

    def result(self) -> pd.DataFrame:
        """:meth:`frame`, plus the cases' extra columns and, given expected answers, the
        ``expected`` / ``score`` / ``correct`` columns (:func:`grokbook.scoring.score`)."""
        finished = [job for job, row in zip(self.jobs, self.rows, strict=True) if row is not None]
        return _scored(self.frame(), finished, self.expected, self.cases, self.scorer)

    # -- running ------------------------------------------------------------------------------
    async def execute(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._stop.is_set():
            raise asyncio.CancelledError
        self._started = time.perf_counter()
        self.limit.baseline(self.client.stats.get("rate_limited", 0))
        await self.client.reserve_connections(self.concurrency)
        self._open_bar()
        prefetched: list[str] = []
        if self.cache:
            # One batched cache read for the whole grid, off the loop: each call's lookup is
            # then answered from memory instead of a query on the event-loop thread.
            calls = [(job.prompt, self._options(job)) for job in self.jobs]
            prefetched = await asyncio.to_thread(self.client.prefetch_cache, calls)
        workers = [
            asyncio.create_task(self._worker())
            for _ in range(min(self.concurrency, len(self.jobs)))
        ]
        try:
            await asyncio.gather(*workers)
        except BaseException as exc:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if isinstance(exc, asyncio.CancelledError):
                exc.frame = self.frame()  # type: ignore[attr-defined]
            raise
        finally:
            self._elapsed = time.perf_counter() - self._started
            self._close_bar()
            self.client.forget_prefetched(prefetched)
            if self.owns_client:
                with contextlib.suppress(Exception):
                    await self.client.aclose()
            await _rows_durable()

    def cancel_threadsafe(self) -> None:
        """Cancel the run from another thread (the sync wrapper on Ctrl-C)."""
        self._stop.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            # RuntimeError: the loop closed in between, so nothing is left to cancel.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    async def _worker(self) -> None:
        while True:
            self.limit.observe(self.client.stats.get("rate_limited", 0))
            await self.limit.acquire()
            try:
                if self._next >= len(self.jobs):
                    return
                job = self.jobs[self._next]
                self._next += 1
                row = await self._call(job)
            finally:
                self.limit.release()
            self.rows[job.index] = row
            grew = self.limit.observe(self.client.stats.get("rate_limited", 0))
            if row["status"] == "ok":
                if not grew:
                    self.limit.success()
            else:
                self.errors += 1
            self._tick()
            if self.on_result is not None:
                self.on_result(dict(row))

    def _options(self, job: Job) -> dict[str, Any]:
        """The call options of one job (also what its cache key is computed from)."""
        return {
            "model": job.model,
            "reasoning_effort": job.effort,
            "system": self.system,
            "temperature": self.temperature,
            "cache": self.cache,
            "seed": None if self.seed is None else self.seed + job.repeat,
            "repeat": job.repeat,
            "tags": {"sweep_id": self.sweep_id, "source": "sweep"},
        }

    async def _call(self, job: Job) -> dict[str, Any]:
        try:
            completion = await self.client.chat(job.prompt, **self._options(job))
        except Exception as exc:  # every failure is a row, never a lost sweep
            row = error_row(
                model=job.model,
                reasoning_effort=job.effort,
                prompt=job.prompt,
                repeat=job.repeat,
                error=f"{type(exc).__name__}: {exc}",
                provider=self.client.provider.name,
                simulated=self.client.simulated,
            )
            row["answer"] = None
            row["model_served"] = None
            return row
        row = completion_row(completion, prompt=job.prompt, repeat=job.repeat)
        row["model"] = job.model
        row["reasoning_effort"] = job.effort or DEFAULT_EFFORT_LABEL
        row["answer"] = completion.content
        row["model_served"] = completion.model
        return row

    # -- progress -------------------------------------------------------------------------------
    def _open_bar(self) -> None:
        if not self.progress:
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(total=len(self.jobs), desc="grokbook sweep", unit="call", file=sys.stderr)

    def _tick(self) -> None:
        if self._bar is None:
            return
        postfix = {}
        if self.errors:
            postfix["errors"] = self.errors
        if self.limit.current < self.concurrency:
            postfix["concurrency"] = self.limit.current
        if postfix:
            self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _prepare(
    prompts: str | Iterable[str] | pd.DataFrame,
    models: str | Iterable[str] | None,
    efforts: str | Iterable[str | None] | None,
    repeats: int,
    concurrency: int,
    client: Client | AsyncClient | None,
    system: str | None,
    temperature: float | None,
    progress: bool,
    cache: bool,
    seed: int | None,
    on_result: Callable[[dict[str, Any]], None] | None,
    *,
    private_loop: bool,
    expected: Any = None,
    scorer: Scorer | None = None,
) -> _Run:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise UnsupportedParameterError(
            f"concurrency must be an integer >= 1, not {concurrency!r}."
        )
    listed, expected_list, cases = _scoring_inputs(prompts, expected, scorer)
    jobs = grid(listed, models, efforts, repeats)
    _note_expensive_defaults(models, efforts)
    async_client, created = _async_client(client)
    return _Run(
        jobs,
        client=async_client,
        # On a private loop the connection pool belongs to that loop: always close it.
        owns_client=created or private_loop,
        concurrency=concurrency,
        system=system,
        temperature=temperature,
        progress=progress,
        cache=cache,
        seed=seed,
        on_result=on_result,
        expected=expected_list,
        scorer=scorer,
        cases=cases,
    )


def _via_batch(
    prompts: Any,
    models: str | Iterable[str] | None,
    efforts: str | Iterable[str | None] | None,
    repeats: int,
    client: Client | AsyncClient | None,
    system: str | None,
    temperature: float | None,
    progress: bool,
    cache: bool,
    seed: int | None,
    on_result: Callable[[dict[str, Any]], None] | None,
    *,
    via: str,
    accept_latency: bool,
    poll_interval: float | None,
    expected: Any,
    scorer: Scorer | None,
) -> pd.DataFrame | None:
    """The grid run on the Batch API when ``via`` picks it (rows scored as a live sweep's),
    or None when it is to run live."""
    from . import batch

    planned = grid(prompts, models, efforts, repeats)
    provider = client.provider.name if isinstance(client, Client | AsyncClient) else None
    chosen = batch.engine(
        via,
        len(planned),
        accept_latency=accept_latency,
        provider=provider,
        models={job.model for job in planned},
    )
    if chosen != "batch":
        return None
    listed, expected_list, cases = _scoring_inputs(prompts, expected, scorer)
    jobs = grid(listed, models, efforts, repeats)
    _note_expensive_defaults(models, efforts)
    frame = batch.batch_sweep(
        listed,
        models,
        efforts,
        repeats,
        client=client,
        system=system,
        temperature=temperature,
        progress=progress,
        cache=cache,
        seed=seed,
        on_result=on_result,
        poll_interval=poll_interval,
    )
    if len(frame) != len(jobs):  # pragma: no cover - batch_sweep returns one row per job
        raise RuntimeError("a batch sweep returned a row count unlike its grid's")
    return _scored(frame, jobs, expected_list, cases, scorer)


async def asweep(
    prompts: str | Iterable[str] | pd.DataFrame,
    models: str | Iterable[str] | None = None,
    efforts: str | Iterable[str | None] | None = None,
    repeats: int = 1,
    concurrency: int = 8,
    client: Client | AsyncClient | None = None,
    system: str | None = None,
    temperature: float | None = None,
    progress: bool = True,
    cache: bool = True,
    seed: int | None = 0,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    *,
    expected: Any = None,
    scorer: Scorer | None = None,
    via: str = "live",
    accept_latency: bool = False,
    poll_interval: float | None = None,
) -> pd.DataFrame:
    """The async :func:`sweep`: ``df = await gb.asweep(...)`` on the running loop.

    If the awaiting task is cancelled, the calls in flight are cancelled and the
    ``CancelledError`` carries ``.frame`` with the rows that finished. ``on_result`` is
    called on the loop with each finished row (a dict), e.g. to drive a progress widget.
    ``expected`` / ``scorer`` score the answers as :func:`sweep` does (a judge's grading calls
    are made with a sync client after the sweep, blocking the loop while they run).
    ``via="batch"`` / ``"auto"`` run on the Batch API as in :func:`sweep`, in a worker
    thread, so the loop stays free while the batch is polled.
    """
    if via != "live":
        batched = await asyncio.to_thread(
            _via_batch, prompts, models, efforts, repeats, client, system, temperature,
            progress, cache, seed, on_result, via=via, accept_latency=accept_latency,
            poll_interval=poll_interval, expected=expected, scorer=scorer,
        )  # fmt: skip
        if batched is not None:
            return _remember(batched)
    run = _prepare(
        prompts,
        models,
        efforts,
        repeats,
        concurrency,
        client,
        system,
        temperature,
        progress,
        cache,
        seed,
        on_result,
        private_loop=False,
        expected=expected,
        scorer=scorer,
    )
    try:
        await run.execute()
    except asyncio.CancelledError:
        _remember(run.frame())  # unscored: no judge call while being cancelled
        raise
    return _remember(run.result())


def sweep(
    prompts: str | Iterable[str] | pd.DataFrame,
    models: str | Iterable[str] | None = None,
    efforts: str | Iterable[str | None] | None = None,
    repeats: int = 1,
    concurrency: int = 8,
    client: Client | AsyncClient | None = None,
    system: str | None = None,
    temperature: float | None = None,
    progress: bool = True,
    cache: bool = True,
    seed: int | None = 0,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    *,
    expected: Any = None,
    scorer: Scorer | None = None,
    via: str = "live",
    accept_latency: bool = False,
    poll_interval: float | None = None,
) -> pd.DataFrame:
    """Run the grid prompts x models x efforts x repeats; one row per call (see module doc).

    ``concurrency`` caps the calls in flight (lowered automatically while 429s arrive);
    ``progress`` shows a tqdm bar (a widget in Jupyter, stderr elsewhere); ``cache=True``
    reuses stored answers for identical calls, so re-running a sweep makes no API calls.
    Repeat ``r`` is sent with ``seed=seed + r``, so repeats are distinct samples that can be
    reproduced (``seed=None`` sends no seed). ``on_result(row)`` is called with each finished
    row as it lands.

    **Scoring.** ``expected`` (a list aligned with ``prompts``, a Series, or a dict of prompt
    -> answer) and ``scorer`` (any :mod:`grokbook.scoring` scorer; default
    :func:`~grokbook.scoring.auto`) add ``expected``, ``score`` and ``correct`` columns. A
    DataFrame of cases (a ``prompt`` column, optionally ``expected`` and others, such as
    :func:`grokbook.problems`) may stand for ``prompts``: its other columns (e.g. ``steps``)
    are copied onto each row (as ``case_NAME`` when a usage column has that name). Re-score
    later, with no API call, by ``gb.score(df, scorer)``.

    Raises :class:`SweepInterrupted` (with ``.frame``) on Ctrl-C.

    ``via="batch"`` runs the grid on xAI's Batch API instead (each model's batch price, as
    billed; outside the rate limits, results within a day; resumable: see
    :mod:`grokbook.batch`), polling every ``poll_interval`` seconds; the rows are the same,
    plus ``via``. A model xAI marks "Batch API: Not supported" (grok-4.5, 4.6, 4.7) is refused
    before anything is uploaded. ``via="auto"`` runs on the Batch API when the grid has at
    least ``grokbook.batch.AUTO_BATCH_MIN_CALLS`` calls, ``accept_latency=True`` and no such
    model; otherwise the sweep runs live.
    """
    if via != "live":
        try:
            batched = _via_batch(
                prompts, models, efforts, repeats, client, system, temperature, progress, cache,
                seed, on_result, via=via, accept_latency=accept_latency,
                poll_interval=poll_interval, expected=expected, scorer=scorer,
            )  # fmt: skip
        except SweepInterrupted as stopped:
            _remember(stopped.frame)
            _one_line_in_ipython()
            raise
        if batched is not None:
            return _remember(batched)
    run = _prepare(
        prompts,
        models,
        efforts,
        repeats,
        concurrency,
        client,
        system,
        temperature,
        progress,
        cache,
        seed,
        on_result,
        private_loop=True,
        expected=expected,
        scorer=scorer,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    else:
        in_loop = True
    try:
        if in_loop:
            _run_in_thread(run)
        else:
            asyncio.run(run.execute())
    except KeyboardInterrupt:
        interrupted = SweepInterrupted(_remember(run.result()), len(run.jobs), cache=run.cache)
        _one_line_in_ipython()
        raise interrupted from None
    return _remember(run.result())


def _run_in_thread(run: _Run) -> None:
    """Run the sweep on a private event loop in a worker thread; Ctrl-C here cancels it.

    The wait is on an Event, not ``Thread.join``: on Python 3.11 a KeyboardInterrupt that
    lands inside ``join`` can mark a still-running thread as stopped.
    """
    failure: list[BaseException] = []
    done = threading.Event()

    def target() -> None:
        try:
            asyncio.run(run.execute())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=target, name=f"grokbook-sweep-{run.sweep_id}", daemon=True)
    thread.start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        run.cancel_threadsafe()
        if done.wait(_CANCEL_GRACE_S):
            thread.join(1.0)
        raise
    thread.join(1.0)
    if failure:
        raise failure[0]
    if run._stop.is_set():
        raise KeyboardInterrupt
