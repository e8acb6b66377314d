"""Which commands may run without asking: only those that certainly just read."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeagent.agent.tools.command_flags import Flags
from codeagent.agent.tools.commands import is_read_only
from codeagent.agent.tools.read_only_git import SUBCOMMANDS
from codeagent.agent.tools.read_only_programs import PROGRAMS, Options


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "cat src/app.py",
        "grep -rn 'def main' src",
        "rg fizz_buzz",
        "git status",
        "git --no-pager diff HEAD~1 -- src",
        "git log --oneline -5",
        "git show HEAD:src/app.py",
        "git branch -a",
        "sed -n 1,40p src/app.py",
        "sed -n '10,$p' f.py",
        "head -n 20 README.md",
        "tail -n 5 out.log",
        "wc -l src/*.py",
        "find . -name '*.py' -type f",
        "cat a | grep x | head -5",
        "cat a|sort|uniq -c",
        "cd src && ls",
        "ls || true",
        "ls 2>/dev/null",
        "grep x f 2>&1 | head",
        'grep "a;b|c>d" f',
        "grep '$HOME' f",
        "pwd",
        "tree -L 2 src",
        "file src/app.py",
    ],
)
def test_reading_commands_are_read_only(command):
    assert is_read_only(command)


@pytest.mark.parametrize(
    "command",
    [
        "",
        "   ",
        "rm -rf build",
        "python -m pytest",
        "echo hi > f",
        "echo hi >> f",
        "cat <f",
        "ls; rm x",
        "ls && rm x",
        "ls | xargs rm",
        "ls | sh",
        "cat f | tee out",
        "ls &",
        "(ls)",
        "ls;",
        "echo $(rm x)",
        "echo `rm x`",
        'grep "$HOME" f',
        "cat $FILE",
        "ls\nrm x",
        "FOO=1 ls",
        "sed -i s/a/b/ f",
        "sed s/a/b/ f",
        "sed -n 1w/tmp/x f",
        "sed -n 1p -e 'w x' f",
        "find . -delete",
        "find . -exec rm {} ;",
        'find . "|" cat -delete',
        "sort -o out in",
        "ls >/dev/nullx",
        "ls 2>&1x",
        "sort --compress-program=sh big",
        "tree -o listing.txt",
        "file -C -m magic",
        "uniq in out",
        "rg --pre sh pattern",
        "git commit -m x",
        "git push",
        "git -c core.pager=evil log",
        "git -C /elsewhere status",
        "git branch -D main",
        "git tag v1",
        "git diff --output=patch.txt",
        "git log --ext-diff",
        "env rm x",
        "hostname evil",
        "date -s 2020-01-01",
        "awk '{print > \"x\"}' f",
        "less f",
        "cat 'unterminated",
    ],
)
def test_anything_else_is_not(command):
    assert not is_read_only(command)


_SAFE = ["ls -la", "git status", "cat a.txt", "grep -n x f", "sed -n 1,5p f", "head f", "wc -l f"]
_WRITERS = ["rm -rf x", "touch x", "python3 x.py", "git commit -am x", "mv a b", "sh -c ls"]


@given(
    st.lists(st.sampled_from(_SAFE), min_size=1, max_size=4),
    st.sampled_from(_WRITERS),
    st.sampled_from([" | ", " && ", " || ", "; "]),
    st.integers(min_value=0, max_value=4),
)
def test_one_writer_anywhere_in_a_chain_makes_it_not_read_only(safe, writer, joiner, at):
    parts = list(safe)
    assert is_read_only(joiner.join(parts))
    parts.insert(min(at, len(parts)), writer)
    assert not is_read_only(joiner.join(parts))


@given(
    st.sampled_from(_SAFE),
    st.sampled_from([">", ">>", "2>", "&>", ">|", "<", "1>"]),
    st.sampled_from(["out.txt", "/etc/passwd", "x"]),
)
def test_any_redirection_to_a_file_makes_it_not_read_only(command, operator, target):
    assert not is_read_only(f"{command} {operator} {target}")
    assert not is_read_only(f"{command} {operator}{target}")


# ---------------------------------------------------------------- allow-list of options

#: Each was classified read-only before the allow-list and writes, or runs another program.
_BYPASSES = [
    "git grep -Ocat foo",
    "git grep -O cat foo",
    "git grep --open-files-in-pager=sh foo",
    "git grep --open-files-in-pager sh foo",
    "git grep --open=sh foo",  # git accepts unambiguous abbreviations
    "sort -o F f",
    "sort -uo F f",
    "sort -mo F f",
    "sort -muo F f",
    "sort -u -oF f",
    "sort --out=F f",
    "sort -T /tmp/x f",
    "sed -ne 'w x' 1p",
    "sed 's/a/b/w out' f",
    "sed 's/a/b/e' f",
    "sed -n 1p -f script f",
    "git log --unified --output=x",
    "git diff -U --output=x",
    "git log --show-signature",
    "git show --textconv HEAD",
    "git cat-file --filters HEAD:f",
    "git reflog expire --all",
    "git reflog delete HEAD@{1}",
    "git remote show origin",
    "git branch -a newbranch",
    "git tag -n v1",
    "git --exec-path=/x status",
    "git --git-dir=/x status",
    "git -P -c core.fsmonitor=x status",
    "find . -fls out",
    "find . -fprint0 out",
    "find . -execdir sh ;",
    "find . -okdir sh ;",
    "find -D exec . -name x",
    "rg --pre=sh x",
    "rg --hostname-bin=sh x",
    "tail -f log",
    "tree -R -H . -o x",
    "date 010100002020",
    "ls --all=yes",
    "head -n",
    "xargs cat",
    "ls | xargs rm",
    "awk 'BEGIN { system(\"id\") }'",
    "perl -e 'unlink q(f)'",
    "vi f",
    "less f",
    "more f",
    "man ls",
    "command rm x",
    "exec rm x",
    "nice rm x",
    "timeout 5 rm x",
    "GIT_PAGER=sh git log",
    "PATH=. ls",
    "ls <(rm x)",
    "cat f >| out",
]


@pytest.mark.parametrize("command", _BYPASSES)
def test_options_that_write_or_run_programs_are_not_read_only(command):
    assert not is_read_only(command)


@pytest.mark.parametrize(
    "command",
    [
        "git log --oneline -n 5 --stat",
        "git log -5 --format=%H --since=2.weeks",
        "git diff -M50% --stat HEAD~1 -- src",
        "git status -uno --porcelain=v1",
        "git grep -n -C3 foo -- '*.py'",
        "git branch --list 'feat*'",
        "git tag -l 'v*'",
        "git reflog show -3",
        "git remote get-url origin",
        "git blame -L 1,5 src/app.py",
        "sort -u -k2 -t, data.csv",
        "sort -rn f",
        "sed -ne '1,5p' f",
        "sed -n '/def main/p' f",
        "sed 10q f",
        "head -n5 f",
        "tail -n +3 f",
        "grep -rn --include='*.py' -e foo .",
        "rg -n -g '*.py' -i foo",
        "find . \\( -name a -o -name b \\) -not -path './.git/*' -print",
        "ls --color=never -1",
        "date +%s",
        "du -sh --max-depth=1 .",
    ],
)
def test_common_reading_forms_stay_read_only(command):
    assert is_read_only(command)


def _tables() -> dict[str, Flags]:
    """Every program (and git subcommand) whose check is an option table."""
    found = {n: c.table for n, c in PROGRAMS.items() if isinstance(c, Options)}
    found |= {f"git {n}": c.table for n, c in SUBCOMMANDS.items() if isinstance(c, Options)}
    return found


_TABLES = _tables()
_NAMES = sorted(_TABLES)


def _known_letters(table: Flags) -> str:
    return table.short + table.short_value + table.short_attached


@st.composite
def _unknown_option(draw, table: Flags) -> str:
    """An option that is not in ``table``: a short letter or a long name it does not list,
    alone, with a value, or hidden inside a group of known letters."""
    known_long = table.long | table.long_value | table.long_optional
    kind = draw(st.sampled_from(["short", "long", "long=", "group"]))
    if kind in ("long", "long="):
        name = draw(
            st.from_regex(r"[a-z][a-z0-9-]{0,14}", fullmatch=True).filter(
                lambda n: n not in known_long
            )
        )
        return f"--{name}=x" if kind == "long=" else f"--{name}"
    letter = draw(
        st.characters(min_codepoint=33, max_codepoint=126).filter(
            lambda c: c not in _known_letters(table) and c != "-" and not c.isdigit()
        )
    )
    if kind == "group" and table.short:
        before = draw(st.text(alphabet=table.short, max_size=3))
        return f"-{before}{letter}"
    return f"-{letter}"


@st.composite
def _known_form(draw, table: Flags) -> list[str]:
    """Arguments made only of options ``table`` allows (with values where they take one)."""
    words: list[str] = []
    if table.short:
        group = draw(st.text(alphabet=table.short, min_size=1, max_size=4))
        if table.short_value and draw(st.booleans()):
            group += draw(st.sampled_from(table.short_value)) + "1"
        words.append(f"-{group}")
    if table.long:
        words += [f"--{n}" for n in draw(st.lists(st.sampled_from(sorted(table.long)), max_size=2))]
    if table.long_value:
        words.append(f"--{draw(st.sampled_from(sorted(table.long_value)))}=1")
    return words


@given(st.data())
def test_an_option_outside_the_allow_list_is_never_read_only(data):
    name = data.draw(st.sampled_from(_NAMES))
    table = _TABLES[name]
    option = data.draw(_unknown_option(table))
    known = data.draw(_known_form(table))
    at = data.draw(st.integers(0, len(known)))
    command = " ".join([name, *known[:at], shlex.quote(option), *known[at:]])
    assert not is_read_only(command), command


@given(st.data())
def test_options_from_the_allow_list_stay_read_only(data):
    name = data.draw(st.sampled_from(_NAMES))
    known = data.draw(_known_form(_TABLES[name]))
    command = " ".join([name, *known])
    assert is_read_only(command), command


@given(
    st.sampled_from(["sort", "sort -u", "sort -rn", "sort -k2"]),
    st.text(alphabet="bdfgiMhnRrVcCmsuz", max_size=3),
    st.sampled_from(["o", "T"]),
    st.sampled_from([" out", "out", "=out"]),
)
def test_sort_never_writes_unasked_however_the_flags_are_combined(base, group, bad, target):
    command = f"{base} -{group}{bad}{target.lstrip('=')} in.txt"
    assert not is_read_only(command), command
    assert not is_read_only(f"{base} --output=out {target.lstrip('=')}")
