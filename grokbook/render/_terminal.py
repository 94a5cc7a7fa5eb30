"""Model text made safe for a terminal: escape sequences and control characters removed."""

from __future__ import annotations

import re

ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC: title, links, clipboard
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)"  # DCS, SOS, PM, APC
    # Every other escape (character sets, keypad modes, reset); not the introducers above.
    r"|\x1b[ -/]*[0-OQ-WYZ\\`-~]"
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Where a sequence may begin: ESC and the C1 introducers.
INTRODUCER = re.compile(r"[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
#: An unterminated sequence longer than this is not waited for (it is stripped as it is).
HOLD_LIMIT = 256


def terminal_text(text: str) -> str:
    """Model text made safe for a terminal: escape sequences (ANSI CSI such as ``\\x1b[2J``,
    OSC such as ``\\x1b]0;title\\x07``, DCS, ...) removed whole, and every other control
    character (carriage return, backspace, BEL, C1) removed; tabs and newlines are kept."""
    return CONTROL.sub("", ESCAPE_SEQUENCE.sub("", text))
