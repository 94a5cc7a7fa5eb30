"""grokbook's version: a leaf module (the package, the client's User-Agent, the CLI and
reports read it)."""

__version__ = "0.1.0"
