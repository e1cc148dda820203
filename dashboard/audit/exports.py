"""Streamed CSV and JSON exports of the audit log: rows are read in chunks and written as they come."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from .chain import timestamp_text
from .labels import shown_changes
from .models import AuditEvent

CHUNK_SIZE = 500
# docs/architecture.md §4 fixes the first nine; the rest are useful to an auditor.
COLUMNS = (
    "timestamp",
    "actor",
    "action",
    "storage_uuid",
    "storage_name",
    "outcome",
    "error_code",
    "changes",
    "correlation_id",
    "actor_user_id",
    "role",
    "ip",
    "user_agent",
    "error_message",
    "duration_ms",
    "attempt_sequence",
    "sequence",
    "hash",
    "prev_hash",
)
# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def event_row(event: AuditEvent) -> dict:
    return {
        "timestamp": timestamp_text(event.timestamp),
        "actor": event.actor_username,
        "action": event.action,
        "storage_uuid": event.storage_uuid,
        "storage_name": event.storage_name,
        "outcome": event.outcome,
        "error_code": event.error_code,
        "changes": shown_changes(event.changes),
        "correlation_id": event.correlation_id,
        "actor_user_id": event.actor_user_id,
        "role": event.actor_role,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "error_message": event.error_message,
        "duration_ms": event.duration_ms,
        "attempt_sequence": event.attempt_id,
        "sequence": event.sequence,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


def neutralise(value: object) -> str:
    """A CSV cell that no spreadsheet will evaluate: formula-like text gets a leading apostrophe."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = (
            json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            if isinstance(value, (list, dict))
            else str(value)
        )
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        row = event_row(event)
        yield writer.writerow([neutralise(row[name]) for name in COLUMNS])


def json_chunks(events: QuerySet[AuditEvent]) -> Iterable[str]:
    yield "["
    separator = "\n"
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        yield separator + json.dumps(event_row(event), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
