"""The user's keymap: ``[keymap]`` in the config maps binding ids to keys.

::

    [keymap]
    app.quit = "ctrl+x"             # a dotted key is the binding id "app.quit"
    "approval.approve" = "y,ctrl+y"  # several keys: comma-separated

Every ``Binding`` in the TUI has an id (``BINDING_IDS`` lists them; a test keeps the list true),
and the checked keymap goes to ``App.set_keymap``, which replaces each named binding's keys. An
unknown id or a key Textual cannot name is reported by name; the rest of the keymap still
applies.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from textual.keys import KEY_NAME_REPLACEMENTS, Keys

#: binding id -> what it does (shown when an id is unknown); keep in step with the BINDINGS
BINDING_IDS: dict[str, str] = {
    "app.interrupt": "interrupt the running turn (Esc)",
    "app.back": "step back to the prompt (Esc)",
    "app.focus_approval": "move to a waiting approval (F2)",
    "app.latest": "jump to the latest output (End)",
    "app.quit": "quit (Ctrl+Q)",
    "prompt.submit": "send the message (Enter)",
    "prompt.steer": "steer the running turn with the message (Enter while a turn runs)",
    "prompt.queue": "queue the message for after the running turn (Tab while a turn runs)",
    "prompt.newline": "add a line (Shift+Enter, Ctrl+J)",
    "prompt.complete": "complete a /command or @file (Tab)",
    "approval.approve": "approve (y)",
    "approval.reject": "reject (n)",
    "approval.session": "approve for the session (a)",
    "approval.cancel": "leave the approval (Esc)",
    "diff.next_hunk": "next hunk (j)",
    "diff.prev_hunk": "previous hunk (k)",
    "diff.toggle_hunk": "select or leave out a hunk (space)",
}

MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
_NAMED_KEYS = {key.value for key in Keys if "+" not in key.value and "<" not in key.value}
_NAMED_KEYS |= set(KEY_NAME_REPLACEMENTS.values())


def _key_ok(key: str) -> bool:
    *mods, base = key.split("+")
    if not base or any(m not in MODIFIERS for m in mods):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    if base in _NAMED_KEYS:
        return True
    try:  # Textual's long names for characters: question_mark, full_stop...
        unicodedata.lookup(base.replace("_", " "))
    except KeyError:
        return False
    return True


def check_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The usable entries of ``keymap`` and one readable message per unusable entry."""
    good: dict[str, str] = {}
    errors: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in BINDING_IDS:
            errors.append(f"unknown binding '{binding_id}'")
            continue
        parts = [part.strip().lower() for part in str(keys).split(",")]
        bad = [part for part in parts if not _key_ok(part)]
        if bad:
            errors.append(f"{binding_id}: '{bad[0]}' is not a key (e.g. ctrl+x, f5, alt+enter)")
            continue
        good[binding_id] = ",".join(parts)
    return good, errors


def keymap_help() -> str:
    """The binding ids a keymap may name, one per line."""
    return "\n".join(f"  {binding_id}: {what}" for binding_id, what in BINDING_IDS.items())
