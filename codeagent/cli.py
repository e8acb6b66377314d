"""The ``codeagent`` command line: the TUI by default, plus ``serve``, ``exec`` and ``resume``.

Each subcommand lives in its own module with ``configure(parser)`` and ``run(args) -> int``;
they are imported only when chosen, so ``codeagent serve`` never loads Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from codeagent import __version__

#: subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "serve": ("codeagent.server.command", "run a local Responses API server (WebSocket + HTTP/SSE)"),
    "exec": ("codeagent.exec", "run one task headlessly and print the final message"),
    "resume": ("codeagent.tui.launch", "reopen a previous session in the TUI"),
}
TUI_MODULE = "codeagent.tui.launch"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeagent",
        description="A terminal coding assistant. Run it inside a git repository.",
    )
    parser.add_argument("--version", action="version", version=f"codeagent {__version__}")
    importlib.import_module(TUI_MODULE).configure(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module)
        importlib.import_module(module).configure(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    module = importlib.import_module(getattr(args, "_module", TUI_MODULE))
    return int(module.run(args) or 0)
