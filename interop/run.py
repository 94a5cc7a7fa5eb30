"""``make interop``: clients nobody here wrote, against ``grokbook sim`` on loopback.

Starts ``grokbook sim`` (port 0, no latency), then asks "What is 101*3?" of grok-4.3 at high
effort through the openai SDK's ``responses.create`` (streamed and not) and through the AI
SDK's xAI provider (``@ai-sdk/xai`` from npm, run with node: ``xai.responses`` and
``xai.chat``, ``generateText`` and ``streamText``). Each must read the simulator's usage as it
reads xAI's: a non-negative count of answer tokens and ``total = input + output`` with
``output = answer + reasoning``. Prints a table; exits 1 when any client reads it wrong.

Usage: ``python interop/run.py BUILD_DIR`` (BUILD_DIR holds ai-sdk.mjs and its node_modules).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai

PROMPT = "What is 101*3?"
MODEL = "grok-4.3"


def start_sim() -> tuple[subprocess.Popen[str], str]:
    grokbook = shutil.which("grokbook", path=str(Path(sys.executable).parent))
    if grokbook is None:
        raise SystemExit("interop: the grokbook command is missing; run `make venv` first")
    sim = subprocess.Popen(
        [grokbook, "sim", "--port", "0", "--latency", "none"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None
    for line in sim.stdout:
        if "base URL:" in line:
            return sim, line.split("base URL:", 1)[1].strip()
    sim.kill()
    raise SystemExit("interop: grokbook sim did not start")


def openai_sdk(base_url: str) -> list[dict[str, Any]]:
    client = openai.OpenAI(base_url=base_url, api_key="sim", max_retries=0, timeout=30)
    effort: Any = {"effort": "high"}
    rows = []
    response = client.responses.create(model=MODEL, input=PROMPT, reasoning=effort)
    rows.append(("openai", "responses", False, response.output_text, response.usage))
    answer, final = "", None
    for event in client.responses.create(model=MODEL, input=PROMPT, reasoning=effort, stream=True):
        if event.type == "response.output_text.delta":
            answer += event.delta
        elif event.type == "response.completed":
            final = event.response.usage
    rows.append(("openai", "responses", True, answer, final))
    out = []
    for sdk, wire, streamed, text, usage in rows:
        assert usage is not None, "no usage read"
        reasoning = usage.output_tokens_details.reasoning_tokens
        out.append(
            {
                "client": sdk,
                "wire": wire,
                "streamed": streamed,
                "answer": text,
                "usage": {
                    "input": usage.input_tokens,
                    "output": usage.output_tokens,
                    "text": usage.output_tokens - reasoning,  # what an SDK user computes
                    "reasoning": reasoning,
                    "total": usage.total_tokens,
                },
            }
        )
    return out


def ai_sdk(build: Path, base_url: str) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("interop: node is missing (e.g. apt-get install nodejs npm)")
    done = subprocess.run(
        [node, "ai-sdk.mjs", base_url], cwd=build, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise SystemExit(f"interop: the AI SDK run failed:\n{done.stderr}")
    rows: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return [{"client": "@ai-sdk/xai", **row} for row in rows]


def problems(row: dict[str, Any]) -> list[str]:
    u = row["usage"]
    found = []
    if not isinstance(u["text"], int) or u["text"] < 0:
        found.append(f"answer tokens {u['text']}")
    if u["total"] != u["input"] + u["output"]:
        found.append(f"total {u['total']} != input {u['input']} + output {u['output']}")
    if isinstance(u["text"], int) and u["output"] != u["text"] + (u["reasoning"] or 0):
        found.append(f"output {u['output']} != answer {u['text']} + reasoning {u['reasoning']}")
    if row["answer"] != "101 * 3 = 303":
        found.append(f"answer {row['answer']!r}")
    return found


def main() -> int:
    build = Path(sys.argv[1]).resolve()
    sim, base_url = start_sim()
    try:
        rows = openai_sdk(base_url) + ai_sdk(build, base_url)
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    print(f"grokbook sim at {base_url}; {MODEL}, effort high, {PROMPT!r}")
    header = f"{'client':<12} {'wire':<10} {'streamed':<9}"
    print(header + " input  output  answer  reasoning  total  verdict")
    failed = 0
    for row in rows:
        u = row["usage"]
        wrong = problems(row)
        failed += bool(wrong)
        print(
            f"{row['client']:<12} {row['wire']:<10} {row['streamed']!s:<9}"
            f" {u['input']:>5} {u['output']:>7} {u['text']:>7} {u['reasoning']:>10}"
            f" {u['total']:>6}  {'WRONG: ' + '; '.join(wrong) if wrong else 'ok'}"
        )
    print(f"interop: {len(rows) - failed} ok, {failed} wrong")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
