"""Measurements 1-3: the scripted rollout through ``codeagent exec``, WebSocket vs HTTP.

The server (``server_proc``) sits behind a shaped link: in a network namespace joined by a veth
pair rate-limited with ``tc tbf`` both ways, and behind ``ShapingProxy`` which adds the one-way
delay (no ``netem`` on this kernel). Without namespaces, the proxy does both delay and rate on
loopback, and the report says so. TLS on both transports with a throwaway ``trustme`` CA.
Runs alternate between transports so that drift on the machine hits both equally.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks import rollout
from benchmarks.e2e_model import LOOPBACK_ALIAS, TRANSPORTS, E2EConfig, Run, turns_from_timeline
from benchmarks.e2e_report import build_sections
from benchmarks.exec_run import run_exec
from benchmarks.netlab import LinkUnavailable, ShapedLink
from benchmarks.report import Section
from benchmarks.server_handle import ServerProcess
from benchmarks.shaped_server import make_tls
from benchmarks.shaping_proxy import ShapingProxy


def run_rollouts(cfg: E2EConfig, scratch: Path) -> tuple[list[Run], str]:
    """Run the alternating rollouts; return the runs and a description of the link used."""
    ca_file, cert_file, key_file = make_tls(scratch, ["127.0.0.1", LOOPBACK_ALIAS])
    template = rollout.make_workspace(scratch / "template")
    link_cm: ShapedLink | None = None
    link_note = ""
    if cfg.use_namespace:
        link_cm = ShapedLink(rate=f"{int(cfg.link.rate_bps / 1e6)}mbit")
        try:
            link_cm.__enter__()
        except LinkUnavailable as exc:
            link_note = f"network namespace unavailable ({exc}); "
            link_cm = None
    try:
        if link_cm is not None:
            ca_file, cert_file, key_file = make_tls(scratch, [link_cm.host_ip, link_cm.server_ip])
            server = ServerProcess(
                f"rollout:{cfg.tool_calls}",
                host=link_cm.server_ip,
                certfile=cert_file,
                keyfile=key_file,
                prefix=link_cm.prefix,
                scratch=scratch,
            )
            target_host = link_cm.server_ip
            listen_host = link_cm.host_ip
            proxy_rate = None
            how = (
                f"{link_cm.describe()}; the {cfg.link.rtt * 1000:.0f} ms round trip is added by "
                "a user-space delay proxy (30 ms per direction, order preserved) because this "
                "kernel has no `netem`"
            )
        else:
            server = ServerProcess(
                f"rollout:{cfg.tool_calls}",
                certfile=cert_file,
                keyfile=key_file,
                scratch=scratch,
            )
            target_host = "127.0.0.1"
            listen_host = LOOPBACK_ALIAS
            proxy_rate = cfg.link.rate_bps
            how = (
                link_note + "loopback shaping proxy doing both the delay (30 ms per direction) "
                "and the rate limit (shared per direction)"
            )
        runs: list[Run] = []
        with (
            server,
            ShapingProxy(
                target_host,
                server.port,
                one_way_delay=cfg.link.rtt / 2,
                rate_bps=proxy_rate,
                listen_host=listen_host,
            ) as proxy,
        ):
            base_url = f"https://{listen_host}:{proxy.port}/v1"
            order = [t for _ in range(cfg.runs_per_transport) for t in TRANSPORTS]
            prev_sockets = 0  # the server counts WebSocket connections since it started
            for n, transport in enumerate(order):
                workdir = scratch / f"run{n}-{transport}"
                shutil.copytree(template, workdir / "repo", symlinks=True)
                server.reset()
                up0, down0, conns0 = proxy.bytes_up, proxy.bytes_down, proxy.connections
                result = run_exec(
                    rollout.TASK,
                    cwd=workdir / "repo",
                    base_url=base_url,
                    transport=transport,
                    home=workdir / "home",
                    ca_file=ca_file,
                )
                dump = server.dump()
                sockets_before = prev_sockets
                prev_sockets = int(dump.get("connections_opened", 0))
                run = Run(
                    transport=transport,
                    index=n // 2,
                    exec=result,
                    record=dump["record"],
                    timeline=dump["timeline"],
                    wire_up=proxy.bytes_up - up0,
                    wire_down=proxy.bytes_down - down0,
                    connections=int(dump.get("connections_opened", 0)) - sockets_before,
                    tcp_connections=proxy.connections - conns0,
                )
                run.turns = turns_from_timeline(run.timeline)
                runs.append(run)
        tls = "TLS on both transports (throwaway `trustme` CA, trusted via `SSL_CERT_FILE`)"
        return runs, f"{how}; {tls}"
    finally:
        if link_cm is not None:
            link_cm.__exit__(None, None, None)


def run(smoke: bool = False, work_dir: Path | None = None) -> list[Section]:
    """Measurements 1-3. Smoke mode: 3 tool calls, one run per transport, loopback proxy."""
    cfg = E2EConfig()
    if smoke:
        cfg = E2EConfig(tool_calls=3, runs_per_transport=1, use_namespace=False)
    scratch = Path(tempfile.mkdtemp(prefix="cabench-e2e-", dir=work_dir))
    try:
        runs, how = run_rollouts(cfg, scratch)
        return build_sections(cfg, runs, how)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
