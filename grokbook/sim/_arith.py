"""Safe arithmetic for the simulator: find an expression in a prompt and solve it with steps.

Parsed with :mod:`ast` and evaluated by walking a whitelist of nodes; ``eval`` is never used.

>>> solve("What is 101*3?").answer
'303'
>>> solve("12 + 7 * 2").steps
['7 * 2 = 14', '12 + 14 = 26']
>>> solve("What is the capital of France?") is None
True

Follow-ups act on the number the previous assistant answer ended with:

>>> history = [{"role": "user", "content": "What is 101*3?"},
...            {"role": "assistant", "content": "101 * 3 = 303"}]
>>> followup_prompt("Now double it", history)
'303 * 2'
>>> solve(followup_prompt("Now double it", history)).answer
'606'
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Solution", "followup_prompt", "solve"]

#: Spans that may hold an expression: digits, operators, brackets, spaces.
_CANDIDATE = re.compile(r"[-+*/%^×÷().\d\s]+")
_HAS_OPERATOR = re.compile(r"\d\s*(\*\*|[-+*/%^×÷])\s*[-+(]*\s*[\d(]|^\s*[-+]?\(")

# Guards: a prompt like "9**9**9" must not hang the simulator or eat memory.
_MAX_EXPONENT = 64
_MAX_MAGNITUDE = 1e30
_MAX_NODES = 60
_MAX_CHARS = 200

_OPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}


class _Unsafe(Exception):
    """The text is not a small arithmetic expression (or its result would be huge)."""


@dataclass(frozen=True)
class Solution:
    """An expression, the steps that evaluate it, and the result as text."""

    expression: str
    steps: list[str]
    answer: str


def _fmt(value: int | float) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    return str(value)


def _eval(node: ast.AST, steps: list[str]) -> int | float:
    if isinstance(node, ast.Expression):
        return _eval(node.body, steps)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise _Unsafe("not a number")
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _eval(node.operand, steps)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left = _eval(node.left, steps)
        right = _eval(node.right, steps)
        symbol = _OPS[type(node.op)]
        result: int | float
        if isinstance(node.op, ast.Pow):
            if abs(right) > _MAX_EXPONENT or (
                abs(left) > 1 and abs(right) * math.log10(abs(left)) > math.log10(_MAX_MAGNITUDE)
            ):
                raise _Unsafe("exponent too large")
            result = left**right
            if isinstance(result, complex):
                raise _Unsafe("complex result")
        elif isinstance(node.op, ast.Add):
            result = left + right
        elif isinstance(node.op, ast.Sub):
            result = left - right
        elif isinstance(node.op, ast.Mult):
            result = left * right
        else:
            if right == 0:
                raise ZeroDivisionError
            if isinstance(node.op, ast.Div):
                result = left / right
            elif isinstance(node.op, ast.FloorDiv):
                result = left // right
            else:
                result = left % right
        if abs(result) > _MAX_MAGNITUDE:
            raise _Unsafe("result too large")
        steps.append(f"{_fmt(left)} {symbol} {_fmt(right)} = {_fmt(result)}")
        return result
    raise _Unsafe(f"{type(node).__name__} is not arithmetic")


def _normalize(text: str) -> str:
    return text.replace("×", "*").replace("÷", "/").replace("^", "**").strip().rstrip(".")


def solve(prompt: str) -> Solution | None:
    """The solved arithmetic expression in ``prompt``, or None when there is none."""
    candidates = sorted(
        (m.group(0) for m in _CANDIDATE.finditer(prompt[:2000])), key=len, reverse=True
    )
    for raw in candidates:
        text = _normalize(raw)
        if not text or len(text) > _MAX_CHARS or not _HAS_OPERATOR.search(text):
            continue
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            continue
        if sum(1 for _ in ast.walk(tree)) > _MAX_NODES:
            continue
        steps: list[str] = []
        expression = ast.unparse(tree)
        try:
            value = _eval(tree, steps)
        except ZeroDivisionError:
            return Solution(expression, [f"{expression}: division by zero"], "undefined")
        except (_Unsafe, OverflowError, ValueError):
            continue
        if not steps:  # a bare number such as "(3)" is not a question
            continue
        return Solution(expression, steps, _fmt(value))
    return None


# -- follow-ups ---------------------------------------------------------------------------------
_NUM = r"(-?\d+(?:\.\d+)?)"
_REFERENCE = r"\b(?:it|that|this|the (?:result|answer|number))\b"
#: (pattern, operator, fixed operand or None to use the pattern's number), tried in order.
_FOLLOWUPS: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(pattern), op, operand)
    for pattern, op, operand in (
        (rf"\bdouble\b.*{_REFERENCE}|{_REFERENCE}.*\bdoubled\b", "*", "2"),
        (rf"\btriple\b.*{_REFERENCE}|{_REFERENCE}.*\btripled\b", "*", "3"),
        (rf"\bquadruple\b.*{_REFERENCE}", "*", "4"),
        (rf"\bhalve\b.*{_REFERENCE}|\bhalf (?:of )?{_REFERENCE}", "/", "2"),
        (rf"\bsquare\b.*{_REFERENCE}|{_REFERENCE}.*\bsquared\b", "**", "2"),
        (rf"\bcube\b.*{_REFERENCE}|{_REFERENCE}.*\bcubed\b", "**", "3"),
        (rf"\bmultiply\b.*?\bby\s+{_NUM}|\btimes\s+{_NUM}", "*", None),
        (rf"\bdivide\b.*?\bby\s+{_NUM}|\bdivided by\s+{_NUM}", "/", None),
        (rf"\b(?:add|plus)\s+{_NUM}", "+", None),
        (rf"\b(?:subtract|minus|take away)\s+{_NUM}", "-", None),
    )
)
_RESULT = re.compile(rf"=\s*{_NUM}\s*\.?\s*$")
_LAST_NUMBER = re.compile(_NUM)
_MAX_FOLLOWUP_WORDS = 12


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _previous_number(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The number the last assistant answer ended with ("101 * 3 = 303" -> "303")."""
    for message in reversed(messages):
        if message.get("role") != "assistant":
            continue
        text = _text(message.get("content")).strip()
        if not text:
            continue
        match = _RESULT.search(text)
        if match:
            return match.group(1)
        if "=" in text:  # a result that is not a number ("303 / 0 = undefined")
            return None
        if "simulated" in text.lower():  # the simulator's non-answer names no result
            return None
        numbers = _LAST_NUMBER.findall(text)
        return numbers[-1] if numbers else None
    return None


def followup_prompt(prompt: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """``prompt`` rewritten as arithmetic on the previous answer when it is a follow-up.

    "Now double it" after an answer ending "= 303" becomes ``"303 * 2"``; so do "triple it",
    "halve it", "square it", "cube it", "add N", "subtract N", "multiply it by N" and
    "divide it by N". Anything else (including a prompt that is arithmetic itself) is
    returned unchanged. The expression is later parsed by :func:`solve`, never evaluated.
    """
    if solve(prompt) is not None or len(prompt.split()) > _MAX_FOLLOWUP_WORDS:
        return prompt
    lowered = prompt.lower()
    for pattern, op, operand in _FOLLOWUPS:
        match = pattern.search(lowered)
        if match is None:
            continue
        value = operand or next(group for group in match.groups() if group is not None)
        previous = _previous_number(messages)
        if previous is None:
            return prompt
        left = f"({previous})" if previous.startswith("-") else previous
        right = f"({value})" if value.startswith("-") else value
        return f"{left} {op} {right}"
    return prompt
