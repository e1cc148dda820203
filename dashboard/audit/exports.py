"""Streamed CSV and JSON exports of the audit log: rows are read in chunks and written as they come.

Both keep one line per stored row (the evidence, row for row) and ISO 8601 UTC times. The CSV is for people
with a spreadsheet (issue 13): it starts with a UTF-8 byte-order mark, without which Excel reads UTF-8 as the
local code page and garbles Chinese names; ``changes`` is readable text ("Description: a → b") in the
language of whoever exports, with the stored JSON kept in ``changes_json`` and the outcome's reason worded in
``reason``; every cell is formula-safe. The JSON keeps the stored structures.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext

from .chain import timestamp_text
from .labels import DiffRow, diff_rows, shown_changes
from .messages import describe
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
    "changes_json",
    "reason",
)
BOM = "\ufeff"
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


def changes_text(changes: list[dict]) -> str:
    """An event's changes as one readable line: "Description: a → b; User tags: +gold −old; SSH password:
    changed". A part that did not succeed says so, with its error."""
    return "; ".join(_change_text(row) for row in diff_rows(changes))


def _change_text(row: DiffRow) -> str:
    if row.kind == "secret":
        text = gettext("changed (the value is never recorded)")
    elif row.kind == "masked":
        text = gettext("changed (the value is masked on this site)")
    elif row.kind == "tags":
        text = " ".join([f"+{t}" for t in row.added] + [f"\u2212{t}" for t in row.removed]) or gettext("no change")
    else:
        text = f"{_value_text(row.before)} \u2192 {_value_text(row.after)}"
    if row.result and row.result != "succeeded":
        detail = f": {row.error}" if row.error else ""
        text += f" ({row.result_label}{detail})"
    return f"{row.label}: {text}"


def _value_text(value: object) -> str:
    if value is None or value == "":
        return gettext("(empty)")
    return str(value)


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(COLUMNS)  # Excel needs the mark to read UTF-8
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        row = event_row(event)
        reason = describe(event.error_code, event.error_message)
        row.update(changes=changes_text(event.changes), changes_json=row["changes"], reason=str(reason or ""))
        yield writer.writerow([neutralise(row[name]) for name in COLUMNS])


def json_chunks(events: QuerySet[AuditEvent]) -> Iterable[str]:
    yield "["
    separator = "\n"
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        yield separator + json.dumps(event_row(event), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
