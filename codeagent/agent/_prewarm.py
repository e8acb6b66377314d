"""Prewarm: open the WebSocket and send the next call's instructions, tools and history with
``generate: false``, so the next call chains from that empty response (``Conversation.prewarm``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from codeagent.agent._chain import Chain
from codeagent.responses.model_warmup import build_validators
from codeagent.responses.requests import settings_signature

if TYPE_CHECKING:
    from codeagent.agent.conversation import Conversation

#: Seconds each step of a prewarm (connect, then its empty response) may take.
PREWARM_TIMEOUT = 10.0


async def prewarm(conversation: Conversation) -> bool:
    """Prepare the server's state for the next call; False when there was nothing to do."""
    if (
        conversation._running
        or conversation._warming.locked()
        or conversation.transport.active != "websocket"
    ):
        return False
    async with conversation._warming:
        # What the server will hold, taken now: a message added while this runs is the next
        # call's input, not part of the prewarm.
        signature = settings_signature(conversation.settings())
        held = tuple(conversation.items)
        plan = conversation._plan(force_full=True)
        async with asyncio.timeout(PREWARM_TIMEOUT):
            await conversation.transport.ensure_fresh()
        chain = conversation._chain
        if chain is not None and chain.usable(
            held, signature, store=conversation.store, transport=conversation.transport
        ):
            return False
        async with asyncio.timeout(PREWARM_TIMEOUT):
            response_id = await conversation.transport.prewarm(plan.body)
        if response_id is None or conversation.transport.active != "websocket":
            return False
        # The wire models' validators are deferred at import; built now, while the user types,
        # the turn's first events do not wait for them (~14 ms of a prewarmed first token).
        await asyncio.to_thread(build_validators)
        conversation._chain = Chain(
            response_id=response_id,
            length=len(held),
            signature=signature,
            held=held,
            transport="websocket",
            connection_id=conversation.transport.connection_id,
        )
        return True
