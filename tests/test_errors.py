"""The exception tree: shape, docstring drawing, messages that say what to do next."""

from __future__ import annotations

import pytest

from grokbook import errors


@pytest.mark.parametrize(
    ("cls", "parents"),
    [
        (errors.APIError, (errors.GrokbookError,)),
        (errors.APIStatusError, (errors.APIError,)),
        (errors.BadRequestError, (errors.APIStatusError,)),
        (errors.AuthenticationError, (errors.APIStatusError,)),
        (errors.PermissionDeniedError, (errors.APIStatusError,)),
        (errors.NotFoundError, (errors.APIStatusError,)),
        (errors.UnprocessableEntityError, (errors.APIStatusError,)),
        (errors.RateLimitError, (errors.APIStatusError,)),
        (errors.InternalServerError, (errors.APIStatusError,)),
        (errors.APIConnectionError, (errors.APIError,)),
        (errors.APITimeoutError, (errors.APIConnectionError,)),
        (errors.ResponseParseError, (errors.APIError,)),
        (errors.IncompleteStreamError, (errors.APIError,)),
        (errors.UnsupportedParameterError, (errors.GrokbookError, ValueError)),
        (errors.MissingAPIKeyError, (errors.GrokbookError,)),
    ],
)
def test_tree(cls: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    for parent in parents:
        assert issubclass(cls, parent)
    # Every class is drawn in the module docstring.
    assert cls.__name__ in (errors.__doc__ or "")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (418, errors.APIStatusError),
        (529, errors.InternalServerError),
    ],
)
def test_status_error_class(status: int, cls: type[Exception]) -> None:
    assert errors.status_error_class(status) is cls


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "API key"),
        (403, "credits"),
        (404, "grokbook models"),
        (429, "lower concurrency"),
        (503, "transient"),
    ],
)
def test_messages_say_what_to_do(status: int, hint: str) -> None:
    exc = errors.make_status_error(status, b'{"code": "c", "error": "server text"}')
    assert hint in str(exc) and "server text" in str(exc)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": "The model grok-nope does not exist."}', "does not exist. Check the model"),
        (b'{"error": "Some requested entity was not found"}', "was not found. Check the model"),
        (b"", "HTTP 404. Check the model"),
    ],
)
def test_one_full_stop_between_the_server_message_and_the_hint(body: bytes, expected: str) -> None:
    text = str(errors.make_status_error(404, body))
    assert expected in text and ".." not in text


def test_the_simulators_404_reads_as_one_sentence_per_part() -> None:
    import grokbook as gb

    with pytest.raises(errors.NotFoundError) as caught:
        gb.Client(provider="sim").chat("hi", model="grok-nope")
    text = str(caught.value)
    assert ".." not in text
    assert text.startswith("HTTP 404: The model grok-nope does not exist")
    # The server's words once, then what to do (nothing close to suggest), no backticks.
    assert "it. Check the model id (grokbook models, in a notebook %grok models" in text
    assert text.count("does not exist") == 1 and "`" not in text and "Did you mean" not in text


def test_redaction_and_empty_bodies() -> None:
    exc = errors.make_status_error(
        400, b'{"error": "key sk-secret-123 is wrong"}', secrets=("sk-secret-123",)
    )
    assert "sk-secret-123" not in str(exc) and "[redacted]" in str(exc)
    assert errors.make_status_error(500, b"").server_message is None
    assert errors.redact("abc", ("",)) == "abc"
