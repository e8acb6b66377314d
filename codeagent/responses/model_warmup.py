"""Build the wire models' validators ahead of need.

They are deferred at import (``WireModel``'s ``defer_build``) so that ``codeagent exec`` reaches
its first request sooner; the first event of each type then pays for its schema (~14 ms for
all of them here). A prewarmed turn should not: after the prewarm, while the user is still
typing, ``build_validators`` builds them all.
"""

from __future__ import annotations

from pydantic import BaseModel

from codeagent.responses.events import WireModel


def build_validators() -> int:
    """Build every wire model's validator that is not built yet; returns how many it built."""
    built = 0
    pending: list[type[BaseModel]] = list(WireModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__ or _deferred(model):
            model.model_rebuild(force=True)
            built += 1
    return built


def _deferred(model: type[BaseModel]) -> bool:
    # A deferred model holds a placeholder validator until its first use.
    return type(model.__pydantic_validator__).__name__ == "MockValSer"
