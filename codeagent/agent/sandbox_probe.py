"""The command sandbox, found in a thread: its bubblewrap probe is a few subprocesses (~10 ms)
that can run while the process imports the agent and opens git, instead of before them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Literal

from codeagent.agent.tools.sandbox import Sandbox, detect_sandbox


def probe_sandbox(
    mode: Literal["auto", "bwrap", "none"], env: Sequence[str] = ()
) -> Callable[[], Sandbox]:
    """Start ``detect_sandbox(mode, env)`` in a thread; call the result for the sandbox (it
    waits, and re-raises what the probe raised, e.g. ``ValueError`` for an unknown mode)."""
    found: list[Sandbox | Exception] = []

    def probe() -> None:
        try:
            found.append(detect_sandbox(mode, tuple(env)))
        except Exception as exc:  # handed to the caller, as if it had probed itself
            found.append(exc)

    thread = threading.Thread(target=probe, name="codeagent-sandbox-probe", daemon=True)
    thread.start()

    def result() -> Sandbox:
        thread.join()
        if isinstance(found[0], Exception):
            raise found[0]
        return found[0]

    return result


__all__ = ["probe_sandbox"]
