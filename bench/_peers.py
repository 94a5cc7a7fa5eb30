"""The peers grokbook is measured against, and grokbook as users get it, as callables.

Sync: ``httpx.Client``, ``requests.Session`` and the openai SDK posting one request.
Async: a semaphore loop over ``httpx.AsyncClient`` (on httpcore or on aiohttp),
``openai.AsyncOpenAI`` (on httpx or aiohttp) and plain ``aiohttp.ClientSession``; and
``grokbook.sweep`` over the same calls. Every peer sends what grokbook sends for the same
call (the same path and JSON body, on either wire) and parses the JSON answer.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from typing import Any

from _common import KEY, MODEL
from _hooks import client_stack

#: The path under the base URL, per wire.
PATHS = {"chat": "/chat/completions", "responses": "/responses"}
HEADERS = {"Authorization": f"Bearer {KEY}"}


def body(prompt: str, wire: str = "chat", model: str = MODEL) -> dict[str, Any]:
    """The JSON grokbook sends for ``prompt`` at reasoning effort low on ``wire``."""
    message = [{"role": "user", "content": prompt}]
    if wire == "responses":
        return {"model": model, "input": message, "reasoning": {"effort": "low"}}
    return {"model": model, "messages": message, "reasoning_effort": "low"}


# -- sync: one call each -------------------------------------------------------------------------
def httpx_poster(
    base_url: str, wire: str = "chat", model: str = MODEL
) -> tuple[Callable[[str], None], Callable[[], None], str]:
    """(one call, close, stack) for a plain ``httpx.Client``."""
    import httpx
    from _common import stack

    plain = httpx.Client(timeout=60)
    url = base_url + PATHS[wire]

    def call(prompt: str) -> None:
        response = plain.post(url, json=body(prompt, wire, model), headers=HEADERS)
        response.raise_for_status()
        response.json()

    return call, plain.close, stack(plain)


def requests_poster(
    base_url: str, wire: str = "chat", model: str = MODEL
) -> tuple[Callable[[str], None], Callable[[], None], str] | None:
    """(one call, close, stack) for a ``requests.Session``; None when requests is missing."""
    if importlib.util.find_spec("requests") is None:
        return None
    import requests

    session = requests.Session()
    url = base_url + PATHS[wire]

    def call(prompt: str) -> None:
        response = session.post(url, json=body(prompt, wire, model), headers=HEADERS, timeout=60)
        response.raise_for_status()
        response.json()

    return call, session.close, "requests/urllib3"


# -- async: semaphore loops ----------------------------------------------------------------------
async def httpx_semaphore(
    base_url: str,
    calls: int,
    concurrency: int,
    prompt: str,
    aiohttp: bool = False,
    sized: bool = False,
    wire: str = "chat",
    model: str = MODEL,
) -> None:
    """httpx + a semaphore; ``sized``: its pool ``Limits`` sized to the concurrency."""
    import httpx

    semaphore = asyncio.Semaphore(concurrency)
    kwargs: dict[str, Any] = {}
    if sized:
        kwargs["limits"] = httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency
        )
    if aiohttp:
        from httpx_aiohttp import AiohttpTransport

        kwargs["transport"] = AiohttpTransport()
    async with httpx.AsyncClient(timeout=120 if sized else 60, **kwargs) as http:

        async def one(i: int) -> None:
            async with semaphore:
                response = await http.post(
                    base_url + PATHS[wire],
                    json=body(f"{prompt} #{i}", wire, model),
                    headers=HEADERS,
                )
                response.raise_for_status()
                response.json()

        await asyncio.gather(*(one(i) for i in range(calls)))


async def aiohttp_semaphore(
    base_url: str,
    calls: int,
    concurrency: int,
    prompt: str,
    sized: bool = False,
    wire: str = "chat",
    model: str = MODEL,
) -> None:
    """aiohttp + a semaphore; ``sized``: its pool sized to the concurrency (as a careful loop
    is; aiohttp's default caps at 100 connections)."""
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120 if sized else 60)
    connector = aiohttp.TCPConnector(limit=concurrency) if sized else None
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def one(i: int) -> None:
            async with (
                semaphore,
                session.post(
                    base_url + PATHS[wire],
                    json=body(f"{prompt} #{i}", wire, model),
                    headers=HEADERS,
                ) as response,
            ):
                response.raise_for_status()
                await response.json()

        await asyncio.gather(*(one(i) for i in range(calls)))


def openai_sdk(base_url: str, aiohttp: bool) -> Any:
    import openai

    kwargs: dict[str, Any] = {"http_client": openai.DefaultAioHttpClient()} if aiohttp else {}
    return openai.AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0, **kwargs)


async def openai_semaphore(
    base_url: str, calls: int, concurrency: int, prompt: str, aiohttp: bool = False
) -> None:
    semaphore = asyncio.Semaphore(concurrency)
    async with openai_sdk(base_url, aiohttp) as sdk:

        async def one(i: int) -> None:
            async with semaphore:
                await sdk.chat.completions.create(
                    model=MODEL,
                    messages=[{"role": "user", "content": f"{prompt} #{i}"}],
                    reasoning_effort="low",
                )

        await asyncio.gather(*(one(i) for i in range(calls)))


# -- grokbook ------------------------------------------------------------------------------------
def grokbook_async_client(base_url: str, httpcore: bool = False, wire: str = "chat") -> Any:
    import httpx

    import grokbook as gb

    # As shipped, the AsyncClient's network transport is aiohttp's pool (grokbook/_aiohttp.py);
    # `httpcore=True` measures the same sweep over httpx's own pool, for comparison.
    transport = httpx.AsyncHTTPTransport() if httpcore else None
    return gb.AsyncClient(
        provider="xai", wire=wire, api_key=KEY, base_url=base_url, transport=transport
    )


def grokbook_sweep(
    base_url: str,
    calls: int,
    concurrency: int,
    prompt: str,
    httpcore: bool = False,
    wire: str = "chat",
    model: str = MODEL,
) -> None:
    """``gb.sweep`` as users get it (run log and cache on): ``calls`` repeats of one prompt."""
    import grokbook as gb

    df = gb.sweep(
        prompt,
        models=[model],
        efforts=["low"],
        repeats=calls,
        concurrency=concurrency,
        client=grokbook_async_client(base_url, httpcore, wire),
        progress=False,
    )
    failed = int((df["status"] != "ok").sum())
    if len(df) != calls or failed:
        errors = df.loc[df["status"] != "ok", "error"].head(3).tolist()
        raise RuntimeError(f"bench: the sweep returned {len(df)} rows, {failed} failed: {errors}")


def async_stacks(base_url: str) -> dict[str, str]:
    """The stacks of the sweep's async clients, read from live objects inside a loop."""
    import httpx
    from _common import stack
    from httpx_aiohttp import AiohttpTransport

    async def probe() -> dict[str, str]:
        stacks: dict[str, str] = {}
        async with httpx.AsyncClient() as http:
            stacks["httpx"] = stack(http)
        async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
            stacks["httpx+aiohttp"] = stack(http)
        for aiohttp in (False, True):
            async with openai_sdk(base_url, aiohttp) as sdk:
                stacks[f"openai{'+aiohttp' if aiohttp else ''}"] = stack(sdk._client)
        for httpcore in (False, True):
            client = grokbook_async_client(base_url, httpcore)
            stacks[f"grokbook{'+httpcore' if httpcore else ''}"] = client_stack(client)
            await client.aclose()
        return stacks

    return asyncio.run(probe())
