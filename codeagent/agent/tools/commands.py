"""Decide whether a command line only reads, so it may run without asking.

Conservative on purpose: a command counts as read-only only when every part of it is a known
reading command with harmless options. Anything the check cannot see through (command or
process substitution, variables, redirection to a file, background jobs, subshells, newlines)
makes the answer "not read-only", which only means the user is asked.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

# Redirections that write nothing: discarding output or merging stderr into stdout.
_HARMLESS_REDIRECT = re.compile(r"(?:(?:[12]?>>?|&>)\s*/dev/null|[12]>&[12])(?=\s|$|[;&|])")
_SEPARATORS = {"|", "&&", "||", ";"}

Check = Callable[[list[str]], bool]


def _no_args(args: list[str]) -> bool:
    return not args


def _any(args: list[str]) -> bool:
    return True


def _without(*bad: str) -> Check:
    """Allowed unless an argument is one of ``bad`` or starts with ``bad=``."""

    def check(args: list[str]) -> bool:
        return not any(a in bad or a.split("=", 1)[0] in bad for a in args)

    return check


def _sed(args: list[str]) -> bool:
    # Only printing: -n with a plain line-range "p" script, never -i, w, e or other commands.
    if any(a.startswith(("-i", "--in-place", "-e", "--expression", "-f", "--file")) for a in args):
        return False
    if "-n" not in args and "--quiet" not in args and "--silent" not in args:
        return False
    scripts = [a for a in args if not a.startswith("-")]
    return bool(scripts) and re.fullmatch(r"(\d+|\$)(,(\d+|\$))?p", scripts[0]) is not None


def _find(args: list[str]) -> bool:
    bad = {"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf"}
    return not any(a in bad or a == "-fls" for a in args)


def _sort(args: list[str]) -> bool:
    # -o writes a file; --compress-program runs one.
    return not any(a.startswith(("-o", "--output", "--compress-program")) for a in args)


def _no_option(*prefixes: str) -> Check:
    """Allowed unless an argument starts with one of ``prefixes`` (e.g. ``tree -o FILE``)."""

    def check(args: list[str]) -> bool:
        return not any(a.startswith(prefixes) for a in args)

    return check


def _uniq(args: list[str]) -> bool:
    # A second file operand is an output file.
    return len([a for a in args if not a.startswith("-")]) <= 1


def _date(args: list[str]) -> bool:
    return not any(a.startswith(("-s", "--set")) for a in args)


_GIT_READERS: dict[str, Check] = {
    "status": _any,
    "diff": _without("--output", "--ext-diff"),
    "log": _without("--output", "--ext-diff"),
    "show": _without("--output", "--ext-diff"),
    "blame": _any,
    "grep": _without("--open-files-in-pager", "-O"),
    "ls-files": _any,
    "ls-tree": _any,
    "rev-parse": _any,
    "describe": _any,
    "shortlog": _any,
    "cat-file": _any,
    "reflog": lambda args: not args or args[0] == "show" or args[0].startswith("-"),
    "branch": lambda args: all(a in ("-a", "-r", "-v", "-vv", "--list", "--all") for a in args),
    "tag": lambda args: all(a in ("-l", "--list") for a in args),
    "remote": lambda args: all(a == "-v" for a in args),
}


def _git(args: list[str]) -> bool:
    # Global options such as -c or -C could change what runs; only --no-pager is harmless.
    while args and args[0] == "--no-pager":
        args = args[1:]
    if not args or args[0] not in _GIT_READERS:
        return False
    return _GIT_READERS[args[0]](args[1:])


_READERS: dict[str, Check] = {
    **dict.fromkeys(
        ["ls", "cat", "head", "tail", "wc", "grep", "egrep", "fgrep", "stat", "du", "df"],
        _any,
    ),
    **dict.fromkeys(
        ["diff", "cmp", "basename", "dirname", "realpath", "readlink", "cut", "tr", "nl"],
        _any,
    ),
    **dict.fromkeys(["echo", "pwd", "which", "whoami", "id", "uname", "true", "false"], _any),
    **dict.fromkeys(["printenv", "cd", "type", "md5sum", "sha256sum", "column"], _any),
    "tree": _no_option("-o"),  # -o FILE writes the listing to a file
    "file": _no_option("-C", "--compile"),  # -C writes a compiled magic file
    "hostname": _no_args,
    "env": _no_args,
    "rg": _without("--pre", "--pre-glob"),
    "sed": _sed,
    "find": _find,
    "sort": _sort,
    "uniq": _uniq,
    "date": _date,
    "git": _git,
}


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


__all__ = ["is_read_only"]
