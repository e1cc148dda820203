"""The hash chain: canonical content, serialised appends, verification.

Each event stores ``hash = sha256(canonical JSON of its content, which includes prev_hash and sequence)``.
Editing an event breaks its own hash; deleting, inserting or reordering breaks a sequence number or the next
event's ``prev_hash`` link. What a chain alone cannot show is a cut-off tail: compare the head that
``verify_audit`` prints with one recorded elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from .models import APPEND_TOKEN, AuditCheckpoint, AuditEvent

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1
# Any fixed 64-bit key works: it only has to be the same in every process of this application.
_PG_ADVISORY_LOCK_KEY = 0x6175646974  # "audit"

HASHED_FIELDS = (
    "sequence", "timestamp", "actor_user_id", "actor_username", "actor_role", "ip", "user_agent",
    "action", "storage_uuid", "storage_name", "outcome", "changes", "changed_fields", "error_code",
    "error_message", "correlation_id", "duration_ms", "attempt_sequence", "prev_hash",
)  # fmt: skip


def timestamp_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(event: AuditEvent) -> dict:
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["timestamp"] = timestamp_text(event.timestamp)
    content["v"] = FORMAT_VERSION
    return content


def canonical_bytes(event: AuditEvent) -> bytes:
    # Sorted keys, no whitespace, ASCII only: the same bytes whichever database stored the JSON.
    return json.dumps(
        canonical_content(event), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def lock_chain() -> None:
    """Serialise appends until the current transaction ends, so two processes never read the same head.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: settings open every transaction with
    BEGIN IMMEDIATE, which already holds the database's write lock before the head is read.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_ADVISORY_LOCK_KEY])


def head() -> tuple[int, str]:
    """(sequence, hash) of the newest event, else of the newest checkpoint, else the genesis (0, zeros)."""
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    if last is None:
        last = AuditCheckpoint.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return last or (0, GENESIS_HASH)


def append(event: AuditEvent, *, now) -> AuditEvent:
    """Link ``event`` to the head and insert it. ``now`` is called under the lock, so time follows sequence.

    Should serialisation ever fail, the unique ``sequence`` makes the racing INSERT fail (AuditUnavailable,
    so the write is not made) rather than fork the chain.
    """
    with transaction.atomic():
        lock_chain()
        sequence, prev_hash = head()
        event.sequence = sequence + 1
        event.prev_hash = prev_hash
        event.timestamp = now()
        event.hash = compute_hash(event)
        event.save(append=APPEND_TOKEN)
        return event


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    head_sequence: int
    head_hash: str
    problem: str = ""  # names the first bad event
    bad_sequence: int | None = None


def verify() -> Verification:
    """Walk the chain from the latest checkpoint (or the genesis) and stop at the first bad event."""
    checkpoint = AuditCheckpoint.objects.order_by("-sequence").first()
    expected_sequence = checkpoint.sequence + 1 if checkpoint else 1
    expected_prev = checkpoint.hash if checkpoint else GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        problem = _problem(event, expected_sequence, expected_prev)
        if problem:
            bad_sequence, message = problem
            return Verification(False, checked, expected_sequence - 1, expected_prev, message, bad_sequence)
        checked += 1
        expected_sequence, expected_prev = event.sequence + 1, event.hash
    return Verification(True, checked, expected_sequence - 1, expected_prev)


def _problem(event: AuditEvent, expected_sequence: int, expected_prev: str) -> tuple[int, str] | None:
    name = f"event #{event.sequence} (id {event.pk})"
    if event.sequence < expected_sequence:
        return event.sequence, (f"{name} is at or below checkpoint #{expected_sequence - 1}, which should have "
                                f"archived it: the event or the checkpoint was inserted")  # fmt: skip
    if event.sequence > expected_sequence:
        gap = f"#{expected_sequence}" if event.sequence == expected_sequence + 1 else f"#{expected_sequence}..#{event.sequence - 1}"
        return expected_sequence, f"event {gap} is missing (deleted) before event #{event.sequence}"
    if event.prev_hash != expected_prev:
        return event.sequence, (f"{name} does not link to event #{event.sequence - 1}: "
                                f"an event was edited, deleted, inserted or reordered")  # fmt: skip
    if compute_hash(event) != event.hash:
        return event.sequence, f"{name} was altered: its content no longer matches its hash"
    return None
