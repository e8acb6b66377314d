"""Opaque, tamper-evident blobs for ``encrypted_content`` (reasoning and compaction items).

The content is not secret (this is a local test server); it is signed so that a changed or
made-up blob is rejected with a clear error instead of being silently misread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

PREFIX = "enc1."
_KEY = b"codeagent-local-server"


class SealError(ValueError):
    """The blob was not produced by this server or was modified."""


def seal(kind: str, payload: Any) -> str:
    """Encode ``payload`` as an opaque string tagged with ``kind``."""
    raw = zlib.compress(json.dumps({"kind": kind, "payload": payload}).encode())
    body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{PREFIX}{body}.{_sign(body)}"


def unseal(kind: str, blob: Any) -> Any:
    """Decode a blob made by :func:`seal` with the same ``kind``; raise ``SealError`` otherwise."""
    if not isinstance(blob, str) or not blob.startswith(PREFIX) or blob.count(".") != 2:
        raise SealError("encrypted_content was not produced by this server")
    body, signature = blob[len(PREFIX) :].split(".")
    if not hmac.compare_digest(signature, _sign(body)):
        raise SealError("encrypted_content was modified or is not from this server")
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
    except (ValueError, zlib.error) as exc:
        raise SealError("encrypted_content could not be decoded") from exc
    if data.get("kind") != kind:
        raise SealError(f"encrypted_content is a {data.get('kind')!r} blob, expected {kind!r}")
    return data["payload"]


def _sign(body: str) -> str:
    return hmac.new(_KEY, body.encode(), hashlib.sha256).hexdigest()[:32]
