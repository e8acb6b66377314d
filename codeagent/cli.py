"""The ``codeagent`` command line: the TUI by default, plus ``serve``, ``exec`` and ``resume``.

Each subcommand lives in its own module with ``configure(parser)`` and ``run(args) -> int``.
Only the chosen module is imported, so ``codeagent serve`` never loads Textual and a broken
subcommand cannot break the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from codeagent import __version__

#: subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "serve": ("codeagent.server.command", "run a local Responses API server (WebSocket, HTTP/SSE)"),
    "exec": ("codeagent.exec", "run one task headlessly and print the final message"),
    "resume": ("codeagent.tui.launch", "reopen a previous session in the TUI"),
}
TUI_MODULE = "codeagent.tui.launch"


def _epilog() -> str:
    lines = ["commands:"]
    lines += [f"  {name:<8} {help_text}" for name, (_, help_text) in SUBCOMMANDS.items()]
    lines.append("\nRun `codeagent COMMAND --help` for a command's options.")
    return "\n".join(lines)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for ``command`` (a subcommand name), or for the TUI when ``command`` is None."""
    if command is None:
        parser = argparse.ArgumentParser(
            prog="codeagent",
            description="A terminal coding assistant. Run it inside a git repository.",
            epilog=_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("--version", action="version", version=f"codeagent {__version__}")
        module = TUI_MODULE
    else:
        module, help_text = SUBCOMMANDS[command]
        parser = argparse.ArgumentParser(prog=f"codeagent {command}", description=help_text)
    parser.set_defaults(_module=module, command=command)
    importlib.import_module(module).configure(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``codeagent`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv[1:] if command else argv)
    module = importlib.import_module(args._module)
    return int(module.run(args) or 0)
