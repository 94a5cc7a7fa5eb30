"""The simulator's core: an ``httpx.Request`` in, a :class:`Plan` (what to send, when) out.

Routes: ``POST /v1/chat/completions`` (here), ``POST /v1/responses`` and ``GET`` / ``DELETE
/v1/responses/{id}`` (:mod:`._responses`), ``GET /v1/models[/{id}]`` and ``GET
/v1/language-models[/{id}]``; then the scripted fault, if any, alters the plan.

Pure apart from the clock, random ids and the stored responses it is handed: the in-process
transport and the loopback HTTP server both execute the same plans, so they behave
identically on the wire.

>>> import httpx, json
>>> body = {"model": "grok-3-mini-latest", "messages": [{"role": "user", "content": "2+2?"}]}
>>> plan = handle(httpx.Request("POST", "http://sim/v1/chat/completions", json=body))
>>> data = json.loads(plan.body)
>>> plan.status, data["model"], data["choices"][0]["message"]["content"]
(200, 'grok-3-mini-beta', '2 + 2 = 4')
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .. import catalog
from ._batch import BatchStore, batch_route
from ._behaviour import Answer, simulate
from ._conversation import ResponseStore
from ._faults import Fault
from ._plan import (
    FINGERPRINT,
    Piece,
    Plan,
    Reject,
    error_plan,
    json_plan,
    new_id,
    number,
    parse_body,
    split_words,
)
from ._request import resolve_model
from ._responses import delete_response, get_response, responses_plan

__all__ = ["FINGERPRINT", "Piece", "Plan", "handle"]

_CREATED = 1_735_689_600  # a fixed "model created" time for the model lists (2025-01-01)
_VALID_ROLES = ("system", "user", "assistant", "tool", "developer", "function")

_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n"
    "<hr><center>nginx (grokbook simulator fault)</center>\r\n</body>\r\n</html>\r\n"
)


# -- validation ---------------------------------------------------------------------------------
def _validate_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "messages" not in body:
        raise Reject(422, "missing field `messages`: send a list of {role, content} messages.")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise Reject(422, "invalid type for field `messages`: expected a sequence.")
    if not messages:
        raise Reject(422, "field `messages` must contain at least one message.")
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise Reject(422, f"messages[{index}]: expected an object with role and content.")
        role = message.get("role")
        if role not in _VALID_ROLES:
            raise Reject(
                422,
                f"messages[{index}].role: unknown variant {role!r}, expected one of "
                + ", ".join(f"`{r}`" for r in _VALID_ROLES),
            )
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise Reject(422, f"messages[{index}].content: expected a string or a list.")
        out.append(message)
    return out


@dataclass(frozen=True)
class _Chat:
    answer: Answer
    stream: bool
    include_usage: bool


def _chat(body: dict[str, Any], latency: float) -> _Chat:
    messages = _validate_messages(body)
    asked, served, used_effort = resolve_model(
        body, effort=body.get("reasoning_effort"), param="reasoning_effort"
    )
    temperature = number(body, "temperature", 0, 2)
    number(body, "top_p", 0, 1)
    max_tokens: int | None = None
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise Reject(422, f"invalid type for field `{name}`: expected an integer.")
        if value <= 0:
            raise Reject(400, f"`{name}` must be a positive integer; got {value}.")
        max_tokens = value
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise Reject(422, "invalid type for field `seed`: expected an integer.")
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise Reject(422, "invalid type for field `stream`: expected a boolean.")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise Reject(422, "invalid type for field `stream_options`: expected an object.")
    include_usage = bool(options and options.get("include_usage"))

    answer = simulate(
        asked,
        served,
        used_effort,
        messages,
        temperature=temperature,
        seed=seed,
        max_tokens=max_tokens,
        latency=latency,
    )
    return _Chat(answer, stream, include_usage)


# -- responses --------------------------------------------------------------------------------
def _completion_plan(chat: _Chat) -> Plan:
    answer = chat.answer
    message: dict[str, Any] = {"role": "assistant", "content": answer.content}
    if answer.reasoning_text is not None:
        message["reasoning_content"] = answer.reasoning_text
    message["refusal"] = None
    payload = {
        "id": new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": answer.usage(),
        "system_fingerprint": FINGERPRINT,
    }
    return json_plan(200, payload, delay_s=answer.total_s)


def _stream_plan(chat: _Chat) -> Plan:
    answer = chat.answer
    base = {
        "id": new_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": answer.model,
        "system_fingerprint": FINGERPRINT,
    }

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        data = json.dumps({**base, "choices": choices, **extra}, separators=(",", ":"))
        return f"data: {data}\n\n".encode()

    pieces: list[Piece] = []
    pending = answer.first_token_s
    role_sent = False
    reasoning_parts = split_words(answer.reasoning_text, 4) if answer.reasoning_text else []
    content_parts = split_words(answer.content, 2)
    if not reasoning_parts:
        # Hidden reasoning (grok-4 family) still takes time before the first visible token.
        pending += answer.reasoning_s
    # Reasoning deltas first, then content; each kind spreads its time over its pieces.
    for field, parts, seconds in (
        ("reasoning_content", reasoning_parts, answer.reasoning_s),
        ("content", content_parts, answer.content_s),
    ):
        for part in parts:
            delta: dict[str, Any] = {field: part}
            if not role_sent:
                delta = {"role": "assistant", **delta}
                role_sent = True
            pieces.append(
                Piece(pending + seconds / len(parts), chunk([{"index": 0, "delta": delta}]))
            )
            pending = 0.0
    cut_at = len(reasoning_parts) + max(1, len(content_parts) // 2)
    pieces.append(
        Piece(0.0, chunk([{"index": 0, "delta": {}, "finish_reason": answer.finish_reason}]))
    )
    if chat.include_usage:
        pieces.append(Piece(0.0, chunk([], usage=answer.usage())))
    pieces.append(Piece(0.0, b"data: [DONE]\n\n"))
    headers = (
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
    )
    return Plan(200, headers, tuple(pieces), streaming=True, cut_at=cut_at)


def _models_payload() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [_model_entry(m) for m in catalog.all_models()],
    }


def _model_entry(model: catalog.Model) -> dict[str, Any]:
    return {"id": model.id, "created": _CREATED, "object": "model", "owned_by": "xai"}


def _cents_per_100m(usd_per_million: float | None) -> int:
    # USD per 1M tokens -> US cents per 100M tokens: x 100 cents x 100.
    return round((usd_per_million or 0.0) * 10_000)


def _language_model(model: catalog.Model) -> dict[str, Any]:
    return {
        "id": model.id,
        "fingerprint": FINGERPRINT,
        "created": _CREATED,
        "object": "model",
        "owned_by": "xai",
        "version": "grokbook-sim",
        "input_modalities": ["text"],
        "output_modalities": ["text"],
        "prompt_text_token_price": _cents_per_100m(model.input_price),
        "cached_prompt_text_token_price": _cents_per_100m(
            model.cached_input_price if model.cached_input_price is not None else model.input_price
        ),
        "prompt_image_token_price": _cents_per_100m(model.input_price),
        "completion_text_token_price": _cents_per_100m(model.output_price),
        # $25 per 1,000 live-search sources = 2.5 cents a source.
        "search_price": 250_000_000,
        "aliases": list(model.aliases),
    }


# -- faults -----------------------------------------------------------------------------------
def _fault_plan(fault: Fault, plan: Plan) -> Plan:
    """``plan`` (the normal answer) altered or replaced by ``fault``."""
    if fault.kind == "ok":
        return plan
    if fault.kind == "status":
        headers = {} if fault.retry_after is None else {"retry-after": f"{fault.retry_after:g}"}
        message = {
            429: "Too many requests: the simulated rate limit was hit (grokbook sim fault). "
            "Wait for Retry-After and try again.",
            500: "Simulated internal error (grokbook sim fault).",
            503: "Simulated overload: the service is currently unavailable (grokbook sim fault).",
        }.get(fault.status, f"Simulated HTTP {fault.status} (grokbook sim fault).")
        return error_plan(fault.status, message, **headers)
    if fault.kind == "html":
        reason = {
            502: "Bad Gateway",
            503: "Service Temporarily Unavailable",
            504: "Gateway Time-out",
        }.get(fault.status, "Error")
        page = _HTML_PAGE.format(status=fault.status, reason=reason).encode()
        return Plan(fault.status, (("content-type", "text/html"),), (Piece(0.0, page),))
    if fault.kind == "notjson":
        text = b"Simulated upstream glitch: this 200 body is not JSON (grokbook sim fault).\n"
        return Plan(200, (("content-type", "text/plain"),), (Piece(plan.head_delay_s, text),))
    if fault.kind == "truncated":
        # Half the body with a matching Content-Length: well-formed HTTP, broken JSON / SSE.
        body = plan.body
        delay = sum(piece.delay_s for piece in plan.pieces)
        return replace(plan, pieces=(Piece(delay, body[: len(body) // 2]),), streaming=False)
    if fault.kind == "reset":
        return Plan(0, (), abort_before_headers=True)
    if fault.kind == "slow":
        return replace(plan, head_delay_s=plan.head_delay_s + fault.delay_s)
    if fault.kind == "cut":
        if plan.streaming:
            keep = fault.after_chunks if fault.after_chunks is not None else plan.cut_at
            return replace(plan, pieces=plan.pieces[:keep], abort_after_pieces=True)
        body = plan.body
        return replace(
            plan,
            pieces=(Piece(0.0, body[: len(body) // 2]),),
            declared_length=len(body),
            abort_after_pieces=True,
        )
    raise ValueError(f"unknown fault kind {fault.kind!r}")  # pragma: no cover


# -- routing ----------------------------------------------------------------------------------
def _authorized(request: httpx.Request, require_key: str | None) -> Plan | None:
    if require_key is None:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip() == require_key:
        return None
    if not key.strip():
        message = (
            "No API key provided. This simulator was started with --require-key: send it as "
            "'Authorization: Bearer KEY'."
        )
    else:
        masked = key.strip()[:3] + "***"
        message = (
            f"Incorrect API key provided: {masked}. Send the key this simulator was started "
            "with (--require-key)."
        )
    return error_plan(401, message)


def _route(
    request: httpx.Request,
    latency: float,
    store: ResponseStore | None,
    keep: bool,
    batches: BatchStore | None = None,
) -> Plan:
    path = request.url.path.rstrip("/")
    method = request.method.upper()
    if batches is not None:
        # A batch's requests are answered as the live endpoints answer them, with no waiting
        # and nothing stored (the batch's own delay models the queue).
        planned = batch_route(
            request,
            path,
            method,
            batches,
            latency=latency,
            answer=lambda line: _route(line, 0.0, None, False),
        )
        if planned is not None:
            return planned
    if path == "/v1/responses":
        if method != "POST":
            return error_plan(405, f"Use POST for {path}, not {method}.", allow="POST")
        return responses_plan(request, store, latency=latency, keep=keep)
    if path.startswith("/v1/responses/"):
        response_id = path[len("/v1/responses/") :]
        if method == "GET":
            return get_response(response_id, store)
        if method == "DELETE":
            return delete_response(response_id, store)
        return error_plan(405, f"Use GET or DELETE for {path}, not {method}.", allow="GET, DELETE")
    if path == "/v1/chat/completions":
        if method != "POST":
            return error_plan(405, f"Use POST for {path}, not {method}.", allow="POST")
        try:
            body = parse_body(request)
            chat = _chat(body, latency)
        except Reject as exc:
            return error_plan(exc.status, exc.message)
        deferred = body.get("deferred")
        if deferred is not None and not isinstance(deferred, bool):
            return error_plan(422, "invalid type for field `deferred`: expected a boolean.")
        if deferred:
            if chat.stream or batches is None:
                return error_plan(400, "A deferred completion cannot be streamed.")
            return batches.defer(_completion_plan(chat))
        return _stream_plan(chat) if chat.stream else _completion_plan(chat)
    if path in ("/v1/models", "/v1/language-models") or path.startswith(
        ("/v1/models/", "/v1/language-models/")
    ):
        if method != "GET":
            return error_plan(405, f"Use GET for {path}, not {method}.", allow="GET")
        listing, _, model_id = path[len("/v1/") :].partition("/")
        entry = _model_entry if listing == "models" else _language_model
        if model_id:
            record = catalog.get(model_id)
            if record is None:
                return error_plan(404, f"The model {model_id} does not exist.")
            return json_plan(200, entry(record))
        if listing == "models":
            return json_plan(200, _models_payload())
        return json_plan(200, {"models": [_language_model(m) for m in catalog.all_models()]})
    return error_plan(
        404,
        f"No route for {method} {request.url.path}. The simulator serves POST "
        "/v1/chat/completions, POST /v1/responses, GET and DELETE /v1/responses/{id}, "
        "GET /v1/models, GET /v1/language-models, POST /v1/files, POST and GET /v1/batches, "
        "GET /v1/batches/{id}[/results], POST /v1/batches/{id}:cancel and GET "
        "/v1/chat/deferred-completion/{id}.",
    )


def handle(
    request: httpx.Request,
    *,
    fault: Fault | None = None,
    latency: float = 0.0,
    require_key: str | None = None,
    store: ResponseStore | None = None,
    batches: BatchStore | None = None,
) -> Plan:
    """The plan answering ``request`` (its body must already be read).

    ``latency`` is the factor (0 = no waiting, 1 = the ``demo`` preset); ``fault`` the scripted
    misbehaviour for this request, if any; ``require_key`` the Bearer key to insist on;
    ``store`` the simulator's stored responses (``previous_response_id``, ``GET
    /v1/responses/{id}``; None: nothing is kept); ``batches`` its files, batches and deferred
    completions (:mod:`._batch`; None: those routes answer 404).
    """
    if fault is not None and fault.kind == "reset":
        return _fault_plan(fault, Plan(0, ()))
    # A fault that replaces the answer means the client never saw it: do not store it.
    keep = fault is None or fault.kind in ("ok", "slow", "cut", "truncated")
    # Likewise no upload, batch or deferred request is kept when the answer is replaced.
    plan = _authorized(request, require_key) or _route(
        request, latency, store, keep, batches if keep else BatchStore()
    )
    plan = replace(plan, headers=(*plan.headers, ("x-grokbook-sim", "1")))
    if fault is not None:
        plan = _fault_plan(fault, plan)
    return plan
