"""The ``%%grok`` magic in a real InteractiveShell with display() replaced by a counting sink.

Shared by case 4 (updates per second) and case 7 (bytes published). The sink stands in for
``IPython.display.display`` (IPython's public name, which the magic looks up when it shows
something); the answer comes from an ``httpx.MockTransport`` through the magic's public
``client_factory`` trait.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from _common import KEY, MODEL


class Sink:
    """A display() stand-in: counts new outputs and in-place updates, keeps the last one."""

    def __init__(self) -> None:
        self.displays = 0
        self.updates = 0
        self.last: dict[str, str] = {}

    def display(self, obj: Any, raw: bool = False, display_id: Any = None) -> Handle:
        self.displays += 1
        self.last = obj
        return Handle(self)


class Handle:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def update(self, obj: Any, raw: bool = False) -> None:
        self.sink.updates += 1
        self.sink.last = obj


class ByteSink(Sink):
    """A display() stand-in that also counts the bytes each message carries."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def count(self, obj: Any) -> None:
        self.bytes += sum(len(str(v).encode()) for v in dict(obj).values())

    def display(self, obj: Any, raw: bool = False, display_id: Any = None) -> Handle:
        self.count(obj)
        super().display(obj, raw, display_id)
        return ByteHandle(self)


class ByteHandle(Handle):
    def update(self, obj: Any, raw: bool = False) -> None:
        assert isinstance(self.sink, ByteSink)
        self.sink.count(obj)
        super().update(obj, raw)


def sse_answer(tokens: int) -> list[bytes]:
    """A Chat Completions stream of ``tokens`` content chunks, then usage and [DONE]."""
    base = {"id": "bench", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    chunks = []
    for i in range(tokens):
        delta = {"content": f"w{i} " if i % 12 else f"\n\nword{i} "}
        chunks.append({**base, "choices": [{"index": 0, "delta": delta}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": tokens + 10}
    chunks.append({**base, "choices": [], "usage": usage})
    events = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks]
    return [*events, b"data: [DONE]\n\n"]


def stream_client(body: Callable[[], Iterator[bytes]]) -> Any:
    """A grokbook.Client (Chat wire, run log off) whose every call streams ``body()``."""
    import httpx

    from grokbook import Client

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    return Client(
        provider="xai",
        wire="chat",
        api_key=KEY,
        transport=httpx.MockTransport(handler),
        log=False,
        max_retries=0,
    )


class Magic:
    """The loaded ``%%grok`` magic (rich frontend) whose displays go to :attr:`sink`."""

    def __init__(self, shell: Any, magics: Any) -> None:
        self.shell = shell
        self.magics = magics
        self.sink: Sink = Sink()

    def use(self, sink: Sink, client_factory: Callable[[str, str | None], Any]) -> None:
        """Send displays to ``sink``; the next call builds its client with the factory."""
        self.sink = sink
        self.magics.close()  # drops the clients made so far: the factory makes the next one
        self.magics.client_factory = client_factory

    def cell(self, line: str, body: str) -> Any:
        """Run ``%%grok -o bench_r LINE`` on ``body``; the Completion it stored."""
        self.shell.run_cell_magic("grok", f"{line} -o bench_r", body)
        if "bench_r" not in self.shell.user_ns:
            raise RuntimeError(f"bench: the magic did not finish: {self.sink.last}")
        return self.shell.user_ns.pop("bench_r")


@contextlib.contextmanager
def grok_magic() -> Iterator[Magic]:
    """``%load_ext grokbook`` in the InteractiveShell, displays to a sink; unloads after."""
    import IPython.display
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "grokbook")
    magics = shell.magics_manager.registry["GrokMagics"]
    magics.frontend = "rich"
    magics.provider = "xai"  # the factory serves it; no "using the simulator" notice
    magic = Magic(shell, magics)
    original = IPython.display.display

    def display(obj: Any, raw: bool = False, display_id: Any = None, **_: Any) -> Any:
        return magic.sink.display(obj, raw, display_id)

    IPython.display.display = display
    try:
        yield magic
    finally:
        IPython.display.display = original
        shell.run_line_magic("unload_ext", "grokbook")
