"""Approval rules per policy, and session-scoped grants (exact command, prefix, all patches)."""

from __future__ import annotations

import pytest

from codeagent.agent.approvals import ApprovalRequest, Decision, Policy, Scope
from codeagent.agent.policy import ApprovalRules


def read_only(command: str) -> bool:
    """A stand-in classifier: only ``ls`` and ``cat`` read."""
    return command.split()[0] in {"ls", "cat"}


def rules(policy: Policy, sandboxed: bool = True) -> ApprovalRules:
    return ApprovalRules(policy, sandboxed=sandboxed, is_read_only=read_only)


@pytest.mark.parametrize(
    ("policy", "patch", "write_cmd", "read_cmd"),
    [
        (Policy.READ_ONLY, "deny", "deny", "allow"),
        (Policy.ASK, "ask", "ask", "allow"),
        (Policy.AUTO_EDIT, "allow", "ask", "allow"),
        (Policy.FULL_AUTO, "allow", "allow", "allow"),
    ],
)
def test_policy_table(policy: Policy, patch: str, write_cmd: str, read_cmd: str) -> None:
    r = rules(policy)
    assert r.check_patch().action == patch
    assert r.check_commands(["rm -rf build"]).action == write_cmd
    assert r.check_commands(["ls -la"]).action == read_cmd


def test_full_auto_without_sandbox_asks_and_says_why() -> None:
    verdict = rules(Policy.FULL_AUTO, sandboxed=False).check_commands(["make"])
    assert verdict.action == "ask" and "no sandbox" in verdict.reason


def test_strictest_verdict_over_commands() -> None:
    assert rules(Policy.ASK).check_commands(["ls", "make", "cat x"]).action == "ask"
    verdict = rules(Policy.READ_ONLY).check_commands(["ls", "make"])
    assert verdict.action == "deny" and "make" in verdict.reason


def command_request(command: str) -> ApprovalRequest:
    return ApprovalRequest(call_id="c1", kind="command", title=command, command=command)


def test_exact_command_grant() -> None:
    r = rules(Policy.ASK)
    r.remember(command_request("make test"), Decision(True, scope=Scope.EXACT_COMMAND))
    assert r.check_commands(["make test"]).action == "allow"
    assert r.check_commands(["make clean"]).action == "ask"


def test_prefix_grant_defaults_to_first_word_and_refuses_chaining() -> None:
    r = rules(Policy.ASK)
    r.remember(command_request("git add x"), Decision(True, scope=Scope.COMMAND_PREFIX))
    assert r.check_commands(["git commit -m x"]).action == "allow"
    assert r.check_commands(["gitk"]).action == "ask"
    assert r.check_commands(["git status; rm -rf ~"]).action == "ask"
    assert r.check_commands(["git log | sh"]).action == "ask"
    assert "commands starting with: git" in r.grants.describe()


def test_all_patches_grant_and_rejections_grant_nothing() -> None:
    r = rules(Policy.ASK)
    patch = ApprovalRequest(call_id="p", kind="patch", title="Edit a.py")
    r.remember(patch, Decision.reject("no"))
    r.remember(patch, Decision.approve())
    assert r.check_patch().action == "ask"
    r.remember(patch, Decision(True, scope=Scope.ALL_PATCHES))
    assert r.check_patch().action == "allow"


def test_grants_never_override_read_only() -> None:
    r = rules(Policy.ASK)
    r.remember(command_request("make"), Decision(True, scope=Scope.EXACT_COMMAND))
    r.set_policy(Policy.READ_ONLY)
    assert r.check_commands(["make"]).action == "deny"
    assert r.check_patch().action == "deny"


def test_without_a_sandbox_reading_outside_the_repository_asks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``cat ~/.ssh/id_rsa`` only reads, but without a sandbox it reads the user's secrets."""
    from codeagent.agent.tools.commands import is_read_only, path_outside

    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "keys").symlink_to(tmp_path)  # a link in the repository that leads out of it
    rules = ApprovalRules(
        Policy.ASK,
        sandboxed=False,
        is_read_only=is_read_only,
        outside_path=lambda command: path_outside(command, repo),
    )
    for command in ["cat ~/.ssh/id_rsa", "cat /etc/passwd", "head ../other/.env", "cat keys/x"]:
        verdict = rules.check_commands([command])
        assert verdict.action == "ask", command
        assert "outside the repository" in verdict.reason
    for command in ["cat src/a.py", "ls -la", "grep -rn total src 2>/dev/null", "cat ./src/../x"]:
        assert rules.check_commands([command]).action == "allow", command
    sandboxed = ApprovalRules(
        Policy.ASK,
        sandboxed=True,
        is_read_only=is_read_only,
        outside_path=lambda command: path_outside(command, repo),
    )
    assert sandboxed.check_commands(["cat ~/.ssh/id_rsa"]).action == "allow"  # the home is hidden
