"""The chain: the last completed response, and the rule for when the next call may continue it
with ``previous_response_id`` and only the new items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codeagent.responses.transport import Transport


@dataclass(frozen=True)
class Chain:
    """The last completed response and what it covers."""

    response_id: str
    length: int  # how many of the history's items the server holds (input + output)
    signature: str  # non-input fields of the request that produced it
    held: tuple[dict[str, Any], ...] | None  # the items the server holds (None: unknown)
    transport: str
    connection_id: int | None  # None: restored from disk, no live connection holds it

    def usable(
        self, items: Sequence[dict[str, Any]], signature: str, *, store: bool, transport: Transport
    ) -> bool:
        """Whether the next call over ``transport`` may continue this response: same request
        fields, the held history unchanged, and the server still holding the response --
        persisted (``store``) or on the live WebSocket it was made on."""
        if self.signature != signature or self.length > len(items):
            return False
        if self.held is not None and any(
            a is not b for a, b in zip(self.held, items, strict=False)
        ):
            return False  # the history the server holds was rewritten since
        if store:
            return True  # persisted server-side: any connection, either transport
        return (
            transport.active == "websocket"
            and self.transport == "websocket"
            and self.connection_id is not None
            and self.connection_id == transport.connection_id != 0
        )
