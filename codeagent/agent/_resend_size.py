"""The size of the request a full resend would send, for ``CallMetrics.bytes_full_resend``,
kept without encoding the whole history again on every call."""

from __future__ import annotations

from typing import Any

from codeagent.responses.requests import (
    IGNORED_FOR_CHAINING,
    INPUT_FIELDS,
    build_body,
    encode_json,
    replay_item,
)
from codeagent.responses.transport import Transport


class ResendSize:
    """Bytes of the full-input request: the body with an empty ``input`` plus each item's
    compact JSON and the commas between them (compact JSON is additive)."""

    def __init__(self) -> None:
        # id(item) -> (item, encoded size). Items are treated as immutable once added.
        self._sizes: dict[int, tuple[dict[str, Any], int]] = {}
        #: The size of the last request body with an empty ``input``, and what it depends on.
        self._empty: tuple[tuple[str, ...], int] | None = None

    def clear(self) -> None:
        """Forget the items' sizes (the history was replaced, or ``store`` changed how items
        are replayed)."""
        self._sizes.clear()

    def measure(
        self,
        settings: dict[str, Any],
        signature: str,
        items: list[dict[str, Any]],
        transport: Transport,
        *,
        store: bool,
    ) -> int:
        """The full-resend size of ``items`` with ``settings`` over ``transport``."""
        # The empty body holds the signature's fields and the rest (key order does not change
        # a length): encoded again only when one of them or the transport changes.
        unsigned = IGNORED_FOR_CHAINING | INPUT_FIELDS
        ignored = encode_json({k: v for k, v in settings.items() if k in unsigned})
        key = (transport.active, signature, ignored)
        if self._empty is None or self._empty[0] != key:
            self._empty = (key, transport.request_size(build_body(settings, [])))
        size = self._empty[1]
        for item in items:
            cached = self._sizes.get(id(item))
            if cached is None or cached[0] is not item:
                encoded = encode_json(replay_item(item, store=store)).encode("utf-8")
                cached = self._sizes[id(item)] = (item, len(encoded))
            size += cached[1]
        return size + max(len(items) - 1, 0)
