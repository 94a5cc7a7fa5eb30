"""Inline styles every rich display shares (notebook themes' variables, with fallbacks)."""

MUTED = "color: var(--jp-ui-font-color2, #666); font-size: 0.85em;"
BOX = "border-left: 3px solid var(--jp-border-color1, #ccc); padding: 0.2em 0.6em; margin: 0.3em 0;"
PRE = (
    "white-space: pre-wrap; word-break: break-word; margin: 0.3em 0; "
    "font-family: var(--jp-code-font-family, monospace); font-size: 0.9em;"
)
NOTICE = (
    "border-left: 3px solid var(--jp-warn-color1, #e0a000); padding: 0.2em 0.6em; "
    "margin: 0.3em 0; font-size: 0.9em;"
)
ERROR_BOX = (
    "border-left: 3px solid var(--jp-error-color1, #d32f2f); padding: 0.4em 0.8em; "
    "margin: 0.3em 0; background: var(--jp-error-color3, #fdecea); color: #1a1a1a;"
)
