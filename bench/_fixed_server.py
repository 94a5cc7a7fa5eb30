"""An independent loopback server for the benchmarks: a tiny aiohttp.web app, no grokbook.

Run as ``python bench/_fixed_server.py LATENCY_MS``: prints the base URL on one line, then
serves until its stdin closes. Every ``POST /v1/responses`` and ``POST /v1/chat/completions``
reads the request, waits ``LATENCY_MS`` (0: no waiting) and returns one fixed body: a real
grok-4.3 answer on that wire, recorded by vercel/ai (``bench/data/SOURCES.md``). Nothing here
comes from grokbook, so what grokbook's own simulator costs or shapes cannot flatter it; a
separate process keeps the server off the clients' GIL and out of their CPU time.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _serve import Server

DATA = Path(__file__).resolve().parent / "data"
BODIES = {
    "/v1/responses": DATA / "responses_grok-4.3.json",
    "/v1/chat/completions": DATA / "chat_grok-4.3.json",
}


async def _serve(latency_ms: float) -> None:
    from aiohttp import web

    delay = latency_ms / 1000.0
    app = web.Application()
    for path, file in BODIES.items():
        payload = file.read_bytes()

        async def answer(request: web.Request, payload: bytes = payload) -> web.Response:
            await request.read()
            if delay:
                await asyncio.sleep(delay)
            return web.Response(body=payload, content_type="application/json")

        app.router.add_post(path, answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


class FixedServer(Server):
    """``with FixedServer(200) as base_url: ...``: this app, answering after 200 ms."""

    SCRIPT = Path(__file__).resolve()


if __name__ == "__main__":
    asyncio.run(_serve(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0))
