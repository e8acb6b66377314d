"""``codeagent`` (and ``codeagent resume``): open the TUI on the current repository.

``--demo`` needs no key: it copies the bundled sample repository to a temporary folder and runs
the app against the local Responses server playing the demo script, in-process.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NO_KEY_HELP = """\
codeagent needs an API key to talk to the model.

  export OPENAI_API_KEY=sk-...        # then run `codeagent` again

To use another endpoint (a proxy, a local model, or codeagent's own local server):

  codeagent serve                      # prints a base URL, e.g. http://127.0.0.1:8765/v1
  OPENAI_API_KEY=local codeagent --base-url http://127.0.0.1:8765/v1
  (or set OPENAI_BASE_URL; any key works with the local server)

Or try it without any key:  codeagent --demo
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the TUI's flags (and the shared config flags when the config module exists)."""
    if parser.prog.endswith("resume"):
        parser.add_argument("session_id", nargs="?", help="session to reopen (default: latest)")
    else:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="try codeagent on a copy of a sample repository with a scripted local model",
        )
    parser.add_argument("--cwd", type=Path, default=None, help="repository to work in")
    parser.add_argument("--theme", help="colour theme (see /theme)")
    from codeagent.config import add_arguments

    add_arguments(parser)


def _settings(args: argparse.Namespace, root: Path, extra: dict):
    from codeagent.config import load_settings, overrides_from_args

    overrides = {**overrides_from_args(args), **extra}
    return load_settings(root, overrides)


def _has_key(settings) -> bool:
    key = settings.api_key
    return bool(key is not None and key.get_secret_value())


def run(args: argparse.Namespace) -> int:
    """Start the app; return the process exit code."""
    from codeagent.config import ConfigError

    if getattr(args, "demo", False):
        return _run_demo(args)
    root = (args.cwd or Path.cwd()).resolve()
    try:
        from codeagent.config import overrides_from_args
        from codeagent.trust_prompt import settle_repo_trust

        # Before the app takes the terminal: the repository's config settings that need trust.
        ignored = settle_repo_trust(root, overrides_from_args(args))
        settings = _settings(args, root, {})
    except ConfigError as error:
        print(f"codeagent: {error}", file=sys.stderr)
        return 2
    if not _has_key(settings):
        print(NO_KEY_HELP, file=sys.stderr)
        return 2
    session_id = getattr(args, "session_id", None) if args.command == "resume" else None
    if args.command == "resume" and session_id is None:
        from codeagent.sessions import SessionStore

        sessions = SessionStore().list(root)
        if not sessions:
            print("codeagent: no session to resume in this repository.", file=sys.stderr)
            return 2
        session_id = sessions[0].id
    return run_app(settings, root, session_id=session_id, banner=ignored)


def build_app(settings, root: Path, *, session_id: str | None = None, banner: str = ""):
    """The app on a new agent, or on one resumed from ``session_id`` (``"last"``: the newest).

    A new agent is imported and built by the app in a thread right after its first paint
    (issue 15); a failure to build it ends the app with ``app.startup_error`` set. A resumed
    one is built here: it raises ``WorkspaceError``/``SessionError`` (messages fit to print).
    """
    from codeagent.tui.app import CodeAgentApp
    from codeagent.tui.approver import TuiApprover

    approver = TuiApprover()
    if session_id:
        from codeagent.agent.loop import Agent

        agent = Agent.resume(settings, root, approver, session_id)
        return CodeAgentApp(agent, approver, settings=settings, root=root, banner=banner)

    def new_agent():
        from codeagent.agent.loop import Agent

        return Agent(settings, root, approver)

    return CodeAgentApp(
        None, approver, settings=settings, root=root, banner=banner, build_agent=new_agent
    )


def goodbye_text(app, *, demo: bool = False) -> str:
    """What the terminal shows after the app closed: how to come back to this session."""
    agent = app.ready_agent
    if agent is None:  # closed before the agent was built: no session was started
        return "codeagent closed before its session started."
    session_id = agent.status().session_id
    if demo:  # its repository copy and server are gone: the session cannot be continued
        return (
            f"Demo session {session_id} ended; its copy of the sample repository is removed. "
            "In your own repository, `codeagent resume` continues the last session."
        )
    return f"Session {session_id} saved. To continue it:  codeagent resume {session_id}"


def run_app(
    settings,
    root: Path,
    *,
    session_id: str | None = None,
    banner: str = "",
    demo: bool = False,
    **run_options,
) -> int:
    """Run the app until the user quits, then print the resume hint; the exit code.

    ``run_options`` go to ``App.run`` (tests pass ``headless`` and ``auto_pilot``).
    """
    try:
        app = build_app(settings, root, session_id=session_id, banner=banner)
    except Exception as error:
        from codeagent.sessions import SessionError
        from codeagent.workspace.git import WorkspaceError

        if not isinstance(error, (WorkspaceError, SessionError)):
            raise
        print(f"codeagent: {error}", file=sys.stderr)
        return 2
    code = app.run(**run_options) or 0
    if app.startup_error is not None:  # the agent could not be built (e.g. not a repository)
        print(f"codeagent: {app.startup_error}", file=sys.stderr)
        return 2
    print(goodbye_text(app, demo=demo))
    return code


@contextmanager
def demo_environment(args: argparse.Namespace) -> Iterator[tuple[object, Path]]:
    """A copy of the sample repository and a started local server playing the demo script.

    Yields ``(settings, root)``; stops the server and deletes the copy on exit.
    """
    from codeagent.server.demo import copy_sample_repo
    from codeagent.server.embedded import EmbeddedServer

    workdir = Path(tempfile.mkdtemp(prefix="codeagent-demo-"))
    try:
        root = copy_sample_repo(workdir / "sample")
        with EmbeddedServer("demo") as server:
            overrides = {"base_url": server.base_url, "api_key": "demo"}
            # The demo asks before every edit unless a flag says otherwise: every flag given
            # with --demo applies (--full-auto, --approval-policy, --model, --sandbox, ...).
            if getattr(args, "approval_policy", None) is None:
                overrides["approval_policy"] = "ask"
            yield _settings(args, root, overrides), root
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_demo(args: argparse.Namespace) -> int:
    if getattr(args, "base_url", None):
        print("codeagent: --demo runs its own local server; leave out --base-url.", file=sys.stderr)
        return 2
    with demo_environment(args) as (settings, root):
        banner = (
            f"Demo: a copy of the sample repository is in {root}; the model is a scripted local "
            "server. Try: fix the failing fizz_buzz test"
        )
        return run_app(settings, root, banner=banner, demo=True)
