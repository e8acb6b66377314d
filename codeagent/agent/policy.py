"""Which tool calls may run, need a human, or are refused, under a ``Policy`` plus the
"approve for the session" grants the user gave so far.

- ``read-only``: read-only commands run; patches and other commands are refused.
- ``ask``: read-only commands run; patches and other commands need approval.
- ``auto-edit``: patches inside the repository apply; commands that may write need approval.
- ``full-auto``: everything runs inside the sandbox; without a sandbox, commands that may write
  need approval (and the request says why).

Whatever the policy, a patch touching ``.codeagent/`` always asks a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from codeagent.agent.approvals import ApprovalRequest, Decision, Policy, Scope

#: Shell syntax that chains or redirects; a prefix grant never covers a command containing it,
#: so "approve `git` for the session" cannot approve `git status; rm -rf ~`.
_SHELL_CONTROL = (";", "&", "|", "`", "$(", ">", "<", "\n")
#: One shell word: unquoted characters, '...' and "..." runs (with backslash escapes).
_FIRST_WORD = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""")
#: How many command texts ``ApprovalRules.read_only`` remembers (one tool loop's worth).
_READ_ONLY_ANSWERS = 256


@dataclass(frozen=True)
class Verdict:
    """``allow`` runs the call, ``ask`` needs the approver, ``deny`` refuses it (``reason``)."""

    action: Literal["allow", "ask", "deny"]
    reason: str = ""
    #: No policy or session grant can allow this call: a person must (``exec`` refuses it).
    always_ask: bool = False


@dataclass
class SessionGrants:
    """What the user approved for the rest of the session."""

    exact_commands: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    all_patches: bool = False

    def covers_command(self, command: str) -> bool:
        command = command.strip()
        if command in self.exact_commands:
            return True
        if any(mark in command for mark in _SHELL_CONTROL):
            return False
        return any(command == p or command.startswith(p + " ") for p in self.prefixes)

    def describe(self) -> list[str]:
        """Human lines for ``/status``-like displays."""
        lines = [f"command: {c}" for c in sorted(self.exact_commands)]
        lines += [f"commands starting with: {p}" for p in sorted(self.prefixes)]
        if self.all_patches:
            lines.append("all patches")
        return lines


def first_word(command: str) -> str:
    """The program name of a command line as written, quotes included (``'my tool'``): the
    default scope of a prefix grant, which matches the command's text, not its parsed words.
    Unbalanced quotes fall back to the first whitespace-separated word."""
    command = command.strip()
    word = _FIRST_WORD.match(command)
    if word and (word.end() == len(command) or command[word.end()].isspace()):
        return word.group()
    parts = command.split()
    return parts[0] if parts else ""


class ApprovalRules:
    """Decide on patches and commands; remember session-scoped approvals."""

    def __init__(
        self,
        policy: Policy,
        *,
        sandboxed: bool,
        is_read_only: Callable[[str], bool],
        outside_path: Callable[[str], str | None] | None = None,
    ):
        self.policy = policy
        self.sandboxed = sandboxed
        #: Unsandboxed only: the argument of a read-only command that names a path outside the
        #: repository (the user's home, other projects), which then needs a person.
        self.outside_path = outside_path
        self.grants = SessionGrants()
        self.is_read_only = is_read_only
        #: ``is_read_only`` answers by command text alone, and each shell call asks it up to four
        #: times (batching and running, verdict and checkpoint): remembered for recent commands.
        self._read_only_answers: dict[str, bool] = {}

    def read_only(self, command: str) -> bool:
        """``is_read_only(command)``, computed once for each recent command text."""
        answers = self._read_only_answers
        if not isinstance(command, str):  # a malformed call: the classifier says no, unhashed
            return self.is_read_only(command)
        try:
            return answers[command]
        except KeyError:
            pass
        answer = self.is_read_only(command)  # a classifier that raises is asked again next time
        if len(answers) >= _READ_ONLY_ANSWERS:
            answers.clear()
        answers[command] = answer
        return answer

    def check_patch(self, config_files: Sequence[str] = ()) -> Verdict:
        """The verdict for a patch inside the repository (escapes and writes into ``.git`` are
        refused by the tool). ``config_files``: the patch's paths in ``.codeagent/``, which
        always need a person, whatever the policy or the session's grants, because that
        configuration decides what the next session may do."""
        if self.policy is Policy.READ_ONLY:
            return Verdict("deny", "the read-only policy does not allow changing files")
        if config_files:
            return Verdict(
                "ask",
                f"{', '.join(config_files)} is codeagent's configuration for this repository; "
                "changes to .codeagent/ always need a person's approval, whatever the policy",
                always_ask=True,
            )
        if self.policy in (Policy.AUTO_EDIT, Policy.FULL_AUTO) or self.grants.all_patches:
            return Verdict("allow")
        return Verdict("ask", "the ask policy needs your approval for every patch")

    def check_commands(self, commands: list[str]) -> Verdict:
        """The strictest verdict over every command of one shell call."""
        verdicts = [self._check_command(c) for c in commands]
        for action in ("deny", "ask"):
            for verdict in verdicts:
                if verdict.action == action:
                    return verdict
        return Verdict("allow")

    def _check_command(self, command: str) -> Verdict:
        if self.read_only(command):
            outside = (
                None if self.sandboxed or self.outside_path is None else self.outside_path(command)
            )
            if outside is None:
                return Verdict("allow")
            return Verdict(
                "ask",
                f"{outside} is outside the repository and no sandbox hides the rest of this "
                "machine, so reading it needs your approval",
            )
        if self.policy is Policy.READ_ONLY:
            return Verdict(
                "deny", f"the read-only policy allows only read-only commands, not: {command}"
            )
        if self.grants.covers_command(command):
            return Verdict("allow")
        if self.policy is Policy.FULL_AUTO:
            if self.sandboxed:
                return Verdict("allow")
            return Verdict("ask", "no sandbox is available here, so commands need approval")
        why = "this command may change files"
        if not self.sandboxed:
            why += " and no sandbox is available"
        return Verdict("ask", why)

    def remember(self, request: ApprovalRequest, decision: Decision) -> None:
        """Record an "approve for the session" decision so matching calls stop asking."""
        if not decision.approved or decision.scope is None:
            return
        if decision.scope is Scope.ALL_PATCHES:
            self.grants.all_patches = True
        elif decision.scope is Scope.EXACT_COMMAND:
            self.grants.exact_commands.update(
                line.strip() for line in request.command.splitlines() if line.strip()
            )
        elif decision.scope is Scope.COMMAND_PREFIX:
            prefix = decision.prefix.strip() or first_word(request.command)
            if prefix:
                self.grants.prefixes.add(prefix)

    def set_policy(self, policy: Policy) -> None:
        self.policy = policy


__all__ = ["ApprovalRules", "SessionGrants", "Verdict", "first_word"]
