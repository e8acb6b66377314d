"""The instructions sent with every model call.

Three parts, in this order: the base prompt for a coding agent; every ``AGENTS.md`` from the
repository root down to the working directory (outer files first, so the nearer ones can refine
them), capped at ``AGENTS_MD_CAP`` bytes in total; the user's own instructions file.
"""

from __future__ import annotations

from pathlib import Path

AGENTS_MD_CAP = 32 * 1024
AGENTS_MD = "AGENTS.md"

BASE_PROMPT = """\
You are codeagent, a coding assistant working in the user's repository from their terminal.

How you work:
- Read before you change: inspect files and run read-only commands with the `shell` tool.
- Change files only with `apply_patch`, one focused patch at a time, in the V4A patch format.
  Paths are relative to the repository root; never write outside it.
- Run the project's tests or checks after a change and fix what you broke.
- For multi-step work, publish a short plan with `update_plan` and keep it current.
- The user approves patches and commands that may write. A rejected call comes back with the
  user's reason: adapt to it instead of retrying the same thing.
- Commands run in a sandbox without network access; do not try to get around it.
- Keep answers short and concrete. When you are done, say what you changed and how you checked it.
"""

AGENTS_MD_TEMPLATE = """\
# AGENTS.md

Notes for coding agents working in this repository.

## Project
- What this project is, in one or two sentences.

## Commands
- Install: `...`
- Run the tests: `...`
- Lint / format: `...`

## Conventions
- Code style, naming, where new code goes.
- What must stay true (public interfaces, compatibility, performance limits).

## Do not
- Files or directories agents must not touch.
"""


class InstructionsError(Exception):
    """The user's instructions file cannot be used; the message says why."""


def agents_md_files(root: Path, cwd: Path) -> list[Path]:
    """The ``AGENTS.md`` files from ``root`` down to ``cwd`` (only root's when cwd is outside)."""
    root = root.resolve()
    cwd = cwd.resolve()
    directories = [root]
    if cwd != root and cwd.is_relative_to(root):
        current = root
        for part in cwd.relative_to(root).parts:
            current = current / part
            directories.append(current)
    # A symlinked AGENTS.md pointing outside the repository (~/.ssh/id_rsa) is not the
    # repository's text: it would be sent to the server unasked (issue 11, hole 3).
    return [
        d / AGENTS_MD
        for d in directories
        if (d / AGENTS_MD).is_file() and (d / AGENTS_MD).resolve().is_relative_to(root)
    ]


def _agents_md_section(root: Path, cwd: Path) -> str:
    parts: list[str] = []
    budget = AGENTS_MD_CAP
    for path in agents_md_files(root, cwd):
        try:
            data = path.read_bytes()
        except OSError:
            continue  # an unreadable AGENTS.md is skipped rather than blocking every turn
        rel = path.relative_to(root.resolve()).as_posix()
        header = f"## {rel}\n"
        room = budget - len(header.encode())
        if room <= 0:
            parts.append(f"## {rel}\n(left out: AGENTS.md files are capped at 32 KiB)\n")
            break
        body = data[:room].decode("utf-8", errors="ignore")
        if len(data) > room:
            body += "\n(truncated: AGENTS.md files are capped at 32 KiB)"
        parts.append(header + body.rstrip("\n") + "\n")
        budget -= len(header.encode()) + min(len(data), room)
    if not parts:
        return ""
    return "# Project instructions (AGENTS.md)\n\n" + "\n".join(parts)


def build_instructions(root: Path, cwd: Path, user_file: Path | None = None) -> str:
    """The full instructions text for a run in ``root`` started from ``cwd``."""
    sections = [BASE_PROMPT]
    agents = _agents_md_section(root, cwd)
    if agents:
        sections.append(agents)
    if user_file is not None:
        path = Path(user_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InstructionsError(f"instructions file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InstructionsError(f"cannot read instructions file {path}: {exc}") from None
        if text.strip():
            sections.append("# The user's instructions\n\n" + text.strip() + "\n")
    return "\n".join(sections)


__all__ = [
    "AGENTS_MD_CAP",
    "AGENTS_MD_TEMPLATE",
    "BASE_PROMPT",
    "InstructionsError",
    "agents_md_files",
    "build_instructions",
]
