"""The scripted coding rollout used by the end-to-end benchmark, and the repository it runs in.

``make_workspace(dest)`` writes a small Python project (modules of a few KB, a unittest suite)
and commits it. ``rollout_script(n_tool_calls)`` is a server ``Script`` whose model reads files,
runs the tests, patches code, creates files, updates its plan and finally answers: every tool call
is real work for ``codeagent exec`` in that repository, so item sizes are the real ones (file
reads of a few KB, test logs, patches, ``git diff`` output).
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any

N_MODULES = 8
FUNCS_PER_MODULE = 14
TASK = "Bring the calc package's version tags up to date, add a stats module, keep tests green."


def _module_source(index: int) -> str:
    """A realistic-looking module of about 4 KB with a version tag function at the end."""
    parts = [
        f'"""calc.mod{index}: arithmetic helpers, part {index}."""\n\n',
        "from __future__ import annotations\n",
    ]
    for f in range(FUNCS_PER_MODULE):
        parts.append(
            textwrap.dedent(
                f'''
                def op_{index}_{f}(values: list[float], scale: float = {f + 1}.0) -> float:
                    """Scale and sum ``values``; variant {f} of module {index}."""
                    total = 0.0
                    for value in values:
                        total += value * scale + {index}
                    return total
                '''
            )
        )
    parts.append(
        textwrap.dedent(
            f'''
            def version_tag() -> str:
                """The module's version tag."""
                return "mod{index}-v1"
            '''
        )
    )
    return "".join(parts)


def _test_source(index: int) -> str:
    """A unittest module with one test per function of module ``index``."""
    lines = [
        "import unittest\n",
        f"from calc import mod{index}\n\n",
        f"class TestMod{index}(unittest.TestCase):\n",
    ]
    for f in range(FUNCS_PER_MODULE):
        expected = sum(v * (f + 1.0) + index for v in (1.0, 2.0, 3.0))
        lines.append(
            f"    def test_op_{index}_{f}(self):\n"
            f"        self.assertEqual(mod{index}.op_{index}_{f}([1.0, 2.0, 3.0]), {expected})\n\n"
        )
    lines.append(
        "    def test_version_tag(self):\n"
        f"        self.assertTrue(mod{index}.version_tag().startswith('mod{index}-'))\n"
    )
    return "".join(lines)


def make_workspace(dest: Path) -> Path:
    """Write the project into ``dest`` (created), ``git init`` it and commit; return ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "calc").mkdir(exist_ok=True)
    (dest / "tests").mkdir(exist_ok=True)
    (dest / "calc" / "__init__.py").write_text('"""The calc package."""\n')
    (dest / "tests" / "__init__.py").write_text("")
    for i in range(N_MODULES):
        (dest / "calc" / f"mod{i}.py").write_text(_module_source(i))
        (dest / "tests" / f"test_mod{i}.py").write_text(_test_source(i))
    (dest / "README.md").write_text("# calc\n\nArithmetic helpers.\n\nRun `python3 -m unittest`.\n")
    env_git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run([*env_git, "commit", "-q", "-m", "initial"], cwd=dest, check=True)
    return dest


def _script_api() -> dict[str, Any]:
    """The server's Script/Episode/Step classes and step item constructors.

    The contract names the constructors (text, reasoning, ...) without fixing whether they are
    module functions or ``StepItem`` class methods, so look in both places.
    """
    from codeagent.server import script as mod

    api: dict[str, Any] = {"Script": mod.Script, "Episode": mod.Episode, "Step": mod.Step}
    step_item = getattr(mod, "StepItem", None)
    for name in ("text", "reasoning", "function_call", "apply_patch", "shell", "update_plan"):
        ctor = getattr(step_item, name, None) if step_item is not None else None
        api[name] = ctor or getattr(mod, name)
    return api


def _version_patch(index: int, old: str, new: str) -> str:
    return (
        "@@ def version_tag() -> str:\n"
        '     """The module\'s version tag."""\n'
        f'-    return "mod{index}-{old}"\n'
        f'+    return "mod{index}-{new}"\n'
    )


STATS_MODULE = '''"""calc.stats: summary statistics over lists of floats."""

from __future__ import annotations

import math


def mean(values: list[float]) -> float:
    """The arithmetic mean; raises ValueError on an empty list."""
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)


def variance(values: list[float]) -> float:
    """The population variance."""
    centre = mean(values)
    return sum((v - centre) ** 2 for v in values) / len(values)


def stdev(values: list[float]) -> float:
    """The population standard deviation."""
    return math.sqrt(variance(values))


def version_tag() -> str:
    """The module's version tag."""
    return "stats-v1"
'''

STATS_TEST = """import unittest

from calc import stats


class TestStats(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(stats.mean([1.0, 2.0, 3.0]), 2.0)

    def test_variance(self):
        self.assertAlmostEqual(stats.variance([1.0, 2.0, 3.0]), 2.0 / 3.0)

    def test_empty(self):
        with self.assertRaises(ValueError):
            stats.mean([])
"""


def _bump(index: int) -> tuple[str, Any]:
    path = f"calc/mod{index}.py"
    return ("apply_patch", ("update_file", path, _version_patch(index, "v1", "v2")))


def _plus_lines(content: str) -> str:
    return "".join(f"+{line}\n" for line in content.splitlines())


def _reasoning_text(step: int) -> str:
    return (
        f"Step {step}: I look at what the last tool call returned, compare it with the task "
        "(version tags, a stats module, green tests) and decide the next concrete action. "
        "Reading before editing keeps patches exact; running the suite after each edit "
        "catches regressions early."
    )


def tool_calls(n: int) -> list[tuple[str, Any]]:
    """The first ``n`` tool calls of the rollout as (constructor name, arguments) pairs.

    The sequence cycles through reads, test runs, greps, patches and plan updates; every patch
    applies exactly to the workspace as the previous calls left it.
    """
    calls: list[tuple[str, Any]] = [
        (
            "update_plan",
            (
                [
                    ("Read the modules", "in_progress"),
                    ("Bump version tags", "pending"),
                    ("Add calc.stats", "pending"),
                    ("Run the tests", "pending"),
                ],
                "Start by reading the code.",
            ),
        ),
        ("shell", (["git status --short", "find . -name '*.py' -not -path './.git/*'"],)),
    ]
    calls += [("shell", ([f"cat calc/mod{i}.py"],)) for i in range(4)]
    calls.append(("shell", (["python3 -m unittest -v"],)))
    calls.append(("shell", (["grep -rn 'def version_tag' -A 3 calc"],)))
    for i in range(4):
        calls.append(_bump(i))
    calls.append(("shell", (["python3 -m unittest -v"],)))
    calls.append(("apply_patch", ("create_file", "calc/stats.py", _plus_lines(STATS_MODULE))))
    calls.append(("apply_patch", ("create_file", "tests/test_stats.py", _plus_lines(STATS_TEST))))
    calls.append(("shell", (["python3 -m unittest -v"],)))
    calls.append(
        (
            "update_plan",
            (
                [
                    ("Read the modules", "completed"),
                    ("Bump version tags", "in_progress"),
                    ("Add calc.stats", "completed"),
                    ("Run the tests", "in_progress"),
                ],
                "stats added; finishing the remaining tags.",
            ),
        )
    )
    calls += [("shell", ([f"cat calc/mod{i}.py"],)) for i in range(4, 6)]
    for i in range(4, 6):
        calls.append(_bump(i))
    calls.append(("shell", (["git diff"],)))
    calls.append(("shell", (["python3 -m unittest -v"],)))
    calls.append(("shell", (["git status --short", "git diff --stat"],)))
    # Long rollouts keep alternating reads and test runs (still real work, still a few KB).
    i = 0
    while len(calls) < n:
        calls.append(("shell", ([f"cat calc/mod{i % N_MODULES}.py"],)))
        calls.append(("shell", (["python3 -m unittest"],)))
        i += 1
    return calls[:n]


def rollout_script(
    n_tool_calls: int = 25,
    *,
    first_token_delay: float = 0.05,
    tokens_per_second: float | None = None,
) -> Any:
    """A ``Script`` with one episode: ``n_tool_calls`` responses each carrying a reasoning summary
    and one tool call, then a final answer."""
    api = _script_api()
    steps = []
    for number, (kind, args) in enumerate(tool_calls(n_tool_calls), start=1):
        items = [api["reasoning"](_reasoning_text(number))]
        if kind == "shell":
            items.append(api["shell"](*args))
        elif kind == "apply_patch":
            items.append(api["apply_patch"](*args))
        elif kind == "update_plan":
            items.append(api["update_plan"](*args))
        steps.append(
            api["Step"](
                items, first_token_delay=first_token_delay, tokens_per_second=tokens_per_second
            )
        )
    final = (
        "Done: version tags of mod0-mod5 bumped to v2, calc.stats added with tests, "
        "and the whole suite passes."
    )
    steps.append(
        api["Step"](
            [api["text"](final)],
            first_token_delay=first_token_delay,
            tokens_per_second=tokens_per_second,
        )
    )
    return api["Script"]([api["Episode"](steps)], default_reply=final)


def stream_script(n_tokens: int, tokens_per_second: float) -> Any:
    """A ``Script`` whose every reply is one text of about ``n_tokens`` tokens streamed at
    ``tokens_per_second`` (for the TUI streaming benchmark)."""
    from benchmarks.long_answer import long_answer

    api = _script_api()
    # Headings, lists, links and highlighted code fences: what a real answer makes the TUI render.
    text = long_answer(n_tokens)
    step = api["Step"]([api["text"](text)], tokens_per_second=tokens_per_second)
    return api["Script"]([api["Episode"]([step])], default_reply="ok")
