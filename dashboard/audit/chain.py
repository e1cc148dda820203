"""The keyed hash chain: canonical content, serialised appends, seals, signed checkpoints and heads, verification.

Each event stores ``hash = sha256(canonical JSON of its content, which includes prev_hash and sequence)``.
Editing an event breaks its own hash; deleting, inserting or reordering breaks a sequence number or the next
event's ``prev_hash`` link. A hash proves order, not authorship: anyone with database access and this code
can recompute it. So each event is also *sealed*: ``seal = HMAC-SHA-256(audit key, key id, hash)`` under the
audit key (keys.py), which the database never holds. An event written, altered, renumbered or re-linked by
someone without the key fails its seal, and ``verify`` names it by sequence. What a chain alone cannot show is
a cut-off tail: ``signed_head`` is what ``export_audit_head`` keeps elsewhere and ``check_head`` compares.

Archiving removes the chain's *start* behind checkpoints, so checkpoints are part of the evidence. A row
claiming "events #1..#N were archived" is exactly what an attacker with SQL access would insert before
deleting the events, and the head would not change. Hence: the triggers accept a checkpoint only when it
covers exactly the oldest events (so the claim is at least true when made), ``verify`` requires checkpoints
to follow each other from #1 and the remaining events to follow the last one, and each checkpoint carries a
``signature``: an HMAC under the audit key, which archive_audit has and a database-only attacker has
not. A consistent but forged checkpoint therefore fails verification by its signature. (A
plain hash chaining the checkpoints would not do: anyone can compute it.) ``verify_audit --archive FILE``
additionally checks an archive file against its checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from . import keys
from .models import APPEND_TOKEN, AuditCheckpoint, AuditEvent

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1
# Any fixed 64-bit key works: it only has to be the same in every process of this application.
_PG_ADVISORY_LOCK_KEY = 0x6175646974  # "audit"
# What each MAC under the audit key is about: a seal can't pass for a checkpoint signature or a head.
EVENT_SEAL = "dashboard.audit.event"
CHECKPOINT_SIGNATURE = "dashboard.audit.checkpoint"
HEAD_SIGNATURE = "dashboard.audit.head"

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


def timestamp_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(event: AuditEvent) -> dict:
    content = {name: getattr(event, name) for name in HASHED_FIELDS if name != "attempt_sequence"}
    content["attempt_sequence"] = event.attempt_id  # works on migrations' historical models too
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


def event_seal(event: AuditEvent, key: keys.AuditKey) -> str:
    # The hash covers the whole canonical content (sequence and prev_hash included), so sealing it seals all.
    return key.mac(EVENT_SEAL, event.hash)


def seal(event: AuditEvent, key: keys.AuditKey | None = None) -> None:
    key = key or keys.current()
    event.key_id, event.seal = key.key_id, event_seal(event, key)


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
        seal(event)
        event.save(append=APPEND_TOKEN)
        return event


def checkpoint_bytes(checkpoint: AuditCheckpoint) -> bytes:
    """What a checkpoint's signature covers: everything it claims (and, through the MAC, its key id)."""
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


def sign_checkpoint(checkpoint: AuditCheckpoint, key: keys.AuditKey | None = None) -> None:
    """Set the checkpoint's ``key_id`` and ``signature`` under ``key`` (the current audit key)."""
    key = key or keys.current()
    checkpoint.key_id = key.key_id
    checkpoint.signature = key.mac(CHECKPOINT_SIGNATURE, checkpoint_bytes(checkpoint).decode("ascii"))


def checkpoint_signed(checkpoint: AuditCheckpoint) -> bool:
    """Signed with the audit key, or with an older one still in AUDIT_SIGNING_KEY_FALLBACKS."""
    key = keys.by_id(checkpoint.key_id)
    return key is not None and key.verifies(
        CHECKPOINT_SIGNATURE, checkpoint_bytes(checkpoint).decode("ascii"), checkpoint.signature
    )


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    head_sequence: int
    head_hash: str
    problem: str = ""  # names the first bad event or checkpoint
    bad_sequence: int | None = None
    checkpoints: int = 0  # checkpoints verified
    archived: int = 0  # events they account for (#1..#archived)


def verify() -> Verification:
    """Walk the checkpoints from #1, then the events after the last one; stop at the first problem."""
    expected_sequence, expected_prev = 1, GENESIS_HASH
    checkpoints = 0
    for checkpoint in AuditCheckpoint.objects.order_by("sequence"):  # few rows: one per archive run
        problem = _checkpoint_problem(checkpoint, expected_sequence)
        if problem:
            return Verification(
                False,
                0,
                expected_sequence - 1,
                expected_prev,
                problem,
                checkpoint.sequence,
                checkpoints,
                expected_sequence - 1,
            )
        checkpoints += 1
        expected_sequence, expected_prev = checkpoint.sequence + 1, checkpoint.hash
    archived = expected_sequence - 1
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        found = _problem(event, expected_sequence, expected_prev)
        if found:
            bad_sequence, message = found
            return Verification(
                False, checked, expected_sequence - 1, expected_prev, message, bad_sequence, checkpoints, archived
            )
        checked += 1
        expected_sequence, expected_prev = event.sequence + 1, event.hash
    return Verification(True, checked, expected_sequence - 1, expected_prev, checkpoints=checkpoints, archived=archived)


def _checkpoint_problem(checkpoint: AuditCheckpoint, expected_first: int) -> str | None:
    first, last = checkpoint.first_sequence, checkpoint.sequence
    name = f"checkpoint #{last} (events #{first}..#{last})"
    if first > expected_first:
        return (
            f"{name} does not follow on from "
            + (f"checkpoint #{expected_first - 1}" if expected_first > 1 else "the start of the chain")
            + f": events #{expected_first}..#{first - 1} are unaccounted "
            f"for (a checkpoint was deleted)"
        )
    if first < expected_first:
        return f"{name} overlaps checkpoint #{expected_first - 1}: a checkpoint was inserted"
    if last < first or checkpoint.archived_count != last - first + 1:
        return f"{name} claims {checkpoint.archived_count} archived events: it was forged or altered"
    if not checkpoint_signed(checkpoint):
        return (
            f"{name} is not signed with this site's audit key: it was forged (inserted outside archive_audit, "
            f"so the events it covers may have been deleted unarchived) or altered — or the audit key was "
            f"rotated without keeping the old key in AUDIT_SIGNING_KEY_FALLBACKS"
        )
    return None


def _problem(event: AuditEvent, expected_sequence: int, expected_prev: str) -> tuple[int, str] | None:
    name = f"event #{event.sequence} (id {event.pk})"
    if event.sequence < expected_sequence:
        return event.sequence, (
            f"{name} is at or below checkpoint #{expected_sequence - 1}, which should have "
            f"archived it: the event or the checkpoint was inserted"
        )
    if event.sequence > expected_sequence:
        gap = (
            f"#{expected_sequence}"
            if event.sequence == expected_sequence + 1
            else f"#{expected_sequence}..#{event.sequence - 1}"
        )
        return expected_sequence, f"event {gap} is missing (deleted) before event #{event.sequence}"
    if event.prev_hash != expected_prev:
        return event.sequence, (
            f"{name} does not link to event #{event.sequence - 1}: an event was edited, deleted, inserted or reordered"
        )
    if compute_hash(event) != event.hash:
        return event.sequence, f"{name} was altered: its content no longer matches its hash"
    key = keys.by_id(event.key_id)
    if key is None:
        return event.sequence, (
            f"{name} is sealed with an unknown key ({event.key_id or 'none'}): it was written "
            f"by someone without the audit key (another key, or none) — or the key was rotated "
            f"without keeping the old one in AUDIT_SIGNING_KEY_FALLBACKS"
        )
    if not key.verifies(EVENT_SEAL, event.hash, event.seal):
        return event.sequence, (
            f"{name} is not sealed with the audit key: it was written, altered or re-linked by someone without the key"
        )
    return None
