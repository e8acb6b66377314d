"""Parse a command's options against an allow-list of the options known to only read.

A ``Flags`` table lists, for one program, the options that read and nothing else, and how each
takes its value. ``Flags.split`` reads an argument list the way getopt and git's option parser
do (combined short flags, attached or separate values, ``--name=value``, ``--``) and returns
the operands, or None as soon as anything is not in the table. An option spelled any other way
(an abbreviation such as ``--out`` for ``--output``, a value where none is taken) is therefore
"not understood", which only means the user is asked.

When unsure whether an option takes a value, the table says it does not: the word after it is
then checked as an option or operand itself, never skipped unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"-\d+")
#: What reading one option word gives: the words it takes after it, and the options in it.
_Read = tuple[int, list[tuple[str, str | None]]]


@dataclass(frozen=True)
class Flags:
    """The read-only options of one program.

    ``short``: letters without a value; ``short_value``: letters taking a value (rest of the
    word or the next word); ``short_attached``: letters whose optional value can only be
    attached (``-M50%``, ``-uno``). ``long``/``long_value``/``long_optional``: the same for
    ``--name`` options, an optional value only as ``--name=value``. ``numeric``: ``-5`` is a
    count (``head -5``).
    """

    short: str = ""
    short_value: str = ""
    short_attached: str = ""
    long: frozenset[str] = frozenset()
    long_value: frozenset[str] = frozenset()
    long_optional: frozenset[str] = frozenset()
    numeric: bool = False

    def split(self, args: list[str]) -> list[str] | None:
        """The operands of ``args``, or None when an option is not in this table."""
        parsed = self.parse(args)
        return None if parsed is None else parsed[0]

    def parse(self, args: list[str]) -> tuple[list[str], list[tuple[str, str | None]]] | None:
        """``(operands, [(option, value or None), ...])`` of ``args`` (an option is named by
        its letter or its long name), or None when an option is not in this table."""
        operands: list[str] = []
        found: list[tuple[str, str | None]] = []
        index = 0
        while index < len(args):
            word = args[index]
            index += 1
            if word == "--":
                operands += args[index:]
                break
            if word == "-" or not word.startswith("-"):
                operands.append(word)
                continue
            if self.numeric and _NUMBER.fullmatch(word):
                continue
            if word.startswith("--"):
                read = self._long(word[2:], args, index)
            else:
                read = self._short(word[1:], args, index)
            if read is None:
                return None
            taken, options = read
            index += taken
            found += options
        return operands, found

    def _long(self, body: str, args: list[str], index: int) -> _Read | None:
        """How many following words ``--body`` takes, and the option; None if not allowed."""
        name, has_value, value = body.partition("=")
        if name in self.long_value:
            if has_value:
                return 0, [(name, value)]
            return (1, [(name, args[index])]) if index < len(args) else None
        if name in self.long_optional:
            return 0, [(name, value if has_value else None)]
        if name in self.long and not has_value:
            return 0, [(name, None)]
        return None

    def _short(self, letters: str, args: list[str], index: int) -> _Read | None:
        """The same for a word of combined short options (``-uo FILE``, ``-n5``)."""
        options: list[tuple[str, str | None]] = []
        for position, letter in enumerate(letters):
            rest = letters[position + 1 :]
            if letter in self.short:  # first: a letter listed twice takes no value (safe side)
                options.append((letter, None))
                continue
            if letter in self.short_attached:
                return 0, [*options, (letter, rest or None)]  # the rest is its value
            if letter in self.short_value:
                if rest:
                    return 0, [*options, (letter, rest)]  # value attached: -n5
                if index < len(args):
                    return 1, [*options, (letter, args[index])]
                return None
            return None
        return (0, options) if options else None


def flags(
    short: str = "",
    *,
    value: str = "",
    attached: str = "",
    long: str = "",
    long_value: str = "",
    long_optional: str = "",
    numeric: bool = False,
) -> Flags:
    """A ``Flags`` table from space-separated option names (without dashes)."""
    return Flags(
        short=short,
        short_value=value,
        short_attached=attached,
        long=frozenset(long.split()),
        long_value=frozenset(long_value.split()),
        long_optional=frozenset(long_optional.split()),
        numeric=numeric,
    )


def merged(*tables: Flags) -> Flags:
    """One table allowing everything any of ``tables`` allows. Where they disagree on whether
    an option takes a value (``git shortlog -n`` does not, ``git log -n 5`` does), it takes
    none: the next word is then checked rather than skipped."""
    plain = "".join(t.short for t in tables)
    long = frozenset().union(*(t.long for t in tables))
    optional = frozenset().union(*(t.long_optional for t in tables))
    value = "".join(c for t in tables for c in t.short_value if c not in plain)
    attached = "".join(c for t in tables for c in t.short_attached if c not in plain + value)
    return Flags(
        short=plain,
        short_value=value,
        short_attached=attached,
        long=long,
        long_value=frozenset().union(*(t.long_value for t in tables)) - long - optional,
        long_optional=optional,
        numeric=any(t.numeric for t in tables),
    )


__all__ = ["Flags", "flags", "merged"]
