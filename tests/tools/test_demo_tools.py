"""The bundled demo's tool calls, played through these tools against the sample repository:
every patch applies exactly, every plan parses, every command runs, and the tests end green."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from codeagent.agent.tools.commands import is_read_only
from codeagent.agent.tools.patch import patch_from_operation, prepare_patch
from codeagent.agent.tools.plan import parse_plan
from codeagent.agent.tools.sandbox import detect_sandbox
from codeagent.agent.tools.shell import run_commands
from codeagent.server.demo import copy_sample_repo, demo_steps


async def test_demo_tool_calls_fix_the_sample_repository(tmp_path: Path):
    root = copy_sample_repo(tmp_path / "sample")
    sandbox = detect_sandbox("auto")
    patches = plans = commands = 0
    for step in demo_steps(0.0, None):
        for item in step.items:
            if item.kind == "apply_patch":
                operation = {"type": item.data["operation"], **item.data}
                prepared = prepare_patch(patch_from_operation(operation), root)
                assert prepared.apply() == [item.data["path"]]
                patches += 1
            elif item.kind == "function_call" and item.data["name"] == "update_plan":
                steps, _ = parse_plan(json.dumps(item.data["arguments"]))
                assert steps
                plans += 1
            elif item.kind == "shell":
                results = await run_commands(
                    item.data["commands"], cwd=root, sandbox=sandbox, timeout_ms=60_000
                )
                assert all(r.exit_code is not None for r in results)
                commands += len(results)
    assert patches == 2 and plans >= 3 and commands >= 15
    assert is_read_only("git status --short") and not is_read_only("python3 -m unittest -v")
    final = subprocess.run(
        ["python3", "-m", "unittest"], cwd=root, capture_output=True, text=True, check=False
    )
    assert final.returncode == 0, final.stderr
