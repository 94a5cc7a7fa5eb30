"""The one live-answer renderer (:class:`LiveAnswer`): what every streaming display shows.

Why one module of ~300 lines: the streaming state, the throttle, the partial answer on an
error and what a terminal prints are one object's concerns; splitting them would pass its
state around.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import catalog
from ..errors import redact, secret_start
from ._bundles import DEFAULT_REASONING_MODE, check_mode, completion_bundle, phase, stream_html
from ._errors import error_html, error_text
from ._markdown import plain
from ._terminal import ESCAPE_SEQUENCE, HOLD_LIMIT, INTRODUCER, terminal_text

if TYPE_CHECKING:  # pragma: no cover
    from ..result import Completion

#: The unfinished word at the end of a text (held back while a redactor's key may be arriving).
_LAST_WORD = re.compile(r"\S+\Z")


def bundle_size(bundle: dict[str, str]) -> int:
    """Bytes a display message carries for ``bundle`` (its values, UTF-8)."""
    return sum(len(value.encode("utf-8", "surrogatepass")) for value in bundle.values())


class LiveAnswer:
    """The display of one answer while it streams: one component for every frontend.

    It owns the streaming state (reasoning and answer so far), the throttle, the partial
    answer shown on an error, the final render, and what a terminal prints. The ``%%grok``
    magic (rich and plain), the Playground widget and the ``grokbook ask`` command all use it;
    they only move its output to a display, a widget or a stream.

    Rich displays (:meth:`update`) redraw one area in place, so every update re-sends what it
    shows. To keep the bytes published linear in the answer's length, a live update shows
    the end of the answer (:attr:`ANSWER_WINDOW` characters) and of the reasoning
    (:attr:`REASONING_WINDOW`), with a note counting the earlier characters, and an update is
    sent only when at least :attr:`interval` seconds have passed and the answer has grown by
    enough: an update of B bytes needs ``(B - FLOOR_BYTES) / BYTES_PER_CHAR`` new characters.
    The finished answer is rendered in full by :meth:`final_bundle`.

    Every text shown has ``secrets`` (the API key) replaced by ``[redacted]``
    (:func:`grokbook.errors.redact`), and goes through each of ``redactors`` (e.g. a client's
    :meth:`~grokbook.Client.redact`, for a key it keeps to itself): a server that echoes the key
    shows it redacted. A terminal gets no piece of a key split across streamed pieces: the
    start of a known secret is held back until the next piece shows what it is, and with
    ``redactors`` (whose keys are not known here, and are one word) the last unfinished word.

    Counts shown are only ones it has: until usage arrives with the finished answer, the
    reasoning is labelled by its length in characters and the status line by the seconds
    since the first update, never by an estimate of tokens (on the Responses API only a short
    summary streams: ``wire``, with the model, tells it to label the text a summary).
    """

    #: Characters at the end of the answer a live update shows.
    ANSWER_WINDOW = 3000
    #: Characters at the end of the reasoning a live update shows.
    REASONING_WINDOW = 1200
    #: Bytes an update may publish per character the answer grew by since the last one...
    BYTES_PER_CHAR = 40
    #: ... plus this many (status lines, the first words).
    FLOOR_BYTES = 1000

    def __init__(
        self,
        model: str | None = None,
        *,
        reasoning_mode: str = DEFAULT_REASONING_MODE,
        secrets: tuple[str, ...] = (),
        redactors: Sequence[Callable[[str], str]] = (),
        interval: float = 0.1,
        wire: str | None = None,
    ) -> None:
        self.model = model
        self.reasoning_mode = check_mode(reasoning_mode)
        self.secrets = tuple(s for s in secrets if s)
        self.redactors = tuple(redactors)
        self.interval = interval
        #: The wire the answer comes over ("responses" | "chat"), once the caller knows it.
        self.wire = wire
        self._started_at: float | None = None
        self._elapsed: float | None = None
        self._parts: dict[str, list[str]] = {"reasoning": [], "content": []}
        self._chars = {"reasoning": 0, "content": 0}
        self._published_at: float | None = None
        self._chars_at_publish = 0
        #: Live updates sent, and the bytes they carried (see :meth:`update`).
        self.updates = 0
        self.bytes_published = 0
        # Terminal state: the kind printed last, and text held back per kind (the start of a
        # secret or of an escape sequence that the next piece may complete).
        self._printed: str | None = None
        self._held = {"reasoning": "", "content": ""}

    # -- state -------------------------------------------------------------------------------
    def add(self, kind: str, text: str) -> None:
        """One streamed piece: ``kind`` is "reasoning" or "content"."""
        key = "reasoning" if kind == "reasoning" else "content"
        self._parts[key].append(text)
        self._chars[key] += len(text)

    def text(self, kind: str) -> str:
        """The whole reasoning or answer so far (not redacted)."""
        parts = self._parts[kind]
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    @property
    def started(self) -> bool:
        """Whether anything has arrived."""
        return bool(self._chars["reasoning"] or self._chars["content"])

    def _end(self, kind: str, window: int) -> tuple[str, int | None]:
        """The last ``window`` characters of a text, redacted (a secret cut by the window's
        edge is not shown either), and the whole text's length when that is more."""
        text = self.text(kind)
        if len(text) <= window:
            return self.redact(text), None
        longest = max((len(s) for s in self.secrets), default=0)
        if self.redactors:  # their keys' lengths are not known here
            longest = max(longest, HOLD_LIMIT)
        return self.redact(text[-(window + longest) :])[-window:], len(text)

    @property
    def redacting(self) -> bool:
        """Whether there is anything to redact (secrets or redactors)."""
        return bool(self.secrets or self.redactors)

    def redact(self, text: str) -> str:
        """``text`` with the secrets replaced by ``[redacted]`` (:func:`grokbook.errors.redact`)
        and passed through the redactors."""
        if self.secrets:
            text = redact(text, self.secrets)
        for redactor in self.redactors:
            text = redactor(text)
        return text

    def _record(self) -> catalog.Model | None:
        return catalog.get(self.model) if self.model else None

    @property
    def summary(self) -> bool:
        """Whether the reasoning that streams is a summary (the model on the wire says so)."""
        record = self._record()
        if record is None or self.wire not in ("responses", "chat"):
            return False
        return bool(record.readable_reasoning(self.wire) == "summary")

    @property
    def reasons(self) -> bool:
        """Whether the model reasons before it answers (the catalog says so)."""
        record = self._record()
        return bool(record is not None and record.reasoning)

    def terminal_status(self) -> str:
        """The line a terminal prints when the call starts: who is reasoning, and when the
        exact count comes (no count is shown before it exists)."""
        who = f"{terminal_text(self.model)} · " if self.model else ""
        shows = "a summary of the reasoning streams; " if self.summary else ""
        phase = "reasoning" if self.reasons else "waiting"
        return f"{who}{phase}… ({shows}tokens are counted when the answer ends)"

    # -- rich displays -----------------------------------------------------------------------
    def live_bundle(self) -> dict[str, str]:
        """What a live display shows now: the end of the reasoning and of the answer."""
        reasoning, reasoning_chars = self._end("reasoning", self.REASONING_WINDOW)
        content, content_chars = self._end("content", self.ANSWER_WINDOW)
        html_doc = stream_html(
            reasoning,
            content,
            reasoning_mode=self.reasoning_mode,
            model=self.model,
            reasoning_chars=reasoning_chars,
            content_chars=content_chars,
            elapsed_s=self._elapsed,
            summary=self.summary,
            reasons=self.reasons,
        )
        return {"text/html": html_doc, "text/plain": self._status()}

    def _status(self) -> str:
        who = f"{plain(self.model)} · " if self.model else ""
        phase_text = phase(
            bool(self._chars["reasoning"]),
            bool(self._chars["content"]),
            reasons=self.reasons,
            elapsed_s=self._elapsed,
        )
        if not self.started:
            return f"{who}{phase_text}"
        return f"{who}{phase_text} ({self._chars['content']:,} characters of answer so far)"

    def update(self, now: float, *, force: bool = False) -> dict[str, str] | None:
        """The bundle to publish at time ``now`` (seconds), or None while throttled.

        ``force`` publishes regardless (the first, "waiting" state).
        """
        if self._started_at is None:
            self._started_at = now
        self._elapsed = now - self._started_at if self.started else None
        published = self._published_at
        chars = self._chars["reasoning"] + self._chars["content"]
        grown = chars - self._chars_at_publish
        throttled = not force and published is not None
        if throttled and (now - (published or 0.0) < self.interval or not grown):
            return None  # too soon, or nothing new
        bundle = self.live_bundle()
        size = bundle_size(bundle)
        if throttled and size > self.BYTES_PER_CHAR * grown + self.FLOOR_BYTES:
            return None  # not enough new text yet for an update this size
        self._published_at = now
        self._chars_at_publish = chars
        self.updates += 1
        self.bytes_published += size
        return bundle

    def partial_bundle(self, message: str) -> dict[str, str]:
        """The stream failed: what arrived (in full, redacted), then the error ``message``."""
        partial = ""
        if self.started:
            partial = stream_html(
                self.redact(self.text("reasoning")),
                self.redact(self.text("content")),
                reasoning_mode=self.reasoning_mode,
                model=self.model,
                done=True,
                summary=self.summary,
            )
        message = self.redact(message)
        return {"text/html": partial + error_html(message), "text/plain": error_text(message)}

    def final_bundle(self, completion: Completion) -> dict[str, str]:
        """The finished answer (:func:`completion_bundle`), redacted."""
        bundle = completion_bundle(self.redacted(completion), reasoning=self.reasoning_mode)
        return {k: self.redact(v) for k, v in bundle.items()} if self.redacting else bundle

    def redacted(self, completion: Completion) -> Completion:
        """``completion`` with the secrets replaced in its answer and reasoning (for display;
        the Completion a caller keeps is unchanged)."""
        if not self.redacting:
            return completion

        def redacted(value: str | None) -> str | None:
            return None if value is None else self.redact(value)

        return dataclasses.replace(
            completion,
            content=self.redact(completion.content),
            reasoning=redacted(completion.reasoning),
            reasoning_summary=redacted(completion.reasoning_summary),
        )

    # -- terminals ---------------------------------------------------------------------------
    def terminal(self, kind: str, text: str) -> list[tuple[str, str]]:
        """What a terminal prints for one streamed piece (which :meth:`add` records too):
        ``(kind, text)`` pairs, ``kind`` being "reasoning", "content" or "switch" (the
        reasoning ended and the answer starts). The text is safe for a terminal
        (:func:`terminal_text`) and redacted; the start of a secret or of an escape sequence
        is held back until the next piece shows what it is."""
        self.add(kind, text)
        key = "reasoning" if kind == "reasoning" else "content"
        out: list[tuple[str, str]] = []
        if key == "content" and self._printed == "reasoning":
            out.extend(self._release("reasoning"))
            out.append(("switch", ""))
        self._printed = key
        pending = self._held[key] + text
        cut = self._hold_from(pending)
        self._held[key] = pending[cut:]
        shown = self.redact(terminal_text(pending[:cut]))
        if shown:
            out.append((key, shown))
        return out

    def terminal_end(self) -> list[tuple[str, str]]:
        """The stream ended: whatever was held back."""
        return [*self._release("reasoning"), *self._release("content")]

    def _release(self, key: str) -> list[tuple[str, str]]:
        held, self._held[key] = self._held[key], ""
        shown = self.redact(terminal_text(held))
        return [(key, shown)] if shown else []

    def _hold_from(self, text: str) -> int:
        """Where the text that may still change meaning starts (``len(text)``: none)."""
        cut = len(text)
        done_until = 0
        for introducer in INTRODUCER.finditer(text, max(0, len(text) - HOLD_LIMIT)):
            if introducer.start() < done_until:
                continue  # inside a sequence already complete
            sequence = ESCAPE_SEQUENCE.match(text, introducer.start())
            if sequence is None:
                cut = introducer.start()  # an escape sequence not finished yet
                break
            done_until = sequence.end()
        cut = min(cut, secret_start(text, self.secrets))
        if self.redactors:  # a key they know may be the word still arriving
            word = _LAST_WORD.search(text, max(0, len(text) - HOLD_LIMIT))
            if word is not None:
                cut = min(cut, word.start())
        return cut
