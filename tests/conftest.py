"""Shared fixtures and helpers. Isolation (offline, keyless, a GROKBOOK_HOME per test) is the
``_isolated`` fixture of the repository's conftest.py, which the doctests share."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

#: A distinctive fake key: tests assert its bytes never show up anywhere.
FAKE_KEY = "xai-FAKEKEY-d0n0tl3ak-7f3a9c"


@pytest.fixture
def grok_shell() -> Iterator[tuple[Any, Any, Any]]:
    """A real InteractiveShell with ``%load_ext grokbook`` and a display publisher that keeps
    every output: yields ``(shell, magics, publisher)``; the rich display path is forced."""
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    from grokbook.magic import GrokMagics

    shell = InteractiveShell.instance()
    old_pub = shell.display_pub
    pub = CapturingDisplayPublisher()
    shell.display_pub = pub
    shell.run_line_magic("load_ext", "grokbook")
    magics = shell.magics_manager.registry["GrokMagics"]
    assert isinstance(magics, GrokMagics)
    magics.frontend = "rich"
    try:
        yield shell, magics, pub
    finally:
        shell.run_line_magic("unload_ext", "grokbook")
        shell.config.pop("GrokMagics", None)  # %config writes into the shell's config
        shell.display_pub = old_pub
        shell.user_ns.pop("r", None)


def chat_body(
    content: str = "303",
    reasoning: str | None = "101 * 3 = 303",
    model: str = "grok-3-mini-beta",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A non-streamed xAI chat.completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "id": "resp-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage
        if usage is not None
        else {
            "prompt_tokens": 12,
            "completion_tokens": 4,
            "total_tokens": 326,
            "prompt_tokens_details": {"cached_tokens": 2},
            "completion_tokens_details": {"reasoning_tokens": 310},
        },
        "system_fingerprint": "fp_test",
    }


def sse(chunks: list[dict[str, Any]], done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    if done:
        text += "data: [DONE]\n\n"
    return text.encode()


def stream_chunks(
    reasoning: list[str] = ["101 * 3", " = 303"],  # noqa: B006 - read only
    content: list[str] = ["The answer", " is 303."],  # noqa: B006
    model: str = "grok-3-mini-beta",
    usage: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """xAI-shaped stream chunks: reasoning deltas, content deltas, finish, usage."""
    base = {"id": "resp-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": r}}]}
        for r in reasoning
    ]
    chunks += [{**base, "choices": [{"index": 0, "delta": {"content": c}}]} for c in content]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append(
        {
            **base,
            "choices": [],
            "usage": usage
            or {
                "prompt_tokens": 12,
                "completion_tokens": 5,
                "total_tokens": 327,
                "completion_tokens_details": {"reasoning_tokens": 310},
            },
        }
    )
    return chunks


Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and replays scripted responses."""

    def __init__(self, *responses: httpx.Response | Exception | Handler) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        if callable(item) and not isinstance(item, httpx.Response):
            return item(request)
        return item

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]
