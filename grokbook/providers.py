"""Provider profiles: where Grok is served and how each one differs on the wire.

A profile is data plus two small functions (build the request body, read usage back), not a
class hierarchy:

============  ==================================  ==================  ===============
provider      base URL                            key env var         wires
============  ==================================  ==================  ===============
xai           https://api.x.ai/v1                 XAI_API_KEY         responses, chat
aimlapi       https://api.aimlapi.com/v1          AIMLAPI_KEY         chat
openrouter    https://openrouter.ai/api/v1        OPENROUTER_API_KEY  chat
openai        any OpenAI-compatible ``base_url``  OPENAI_API_KEY      chat, responses
sim           in-process offline simulator        (none)              responses, chat
============  ==================================  ==================  ===============

The first wire listed is the default. Effort goes as ``reasoning: {"effort": ...}`` on
Responses; on Chat Completions as ``reasoning_effort`` (xai, openai, sim) or
``reasoning: {"effort": ...}`` (aimlapi, openrouter).

Selection (:func:`select`): the ``provider=`` argument, else the provider of the last
``%grok login`` in this process (:func:`login`), else ``GROKBOOK_PROVIDER``, else ``xai`` when
``XAI_API_KEY`` is set, else ``sim`` with a one-line notice (:class:`~grokbook.errors.
SimulatorNotice`, once per process). ``GROKBOOK_BASE_URL`` overrides the provider's base URL.

Session keys: :func:`login` keeps a key in memory for every client this process creates
afterwards (``gb.Client()``, sweeps, conversations, widgets, ``%%grok``); nothing is written
anywhere. :func:`logout` forgets it, also in the clients that were using it.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import catalog
from .errors import SimulatorNotice, UnsupportedParameterError
from .result import Usage, plausible_count

__all__ = [
    "PROVIDERS",
    "HiddenKey",
    "Provider",
    "get_provider",
    "hidden_key",
    "logged_in",
    "login",
    "logout",
    "normalize_usage",
    "select",
]

Wire = Literal["responses", "chat"]
BodyBuilder = Callable[["Provider", dict[str, Any], str | None], dict[str, Any]]
UsageReader = Callable[["Provider", Mapping[str, Any] | None], Usage]


@dataclass(frozen=True)
class Provider:
    """One provider profile."""

    name: str
    base_url: str | None
    key_env: str | None
    console_url: str
    #: Whether a call without any key is refused before sending.
    needs_key: bool
    #: Prefix added to catalog ids on the wire ("x-ai/" for resellers).
    model_prefix: str
    #: Where reasoning text sits in ``message`` / ``delta``, in order of preference.
    reasoning_fields: tuple[str, ...]
    #: Whether this provider's Chat Completions ``completion_tokens`` include the reasoning,
    #: for when the arithmetic cannot tell (Responses ``output_tokens`` always do).
    completion_includes_reasoning: bool
    #: Which body field caps the visible answer.
    max_tokens_field: str
    build_body: BodyBuilder
    read_usage: UsageReader
    label: str = ""
    #: Catalog id -> this provider's own id, where it is not ``model_prefix + id``.
    model_ids: Mapping[str, str] = field(default_factory=dict)
    #: The wire protocols it speaks, the default first ("responses" | "chat").
    wires: tuple[Wire, ...] = ("chat",)

    @property
    def default_wire(self) -> Wire:
        return self.wires[0]

    def wire_model(self, model: str) -> str:
        """The model id as this provider spells it."""
        if self.model_ids:
            canonical = catalog.resolve(model)
            if canonical is not None and canonical in self.model_ids:
                return self.model_ids[canonical]
        if self.model_prefix and "/" not in model:
            return self.model_prefix + model
        return model

    def __repr__(self) -> str:
        return f"Provider({self.name!r}, base_url={self.base_url!r})"


def _effort_top_level(_: Provider, body: dict[str, Any], effort: str | None) -> dict[str, Any]:
    if effort is not None:
        body["reasoning_effort"] = effort
    return body


def _effort_nested(_: Provider, body: dict[str, Any], effort: str | None) -> dict[str, Any]:
    if effort is not None:
        body["reasoning"] = {"effort": effort}
    return body


def _count(raw: Mapping[str, Any], name: str) -> int | None:
    return plausible_count(raw.get(name), f"usage.{name}")


def _detail(raw: Mapping[str, Any], group: str, name: str) -> int | None:
    details = raw.get(group)
    if not isinstance(details, Mapping):
        return None
    return plausible_count(details.get(name), f"usage.{group}.{name}")


def normalize_usage(raw: Mapping[str, Any] | None, *, includes_reasoning: bool) -> Usage:
    """Normalize a provider's ``usage`` object (either wire) to grokbook's meaning
    (``completion_tokens`` the visible answer, ``output_tokens = completion + reasoning``).

    Chat Completions name the counts ``prompt_tokens`` / ``completion_tokens`` (details in
    ``prompt_tokens_details`` / ``completion_tokens_details``); Responses name them
    ``input_tokens`` / ``output_tokens`` (``input_tokens_details`` / ``output_tokens_details``).
    The arithmetic is checked against ``total_tokens`` before trusting a convention:
    ``total == prompt + answer count`` means the answer count includes the reasoning (xAI's
    and OpenAI's Responses API, OpenRouter, AI/ML API); ``total == prompt + answer count +
    reasoning`` means it excludes it (xAI's Chat Completions, and the 2025 Responses example
    in xAI's OpenAPI file, read as such when its total says so). When the total does not decide
    (no reasoning, or no total), the wire's convention does: Responses includes the
    reasoning (every real xAI Responses body in tests/real), and on Chat Completions
    ``includes_reasoning`` (the provider's documented convention there) decides.

    >>> u = normalize_usage({"input_tokens": 197, "output_tokens": 111, "total_tokens": 308,
    ...     "output_tokens_details": {"reasoning_tokens": 110}}, includes_reasoning=False)
    >>> u.completion_tokens, u.reasoning_tokens, u.output_tokens, u.convention
    (1, 110, 111, 'reasoning-included')
    >>> u = normalize_usage({"prompt_tokens": 197, "completion_tokens": 1, "total_tokens": 344,
    ...     "completion_tokens_details": {"reasoning_tokens": 146}}, includes_reasoning=False)
    >>> u.completion_tokens, u.reasoning_tokens, u.output_tokens, u.convention
    (1, 146, 147, 'reasoning-excluded')
    """
    if not isinstance(raw, Mapping):
        return Usage()
    responses = "input_tokens" in raw or "output_tokens" in raw
    if responses:
        prompt = _count(raw, "input_tokens")
        completion = _count(raw, "output_tokens")
        cached = _detail(raw, "input_tokens_details", "cached_tokens")
        reasoning = _detail(raw, "output_tokens_details", "reasoning_tokens")
    else:
        prompt = _count(raw, "prompt_tokens")
        completion = _count(raw, "completion_tokens")
        cached = _detail(raw, "prompt_tokens_details", "cached_tokens")
        reasoning = _detail(raw, "completion_tokens_details", "reasoning_tokens")
    total = _count(raw, "total_tokens")
    if reasoning is None:
        # Some providers put it at the top level.
        reasoning = _count(raw, "reasoning_tokens")

    fallback = "reasoning-included" if responses or includes_reasoning else "reasoning-excluded"
    convention = "unknown"
    visible = completion
    if completion is not None and reasoning:
        excluded_total = (prompt or 0) + completion + reasoning
        included_total = (prompt or 0) + completion
        if total is not None and prompt is not None and total == excluded_total:
            convention = "reasoning-excluded"
        elif reasoning > completion:
            # Completion cannot include more reasoning than it counts.
            convention = "reasoning-excluded"
        elif total is not None and prompt is not None and total == included_total:
            convention = "reasoning-included"
        else:
            convention = fallback
        if convention == "reasoning-included":
            visible = completion - reasoning
    elif completion is not None:
        convention = fallback

    output = None if visible is None else visible + (reasoning or 0)
    normalized_total = prompt + output if prompt is not None and output is not None else total
    return Usage(
        prompt_tokens=prompt,
        cached_prompt_tokens=cached,
        reasoning_tokens=reasoning,
        completion_tokens=visible,
        output_tokens=output,
        total_tokens=normalized_total,
        convention=convention,
        num_sources_used=_count(raw, "num_sources_used"),
        num_server_side_tools_used=_count(raw, "num_server_side_tools_used"),
        server_side_tool_calls=_tool_calls(raw.get("server_side_tool_usage_details")),
        context_details=_context_details(raw.get("context_details")),
    )


def _tool_calls(details: Any) -> dict[str, int]:
    """``server_side_tool_usage_details`` as ``{"web_search": 2}``: non-zero billed counts,
    keyed by xAI's names without ``_calls``."""
    if not isinstance(details, Mapping):
        return {}
    calls: dict[str, int] = {}
    for key, value in details.items():
        if not isinstance(key, str):
            continue
        count = plausible_count(value, f"usage.server_side_tool_usage_details.{key}")
        if count:
            calls[key.removesuffix("_calls")] = count
    return calls


def _context_details(details: Any) -> dict[str, int] | None:
    if not isinstance(details, Mapping):
        return None
    return {
        key: count
        for key, value in details.items()
        if isinstance(key, str)
        and (count := plausible_count(value, f"usage.context_details.{key}")) is not None
    }


def _read_usage(profile: Provider, raw: Mapping[str, Any] | None) -> Usage:
    return normalize_usage(raw, includes_reasoning=profile.completion_includes_reasoning)


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider(
            name="xai",
            label="xAI",
            base_url="https://api.x.ai/v1",
            key_env="XAI_API_KEY",
            console_url="https://console.x.ai",
            needs_key=True,
            model_prefix="",
            reasoning_fields=("reasoning_content", "reasoning"),
            completion_includes_reasoning=False,
            max_tokens_field="max_completion_tokens",
            build_body=_effort_top_level,
            read_usage=_read_usage,
            wires=("responses", "chat"),
        ),
        Provider(
            name="aimlapi",
            label="AI/ML API",
            base_url="https://api.aimlapi.com/v1",
            key_env="AIMLAPI_KEY",
            console_url="https://aimlapi.com/app/keys",
            needs_key=True,
            model_prefix="x-ai/",
            reasoning_fields=("reasoning_content", "reasoning"),
            completion_includes_reasoning=True,
            max_tokens_field="max_completion_tokens",
            build_body=_effort_nested,
            read_usage=_read_usage,
            # AI/ML API's own id for Grok 4 (its published spec: tests/specs/aimlapi/grok-4.json).
            model_ids={"grok-4-0709": "x-ai/grok-4-07-09"},
        ),
        Provider(
            name="openrouter",
            label="OpenRouter",
            base_url="https://openrouter.ai/api/v1",
            key_env="OPENROUTER_API_KEY",
            console_url="https://openrouter.ai/keys",
            needs_key=True,
            model_prefix="x-ai/",
            reasoning_fields=("reasoning", "reasoning_content"),
            completion_includes_reasoning=True,
            max_tokens_field="max_tokens",
            build_body=_effort_nested,
            read_usage=_read_usage,
        ),
        Provider(
            name="openai",
            label="OpenAI-compatible",
            base_url=None,
            key_env="OPENAI_API_KEY",
            console_url="your server's documentation",
            needs_key=False,
            model_prefix="",
            reasoning_fields=("reasoning_content", "reasoning"),
            completion_includes_reasoning=True,
            max_tokens_field="max_tokens",
            build_body=_effort_top_level,
            read_usage=_read_usage,
            wires=("chat", "responses"),
        ),
        Provider(
            name="sim",
            label="offline simulator",
            base_url="http://sim.grokbook.invalid/v1",
            key_env=None,
            console_url="",
            needs_key=False,
            model_prefix="",
            reasoning_fields=("reasoning_content",),
            completion_includes_reasoning=False,
            max_tokens_field="max_completion_tokens",
            build_body=_effort_top_level,
            read_usage=_read_usage,
            wires=("responses", "chat"),
        ),
    )
}

_notice_shown = False


class HiddenKey(str):
    """An API key's text: a ``str`` (the redaction functions take it as it is) whose ``repr``,
    ``str`` and f-string spelling are ``<api key: redacted>``, so a local holding it shows
    redacted in a verbose traceback (``%xmode verbose``), a log line or a message. Only
    :meth:`reveal` gives the text, for the Authorization header."""

    __slots__ = ()

    def __new__(cls, value: str) -> HiddenKey:
        if isinstance(value, HiddenKey):
            return value
        # str.__str__: the text itself, whatever str subclass holds it (str() would call a
        # subclass's __str__, ours included).
        return super().__new__(cls, str.__str__(value))

    def reveal(self) -> str:
        return str.__str__(self)  # a plain str copy of the text

    def __reduce__(self) -> tuple[type[HiddenKey], tuple[str]]:
        return (HiddenKey, (self.reveal(),))  # (pickle protocols 0 and 1 would call __str__)

    def __repr__(self) -> str:
        return "<api key: redacted>"

    __str__ = __repr__


def hidden_key(key: str | None) -> str | None:
    """``key`` as a :class:`HiddenKey` (None stays None): what every frame that takes an API
    key turns it into first, before anything can raise."""
    # Not a str: left as it is, for _clean_key to refuse with its message.
    return HiddenKey(key) if isinstance(key, str) else key


class _Secret:
    """An API key, kept out of reprs, tracebacks' locals and logs (only :meth:`reveal`).

    A key given to :func:`login` is one object shared by every client made with it, so
    :func:`logout` (:meth:`forget`) takes it from all of them at once.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = HiddenKey(value)

    def reveal(self) -> str:
        return self._value.reveal()

    def hidden(self) -> HiddenKey:
        """The text as a :class:`HiddenKey` (for redaction: shows redacted as a local)."""
        return self._value

    def forget(self) -> None:
        self._value = HiddenKey("")

    def __reduce__(self) -> tuple[type[_Secret], tuple[str]]:
        # A client sent to a worker process: the worker gets its own holder of the same key.
        return (_Secret, (self.reveal(),))

    def __repr__(self) -> str:
        return "<api key: redacted>"

    __str__ = __repr__

    def replace(self, value: str) -> None:
        self._value = HiddenKey(value)


def _clean_key(key: str, where: str) -> HiddenKey:
    """A pasted key without surrounding white space; refused (never echoed) when unusable
    (``where`` names where it came from: "api_key", "XAI_API_KEY", "%grok login")."""
    if not isinstance(key, str):
        raise UnsupportedParameterError(f"api_key must be a string, not {type(key).__name__}.")
    cleaned = HiddenKey(key.strip())
    if not cleaned.isascii() or not cleaned.isprintable():
        raise UnsupportedParameterError(
            f"The API key from {where} holds a character an HTTP header cannot carry (non-ASCII "
            "or a control character, often from copying it out of a document). Copy it again "
            "from the provider's console."
        )
    return cleaned


#: Keys given to :func:`login`, by provider, newest last: in memory only, never written.
_session_keys: dict[str, _Secret] = {}


def login(provider: str, key: str) -> None:
    """Use ``key`` for ``provider`` in every client this process creates from now on (what
    ``%grok login`` does); ``provider`` also becomes the default provider. Memory only."""
    key = HiddenKey(key) if isinstance(key, str) else key  # first: shown redacted as a local
    profile = get_provider(provider)
    key = _clean_key(key, "%grok login")
    if not key:
        raise UnsupportedParameterError("login needs a non-empty key.")
    secret = _session_keys.pop(profile.name, None)
    if secret is None:
        secret = _Secret(key)
    else:  # a new key for the same provider: the clients made with the old one use it too
        secret.replace(key)
    _session_keys[profile.name] = secret  # the newest login last


def logout(provider: str | None = None) -> list[str]:
    """Forget the key(s) given to :func:`login` (all when ``provider`` is None), also in the
    clients made with them; returns the providers forgotten."""
    names = [get_provider(provider).name] if provider else list(_session_keys)
    forgotten = []
    for name in names:
        secret = _session_keys.pop(name, None)
        if secret is not None:
            secret.forget()
            forgotten.append(name)
    return forgotten


def logged_in() -> str | None:
    """The provider of the last :func:`login` still in force, or None."""
    return next(reversed(_session_keys), None)


def session_key(provider: str) -> _Secret | None:
    """The key :func:`login` holds for ``provider`` (shared, so :func:`logout` reaches it)."""
    return _session_keys.get(provider)


def session_secrets() -> tuple[str, ...]:
    """The keys :func:`login` holds (to redact them from displays)."""
    return tuple(s.hidden() for s in _session_keys.values() if s.reveal())


def get_provider(name: str) -> Provider:
    """The profile called ``name``; a clear error listing the choices otherwise."""
    try:
        return PROVIDERS[name.lower()]
    except KeyError:
        choices = ", ".join(PROVIDERS)
        raise UnsupportedParameterError(
            f"Unknown provider {name!r}. Choose one of: {choices}."
        ) from None


def select(
    provider: str | None = None, env: Mapping[str, str] | None = None, *, notice: bool = True
) -> Provider:
    """Pick the provider: ``provider``, else the last :func:`login`'s, else
    ``GROKBOOK_PROVIDER``, else ``xai`` when ``XAI_API_KEY`` is set, else ``sim`` (with a
    one-line notice unless ``notice=False``)."""
    environ = os.environ if env is None else env
    name = provider or logged_in() or environ.get("GROKBOOK_PROVIDER") or None
    if name:
        return get_provider(name)
    if environ.get("XAI_API_KEY"):
        return PROVIDERS["xai"]
    if notice:
        _sim_notice()
    return PROVIDERS["sim"]


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (checked without importing IPython)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def notify(message: str) -> None:
    """Say ``message`` as one calm line: a :class:`~grokbook.errors.SimulatorNotice` (so
    ``warnings.filterwarnings("ignore", category=SimulatorNotice)`` silences it), printed to
    stdout in a notebook (stderr is painted like an error there) and to stderr elsewhere."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn(message, SimulatorNotice, stacklevel=3)
    if caught:
        print(message, file=sys.stdout if in_kernel() else sys.stderr, flush=True)


def _sim_notice() -> None:
    global _notice_shown
    if not _notice_shown:
        _notice_shown = True
        message = (
            "grokbook: no XAI_API_KEY set; using the offline simulator (answers are simulated)."
        )
        if in_kernel():
            message += " To use xAI: %load_ext grokbook, then %grok login."
        notify(message)


#: What a client chosen for want of a key says, once, when it is used after a login.
BEFORE_LOGIN_NOTICE = (
    "grokbook: this {kind} was created before %grok login and still runs on the offline "
    "simulator (simulated answers); create it again (e.g. re-run the cell that made it) to use "
    "{label}."
)
