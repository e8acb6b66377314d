"""Several read-only tool calls in one response run at the same time and answer in call order;
a call that may write runs alone, approved on its own, in the order the model asked for."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

from agent_support import ListApprover, collect, sent_outputs

from codeagent.agent.approvals import Decision
from codeagent.agent.events import ToolOutput, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.server.script import Episode, Script, Step, apply_patch, shell

GREET_DIFF = '@@ def greet():\n-    print("Hi")\n+    print("Hello")\n'


def one_step(*items) -> Script:
    return Script([Episode([Step(list(items))])])


def feed_fifos_last_first(fifos: list[Path], deadline: float) -> threading.Thread:
    """Write each FIFO's name into it, the last one first. Opening a FIFO for writing succeeds
    only once a reader has it open, so this finishes only when every reader waits at the same
    time: run one by one, the first ``cat`` would wait for a writer stuck on the last FIFO."""

    def feed() -> None:
        for fifo in reversed(fifos):
            while time.monotonic() < deadline:  # bounded: a test that fails must not hang
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as exc:
                    if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                        raise
                    time.sleep(0.01)
                    continue
                os.write(fd, f"from {fifo.name}\n".encode())
                os.close(fd)
                break
            else:
                return

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


async def test_five_reads_run_together_and_answer_in_call_order(
    make_server, settings_for, repo: Path
) -> None:
    fifos = [repo / f"pipe{i}" for i in range(5)]
    for fifo in fifos:
        os.mkfifo(fifo)
    server = make_server(one_step(*(shell([f"cat {f.name}"], timeout_ms=8000) for f in fifos)))
    approver = ListApprover()  # reads need no approval
    agent = Agent(settings_for(server), repo, approver)
    feeder = feed_fifos_last_first(fifos, time.monotonic() + 8)
    events = await collect(agent.submit("read the pipes"))
    await agent.close()
    feeder.join(timeout=10)
    outputs = [e for e in events if isinstance(e, ToolOutput)]
    assert [o.output.strip().splitlines()[-1] for o in outputs] == [
        f"from pipe{i}" for i in range(5)
    ]
    assert all(o.success for o in outputs)
    sent = [o for o in sent_outputs(server) if o["type"].endswith("call_output")]
    assert [o["call_id"] for o in sent] == [o.call_id for o in outputs]  # call order
    assert approver.requests == [] and isinstance(events[-1], TurnCompleted)


async def test_a_write_between_reads_keeps_its_place_and_its_approval(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        one_step(
            shell(["cat app.py"]),
            shell(["cat notes.txt"]),
            apply_patch("update_file", "app.py", GREET_DIFF),
            shell(["cat app.py"]),
            shell(["touch made.txt"]),
            shell(["ls"]),
        )
    )
    asked: list[str] = []
    approver = ListApprover(
        Decision.approve(),
        Decision.approve(),
        on_ask=lambda r: asked.append(f"{r.kind}:{r.title}"),
    )
    agent = Agent(settings_for(server, approval_policy="ask"), repo, approver)
    events = await collect(agent.submit("edit between reads"))
    await agent.close()
    texts = [e.output for e in events if isinstance(e, ToolOutput)]
    assert len(texts) == 6
    assert 'print("Hi")' in texts[0] and "two" in texts[1]
    assert 'print("Hello")' in texts[3]  # read after the patch sees the patch
    assert "made.txt" in texts[5]  # read after the command sees its file
    # one approval per write, in the model's order
    assert [a.split(":")[0] for a in asked] == ["patch", "command"]
    assert "touch made.txt" in asked[1]
    assert isinstance(events[-1], TurnCompleted)


async def test_a_rejected_write_does_not_stop_the_reads_after_it(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        one_step(shell(["cat notes.txt"]), shell(["rm notes.txt"]), shell(["cat notes.txt"]))
    )
    approver = ListApprover(Decision.reject("keep it"))
    agent = Agent(settings_for(server, approval_policy="ask"), repo, approver)
    events = await collect(agent.submit("remove notes"))
    await agent.close()
    outputs = [e for e in events if isinstance(e, ToolOutput)]
    assert [o.rejected for o in outputs] == [False, True, False]
    assert "two" in outputs[2].output and (repo / "notes.txt").exists()
    assert len(approver.requests) == 1
