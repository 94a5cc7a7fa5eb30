"""Conversations: ask, follow up, branch, see what every turn cost, resume after a restart.

>>> import grokbook as gb
>>> chat = gb.Conversation(client=gb.Client(provider="sim"), reasoning_effort="low")
>>> chat.ask("What is 101*3?").content
'101 * 3 = 303'
>>> chat.ask("now double it").content
'303 * 2 = 606'
>>> [round(turn.cumulative_cost_usd, 8) > 0 for turn in chat.turns]
[True, True]
>>> again = gb.Conversation.resume(chat.id, client=gb.Client(provider="sim"))
>>> len(again.turns), again.ask("now double it").content
(2, '606 * 2 = 1212')

How the history reaches the model, by wire:

* Responses, ``store=True`` (the default; xAI keeps responses 30 days): a follow-up sends only
  the new question with ``previous_response_id`` of the last answer.
* Responses, ``store=False``: nothing is kept on the server; every turn resends the history as
  ``input`` items, each answer's reasoning items passed back unchanged with their
  ``encrypted_content`` so the model keeps its reasoning across turns.
* Chat Completions: every turn resends the messages.

Resending history is billed: each turn's ``prompt_tokens`` include what was resent (cached
tokens are billed at the cached rate), and :meth:`Conversation.usage_frame` shows per-turn and
cumulative cost. Every turn is saved to the run log's ``conversations`` table, so
:meth:`Conversation.resume` continues a conversation in a new process by its id. When a stored
response is gone (xAI keeps them 30 days; a new simulator has none), :meth:`ask` resends the
saved history once instead, reasoning items included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Unpack

from ._core import CallOptions
from .errors import NotFoundError, UnsupportedParameterError
from .result import Completion, StreamEvent

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .client import AsyncClient, Client

__all__ = ["Conversation", "Turn"]


@dataclass(frozen=True)
class Turn:
    """One question and its answer, with the conversation's cost up to and including it."""

    index: int
    prompt: str
    completion: Completion
    cumulative_cost_usd: float


class Conversation:
    """A multi-turn conversation with one model (see the module docstring).

    ``client`` is a :class:`~grokbook.Client` (use :meth:`ask` / :meth:`stream`) or an
    :class:`~grokbook.AsyncClient` (use :meth:`aask` / :meth:`astream`); default: a new
    ``Client()``. ``store`` applies to the Responses wire only.
    """

    def __init__(
        self,
        client: Client | AsyncClient | None = None,
        model: str | None = None,
        reasoning_effort: str | None = None,
        store: bool = True,
        *,
        system: str | None = None,
        wire: str | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        if client is None:
            from .client import Client

            client = Client()
        if not isinstance(store, bool):
            raise UnsupportedParameterError(f"store must be True or False; got {store!r}.")
        self.client = client
        self.model = model
        self.reasoning_effort = reasoning_effort
        self.store = store
        self.system = system
        self.wire = wire or client.wire
        if self.wire not in client.provider.wires:
            raise UnsupportedParameterError(
                f"Provider {client.provider.name!r} does not speak wire={self.wire!r}."
            )
        self.name = name
        #: The id the run log keeps this conversation under (``Conversation.resume(id)``).
        self.id = id or f"conv-{uuid.uuid4().hex[:16]}"
        self.turns: list[Turn] = []

    # -- what each turn sends -------------------------------------------------------------
    def prepare(
        self, prompt: str, options: dict[str, Any], *, resend: bool = False
    ) -> tuple[Any, dict[str, Any]]:
        """(prompt or messages, call options) for the next turn on this conversation's wire:
        pass them to ``client.chat`` / ``client.stream`` and the Completion to :meth:`add_turn`
        (what :meth:`ask` does; the ``%%grok --chat`` magic uses the two steps).

        ``options`` set to None are left out (the conversation's own model and effort apply);
        a ``system`` option is ignored: the system prompt is the one the conversation was made
        with, sent on the first turn (and with every resent history). ``resend``: send the
        whole history even where ``previous_response_id`` would do (the stored response
        expired: xAI keeps them 30 days, a restarted simulator none).
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise UnsupportedParameterError("Ask with a non-empty question string.")
        given = {k: v for k, v in options.items() if v is not None and k != "system"}
        call: dict[str, Any] = {
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
            "wire": self.wire,
            **given,
        }
        call["tags"] = {
            "source": "conversation",
            **(options.get("tags") or {}),
            "conversation_id": self.id,
            "turn": self._next_index(),
        }
        last = self.turns[-1].completion if self.turns else None
        if self.wire == "responses":
            call["store"] = self.store
            if self.store and last is not None and last.id and not resend:
                call["previous_response_id"] = last.id
                return prompt, call  # the server holds the history (and the system prompt)
            if not self.store:
                call["include_encrypted_reasoning"] = True
        call["system"] = self.system
        history: list[dict[str, Any]] = []
        for turn in self.turns:
            history.append({"role": "user", "content": turn.prompt})
            if self.wire == "responses":
                history.extend(turn.completion.reasoning_items)
            history.append({"role": "assistant", "content": turn.completion.content})
        history.append({"role": "user", "content": prompt})
        # The run log keeps the new question only: the history is this conversation's turns
        # (one copy of each message, not one per turn).
        call["tags"]["new_messages"] = 1
        return history, call

    def add_turn(self, prompt: str, completion: Completion) -> Completion:
        """Keep a finished turn (and save it to the run log).

        The turn's Completion keeps its own question only (``messages``), not the history
        it was sent with: the history is the turns before it, so each message is held once
        and a long conversation grows linearly in memory and in the run log.
        """
        completion = completion.replace(messages=({"role": "user", "content": prompt},))
        before = self.turns[-1].cumulative_cost_usd if self.turns else 0.0
        cost = before + (completion.cost_usd or 0.0)
        turn = Turn(self._next_index(), prompt, completion, cost)
        self.turns.append(turn)
        self._save(turn)
        return completion

    def _next_index(self) -> int:
        """The next turn's number: one past the last (a resumed conversation may have gaps
        where a turn could not be saved or read; numbers are never reused)."""
        return self.turns[-1].index + 1 if self.turns else 0

    def _save(self, turn: Turn) -> None:
        from .store import get_store

        try:
            store = get_store()
            if store is not None and not self._save_to(store, self.id, turn):
                self._continue_as_branch(store, turn)
        except Exception as exc:  # saving must never fail a conversation
            import logging

            logging.getLogger("grokbook").warning("grokbook: could not save the turn (%s)", exc)

    def _save_to(self, store: Any, conversation_id: str, turn: Turn) -> bool:
        saved: bool = store.save_turn(
            conversation_id,
            turn.index,
            self._settings(),
            turn.prompt,
            turn.completion,
            secrets=self.client._secrets(),
        )
        return saved

    def _continue_as_branch(self, store: Any, turn: Turn) -> None:
        """``turn``'s number is already saved under this id (another kernel continued the
        conversation meanwhile): nothing is overwritten; this conversation goes on under a
        new id, as a branch holding its turns so far."""
        import warnings

        from .store import StoreWarning

        old, self.id = self.id, f"conv-{uuid.uuid4().hex[:16]}"
        for kept in self.turns:
            self._save_to(store, self.id, kept)
        warnings.warn(
            f"grokbook: turn {turn.index} of conversation {old} was already saved by another "
            f"kernel or process; nothing was overwritten. This conversation goes on as the "
            f"branch {self.id} (Conversation.resume({self.id!r}); the other one stays "
            f"{old}).",
            StoreWarning,
            stacklevel=4,
        )

    def _settings(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
            "store": self.store,
            "system": self.system,
            "wire": self.wire,
            "name": self.name,
        }

    # -- asking ------------------------------------------------------------------------------
    def ask(self, prompt: str, **options: Unpack[CallOptions]) -> Completion:
        """Ask the next question (with a sync :class:`~grokbook.Client`) and keep the turn."""
        from .client import Client

        if not isinstance(self.client, Client):
            raise UnsupportedParameterError("This conversation has an AsyncClient: await .aask().")
        sent, call = self.prepare(prompt, dict(options))
        try:
            completion = self.client.chat(sent, **call)
        except NotFoundError:
            if "previous_response_id" not in call:
                raise
            sent, call = self.prepare(prompt, dict(options), resend=True)
            completion = self.client.chat(sent, **call)
        return self.add_turn(prompt, completion)

    async def aask(self, prompt: str, **options: Unpack[CallOptions]) -> Completion:
        """Ask the next question with an :class:`~grokbook.AsyncClient`."""
        from .client import AsyncClient

        if not isinstance(self.client, AsyncClient):
            raise UnsupportedParameterError("This conversation has a sync Client: use .ask().")
        sent, call = self.prepare(prompt, dict(options))
        try:
            completion = await self.client.chat(sent, **call)
        except NotFoundError:
            if "previous_response_id" not in call:
                raise
            sent, call = self.prepare(prompt, dict(options), resend=True)
            completion = await self.client.chat(sent, **call)
        return self.add_turn(prompt, completion)

    def stream(self, prompt: str, **options: Unpack[CallOptions]) -> Iterator[StreamEvent]:
        """Stream the next answer; the turn is kept when the stream ends (sync client)."""
        from .client import Client

        if not isinstance(self.client, Client):
            raise UnsupportedParameterError("This conversation has an AsyncClient: use .astream().")
        sent, call = self.prepare(prompt, dict(options))
        stream = self.client.stream(sent, **call)
        with stream:
            yield from stream
        self.add_turn(prompt, stream.completion)

    async def astream(self, prompt: str, **options: Unpack[CallOptions]) -> Any:
        """Stream the next answer with an AsyncClient: ``async for event in chat.astream(q)``."""
        from .client import AsyncClient

        if not isinstance(self.client, AsyncClient):
            raise UnsupportedParameterError("This conversation has a sync Client: use .stream().")
        sent, call = self.prepare(prompt, dict(options))
        stream = self.client.stream(sent, **call)
        async with stream:
            async for event in stream:
                yield event
        self.add_turn(prompt, stream.completion)

    @property
    def last(self) -> Completion | None:
        """The last answer, or None before the first turn."""
        return self.turns[-1].completion if self.turns else None

    # -- branching, history, resuming ---------------------------------------------------------
    def branch(self, at: int | None = None) -> Conversation:
        """A new conversation sharing the first ``at`` turns (default: all), to try another
        follow-up without touching this one. On Responses with ``store=True`` it continues
        from the stored response of its last shared turn."""
        keep = len(self.turns) if at is None else at
        if not isinstance(keep, int) or not 0 <= keep <= len(self.turns):
            raise UnsupportedParameterError(f"at must be a turn count from 0 to {len(self.turns)}.")
        other = Conversation(
            self.client,
            self.model,
            self.reasoning_effort,
            self.store,
            system=self.system,
            wire=self.wire,
            name=self.name,
        )
        for turn in self.turns[:keep]:
            other.turns.append(turn)
            other._save(turn)
        return other

    def usage_frame(self) -> pd.DataFrame:
        """One row per turn: tokens, cost and the running total (resent history is billed)."""
        import pandas as pd

        rows = []
        for turn in self.turns:
            c = turn.completion
            rows.append(
                {
                    "turn": turn.index,
                    "prompt": turn.prompt,
                    "answer": c.content,
                    "model": c.model,
                    "reasoning_effort": c.reasoning_effort,
                    "prompt_tokens": c.usage.prompt_tokens,
                    "cached_prompt_tokens": c.usage.cached_prompt_tokens,
                    "reasoning_tokens": c.usage.reasoning_tokens,
                    "completion_tokens": c.usage.completion_tokens,
                    "cost_usd": c.cost_usd,
                    "cumulative_cost_usd": turn.cumulative_cost_usd,
                    "response_id": c.id,
                }
            )
        frame = pd.DataFrame.from_records(
            rows,
            columns=[
                "turn",
                "prompt",
                "answer",
                "model",
                "reasoning_effort",
                "prompt_tokens",
                "cached_prompt_tokens",
                "reasoning_tokens",
                "completion_tokens",
                "cost_usd",
                "cumulative_cost_usd",
                "response_id",
            ],
        )
        for name in (
            "prompt_tokens",
            "cached_prompt_tokens",
            "reasoning_tokens",
            "completion_tokens",
        ):
            frame[name] = frame[name].astype("Int64")
        return frame.set_index("turn")

    @classmethod
    def resume(cls, id: str, client: Client | AsyncClient | None = None) -> Conversation:
        """The conversation saved under ``id`` in the run log, ready for the next turn."""
        from .store import get_store

        store = get_store()
        saved = store.load_turns(id) if store is not None else []
        if not saved:
            where = "no run log" if store is None else str(store.path)
            raise UnsupportedParameterError(
                f"No conversation {id!r} in the run log ({where}). "
                "Conversation.saved() lists the saved ones."
            )
        settings = saved[0][0]
        conversation = cls(
            client,
            settings.get("model"),
            settings.get("reasoning_effort"),
            bool(settings.get("store", True)),
            system=settings.get("system"),
            wire=settings.get("wire"),
            name=settings.get("name"),
            id=id,
        )
        total = 0.0
        for _settings, index, prompt, completion in saved:
            total += completion.cost_usd or 0.0
            conversation.turns.append(Turn(index, prompt, completion, total))
        return conversation

    @staticmethod
    def saved() -> list[tuple[str, int, str]]:
        """(id, turns, last saved) of every conversation in the run log, newest first."""
        from .store import get_store

        store = get_store()
        return store.conversation_ids() if store is not None else []

    def __repr__(self) -> str:
        cost = self.turns[-1].cumulative_cost_usd if self.turns else 0.0
        return (
            f"Conversation(id={self.id!r}, wire={self.wire!r}, store={self.store}, "
            f"turns={len(self.turns)}, cost_usd={cost:.6f})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{t.index}</td><td>{escape(t.prompt)}</td>"
            f"<td>{escape(t.completion.content)}</td><td>{t.completion.usage.prompt_tokens}</td>"
            f"<td>{t.completion.usage.reasoning_tokens}</td>"
            f"<td>${(t.completion.cost_usd or 0):.6f}</td>"
            f"<td>${t.cumulative_cost_usd:.6f}</td></tr>"
            for t in self.turns
        )
        return (
            f"<div><b>Conversation</b> {escape(self.id)} ({escape(self.wire)}, "
            f"store={self.store})<table><tr><th>turn</th><th>prompt</th><th>answer</th>"
            "<th>prompt tok</th><th>reasoning tok</th><th>cost</th><th>cumulative</th></tr>"
            f"{rows}</table></div>"
        )
