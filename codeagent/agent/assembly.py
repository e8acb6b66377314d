"""Building an agent's parts from ``Settings``: the transport, the request fields of the
conversation (tools, reasoning, compaction, cache key), the sandbox and the checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeagent.agent.instructions import build_instructions
from codeagent.agent.sandbox_probe import probe_sandbox
from codeagent.agent.tools.patch import APPLY_PATCH_FUNCTION_TOOL, APPLY_PATCH_TOOL
from codeagent.agent.tools.plan import UPDATE_PLAN_TOOL
from codeagent.agent.tools.sandbox import Sandbox, detect_sandbox
from codeagent.agent.tools.shell import SHELL_FUNCTION_TOOL, SHELL_TOOL
from codeagent.config import Settings, user_config_path
from codeagent.responses.catalog import MIN_COMPACT_THRESHOLD, describe_catalog
from codeagent.responses.model_check import ModelCheck
from codeagent.responses.transport import Transport
from codeagent.workspace.git import GitWorkspace, NoCheckpoints, open_workspace
from codeagent.workspace.journal import recover as recover_patches


def tool_specs(function_tools: bool) -> list[dict[str, Any]]:
    """The tools sent with every call: built-in apply_patch and shell (or their function-tool
    equivalents for models without them) plus the update_plan function."""
    if function_tools:
        return [APPLY_PATCH_FUNCTION_TOOL, SHELL_FUNCTION_TOOL, UPDATE_PLAN_TOOL]
    return [APPLY_PATCH_TOOL, SHELL_TOOL, UPDATE_PLAN_TOOL]


def user_instructions(settings: Settings) -> Path | None:
    """The user's own instructions: ``instructions_file`` when set, else ``instructions.md``
    beside the user config file when it exists."""
    if settings.instructions_file is not None:
        return settings.instructions_file
    default = user_config_path().with_name("instructions.md")
    return default if default.is_file() else None


def reasoning_param(settings: Settings) -> dict[str, Any] | None:
    """The request's ``reasoning`` field: the configured effort, and summaries whenever the
    model reasons (so the user sees what it thinks). None for a model the catalog does not
    know and no effort set, or a model that does not reason: the server's default then."""
    effort = settings.reasoning_effort
    entry = settings.catalog().get(settings.model)
    if effort is not None and entry is not None and effort not in entry.reasoning_efforts:
        effort = None  # switched (/model) to a model without that level: its default then
    if effort == "none":
        return {"effort": "none"}  # no reasoning, so no summary to ask for
    if effort == "ultra":
        # A client-side tier (Codex adds subagents and sends max); the API's ReasoningEffort
        # stops at max (openai SDK 3.57), so ultra never goes on the wire.
        effort = "max"
    if effort is not None:
        return {"effort": effort, "summary": "auto"}
    if entry is not None and entry.reasons:
        return {"summary": "auto"}
    return None


def context_management(settings: Settings) -> list[dict[str, Any]] | None:
    """Server-side compaction: ``compact_threshold`` when set, else 80% of the model's context
    window from the catalog (None when compaction is off or the window is unknown). None as
    well for a model the catalog marks as steerable: the API does not steer a response that
    uses ``context_management``, so the client compacts such conversations itself
    (``client_compact_threshold``)."""
    if not settings.compaction or _steerable(settings):
        return None
    threshold = _threshold(settings)
    if threshold is None:
        return None
    # The API refuses a threshold below 1000; a smaller one still triggers the client's own
    # compaction before a model call (Agent._maybe_compact).
    return [{"type": "compaction", "compact_threshold": max(threshold, MIN_COMPACT_THRESHOLD)}]


def client_compact_threshold(settings: Settings) -> int | None:
    """Context tokens above which the agent compacts (``/responses/compact``) before the next
    model call: for a steerable model, in place of server-side compaction, the same threshold
    (``compact_threshold``, else 80% of its window); otherwise only an explicit
    ``compact_threshold`` (server-side compaction does the rest). None: never."""
    if not settings.compaction:
        return None
    if _steerable(settings):
        return _threshold(settings)
    return settings.compact_threshold


def _steerable(settings: Settings) -> bool:
    entry = settings.catalog().get(settings.model)
    return entry is not None and entry.steering


def _threshold(settings: Settings) -> int | None:
    if settings.compact_threshold is not None:
        return settings.compact_threshold
    entry = settings.catalog().get(settings.model)
    return entry.compact_threshold() if entry is not None else None


def conversation_options(settings: Settings, session_id: str) -> dict[str, Any]:
    """The ``Conversation`` keyword arguments for ``settings`` (all but the transport and the
    instructions). ``prompt_cache_key`` is the session id: one cache key per session, like Codex
    sends its conversation id, so the server routes the session's calls to the same cache."""
    entry = settings.catalog().get(settings.model)
    # A model without the built-in shell/apply_patch tools gets them as function tools.
    function_tools = settings.function_tools or (entry is not None and not entry.builtin_tools)
    return {
        "model": settings.model,
        "tools": tool_specs(function_tools),
        "store": settings.store,
        "reasoning": reasoning_param(settings),
        "context_management": context_management(settings),
        "extra": {"prompt_cache_key": session_id},
    }


def make_transport(settings: Settings) -> Transport:
    """A transport for ``settings`` (the key is handed over, never logged)."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return Transport(
        settings.base_url,
        key,
        mode=settings.transport,
        idle_timeout=settings.idle_timeout,
        max_connection_age=settings.max_connection_age,
    )


def make_model_check(settings: Settings) -> ModelCheck:
    """The check of the chosen model against the catalog and ``GET /models``."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return ModelCheck(settings.base_url, key, settings.model, settings.catalog())


def model_listing(settings: Settings) -> str:
    """The ``/model`` listing: every catalog model with its prices, the current one marked."""
    return describe_catalog(current=settings.model, catalog=settings.catalog())


def model_note(settings: Settings, name: str) -> str | None:
    """What to tell a user switching to ``name``: deprecated, shut down, or not in the catalog."""
    entry = settings.catalog().get(name)
    if entry is None:
        return f"{name} is not in the model catalog: no prices or limits are known for it."
    notes = [entry.lifecycle_note() or ""]
    effort = settings.reasoning_effort
    if effort is not None and effort not in entry.reasoning_efforts:
        notes.append(f"It does not accept reasoning effort {effort!r}; its default is used.")
    return " ".join(n for n in notes if n) or None


def model_switch(settings: Settings, session_id: str) -> dict[str, Any]:
    """The conversation fields that follow the model (``settings.model`` is the new one):
    tools, reasoning and the compaction threshold, for ``Conversation.update_settings``."""
    options = conversation_options(settings, session_id)
    return {k: options[k] for k in ("model", "tools", "reasoning", "context_management")}


def make_sandbox(settings: Settings) -> Sandbox:
    """The command sandbox the settings ask for (``auto``: bubblewrap when every protection
    works), with the ``sandbox_env`` the user configured."""
    return detect_sandbox(settings.sandbox, settings.sandbox_env)


def make_checkpoints(
    root: Path, session_id: str, settings: Settings
) -> GitWorkspace | NoCheckpoints:
    """Git checkpoints for ``root`` (raises ``NotAGitRepository`` unless ``no_git``)."""
    return open_workspace(
        root, session_id, no_git=settings.no_git, auto_commit=settings.auto_commit
    )


@dataclass(frozen=True)
class OpenedRepository:
    """What an agent needs from its repository before the first request."""

    recovered: list[str]  # what crash recovery of an interrupted patch did, for the user
    workspace: GitWorkspace | NoCheckpoints
    text: str  # the instructions
    sandbox: Sandbox


def open_repository(
    settings: Settings,
    root: Path,
    session_id: str,
    cwd: Path | None = None,
    sandbox: Callable[[], Sandbox] | None = None,
) -> OpenedRepository:
    """Recover an interrupted patch, open the checkpoints, read the instructions and find the
    sandbox (``sandbox``: a ``probe_sandbox`` started earlier; else one starts now, so its
    probe runs while the rest does)."""
    sandbox = sandbox or probe_sandbox(settings.sandbox, settings.sandbox_env)
    # A patch a crash left half applied is finished or undone before git looks.
    recovered = recover_patches(root)
    workspace = make_checkpoints(root, session_id, settings)
    text = build_instructions(root, cwd or Path.cwd(), user_instructions(settings))
    return OpenedRepository(recovered, workspace, text, sandbox())


__all__ = [
    "OpenedRepository",
    "client_compact_threshold",
    "context_management",
    "conversation_options",
    "make_checkpoints",
    "make_model_check",
    "make_sandbox",
    "make_transport",
    "model_listing",
    "model_note",
    "model_switch",
    "open_repository",
    "reasoning_param",
    "tool_specs",
    "user_instructions",
]
