"""The Responses wire: ``POST /v1/responses`` (stream and not), ``GET`` / ``DELETE
/v1/responses/{id}``, planned like chat completions (a pure :class:`~._plan.Plan`).

Request (xAI's ``ModelRequest``): ``model``, ``input`` (a string or items: ``{role, content}``
messages, ``reasoning`` items passed back with their ``encrypted_content``,
``function_call`` / ``function_call_output`` items), ``instructions``, ``max_output_tokens``
(see below), ``reasoning: {"effort"}``, ``store`` (default true),
``previous_response_id``, ``include: ["reasoning.encrypted_content"]``, ``prompt_cache_key``,
``stream``, ``temperature``, ``top_p``, ``tools``. Rejected as xAI rejects them: an effort on a
model without efforts or outside its list (400), ``presence_penalty`` / ``frequency_penalty``
/ ``stop`` on a reasoning model (400), an unknown ``previous_response_id`` (404), an altered
reasoning blob (400).

Response (``ModelResponse``): ``output`` is a ``reasoning`` item (when the model reasoned:
``summary``, for models that return raw reasoning text also ``content`` of
``reasoning_text``, ``encrypted_content`` when asked for or always on grok-4.7), then a
``message`` item (one ``output_text`` part). ``metadata`` echoes the request's and carries
``system_fingerprint`` (``fp_grokbook_sim``), where xAI puts its fingerprint. Usage follows
real xAI Responses bodies (tests/real): ``output_tokens`` INCLUDES the reasoning
(``output_tokens_details.reasoning_tokens``) and ``total_tokens == input_tokens +
output_tokens``; ``server_side_tool_usage_details`` (all zero: the simulator runs no
server-side tool) and ``context_details`` are sent as xAI sends them.

``max_output_tokens``: real grok-4.3 (16) and grok-4.5 (64) replies came back ``completed``
with 111, 199 and 79 output tokens (tests/real 04, 13, 05), so on those models, and on the
retired ids grok-4.3 answers, the simulator ignores it too. On other models no recording shows
what it does; the simulator's model (not a fact about Grok) cuts the visible answer at the
limit, never to nothing, leaves the reasoning whole, and answers ``incomplete`` with
``incomplete_details.reason == "max_output_tokens"``.

Streamed, every event is ``event: <type>`` + ``data: {"type", "sequence_number", ...}``, no
``[DONE]``::

    response.created, response.in_progress,
    response.output_item.added (reasoning),
      [response.reasoning_text.delta x n, response.reasoning_text.done]    (raw-text models)
      response.reasoning_summary_part.added, response.reasoning_summary_text.delta x n,
      response.reasoning_summary_text.done, response.reasoning_summary_part.done,
    response.output_item.done (reasoning),
    response.output_item.added (message), response.content_part.added,
      response.output_text.delta x n, response.output_text.done, response.content_part.done,
    response.output_item.done (message),
    response.completed (or response.incomplete when max_output_tokens cut it short)

>>> import httpx, json
>>> body = {"model": "grok-4.3", "input": "What is 101*3?", "store": False}
>>> plan = responses_plan(httpx.Request("POST", "http://sim/v1/responses", json=body))
>>> data = json.loads(plan.body)
>>> [item["type"] for item in data["output"]], data["output"][-1]["content"][0]["text"]
(['reasoning', 'message'], '101 * 3 = 303')
>>> u = data["usage"]
>>> u["input_tokens"] + u["output_tokens"] == u["total_tokens"]
True
>>> u["output_tokens"] > u["output_tokens_details"]["reasoning_tokens"] > 0
True
>>> data["metadata"]["system_fingerprint"]
'fp_grokbook_sim'
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .. import catalog
from ._behaviour import Answer, cost_ticks, simulate
from ._conversation import ResponseStore, StoredResponse, Turn, read_input, seal, to_messages
from ._plan import (
    FINGERPRINT,
    Plan,
    Reject,
    error_plan,
    json_plan,
    new_id,
    number,
    parse_body,
)
from ._request import resolve_model
from ._responses_stream import Output, stream_plan

__all__ = ["delete_response", "get_response", "responses_plan"]

_ENCRYPTED = "reasoning.encrypted_content"


@dataclass(frozen=True)
class _Call:
    """A validated request and the simulator's answer to it."""

    body: dict[str, Any]
    asked: catalog.Model
    served: catalog.Model
    effort: str | None
    answer: Answer
    conversation: tuple[Turn, ...]
    previous_id: str | None
    instructions: str | None
    encrypted: bool
    store: bool
    stream: bool
    max_output_tokens: int | None
    incomplete: bool


def _flag(body: Mapping[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Reject(422, f"invalid type for field `{name}`: expected a boolean.")
    return value


def _optional_str(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Reject(422, f"invalid type for field `{name}`: expected a string.")
    return value


def _metadata_seed(metadata: Any) -> int | str | None:
    """grokbook sends ``seed`` as ``metadata.grokbook_seed`` (Responses has no seed field);
    the simulator draws from it as the chat wire draws from ``seed``."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("grokbook_seed")
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value if isinstance(value, str) else None


def _max_output_tokens(body: Mapping[str, Any]) -> int | None:
    value = body.get("max_output_tokens")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Reject(422, "invalid type for field `max_output_tokens`: expected an integer.")
    if value <= 0:
        raise Reject(400, f"`max_output_tokens` must be a positive integer; got {value}.")
    return value


def _include(body: Mapping[str, Any]) -> list[str]:
    value = body.get("include")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Reject(422, "invalid type for field `include`: expected a list of strings.")
    return list(value)


def _effort_field(body: Mapping[str, Any]) -> Any:
    reasoning = body.get("reasoning")
    if reasoning is None:
        return None
    if not isinstance(reasoning, dict):
        raise Reject(422, "invalid type for field `reasoning`: expected an object.")
    return reasoning.get("effort")


#: Models whose real replies came back ``completed`` past ``max_output_tokens`` (tests/real
#: 04 and 13: grok-4.3 at 16 with 111 and 199 output tokens; 05: grok-4.5 at 64 with 79).
LIMIT_NOT_ENFORCED = frozenset({"grok-4.3", "grok-4.5"})


def _cap(answer: Answer, limit: int | None, served: catalog.Model) -> tuple[Answer, bool]:
    """``answer`` under ``max_output_tokens``, and whether it was cut short.

    On :data:`LIMIT_NOT_ENFORCED` models the limit changes nothing, as on xAI. Elsewhere the
    simulator's model: the visible answer is cut at ``limit`` tokens (never to nothing), the
    reasoning is not.
    """
    if limit is None or served.id in LIMIT_NOT_ENFORCED or answer.completion_tokens <= limit:
        return answer, False
    capped = replace(
        answer,
        content=answer.content[: limit * 4],
        completion_tokens=limit,
        finish_reason="length",
        content_s=answer.content_s * limit / answer.completion_tokens,
    )
    return capped, True


def _call(body: dict[str, Any], store: ResponseStore, latency: float) -> _Call:
    if "input" not in body:
        raise Reject(422, "missing field `input`: send a string or a list of input items.")
    asked, served, effort = resolve_model(
        body, effort=_effort_field(body), param="reasoning.effort"
    )
    previous_id = _optional_str(body, "previous_response_id")
    instructions = _optional_str(body, "instructions")
    prefix: tuple[Turn, ...] = ()
    if previous_id is not None:
        if instructions is not None:
            raise Reject(
                400,
                "`instructions` cannot be used with `previous_response_id`: the previous "
                "response's system prompt is used. Drop one of them.",
            )
        stored = store.get(previous_id)
        if stored is None:
            raise Reject(
                404,
                f"The response {previous_id} was not found. It may never have been stored "
                "(store: false) or this simulator was restarted; resend the history in `input`.",
            )
        prefix = stored.conversation
        previous_instructions = stored.body.get("instructions")
        instructions = previous_instructions if isinstance(previous_instructions, str) else None
    elif instructions is not None:
        prefix = (Turn("system", instructions),)
    turns = (*prefix, *read_input(body["input"]))
    temperature = number(body, "temperature", 0, 2)
    top_p = number(body, "top_p", 0, 1)
    if top_p is not None and top_p <= 0:
        raise Reject(400, f"`top_p` must be greater than 0; got {top_p:g}.")
    limit = _max_output_tokens(body)
    encrypted = _ENCRYPTED in _include(body) or served.always_encrypts_reasoning
    keep = _flag(body, "store", True)
    stream = _flag(body, "stream", False)
    for name in ("tools", "metadata"):
        value = body.get(name)
        if value is not None and not isinstance(value, list if name == "tools" else dict):
            kind = "a list" if name == "tools" else "an object"
            raise Reject(422, f"invalid type for field `{name}`: expected {kind}.")
    _optional_str(body, "prompt_cache_key")

    messages, carried = to_messages(turns)
    if not messages:
        raise Reject(422, "field `input` must contain at least one message.")
    answer = simulate(
        asked,
        served,
        effort,
        messages,
        temperature=temperature,
        seed=_metadata_seed(body.get("metadata")),
        latency=latency,
        with_reasoning_text=True,
    )
    if carried:
        # Reasoning carried back (stored or decrypted) is context the server has seen: cached.
        answer = replace(
            answer,
            prompt_tokens=answer.prompt_tokens + carried,
            text_tokens=answer.text_tokens + carried,
            cached_tokens=answer.cached_tokens + carried,
        )
    answer, incomplete = _cap(answer, limit, served)
    return _Call(
        body=body,
        asked=asked,
        served=served,
        effort=effort,
        answer=answer,
        conversation=turns,
        previous_id=previous_id,
        instructions=instructions,
        encrypted=encrypted,
        store=keep,
        stream=stream,
        max_output_tokens=limit,
        incomplete=incomplete,
    )


# -- the response body --------------------------------------------------------------------------
def _summary(reasoning_text: str) -> str:
    """The simulated summary: the lines that work the question and the conclusion, without
    the numbered filler passes that size the raw text to its token count."""
    lines = [line for line in reasoning_text.splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith("Pass ") and "are filler" not in line]
    if len(kept) > 8:
        kept = [*kept[:7], kept[-1]]
    return "\n".join(kept)


def _output(call: _Call, response_id: str) -> Output:
    answer = call.answer
    status = "incomplete" if call.incomplete else "completed"
    reasoning: dict[str, Any] | None = None
    summary = ""
    raw: str | None = None
    if answer.reasoning_tokens > 0:
        text = answer.reasoning_text or ""
        summary = _summary(text)
        reasoning = {
            "id": f"rs_{response_id}",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": summary}] if summary else [],
        }
        if call.served.readable_reasoning("responses") == "reasoning_text" and text:
            raw = text
            reasoning["content"] = [{"type": "reasoning_text", "text": raw}]
        if call.encrypted:
            reasoning["encrypted_content"] = seal(
                {
                    "model": call.served.id,
                    "effort": call.effort,
                    "reasoning_tokens": answer.reasoning_tokens,
                }
            )
        reasoning["status"] = "completed"  # a cut (the simulator's model) spares reasoning
    message = {
        "id": f"msg_{response_id}",
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [
            {"type": "output_text", "text": answer.content, "annotations": [], "logprobs": []}
        ],
    }
    return Output(reasoning, message, summary, raw)


#: xAI's per-tool counters, in the order real bodies list them (tests/real/19652).
_TOOL_COUNTERS = (
    "web_search_calls",
    "x_search_calls",
    "code_interpreter_calls",
    "file_search_calls",
    "mcp_calls",
    "document_search_calls",
    "image_generation_calls",
)


def _usage(call: _Call) -> dict[str, Any]:
    """Usage as real xAI Responses bodies count it: ``output_tokens`` holds the reasoning."""
    answer = call.answer
    output = answer.completion_tokens + answer.reasoning_tokens
    return {
        "input_tokens": answer.prompt_tokens,
        "input_tokens_details": {"cached_tokens": answer.cached_tokens},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
        "total_tokens": answer.prompt_tokens + output,
        "num_sources_used": 0,
        "num_server_side_tools_used": 0,
        "cost_in_usd_ticks": cost_ticks(
            answer.model,
            prompt_tokens=answer.prompt_tokens,
            cached_tokens=answer.cached_tokens,
            output_tokens=output,
        ),
        "server_side_tool_usage_details": dict.fromkeys(_TOOL_COUNTERS, 0),
        # No server-side tool loop: the final turn's context is the whole call.
        "context_details": {"input_tokens": answer.prompt_tokens, "output_tokens": output},
    }


def _reasoning_config(call: _Call) -> dict[str, Any] | None:
    """The effort the model used (None for a model without an effort parameter)."""
    if call.served.efforts:
        return {"effort": call.effort, "summary": "detailed"}
    if call.served.reasoning:
        return {"effort": None, "summary": "detailed"}
    return None


def _response(call: _Call, response_id: str, created: int, output: Output) -> dict[str, Any]:
    body = call.body
    tools = body.get("tools") or []
    metadata = body.get("metadata")
    status = "incomplete" if call.incomplete else "completed"
    completed_at = created + math.ceil(call.answer.total_s)
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "completed_at": None if call.incomplete else completed_at,
        "model": call.answer.model,
        "status": status,
        "output": output.items,
        "usage": _usage(call),
        "instructions": call.instructions,
        "previous_response_id": call.previous_id,
        "store": call.store,
        "reasoning": _reasoning_config(call),
        "max_output_tokens": call.max_output_tokens,
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tools": tools,
        "tool_choice": body.get("tool_choice") or "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "incomplete_details": {"reason": "max_output_tokens"} if call.incomplete else None,
        "error": None,
        "user": body.get("user") if isinstance(body.get("user"), str) else None,
        # xAI puts its fingerprint here (tests/real 04, 13); grokbook reads it from here.
        "metadata": {
            **(metadata if isinstance(metadata, dict) else {}),
            "system_fingerprint": FINGERPRINT,
        },
        "background": False,
        "service_tier": "default",
        "truncation": "disabled",
        "top_logprobs": 0,
        "presence_penalty": 0,
        "frequency_penalty": 0,
        "system_fingerprint": FINGERPRINT,
    }


def _stored(call: _Call, output: Output, body: dict[str, Any]) -> StoredResponse:
    turns = list(call.conversation)
    if output.reasoning is not None:
        turns.append(Turn("reasoning", reasoning_tokens=call.answer.reasoning_tokens))
    if output.message is not None:
        turns.append(Turn("assistant", call.answer.content))
    return StoredResponse(body=body, conversation=tuple(turns))


# -- endpoints ----------------------------------------------------------------------------------
def responses_plan(
    request: httpx.Request,
    store: ResponseStore | None = None,
    *,
    latency: float = 0.0,
    keep: bool = True,
) -> Plan:
    """The plan answering ``POST /v1/responses``.

    ``store`` holds this simulator's stored responses (None: a throwaway one);
    ``keep=False`` when a fault will replace the answer, so nothing the client never saw is
    stored.
    """
    store = store if store is not None else ResponseStore(limit=1)
    try:
        call = _call(parse_body(request), store, latency)
    except Reject as exc:
        return error_plan(exc.status, exc.message)
    response_id = new_id()
    output = _output(call, response_id)
    response = _response(call, response_id, int(time.time()), output)
    if call.store and keep:
        store.put(response_id, _stored(call, output, response))
    if call.stream:
        return stream_plan(call.answer, response, output, incomplete=call.incomplete)
    return json_plan(200, response, delay_s=call.answer.total_s)


def _missing(response_id: str) -> Plan:
    return error_plan(
        404,
        f"The response {response_id} was not found: only responses created with store: true "
        "are kept (in memory, by this simulator).",
    )


def get_response(response_id: str, store: ResponseStore | None) -> Plan:
    """``GET /v1/responses/{id}``: the stored response, or 404."""
    stored = store.get(response_id) if store is not None else None
    if stored is None:
        return _missing(response_id)
    return json_plan(200, stored.body)


def delete_response(response_id: str, store: ResponseStore | None) -> Plan:
    """``DELETE /v1/responses/{id}``: forget a stored response, or 404."""
    if store is None or not store.delete(response_id):
        return _missing(response_id)
    return json_plan(200, {"id": response_id, "object": "response", "deleted": True})
