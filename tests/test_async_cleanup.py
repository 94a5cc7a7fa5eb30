"""An AsyncClient that is never closed cleans up after itself (issue 22 item 20).

``asyncio.run(client.chat(...))`` is the common notebook and script pattern, and nobody calls
``aclose()``. When the loop ends, or the client is dropped while its loop runs, its aiohttp
session and connector are closed on their loop: nothing is printed ("Unclosed client
session", "Unclosed connector", a ResourceWarning for a socket, "Exception ignored"), as with
httpx's own pool. Each scenario runs in a fresh interpreter against the loopback simulator
(real sockets, so the aiohttp transport is the one used), with ResourceWarnings shown, and its
standard error is read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from grokbook.sim import serve_in_background

pytestmark = pytest.mark.timeout(120)

_PRELUDE = """
import asyncio, gc, sys
import grokbook as gb
client = gb.AsyncClient(provider="xai", api_key="xai-test-key", base_url=sys.argv[1],
                        log=False, max_retries=0)
"""

#: name -> the script after the prelude (``client`` is an AsyncClient on the simulator)
SCENARIOS: dict[str, str] = {
    "asyncio.run(client.chat(...)), twice": """
        print(asyncio.run(client.chat("What is 101*3?")).content)
        print(asyncio.run(client.chat("What is 7*8?")).content)
    """,
    "asyncio.run of a stream read to its end": """
        async def main():
            async with client.stream("What is 101*3?") as stream:
                return await stream.until_done()
        print(asyncio.run(main()).content)
    """,
    "asyncio.run of a stream left half read": """
        async def main():
            stream = client.stream("Explain gravity in detail.")
            async for event in stream:
                return event.kind
        print(asyncio.run(main()))
    """,
    "the client dropped while its loop runs": """
        async def main():
            global client
            print((await client.chat("What is 101*3?")).content)
            client = None
            gc.collect()
            await asyncio.sleep(0.2)
            print("dropped")
        asyncio.run(main())
    """,
    "concurrent calls, then the loop ends": """
        async def main():
            answers = await asyncio.gather(*(client.chat(f"What is {n}*3?") for n in range(8)))
            print(len(answers))
        asyncio.run(main())
    """,
    "a loop that ends after a failed call": """
        bad = gb.AsyncClient(provider="xai", api_key="k-1234567", base_url=sys.argv[1],
                             log=False, max_retries=0)
        async def main():
            try:
                await bad.chat("Hi", model="grok-no-such-model")
            except gb.errors.APIError as exc:
                print(type(exc).__name__)
            print((await client.chat("What is 101*3?")).content)
        asyncio.run(main())
    """,
}

NOISE = ("Unclosed", "unclosed", "ResourceWarning", "Exception ignored", "Task was destroyed")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_client_never_closed_leaves_no_warning(name: str) -> None:
    script = _PRELUDE + textwrap.dedent(SCENARIOS[name]) + "print('finished')\n"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    with serve_in_background(latency="none") as server:
        done = subprocess.run(
            [sys.executable, "-W", "default::ResourceWarning", "-c", script, server.base_url],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("finished"), done.stdout
    for noise in NOISE:
        assert noise not in done.stderr, done.stderr
