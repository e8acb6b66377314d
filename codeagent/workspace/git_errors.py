"""Errors raised by the git safety layer, with messages meant for the user."""

from __future__ import annotations


class WorkspaceError(Exception):
    """Base class for problems with the user's repository."""


class NotAGitRepository(WorkspaceError):
    """The folder is not inside a git working tree, so checkpoints cannot be taken."""


class RepositoryBusy(WorkspaceError):
    """A merge, rebase, cherry-pick or revert is in progress; writing now could lose work."""


class GitCommandError(WorkspaceError):
    """A git plumbing command failed unexpectedly (the message carries git's own words)."""
