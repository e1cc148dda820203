"""The audit chain's hashing and signing as migrations 0003-0004 use them: a frozen copy of chain.py and keys.py
(format version 1), so that later changes to those modules cannot change what these migrations do to existing rows.

Never edit this file. A change to how events are hashed, sealed or checkpoints signed gets a new copy with its own
version in the name, used by the migration that needs it (tests/test_audit_migration.py fails until the live code
and the newest copy agree). The leading underscore keeps Django's migration loader away. Functions take the
historical models' rows (``apps.get_model``), never the live models.
"""

import hashlib
import hmac
import json
from datetime import UTC

from django.utils.crypto import salted_hmac

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1
# What each MAC under the audit key is about (chain.py): a seal can't pass for a checkpoint signature.
EVENT_SEAL = "dashboard.audit.event"
CHECKPOINT_SIGNATURE = "dashboard.audit.checkpoint"
# Before the audit key (migration 0004), checkpoints were signed with salted_hmac under SECRET_KEY and this salt.
LEGACY_CHECKPOINT_SALT = "dashboard.audit.checkpoint"
KEY_ID_LENGTH = 16
_KEY_ID_CONTEXT = b"dashboard.audit.key-id"

HASHED_FIELDS = (
    "sequence",
    "timestamp",
    "actor_user_id",
    "actor_username",
    "actor_role",
    "ip",
    "user_agent",
    "action",
    "storage_uuid",
    "storage_name",
    "outcome",
    "changes",
    "changed_fields",
    "error_code",
    "error_message",
    "correlation_id",
    "duration_ms",
    "attempt_sequence",
    "prev_hash",
)


def timestamp_text(value):
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(event) -> dict:
    content = {name: getattr(event, name) for name in HASHED_FIELDS if name != "attempt_sequence"}
    content["attempt_sequence"] = event.attempt_id
    content["timestamp"] = timestamp_text(event.timestamp)
    content["v"] = FORMAT_VERSION
    return content


def compute_hash(event) -> str:
    canonical = json.dumps(
        canonical_content(event), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")
    return hashlib.sha256(canonical).hexdigest()


def checkpoint_bytes(checkpoint) -> bytes:
    content = {
        "v": FORMAT_VERSION,
        "first_sequence": checkpoint.first_sequence,
        "last_sequence": checkpoint.sequence,
        "last_hash": checkpoint.hash,
        "archived_count": checkpoint.archived_count,
        "archive_name": checkpoint.archive_name,
        "archive_sha256": checkpoint.archive_sha256,
        "created_at": timestamp_text(checkpoint.created_at),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


# --- checkpoints signed under SECRET_KEY (migration 0003's release) ------------------------------------------


def secret_key_signature(checkpoint, secret) -> str:
    return salted_hmac(
        LEGACY_CHECKPOINT_SALT, checkpoint_bytes(checkpoint), secret=secret, algorithm="sha256"
    ).hexdigest()


def signed_under_secret_key(checkpoint, secrets) -> bool:
    return any(hmac.compare_digest(checkpoint.signature, secret_key_signature(checkpoint, s)) for s in secrets)


# --- the audit key (migration 0004 on) -------------------------------------------------------------------


class AuditKey:
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.key_id = hmac.new(self.secret, _KEY_ID_CONTEXT, hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]

    def __repr__(self) -> str:  # never the secret
        return f"<AuditKey {self.key_id}>"

    def mac(self, context: str, message: str) -> str:
        data = f"{context}\x00{self.key_id}\x00{message}".encode()
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def seal(event, key: AuditKey) -> None:
    event.key_id, event.seal = key.key_id, key.mac(EVENT_SEAL, event.hash)


def sign_checkpoint(checkpoint, key: AuditKey) -> None:
    checkpoint.key_id = key.key_id
    checkpoint.signature = key.mac(CHECKPOINT_SIGNATURE, checkpoint_bytes(checkpoint).decode("ascii"))
