"""The audit key ring (issue 9): the key that seals the chain, and older keys kept only to verify.

The key comes from ``AUDIT_SIGNING_KEY`` or ``AUDIT_SIGNING_KEY_FILE`` (settings.py), never from SECRET_KEY and
never from the database: whoever can write the database, or run the code with another key, still cannot
produce a seal ``verify_audit`` accepts. Each key is known by a key id, a fingerprint derived from the key
itself, so a stored seal names the key that made it without revealing it, and a rotation needs no naming
scheme: the new key seals from now on, the old one moves to ``AUDIT_SIGNING_KEY_FALLBACKS`` and keeps the
older events verifiable.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from django.conf import settings

KEY_ID_LENGTH = 16
# Domain separation: one key, several kinds of message, none of which can stand in for another.
_KEY_ID_CONTEXT = b"dashboard.audit.key-id"


@dataclass(frozen=True, slots=True)
class AuditKey:
    key_id: str
    secret: bytes = field(repr=False)

    def mac(self, context: str, message: str) -> str:
        """HMAC-SHA-256 of ``context`` and ``message`` under this key, as hex."""
        data = f"{context}\x00{self.key_id}\x00{message}".encode()
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    def verifies(self, context: str, message: str, mac: str) -> bool:
        return hmac.compare_digest(self.mac(context, message), str(mac))


def key_id_of(secret: str | bytes) -> str:
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, _KEY_ID_CONTEXT, hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]


def _key(secret: str) -> AuditKey:
    return AuditKey(key_id_of(secret), secret.encode())


def current() -> AuditKey:
    """The key that seals new events, checkpoints and heads."""
    return _key(settings.AUDIT_SIGNING_KEY)


def ring() -> dict[str, AuditKey]:
    """Every key that verifies: the current one and the fallbacks, by key id."""
    keys = [_key(s) for s in [settings.AUDIT_SIGNING_KEY, *settings.AUDIT_SIGNING_KEY_FALLBACKS] if s]
    return {k.key_id: k for k in reversed(keys)}


def by_id(key_id: str) -> AuditKey | None:
    return ring().get(key_id)
