"""The bundled demo: a small sample repository with a FizzBuzz bug and a script in which the
"model" explores it, reproduces the failure, patches the bug and verifies the fix the way a real
coding agent does (20+ tool calls, streamed at a realistic pace).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from codeagent.server import items as conv
from codeagent.server.script import (
    Episode,
    Script,
    Step,
    apply_patch,
    reasoning,
    shell,
    text,
    update_plan,
)

SAMPLE_REPO = Path(__file__).with_name("sample_repo")

#: Pace of the demo: a short think before the first token, then ~200 tokens/s.
FIRST_TOKEN_DELAY = 0.3
TOKENS_PER_SECOND = 200.0

CORE_FIX = '''@@ def fizz_buzz(n: int) -> str:
     """Return "Fizz", "Buzz", "FizzBuzz" or the number as text."""
+    if n % 15 == 0:
+        return "FizzBuzz"
     if n % 3 == 0:
         return "Fizz"
     if n % 5 == 0:
         return "Buzz"
-    if n % 15 == 0:
-        return "FizzBuzz"
     return str(n)
'''

TEST_ADDITION = """@@ class FizzBuzzTest(unittest.TestCase):
     def test_multiples_of_fifteen(self):
         self.assertEqual(fizz_buzz(15), "FizzBuzz")
         self.assertEqual(fizz_buzz(30), "FizzBuzz")
+
+    def test_fifteen_wins_over_three_and_five(self):
+        for n in (15, 45, 90, 150):
+            self.assertEqual(fizz_buzz(n), "FizzBuzz", n)
"""

CHECK = (
    "python3 -c 'from fizzbuzz.core import fizz_buzz; "
    "print([fizz_buzz(n) for n in (3, 5, 15, 30, 45)])'"
)

FINAL_MESSAGE = """## Fixed: `fizz_buzz` never returned `FizzBuzz`

**Cause.** In `fizzbuzz/core.py` the checks ran in the order 3 -> 5 -> 15. Every multiple of 15
is also a multiple of 3, so `n % 3 == 0` matched first and the `FizzBuzz` branch was
unreachable.

**Fix.** The multiple-of-15 check now comes first:

```python
if n % 15 == 0:
    return "FizzBuzz"
```

**Verification.**
- `python3 -m unittest -v`: all tests pass (2 failures before the fix).
- Added `test_fifteen_wins_over_three_and_five` so the ordering cannot regress.
- `python3 -m fizzbuzz 15` ends with `FizzBuzz`.

Changed files: `fizzbuzz/core.py`, `tests/test_core.py`.
"""


PLAN = ["Explore the repository", "Reproduce the failure", "Fix the bug", "Verify the fix"]


FOLLOW_UP = (
    "The demo is complete: `fizz_buzz` is fixed and all tests pass. Use `/undo` to restore the "
    "bug, or start a new session to watch the demo again."
)


NOT_FIXED = (
    "The fix to `fizzbuzz/core.py` was not applied (it was rejected or interrupted), so "
    "`fizz_buzz` still returns `Fizz` for multiples of 15. Ask me again to retry the fix."
)


def core_fix_applied(input_items: list[dict[str, Any]]) -> bool:
    """True when a patch to ``fizzbuzz/core.py`` came back ``completed`` in this conversation
    (so the demo's closing words never claim a fix the user rejected or interrupted)."""
    calls = {
        item.get("call_id")
        for item in input_items
        if item.get("type") == "apply_patch_call"
        and (item.get("operation") or {}).get("path") == "fizzbuzz/core.py"
    }
    return any(
        item.get("type") == "apply_patch_call_output"
        and item.get("call_id") in calls
        and item.get("status") == "completed"
        for item in input_items
    )


def _plan(done: int, active: bool = True) -> list[tuple[str, str]]:
    return [
        (step, "completed" if i < done else "in_progress" if i == done and active else "pending")
        for i, step in enumerate(PLAN)
    ]


def demo_steps(
    first_token_delay: float = FIRST_TOKEN_DELAY,
    tokens_per_second: float | None = TOKENS_PER_SECOND,
) -> list[Step]:
    """The demo's model responses; tests pass a faster pace."""

    def _step(*items) -> Step:
        return Step(list(items), first_token_delay, tokens_per_second)

    return [
        _step(
            reasoning(
                "The user wants a bug fixed. I should look around the repository before I "
                "touch anything, then reproduce the failure with the tests."
            ),
            text("I'll start by getting oriented in the repository."),
            update_plan(_plan(0), "Explore first, then reproduce, fix and verify."),
        ),
        _step(shell(["ls -la"])),
        _step(shell(["cat README.md"])),
        _step(shell(["git log --oneline -5", "git status --short"])),
        _step(shell(["find . -name '*.py' -not -path './.git/*' | sort"])),
        _step(shell(["cat fizzbuzz/__init__.py"]), shell(["cat fizzbuzz/core.py"])),
        _step(shell(["cat fizzbuzz/__main__.py"])),
        _step(shell(["cat tests/test_core.py"])),
        _step(
            reasoning(
                "The code is small. Running the test suite will show which behaviour is wrong."
            ),
            update_plan(_plan(1), "Explored the code; now running the tests."),
        ),
        _step(shell(["python3 -m unittest -v"], timeout_ms=60_000)),
        _step(
            reasoning(
                "Two tests fail and both expect FizzBuzz for multiples of 15. Let me confirm "
                "directly what fizz_buzz returns for a few values."
            ),
            shell([CHECK]),
        ),
        _step(shell(["grep -n 'n % ' fizzbuzz/core.py"])),
        _step(
            reasoning(
                "The modulo checks run 3, then 5, then 15. Any multiple of 15 is caught by the "
                "multiple-of-3 branch first, so FizzBuzz is unreachable. Checking 15 first "
                "fixes it without touching the other branches."
            ),
            update_plan(_plan(2), "Found the cause: the FizzBuzz branch is unreachable."),
        ),
        _step(
            text("The multiple-of-15 check is unreachable; I'll move it to the top."),
            apply_patch("update_file", "fizzbuzz/core.py", CORE_FIX),
        ),
        _step(shell(["git diff"])),
        _step(update_plan(_plan(3), "Patched; verifying.")),
        _step(shell(["python3 -m unittest -v"], timeout_ms=60_000)),
        _step(shell([CHECK])),
        _step(
            reasoning(
                "The fix works. A regression test for more multiples of 15 keeps it that way."
            ),
            apply_patch("update_file", "tests/test_core.py", TEST_ADDITION),
        ),
        _step(shell(["python3 -m unittest -v"], timeout_ms=60_000)),
        _step(shell(["python3 -m fizzbuzz 15"])),
        _step(shell(["git status --short", "git diff --stat"])),
        _step(update_plan(_plan(4, active=False), "All steps done.")),
        _step(text(FINAL_MESSAGE)),
    ]


def demo_script(
    first_token_delay: float = FIRST_TOKEN_DELAY,
    tokens_per_second: float | None = TOKENS_PER_SECOND,
) -> Script:
    """The demo script at the given pace (the defaults look alive in the TUI)."""
    return DemoScript(
        [Episode(demo_steps(first_token_delay, tokens_per_second))],
        default_reply="Ask me to fix the bug in this repository.",
    )


class DemoScript(Script):
    """The demo plays once per conversation: a later message in the same conversation gets a
    short answer instead of the whole fix again."""

    def choose(self, input_items: list[dict[str, Any]]) -> Step:
        last_user = _turn_start(input_items)
        earlier = input_items[:last_user] if last_user is not None else []
        applied = core_fix_applied(input_items)
        if any(conv.is_model_item(item) for item in earlier):
            return Step([text(FOLLOW_UP if applied else NOT_FIXED)], *self.pace)
        # Steers left out, the base script counts the steps from the turn's own message.
        step = super().choose([item for item in input_items if not _is_steer(item, input_items)])
        if self.episodes and step is self.episodes[0].steps[-1] and not applied:
            return Step([text(NOT_FIXED)], *self.pace)  # the last step is the success summary
        return step

    @property
    def pace(self) -> tuple[float, float | None]:
        steps = self.episodes[0].steps if self.episodes else []
        return (steps[0].first_token_delay, steps[0].tokens_per_second) if steps else (0.0, None)


def _is_steer(item: dict[str, Any], items: list[dict[str, Any]]) -> bool:
    """A user message the server put ahead of tool outputs: a steer that waited for them
    (``response.steer.pending``), typed while the turn ran, not a new turn."""
    if not conv.is_user_message(item):
        return False
    index = next(i for i, other in enumerate(items) if other is item)
    after = items[index + 1] if index + 1 < len(items) else {}
    return str(after.get("type", "")).endswith("_output")


def _turn_start(items: list[dict[str, Any]]) -> int | None:
    """Index of the message that started the current turn (the last user message, steers
    typed during the turn not counted)."""
    for index in range(len(items) - 1, -1, -1):
        if conv.is_user_message(items[index]) and not _is_steer(items[index], items):
            return index
    return None


DEMO_SCRIPT = demo_script()


SAMPLE_GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n"


def copy_sample_repo(dest: Path) -> Path:
    """Copy the sample repository to ``dest`` (created; must not hold files yet) and make it a
    git repository with one commit. Returns ``dest``."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty; copy the sample repository to a new folder")
    shutil.copytree(
        SAMPLE_REPO, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    # Running the demo's tests leaves bytecode behind; without this it shows up in /diff, the
    # checkpoints and /undo's report as if the agent had written it.
    (dest / ".gitignore").write_text(SAMPLE_GITIGNORE, encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "codeagent demo",
        "GIT_AUTHOR_EMAIL": "demo@codeagent.invalid",
        "GIT_COMMITTER_NAME": "codeagent demo",
        "GIT_COMMITTER_EMAIL": "demo@codeagent.invalid",
    }
    for argv in (
        ["git", "-c", "init.defaultBranch=main", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "Initial commit"],
    ):
        subprocess.run(argv, cwd=dest, env=env, check=True, capture_output=True)
    return dest
