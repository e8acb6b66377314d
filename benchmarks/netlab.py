"""The shaped link of the end-to-end benchmark: a network namespace joined by a veth pair.

``ShapedLink`` puts the server side in namespace ``cabench<pid>`` and rate-limits both veth ends
with ``tc tbf`` (``netem`` is not available on the benchmark machine, so the round-trip delay is
added by ``ShapingProxy`` in user space). ``ShapedLink.probe()`` tells whether this machine can do
it at all (root, ``ip``, ``tc``, namespaces); the caller falls back to a loopback shaping proxy
and reports that when it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess


class LinkUnavailable(RuntimeError):
    """Namespaces, veth or tc cannot be used here; the message says which step failed."""


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = proc.stderr.strip() or f"exit {proc.returncode}"
        raise LinkUnavailable(f"`{' '.join(argv)}` failed: {detail}")


class ShapedLink:
    """Namespace + veth pair, ``rate`` (tc syntax, e.g. "20mbit") each way via tbf.

    The host end is ``10.<a>.<b>.1``, the namespace end ``server_ip``. ``prefix`` is the argv
    prefix that runs a command inside the namespace. Use as a context manager; teardown removes
    the namespace and the veth pair even after a failed setup.
    """

    def __init__(self, rate: str = "20mbit", pid: int | None = None) -> None:
        tag = (pid or os.getpid()) % 50000
        self.name = f"cabench{tag}"
        self.host_dev = f"cab{tag}h"
        self.ns_dev = f"cab{tag}n"
        a, b = 200 + tag % 50, (tag // 50) % 250
        self.host_ip = f"10.{a}.{b}.1"
        self.server_ip = f"10.{a}.{b}.2"
        self.rate = rate
        self.prefix = ["ip", "netns", "exec", self.name]

    @staticmethod
    def probe() -> str | None:
        """None when this machine can build the link, else the reason it cannot."""
        if os.geteuid() != 0:
            return "needs root for `ip netns` and `tc`"
        for tool in ("ip", "tc"):
            if shutil.which(tool) is None:
                return f"`{tool}` is not installed"
        return None

    def __enter__(self) -> ShapedLink:
        reason = self.probe()
        if reason:
            raise LinkUnavailable(reason)
        try:
            self._setup()
        except LinkUnavailable:
            self._teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._teardown()

    def _setup(self) -> None:
        tbf = ["tbf", "rate", self.rate, "burst", "64kb", "latency", "400ms"]
        _run(["ip", "netns", "add", self.name])
        _run(["ip", "link", "add", self.host_dev, "type", "veth", "peer", "name", self.ns_dev])
        _run(["ip", "link", "set", self.ns_dev, "netns", self.name])
        _run(["ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_dev])
        _run(["ip", "link", "set", self.host_dev, "up"])
        _run([*self.prefix, "ip", "addr", "add", f"{self.server_ip}/30", "dev", self.ns_dev])
        _run([*self.prefix, "ip", "link", "set", self.ns_dev, "up"])
        _run([*self.prefix, "ip", "link", "set", "lo", "up"])
        # Upload (client -> server) leaves the host end; download leaves the namespace end.
        _run(["tc", "qdisc", "add", "dev", self.host_dev, "root", *tbf])
        _run([*self.prefix, "tc", "qdisc", "add", "dev", self.ns_dev, "root", *tbf])

    def _teardown(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_dev], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    @classmethod
    def remove_leftovers(cls, pid: int) -> None:
        """Remove the namespace and veth pair a killed process ``pid`` may have left behind."""
        if cls.probe() is None:
            cls(pid=pid)._teardown()

    def describe(self) -> str:
        """One line for the report."""
        return (
            f"network namespace `{self.name}` joined by a veth pair, `tc tbf rate {self.rate}` "
            "on both veth ends"
        )
