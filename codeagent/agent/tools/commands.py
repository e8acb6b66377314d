"""Decide whether a command line only reads, so it may run without asking.

An allow-list of programs *and* their options (``read_only_programs``, ``read_only_git``):
a command counts as read-only only when every part of it is a known reading program and every
option is one known to only read. Anything the check cannot see through (an option it does not
know, command or process substitution, variables, environment assignments, redirection to a
file, background jobs, subshells, newlines) makes the answer "not read-only", which only means
the user is asked.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from codeagent.agent.tools.read_only_git import git_read_only
from codeagent.agent.tools.read_only_programs import PROGRAMS, Check

# Redirections that write nothing: discarding output or merging stderr into stdout.
_HARMLESS_REDIRECT = re.compile(r"(?:(?:[12]?>>?|&>)\s*/dev/null|[12]>&[12])(?=\s|$|[;&|])")
_SEPARATORS = {"|", "&&", "||", ";"}

#: Every program that may run without asking, with a check of its arguments.
_READERS: dict[str, Check] = {**PROGRAMS, "git": git_read_only}


_OPERATOR_CHARS = "|&;<>()"
_MARK = "\x01"  # prefixes operator tokens found outside quotes; refused in the input itself


def _unquoted_scan(command: str) -> str | None:
    """``command`` with harmless redirections removed and every operator outside quotes
    turned into a separate marked word, or None when it uses a construct whose effect cannot
    be judged statically (``$``, backticks, newlines, control characters)."""
    if any(c in command for c in "\n\r`\x00" + _MARK):
        return None
    out: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(command):
        char = command[index]
        if quote == "'":
            if char == "'":
                quote = None
        elif char == "$":
            # Expansions (variables, $(...), $((...))) are decided at run time.
            return None
        elif quote == '"':
            if char == '"':
                quote = None
            elif char == "\\":
                out.append(command[index : index + 2])
                index += 2
                continue
        elif char in "'\"":
            quote = char
        elif char == "\\":
            out.append(command[index : index + 2])
            index += 2
            continue
        else:
            match = _HARMLESS_REDIRECT.match(command, index)
            if match and (index == 0 or command[index - 1].isspace()):
                out.append(" ")
                index = match.end()
                continue
            if char in _OPERATOR_CHARS:
                end = index
                while end < len(command) and command[end] in _OPERATOR_CHARS:
                    end += 1
                out.append(f" {_MARK}{command[index:end]} ")
                index = end
                continue
        out.append(char)
        index += 1
    return None if quote else "".join(out)


def is_read_only(command: str) -> bool:
    """True only when ``command`` certainly writes nothing and starts nothing else.

    Pipelines and ``&&``/``||``/``;`` chains are read-only when every part is; redirection to a
    file, ``$`` expansions, command substitution, subshells and background jobs never are.
    """
    if not isinstance(command, str) or not command.strip():
        return False
    cleaned = _unquoted_scan(command)
    if cleaned is None:
        return False
    try:
        tokens = shlex.split(cleaned)
    except ValueError:
        return False
    segment: list[str] = []
    segments: list[list[str]] = []
    for token in tokens:
        if token.startswith(_MARK):
            if token[1:] not in _SEPARATORS or not segment:
                return False  # redirection, subshell, background job, or an odd operator
            segments.append(segment)
            segment = []
        else:
            segment.append(token)
    if not segment:
        return False
    segments.append(segment)
    return all(_segment_read_only(part) for part in segments)


def _segment_read_only(words: list[str]) -> bool:
    name, args = words[0], words[1:]
    check = _READERS.get(name)
    return check is not None and check(args)


def path_outside(command: str, root: Path) -> str | None:
    """The first argument of ``command`` that names a path outside ``root``, or None.

    Without a sandbox a read-only command still sees the whole machine (``cat ~/.ssh/id_rsa``),
    so such a command is asked about. Absolute paths, ``~`` and ``..`` are resolved, and so are
    relative names, through any symlink in the repository that leads out of it. Arguments that
    only look like paths (a ``grep`` pattern such as ``/api/``) are asked about too: erring
    towards a question is the safe side.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    real_root = os.path.realpath(root)
    for word in words[1:]:
        value = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
        if not value or value.startswith("-") or value in _SAFE_DEVICES:
            continue
        candidate = os.path.expanduser(value) if value.startswith("~") else value
        real = os.path.realpath(os.path.join(real_root, candidate))
        if real != real_root and not real.startswith(real_root + os.sep):
            return word
    return None


#: Paths outside the repository that reveal nothing.
_SAFE_DEVICES = {"/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr"}


__all__ = ["is_read_only", "path_outside"]
