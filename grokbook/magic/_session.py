"""What the ``%%grok`` and ``%grok`` handlers use of the magic: its settings, the session's
state and where output goes. :class:`grokbook.magic.GrokMagics` is one; the handlers are
typed against this, so they need not import the class that loads them on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from ..client import Client
    from ..conversation import Conversation
    from ..render import LiveAnswer
    from ..render._table import Table
    from ..result import Completion


class MagicSession(Protocol):
    """The magic, as its handlers see it."""

    # Settings (traits: %grok config and %config change them).
    default_model: str | None
    default_effort: str | None
    provider: str | None
    reasoning: str
    client_factory: Callable[[str, str | None], Client] | None

    # The session's state.
    shell: Any
    clients: dict[str, Client]
    provider_from_login: bool
    conversations: dict[str, Conversation]
    calls: list[Completion]
    failures: list[tuple[str, str]]

    @property
    def grok(self) -> Any:  # the magic itself: its .parser reads a %%grok line
        ...

    def now(self) -> float: ...

    def resolved_provider(self) -> str: ...

    def redact(self, text: str) -> str: ...

    def live_answer(
        self, model: str | None, reasoning_mode: str, *, wire: str | None = None
    ) -> LiveAnswer: ...

    # Output.
    def rich(self) -> bool: ...

    def display(
        self, bundle: Mapping[str, str], *, new: bool = False, handle: Any = None
    ) -> Any: ...

    def display_object(self, obj: Any) -> None: ...

    def show_error(self, message: str, *, exc: BaseException | None = None) -> None: ...

    def show_text(self, message: str) -> None: ...

    def show_table(self, table: Table) -> None: ...
