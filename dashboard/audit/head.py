"""The anchored head (issue 9): the one thing a chain cannot prove about itself is that nothing was cut off its
newest end. ``export_audit_head`` writes a signed head — "the chain reached #N with hash H at time T", MAC'd
under the audit key — somewhere the database's users can't reach (a file on another machine, syslog);
``verify_audit --expect-head FILE`` then checks that every head in FILE is still in the chain.

A head is one JSON line, so a file may collect many (one per cron run) and a syslog extract works too:

    {"audit_head":1,"at":"2026-12-01T02:00:00.000000+00:00","hash":"…","key_id":"…","sequence":1234,"signature":"…"}
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from . import chain, keys
from .models import AuditCheckpoint, AuditEvent

HEAD_FORMAT = 1
_SIGNED_FIELDS = ("audit_head", "sequence", "hash", "at")
_HEAD_IN_LINE = re.compile(r"\{[^{}]*\"audit_head\"[^{}]*\}")  # syslog lines carry a prefix before the JSON


class HeadError(Exception):
    pass


def _message(head: dict) -> str:
    return json.dumps({name: head.get(name) for name in _SIGNED_FIELDS}, sort_keys=True, separators=(",", ":"))


def signed_head(sequence: int, hash_: str, *, at: datetime | None = None) -> dict:
    key = keys.current()
    head = {
        "audit_head": HEAD_FORMAT,
        "sequence": sequence,
        "hash": hash_,
        "at": chain.timestamp_text(at or datetime.now(UTC)),
    }
    return {**head, "key_id": key.key_id, "signature": key.mac(chain.HEAD_SIGNATURE, _message(head))}


def head_line(head: dict) -> str:
    return json.dumps(head, sort_keys=True, separators=(",", ":"))


def read_heads(path: str) -> list[dict]:
    """Every head in the file (JSON lines, optionally behind a syslog prefix); at least one."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise HeadError(f"{path} cannot be read: {exc.strerror}") from exc
    heads = []
    for match in _HEAD_IN_LINE.finditer(text):
        try:
            heads.append(json.loads(match.group(0)))
        except ValueError as exc:
            raise HeadError(f"{path} holds a garbled head: {match.group(0)[:80]}") from exc
    if not heads:
        raise HeadError(f"{path} holds no exported audit head")
    return heads


def check_head(expected: dict) -> str | None:
    """None when the chain still holds ``expected``; else what is wrong, naming sequence numbers."""
    key = keys.by_id(str(expected.get("key_id")))
    if key is None or not key.verifies(chain.HEAD_SIGNATURE, _message(expected), str(expected.get("signature"))):
        return "the exported head is not signed with this site's audit key: it was forged or altered"
    sequence, hash_ = expected["sequence"], expected["hash"]
    if not isinstance(sequence, int) or sequence <= 0:
        return None  # the genesis: every chain starts there
    current_sequence, _ = chain.head()
    if current_sequence < sequence:
        missing = f"#{sequence}" if current_sequence + 1 == sequence else f"#{current_sequence + 1}..#{sequence}"
        return (
            f"events {missing} are missing: the chain ends at #{current_sequence}, but its head was "
            f"#{sequence} at {expected['at']} (the newest end was cut off)"
        )
    event_hash = AuditEvent.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if event_hash is None:
        archived = AuditCheckpoint.objects.filter(first_sequence__lte=sequence, sequence__gte=sequence)
        checkpoint = archived.values_list("sequence", "hash").first()
        if checkpoint is None:
            return f"event #{sequence}, the head exported at {expected['at']}, is missing"
        if checkpoint[0] != sequence or checkpoint[1] == hash_:
            return None  # archived: its file and checkpoint are verify_audit --archive's to check
        event_hash = checkpoint[1]
    if event_hash != hash_:
        return (
            f"event #{sequence} is not the head exported at {expected['at']}: the chain was cut there and "
            f"rewritten from it"
        )
    return None
