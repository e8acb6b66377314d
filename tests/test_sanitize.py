"""Hostile text made harmless: control sequences never survive, secrets are scrubbed, ordinary
text (Unicode, newlines, tabs, short words that happen to equal a toy key) is left alone."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from codeagent.sanitize import (
    REDACTED,
    display_text,
    is_secret_shaped,
    register_secret,
    scrub_secrets,
    scrub_structure,
    terminal_safe,
)

#: What a terminal may act on: every C0 control but newline and tab, DEL, C1.
ACTIVE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # write "rm -rf ~" to the clipboard
OSC0 = "\x1b]0;pwned\x1b\\"  # set the window title
CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
C1_CSI = "\x9b2J"  # the 8-bit form of CSI


def test_the_reported_sequences_become_inert_text() -> None:
    text = f"before {OSC52}{OSC0}{CLEAR}{C1_CSI} after"
    safe = terminal_safe(text)
    assert not ACTIVE.search(safe)
    assert safe.startswith("before ") and safe.endswith(" after")
    # what was there stays visible (nothing of the user's text is lost), but cannot act
    assert "␛]52;c;cm0gLXJmIH4K␇" in safe
    assert "␛]0;pwned␛\\" in safe
    assert "2J" not in safe  # complete CSI sequences (7- or 8-bit) are simply dropped
    assert terminal_safe("\x9d0;title\x9c") == "<U+009D>0;title<U+009C>"


def test_ordinary_text_is_unchanged() -> None:
    text = "naïve café — 日本語 ✓ 🚀\n\tindented\n"
    assert terminal_safe(text) == text


def test_colour_codes_are_dropped_and_carriage_returns_become_newlines() -> None:
    assert terminal_safe("\x1b[31mred\x1b[0m") == "red"
    assert terminal_safe("a\r\nb") == "a\nb"
    # a lone carriage return would let later text overwrite what the user already read
    assert terminal_safe("rm -rf /\rls") == "rm -rf /\nls"


def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    safe = terminal_safe("broken \ud83d stream")
    assert safe == "broken \ufffd stream"
    safe.encode("utf-8")  # printable on any UTF-8 terminal


def test_bidi_overrides_are_shown_not_obeyed() -> None:
    assert terminal_safe("ls \u202etxt.exe") == "ls <U+202E>txt.exe"


def test_a_sequence_split_across_stream_chunks_is_still_neutralised() -> None:
    chunks = ["hello \x1b", "]52;c;SGk=", "\x07 world \x1b[", "2J"]
    shown = "".join(terminal_safe(chunk) for chunk in chunks)
    assert not ACTIVE.search(shown)
    assert shown.startswith("hello ") and "world" in shown


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_nothing_active_ever_survives(text: str) -> None:
    safe = terminal_safe(text)
    assert not ACTIVE.search(safe)
    assert "\u202e" not in safe


def test_only_key_shaped_secrets_are_patterns() -> None:
    assert not is_secret_shaped("X")
    assert not is_secret_shaped("demo")
    assert not is_secret_shaped("a key with spaces in it, long")
    assert is_secret_shaped("sk-proj-" + "k" * 40)
    register_secret("X")
    register_secret("demo")
    assert scrub_secrets("eXtra demo eXamples") == "eXtra demo eXamples"


def test_registered_key_is_scrubbed_but_signed_content_is_not() -> None:
    key = "sk-proj-" + "Zq9" * 14
    register_secret(key)
    assert scrub_secrets(f"Incorrect API key provided: {key}.") == (
        f"Incorrect API key provided: {REDACTED}."
    )
    signed = {"encrypted_content": f"abc{key}def", "text": f"x {key}", "list": [key, 3]}
    assert scrub_structure(signed) == {
        "encrypted_content": f"abc{key}def",
        "text": f"x {REDACTED}",
        "list": [REDACTED, 3],
    }
    assert display_text(f"\x1b]0;{key}\x07") == f"␛]0;{REDACTED}␇"


def test_a_key_cut_short_in_a_message_is_still_scrubbed() -> None:
    key = "sk-proj-" + "Tr7u" * 10
    register_secret(key)
    cut = f'The server sent a frame that is not valid JSON: \'{{"echo": "{key[:31]}\''
    assert key[:20] not in scrub_secrets(cut)
    assert scrub_secrets(cut).endswith(f"{REDACTED}'")
    assert scrub_secrets("sk-proj-Tr7u and more") == "sk-proj-Tr7u and more"  # too short a prefix
