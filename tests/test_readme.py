"""The README's examples are true: its code runs, its claimed values and outputs hold.

* Every ```python block, and every ```text block that is a cell magic (``%%grok ...``), runs in
  README order in one fresh IPython namespace, on the simulator (no key, a temporary
  GROKBOOK_HOME, no simulated latency). A block that talks to ``grokbook sim --port 8000`` runs
  against a background simulator server instead (its URL is swapped in).
* A top-level expression whose comment is a Python literal (``x, y   # ('303', True)``, text
  after a ``;`` is prose) must evaluate to that literal.
* A block marked ``<!-- output: ... -->`` must be exactly what the runnable block before it
  printed; when the block before it is a shell block of one ``grokbook ...`` command, the
  command is run (``grokbook.cli.main``, in README order, in the same folder) and its standard
  output must be that block. Columns headed ``latency s`` are wall-clock time: their values are
  masked on both sides. The blocks run in a temporary folder (files they write stay there).
* A block marked ``<!-- not-run: REASON -->`` is not run (say why: e.g. needs a real key);
  there may be at most ``NOT_RUN_LIMIT`` of them.
* Every ``grokbook ...`` command in a shell block or inline code parses with the CLI's own
  argparse parser, ``.venv/bin/grokbook ...`` commands are run, and every ``make TARGET`` is a
  Makefile target.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import shlex
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from grokbook.cli import build_parser
from grokbook.magic import GrokMagics
from grokbook.sim import serve_in_background

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN_LIMIT = 2
#: The address README blocks use for ``grokbook sim --port 8000``.
SIM_SERVER_URL = "http://127.0.0.1:8000/v1"

_FENCE = re.compile(r"^```([\w-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*(not-run|output)\s*:\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    lang: str
    source: str
    line: int  # 1-based line of the opening fence
    marker: str | None = None  # "not-run" or "output": the HTML comment right before the fence
    reason: str = ""

    @property
    def runnable(self) -> bool:
        if self.marker == "not-run":
            return False
        return self.lang == "python" or (self.lang == "text" and self.source.startswith("%%"))


def parse_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, each with the marker comment before it."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise AssertionError(f"README.md:{start + 1}: a code block is never closed")
        index += 1  # the closing fence
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = _MARKER.match(previous.strip())
        blocks.append(
            Block(
                lang=match.group(1),
                source="\n".join(body) + "\n",
                line=start + 1,
                marker=marker.group(1) if marker else None,
                reason=marker.group(2) if marker else "",
            )
        )
    return blocks


_NO_CLAIM = object()


def claimed_value(comment: str) -> Any:
    """The literal a comment claims (``# (True, 0.0)``; prose may follow a ``;``), else
    ``_NO_CLAIM``."""
    text = comment.lstrip("#").strip()
    for candidate in (text, text.partition(";")[0].strip()):
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return _NO_CLAIM


def _comments(code: str) -> dict[int, str]:
    """Line number -> the comment on that line."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def run_block(shell: Any, block: Block, source: str) -> int:
    """Run one block statement by statement in the shell's namespace; check every claimed
    value. Returns how many claims were checked."""
    code = shell.transform_cell(source)  # %magics to Python; other lines keep their numbers
    where = f"README.md:{block.line}"
    tree = ast.parse(code, filename=where)
    comments = _comments(code)
    namespace = shell.user_ns
    checked = 0
    for statement in tree.body:
        if isinstance(statement, ast.Expr):
            value = eval(compile(ast.Expression(statement.value), where, "eval"), namespace)
            assert statement.end_lineno is not None
            claim = claimed_value(comments.get(statement.end_lineno, ""))
            if claim is not _NO_CLAIM:
                line = block.line + statement.end_lineno
                assert value == claim, f"README.md:{line} claims {claim!r}; it is {value!r}"
                checked += 1
        else:
            exec(compile(ast.Module([statement], type_ignores=[]), where, "exec"), namespace)
    return checked


@pytest.fixture
def fresh_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """The InteractiveShell with an empty namespace, in a temporary folder; a %%grok error
    fails the test (the magic shows errors instead of raising them)."""
    monkeypatch.chdir(tmp_path)

    def fail(self: GrokMagics, message: str, *, exc: BaseException | None = None) -> None:
        raise AssertionError(f"%%grok showed an error: {message}")

    monkeypatch.setattr(GrokMagics, "show_error", fail)
    shell = InteractiveShell.instance()
    shell.reset()
    try:
        yield shell
    finally:
        if "grokbook" in shell.extension_manager.loaded:
            shell.run_line_magic("unload_ext", "grokbook")
        shell.config.pop("GrokMagics", None)
        shell.reset()


def test_the_readme_python_blocks_run_and_their_claims_hold(
    fresh_shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = parse_blocks(README.read_text(encoding="utf-8"))
    runnable = [b for b in blocks if b.runnable]
    not_run = [b for b in blocks if b.marker == "not-run"]
    assert len(runnable) >= 8, [b.line for b in runnable]
    assert len(not_run) <= NOT_RUN_LIMIT, f"too many not-run blocks: {[b.line for b in not_run]}"
    assert all(b.reason for b in not_run), "a not-run marker must say why"
    shown = [before for before, after in itertools.pairwise(blocks) if after.marker == "output"]
    commands = [b for b in shown if b.lang in _SHELL_LANGS]
    assert commands, "a command's output is shown and checked"
    printed: dict[int, str] = {}
    claims = 0
    capsys.readouterr()
    with serve_in_background(latency="none") as server:
        for block in sorted([*runnable, *commands], key=lambda b: b.line):
            try:
                if block in commands:
                    run_command(block)
                else:
                    source = block.source.replace(SIM_SERVER_URL, server.base_url)
                    claims += run_block(fresh_shell, block, source)
            except Exception as exc:
                raise AssertionError(f"README.md:{block.line}: the block fails: {exc!r}") from exc
            printed[block.line] = capsys.readouterr().out
    assert claims >= 3  # the literal claims above are really checked

    outputs = [b for b in blocks if b.marker == "output"]
    assert outputs, "the streaming example's output is shown and checked"
    for block in outputs:
        before = [b for b in [*runnable, *commands] if b.line < block.line]
        assert before, f"README.md:{block.line}: an output block needs a block above it"
        actual = printed[max(before, key=lambda b: b.line).line]
        assert _masked(_lines(actual)) == _masked(_lines(block.source)), (
            f"README.md:{block.line} shows an output the block above does not print; "
            f"it prints:\n{actual}"
        )


_SHELL_LANGS = ("bash", "sh", "shell", "console")


def run_command(block: Block) -> None:
    """The one ``grokbook ...`` command of a shell block, run by the CLI's own main()."""
    from grokbook.cli import main

    lines = [line for line in block.source.splitlines() if shlex.split(line, comments=True)]
    assert len(lines) == 1, f"README.md:{block.line}: a shown output needs one command"
    argv = shlex.split(lines[0], comments=True)
    assert argv[0] == "grokbook", f"README.md:{block.line}: only grokbook commands are run"
    assert main(argv[1:]) == 0, f"README.md:{block.line}: {lines[0]} failed"


#: The header of a column of wall-clock times (masked when outputs are compared).
_WALL_CLOCK = "latency s"


def _masked(lines: list[str]) -> list[str]:
    """``lines`` with the values under each ``latency s`` header replaced by ``#``s (a table
    runs from its header to the next blank line; values are right-aligned under it)."""
    out: list[str] = []
    end: int | None = None
    for line in lines:
        if _WALL_CLOCK in line:
            end = line.index(_WALL_CLOCK) + len(_WALL_CLOCK)
        elif not line.strip():
            end = None
        elif end is not None and len(line) >= end:
            value = re.search(r"\S+$", line[:end])
            if value:
                line = line[: value.start()] + "#" * len(value.group()) + line[end:]
        out.append(line)
    return out


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def test_the_readme_streaming_example_prints_reasoning_then_answer_on_their_own_lines(
    fresh_shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = [b for b in parse_blocks(README.read_text(encoding="utf-8")) if b.runnable]
    stream_block = next(b for b in blocks if "client.stream(" in b.source)
    run_block(fresh_shell, blocks[0], blocks[0].source)  # defines client
    capsys.readouterr()
    run_block(fresh_shell, stream_block, stream_block.source)
    lines = capsys.readouterr().out.splitlines()
    completion = fresh_shell.user_ns["stream"].completion
    assert completion.reasoning and completion.content
    reasoning_end = lines.index(completion.reasoning.splitlines()[-1])
    answer = lines.index(completion.content)  # the answer is a line of its own
    assert reasoning_end < answer
    assert completion.reasoning.splitlines()[0] in "\n".join(lines[:reasoning_end])


def _shell_commands(text: str) -> list[list[str]]:
    """Commands in ```bash blocks and in inline code (`grokbook models`), as argv lists;
    usage synopses (``[PROMPT ...]``) are left out."""
    commands: list[list[str]] = []
    for block in parse_blocks(text):
        if block.lang in _SHELL_LANGS:
            for line in block.source.splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    commands.append(words)
    for span in re.findall(r"(?<!`)`((?:grokbook|\.venv/bin/grokbook|make) [^`\n]+)`", text):
        if "[" not in span and "..." not in span:
            commands.append(shlex.split(span))
    return commands


def test_every_readme_command_parses_and_every_make_target_exists() -> None:
    commands = _shell_commands(README.read_text(encoding="utf-8"))
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    parser = build_parser()
    grokbook_commands = [c for c in commands if Path(c[0]).name == "grokbook"]
    make_commands = [c for c in commands if c[0] == "make"]
    assert len(grokbook_commands) >= 8, grokbook_commands
    assert len(make_commands) >= 6, make_commands
    for argv in grokbook_commands:
        try:
            parser.parse_args(argv[1:])
        except SystemExit as exc:
            raise AssertionError(f"README command does not parse: {shlex.join(argv)}") from exc
    for argv in make_commands:
        for word in argv[1:]:
            if not word.startswith("-") and "=" not in word:
                assert word in targets, f"README runs `make {word}`: no such Makefile target"


def test_the_readme_venv_command_runs() -> None:
    """``.venv/bin/grokbook ...`` as the README writes it, with this environment's script
    (``make`` installs grokbook into .venv, whose bin/ holds it next to python)."""
    text = README.read_text(encoding="utf-8")
    venv_commands = [c for c in _shell_commands(text) if c[0] == ".venv/bin/grokbook"]
    assert venv_commands, "the README says how to run the CLI from .venv"
    script = Path(sys.executable).parent / "grokbook"
    assert script.is_file(), f"no grokbook script next to {sys.executable}"
    for argv in venv_commands:
        done = subprocess.run(
            [str(script), *argv[1:]], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "303" in done.stdout


def test_markers_and_claims_are_read_as_documented() -> None:
    text = (
        "<!-- not-run: needs a real key -->\n```python\nx = 1\n```\n\n"
        "```python\ny = 2   # 2\n```\n<!-- output: printed -->\n\n```text\n2\n```\n"
        "```text\n%%grok\nhi\n```\n```bash\ngrokbook models\n```\n"
    )
    blocks = parse_blocks(text)
    assert [(b.lang, b.marker, b.runnable) for b in blocks] == [
        ("python", "not-run", False),
        ("python", None, True),
        ("text", "output", False),
        ("text", None, True),
        ("bash", None, False),
    ]
    assert blocks[0].reason == "needs a real key"
    assert claimed_value("# ('grok-4.3', 'low'); both settable") == ("grok-4.3", "low")
    assert claimed_value("# True, 0.0, True") == (True, 0.0, True)
    assert claimed_value("# the answer") is _NO_CLAIM
    assert claimed_value("# xAI's extra field") is _NO_CLAIM


def test_a_false_claim_fails(fresh_shell: Any) -> None:
    block = Block("python", "1 + 1   # 3\n", line=1)
    with pytest.raises(AssertionError, match="claims 3; it is 2"):
        run_block(fresh_shell, block, block.source)
