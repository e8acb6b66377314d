"""Which commands may run without asking: only those that certainly just read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeagent.agent.tools.commands import is_read_only


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
