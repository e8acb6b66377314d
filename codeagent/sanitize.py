"""Hostile text made harmless: terminal control sequences and the API key.

Two jobs, both for text that came from the model, a command or a server:

- ``terminal_safe`` turns text into something a terminal only *prints*. Complete CSI sequences
  (colours, cursor moves, clear screen) are dropped; every other C0 control except ``\\n`` and
  ``\\t``, DEL, every C1 control and the bidirectional overrides become visible placeholders
  (``␛``, ``␇``, ``<U+009B>``, ``<U+202E>``), so an OSC 52 clipboard write or an OSC 0 title shows
  up as inert text instead of acting. It is stateless, so a sequence split across two streamed
  chunks is still neutralised (each half on its own is harmless).
- ``scrub_secrets`` replaces registered secrets (the API key) with ``[redacted]``. A value too
  short or too plain to be a real key (``demo``, ``X``) is never a pattern: replacing it would
  rewrite ordinary text. ``register_secret`` is called by ``Settings`` whenever it holds a key,
  so every process that has the key knows what to scrub.
"""

from __future__ import annotations

import re
import threading
from typing import Any

REDACTED = "[redacted]"
#: Shorter values are not treated as secrets: they occur in ordinary text.
MIN_SECRET_LENGTH = 20

#: A complete CSI sequence (7-bit ``ESC [`` or 8-bit ``\x9b``): parameters, intermediates, final.
_CSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]")
#: Everything a terminal may act on that is not a plain newline or tab, plus bidi overrides.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n?")
#: Lone surrogates (a broken stream can carry them) cannot be encoded for any terminal.
_SURROGATE = re.compile(r"[\ud800-\udfff]")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _placeholder(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures" block: ␛ ␇ ␈ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def terminal_safe(text: str) -> str:
    """``text`` with nothing left that a terminal would execute (see the module docstring).

    Ordinary Unicode, newlines and tabs are kept; a carriage return becomes a newline (a lone
    ``\\r`` could otherwise overwrite what was printed before it); a lone surrogate becomes
    U+FFFD (printing it would raise ``UnicodeEncodeError``).
    """
    if not text:
        return text
    text = _CSI.sub("", text)
    text = _NEWLINES.sub("\n", text)
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub(_placeholder, text)


def is_secret_shaped(value: str | None) -> bool:
    """Whether ``value`` is long and plain enough to be a real key (and so safe to search for)."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return False
    return not any(ch.isspace() for ch in value)


def register_secret(value: str | None) -> None:
    """Scrub ``value`` from every message from now on (ignored unless ``is_secret_shaped``)."""
    global _pattern
    if value is None or not is_secret_shaped(value):
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a key that contains another registered key is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(_secret_regex(s) for s in ordered))


def _secret_regex(secret: str) -> str:
    """The key, or its first ``MIN_SECRET_LENGTH`` characters followed by any run of the key's
    own characters: error texts are often cut short (``body[:200]``), mid-key."""
    alphabet = "".join(sorted(set(secret)))
    return f"{re.escape(secret)}|{re.escape(secret[:MIN_SECRET_LENGTH])}[{re.escape(alphabet)}]*"


def scrub_secrets(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def scrub_structure(value: Any, keep: frozenset[str] = frozenset({"encrypted_content"})) -> Any:
    """A copy of a JSON-like ``value`` with secrets scrubbed from every string, except under the
    keys in ``keep`` (signed content the server checks byte for byte is never edited)."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return scrub_secrets(value)
    if isinstance(value, dict):
        return {k: (v if k in keep else scrub_structure(v, keep)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_structure(v, keep) for v in value]
    return value


def display_text(text: str) -> str:
    """Text from the model, a command or a server, ready for a terminal or a widget: secrets
    scrubbed and control sequences neutralised."""
    return terminal_safe(scrub_secrets(text))


__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "display_text",
    "is_secret_shaped",
    "register_secret",
    "scrub_secrets",
    "scrub_structure",
    "terminal_safe",
]
