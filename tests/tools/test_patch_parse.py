"""Parsing the V4A patch language and the built-in apply_patch_call operations."""

from __future__ import annotations

import re

import pytest

from codeagent.agent.tools.patch import (
    PatchError,
    parse_function_arguments,
    parse_patch,
    patch_from_operation,
)


def test_parses_add_update_move_delete_in_order():
    patch = parse_patch(
        "*** Begin Patch\n"
        "*** Add File: hello.txt\n+Hello\n+world\n"
        "*** Update File: src/app.py\n*** Move to: src/main.py\n"
        "@@ def greet():\n-    print('Hi')\n+    print('Hello')\n"
        "*** Delete File: obsolete.txt\n"
        "*** End Patch\n"
    )
    kinds = [(op.kind, op.path, op.move_to) for op in patch.ops]
    assert kinds == [
        ("add", "hello.txt", None),
        ("update", "src/app.py", "src/main.py"),
        ("delete", "obsolete.txt", None),
    ]
    assert patch.ops[0].content == "Hello\nworld\n"
    chunk = patch.ops[1].chunks[0]
    assert chunk.anchors == ["def greet():"]
    assert chunk.old_lines == ["    print('Hi')"]
    assert chunk.new_lines == ["    print('Hello')"]


def test_stacked_anchors_several_sections_and_end_of_file():
    patch = parse_patch(
        "*** Begin Patch\n*** Update File: a.py\n"
        "@@ class A:\n@@     def f(self):\n-        return 1\n+        return 2\n"
        "@@\n x = 1\n-y = 2\n+y = 3\n*** End of File\n"
        "*** End Patch"
    )
    first, second = patch.ops[0].chunks
    assert first.anchors == ["class A:", "def f(self):"]
    assert second.anchors == [] and second.eof


def test_whitespace_padded_markers_crlf_and_heredoc_are_accepted():
    text = (
        "apply_patch <<'EOF'\r\n  *** Begin Patch  \r\n *** Add File: a.txt\r\n+x\r\n"
        "*** End Patch \r\nEOF\r\n"
    )
    patch = parse_patch(text)
    assert patch.ops[0].path == "a.txt" and patch.ops[0].content == "x\n"


def test_trailing_blank_line_in_a_section_is_spacing_not_context():
    patch = parse_patch("*** Begin Patch\n*** Update File: a\n@@\n-a\n+b\n\n*** End Patch\n")
    assert patch.ops[0].chunks[0].lines == [("-", "a"), ("+", "b")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the patch is empty"),
        ("*** Add File: a\n+x\n*** End Patch", "first line must be '*** Begin Patch'"),
        ("*** Begin Patch\n*** Add File: a\n+x\n", "last line must be '*** End Patch'"),
        ("*** Begin Patch\n*** End Patch", "no file operations"),
        ("*** Begin Patch\nhello\n*** End Patch", "line 2: expected '*** Add File: <path>'"),
        ("*** Begin Patch\n*** Add File: a\nx\n*** End Patch", "must start with '+'"),
        ("*** Begin Patch\n*** Add File:\n+x\n*** End Patch", "needs a path"),
        ("*** Begin Patch\n*** Update File: a\n*** End Patch", "has no changes"),
        ("*** Begin Patch\n*** Update File: a\n@@\n x\n*** End Patch", "only context lines"),
        ("*** Begin Patch\n*** Update File: a\n@@ def f\n*** End Patch", "has no lines"),
        ("*** Begin Patch\n*** Update File: a\n@@\n-a\n?b\n*** End Patch", "line 5"),
        ("*** Begin Patch\n*** Delete File: a\n-x\n*** End Patch", "must not be followed"),
        ("*** Begin Patch\n*** Update File: a\n*** End of File\n*** End Patch", "End of File"),
    ],
)
def test_malformed_patches_name_the_problem(text, expected):
    with pytest.raises(PatchError) as info:
        parse_patch(text)
    assert expected in str(info.value)
    assert str(info.value).endswith("Nothing was changed.")


def test_builtin_operations():
    create = patch_from_operation({"type": "create_file", "path": "n.py", "diff": "+a\n+b\n"})
    assert create.ops[0].kind == "add" and create.ops[0].content == "a\nb\n"
    update = patch_from_operation(
        {"type": "update_file", "path": "src/app.py", "diff": "@@ def greet():\n-x\n+y\n"}
    )
    assert update.ops[0].chunks[0].anchors == ["def greet():"]
    delete = patch_from_operation({"type": "delete_file", "path": "old.py"})
    assert delete.ops[0].kind == "delete"


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ({"type": "rename_file", "path": "a"}, "unknown apply_patch operation type"),
        ({"type": "create_file", "diff": "+a"}, "needs a 'path'"),
        ({"type": "create_file", "path": "a", "diff": "a\n"}, "must start with '+'"),
        ({"type": "update_file", "path": "a", "diff": ""}, "has no changes"),
        ({"type": "update_file", "path": "a", "diff": 3}, "must be a text"),
        ("not a dict", "must be an object"),
    ],
)
def test_bad_builtin_operations(op, expected):
    with pytest.raises(PatchError, match=re.escape(expected)):
        patch_from_operation(op)


def test_function_tool_arguments():
    patch = parse_function_arguments(
        '{"input": "*** Begin Patch\\n*** Delete File: a\\n*** End Patch\\n"}'
    )
    assert patch.ops[0].kind == "delete"
    with pytest.raises(PatchError, match="not valid JSON"):
        parse_function_arguments("{nope")
    with pytest.raises(PatchError, match=re.escape('must be {"input"')):
        parse_function_arguments('{"patch": "x"}')
