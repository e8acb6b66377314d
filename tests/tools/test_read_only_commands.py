"""Which commands may run without asking: only those that certainly just read."""

from __future__ import annotations

import pytest

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
