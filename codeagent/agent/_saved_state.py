"""A conversation saved to and rebuilt from the session's state file (``Conversation.to_state``
and ``from_state``): its history and settings, and the chain only when ``store=true`` made the
response retrievable from any connection."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from codeagent.agent._chain import Chain
from codeagent.agent.metrics import UsageTotals
from codeagent.responses.transport import Transport
from codeagent.sessions import SessionError

if TYPE_CHECKING:
    from codeagent.agent.conversation import Conversation
    from codeagent.agent.loop import Agent
    from codeagent.sessions import Session


def saved_state(conversation: Conversation) -> dict[str, Any]:
    """A JSON-ready snapshot (history, settings, and the chain when it is persisted)."""
    chain = None
    if conversation._chain is not None and conversation.store:
        chain = {
            "response_id": conversation._chain.response_id,
            "length": conversation._chain.length,
            "signature": conversation._chain.signature,
        }
    return {
        "version": 1,
        "settings": {
            "model": conversation.model,
            "instructions": conversation.instructions,
            "tools": conversation.tools,
            "store": conversation.store,
            "reasoning": conversation.reasoning,
            "include": conversation.include,
            "context_management": conversation.context_management,
            "extra": conversation.extra,
        },
        "items": copy.deepcopy(conversation.items),
        "chain": chain,
    }


def restore(cls: type[Conversation], state: dict[str, Any], transport: Transport) -> Conversation:
    """Rebuild a conversation saved by ``saved_state`` on a new transport."""
    if not isinstance(state, dict) or state.get("version") != 1:
        raise ValueError("not a saved conversation state (version 1)")
    conversation = cls(transport, **state["settings"])
    conversation.items = copy.deepcopy(list(state.get("items") or []))
    chain = state.get("chain")
    if chain and conversation.store:
        conversation._chain = Chain(
            response_id=chain["response_id"],
            length=int(chain["length"]),
            signature=chain["signature"],
            held=None,
            transport="http",
            connection_id=None,
        )
    return conversation


def resumed(current: Conversation, state: dict[str, Any], transport: Transport) -> Conversation:
    """The conversation saved in ``state`` with ``current``'s settings (today's: a changed field
    simply resends in full); a saved cache key wins. Raises ``ValueError``, ``KeyError`` or
    ``TypeError`` for a damaged state."""
    conversation = type(current).from_state(state, transport)
    conversation.update_settings(
        model=current.model,
        instructions=current.instructions,
        tools=current.tools,
        store=current.store,
        reasoning=current.reasoning,
        context_management=current.context_management,
        extra={**current.extra, **conversation.extra},
    )
    return conversation


def restore_session(agent: Agent, session: Session) -> None:
    """Give a freshly built ``agent`` the stored ``session``'s figures and its saved history
    (with today's settings); ``SessionError`` when the saved state is damaged."""
    catalog_entry = agent.settings.catalog().get(agent.conversation.model)
    agent.usage = UsageTotals.from_transcript(agent.transcript, catalog_entry)
    state = session.last_state()
    if state and "conversation" in state:
        try:
            agent.conversation = resumed(agent.conversation, state["conversation"], agent.transport)
        except (ValueError, KeyError, TypeError) as exc:
            raise SessionError(
                f"session {session.id} cannot be resumed: its saved state is damaged ({exc})"
            ) from None
