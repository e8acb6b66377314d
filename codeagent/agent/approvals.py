"""Approval policies, requests and decisions, and the ``Approver`` interface.

The agent asks an ``Approver`` before any tool call that needs approval under the active
``Policy``. The TUI's approver resolves a Future from a key press; ``codeagent exec`` uses a
non-interactive approver that answers from the policy alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol


class Policy(StrEnum):
    """What may run without asking."""

    READ_ONLY = "read-only"  # nothing that writes; read-only commands run, the rest is refused
    ASK = "ask"  # patches and non-read-only commands need approval (default)
    AUTO_EDIT = "auto-edit"  # patches inside the repository apply; commands that may write ask
    FULL_AUTO = "full-auto"  # everything runs inside the sandbox


@dataclass(frozen=True)
class ApprovalRequest:
    """One tool call waiting for a decision.

    ``kind`` is ``patch`` or ``command``. For a patch, ``files`` lists the paths and ``diff`` the
    unified diff; ``hunks`` counts hunks per file so a UI can let the user pick some of them.
    For a command, ``command`` is the command line. ``reason`` says why approval is needed
    (e.g. "no sandbox on this platform").
    """

    call_id: str
    kind: Literal["patch", "command"]
    title: str
    diff: str = ""
    files: tuple[str, ...] = ()
    hunks: dict[str, int] = field(default_factory=dict)
    command: str = ""
    reason: str = ""
    #: No policy or session grant approves this call; only a person can (``.codeagent/``).
    always_ask: bool = False


class Scope(StrEnum):
    """How far an "approve for the session" decision reaches."""

    EXACT_COMMAND = "exact-command"  # this exact command line
    COMMAND_PREFIX = "command-prefix"  # commands starting with ``prefix``
    ALL_PATCHES = "all-patches"  # every patch inside the repository


@dataclass(frozen=True)
class Decision:
    """The answer to an ``ApprovalRequest``.

    ``approved`` with ``scope=None`` approves once; with a ``scope`` it also approves matching
    later calls for the rest of the session (``prefix`` for ``COMMAND_PREFIX``). A rejection may
    carry a ``reason`` that is returned to the model. ``selected_hunks`` (patches only) maps a
    path to the 0-based indexes of the hunks to apply; ``None`` applies everything.
    """

    approved: bool
    scope: Scope | None = None
    prefix: str = ""
    reason: str = ""
    selected_hunks: dict[str, frozenset[int]] | None = None

    @classmethod
    def approve(cls) -> Decision:
        return cls(True)

    @classmethod
    def reject(cls, reason: str = "") -> Decision:
        return cls(False, reason=reason)


class Approver(Protocol):
    """Decides on tool calls that the policy does not settle by itself."""

    async def decide(self, request: ApprovalRequest) -> Decision: ...


class ApprovalNeeded(Exception):
    """Raised by a non-interactive approver when a call needs a human (``exec`` exits 3)."""

    def __init__(self, request: ApprovalRequest):
        if request.always_ask:
            message = (
                f"{request.title} was refused: {request.reason}, and there is no terminal to "
                "ask; nothing was changed. Make this change yourself, or run codeagent in a "
                "terminal to review it"
            )
        else:
            message = f"approval needed for {request.kind}: {request.title}"
        super().__init__(message)
        self.request = request
