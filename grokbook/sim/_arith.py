"""Safe arithmetic for the simulator: find an expression in a prompt and solve it with steps.

Parsed with :mod:`ast` and evaluated by walking a whitelist of nodes; ``eval`` is never used.

>>> solve("What is 101*3?").answer
'303'
>>> solve("12 + 7 * 2").steps
['7 * 2 = 14', '12 + 14 = 26']
>>> solve("What is the capital of France?") is None
True
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

__all__ = ["Solution", "solve"]

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
