"""The first-token benchmark over its shaped link (loopback proxy, TLS, the server in its own
process): a prewarmed app's Enter sends only the user's message, chained from the prewarm, on
the socket the prewarm opened; a cold app's Enter opens the connection and sends everything.
Behaviour only: no timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import first_token  # noqa: E402


@pytest.mark.timeout(180)
def test_prewarmed_enter_sends_only_the_message_on_the_open_socket(tmp_path: Path) -> None:
    measured = first_token.collect(runs=1, pings=2, use_namespace=False, work_dir=tmp_path)
    cold, warm = measured.samples
    assert (cold.mode, warm.mode) == ("cold", "prewarmed")

    assert warm.chained and warm.prewarm_bytes > 0 and warm.new_connections == 0
    assert warm.fields.startswith("input: 1 item(s) (user); previous_response_id")

    assert not cold.chained and cold.prewarm_bytes == 0 and cold.new_connections == 1
    assert cold.fields.startswith("input: 1 item(s) (user); instructions")
    # The connection's handshakes travel after a cold Enter: more bytes up than the request.
    assert cold.wire_up > warm.wire_up

    section = first_token.section(measured)
    assert [t.caption.split(",")[0] for t in section.tables] == [
        "Enter to first visible text delta",
        "The goal: prewarmed Enter to first token <= 1 RTT + server time",
        "What the turn's first request carried (medians; the server's record and the link's "
        "byte count)",
    ]
    assert all(len(p["rtts"]) == 2 for p in measured.probes)
