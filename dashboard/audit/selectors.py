"""Reads of the audit trail: for the storage pages, the log page and the exports.

The pages show one entry per submission (issue 13): a write's attempt and the outcome that concludes it
are two rows in the chain (the attempt is stored before ZStack is called, so it survives a crash), but one
thing a person did. ``Entry`` puts them together; a row with no partner (a refusal, an invalid or conflicting
edit, a login, an attempt still running or cut short) is an entry of its own. Entries are paged by their
*root*, the attempt's sequence (an outcome's ``attempt_sequence``, any other row's own ``sequence``), so an
attempt and its outcome never land on different pages and every page holds exactly ``per_page`` entries.
The exports keep one line per row (``events_matching``): they are the evidence, row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from .labels import DiffRow
from .log import Outcome
from .messages import Message, describe
from .models import AuditEvent

# An attempt has one outcome (the submission is finished by a conditional update: follow._finish); the
# bound only keeps a page's read finite whatever the table holds.
ROWS_PER_ENTRY = 4

# The two reads a storage's pages make on every load and refresh, written out: Django compiles a queryset anew
# each time it runs, about 0.3 ms for each of these, against 0.02-0.1 ms to send the same SQL
# (docs/performance.md, "Queries written out"). Only the table's name is formatted in; every value is a
# parameter. tests/test_written_queries.py holds each to the queryset it stands for, on SQLite and PostgreSQL.
_LAST_CHANGE_SQL = (
    f"SELECT * FROM {AuditEvent._meta.db_table} WHERE storage_uuid = %s AND outcome = %s"  # noqa: S608
    " ORDER BY sequence DESC LIMIT 1"
)
_RECENT_ROOTS_SQL = (
    f"SELECT DISTINCT COALESCE(attempt_sequence, sequence) AS root FROM {AuditEvent._meta.db_table}"  # noqa: S608
    " WHERE storage_uuid = %s ORDER BY root DESC LIMIT %s"
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One submission as the log shows it: its rows oldest first (the attempt, then its outcome), or one row."""

    rows: tuple[AuditEvent, ...]
    jobs: tuple[str, ...] = field(default=())  # ZStack job ids: the correlation id, then each part's

    @classmethod
    def of(cls, rows: Sequence[AuditEvent]) -> Entry:
        rows = tuple(sorted(rows, key=lambda e: e.sequence))
        jobs = [e.correlation_id for e in rows if e.correlation_id]
        jobs += [str(c.get("job")) for c in rows[-1].changes or () if isinstance(c, dict) and c.get("job")]
        return cls(rows=rows, jobs=tuple(dict.fromkeys(jobs)))

    @property
    def first(self) -> AuditEvent:
        return self.rows[0]

    @property
    def last(self) -> AuditEvent:
        """The row that says how it ended: the outcome, or the only row."""
        return self.rows[-1]

    @property
    def sequence(self) -> int:
        """The entry's number: its first row's (the attempt's)."""
        return self.first.sequence

    @property
    def attempt(self) -> AuditEvent | None:
        return self.first if self.first.outcome == Outcome.ATTEMPTED else None

    @property
    def outcome(self) -> AuditEvent | None:
        return self.last if self.last.outcome != Outcome.ATTEMPTED else None

    @property
    def in_progress(self) -> bool:
        """An attempt with no outcome recorded: still running, or the process stopped before it could say."""
        return self.outcome is None

    @property
    def reason(self) -> Message | None:
        """Why it ended as it did (a refusal, validation, a conflict, ZStack's error), in the reader's language."""
        return describe(self.last.error_code, self.last.error_message)

    @property
    def shown_reason(self) -> Message | None:
        """The reason at the entry's level, unless its parts each say how they ended (the diff shows those)."""
        changes = self.changes
        return None if any(row.error for row in changes) else self.reason

    @property
    def changes(self) -> list[DiffRow]:
        """The outcome's changes (each part with its job and result), or what was attempted."""
        return self.last.diff if self.last.changes else self.first.diff

    @property
    def parts(self) -> int:
        """How many ZStack jobs the submission was made of."""
        return len({row.job for row in self.changes if row.job}) or (1 if self.jobs else 0)

    @property
    def duration_ms(self) -> int | None:
        return self.last.duration_ms if self.outcome is not None and self.attempt is not None else None


@dataclass(frozen=True, slots=True)
class EntryPage:
    """A page of entries and the paginator's page (numbers, count of entries, previous and next)."""

    entries: list[Entry]
    page: Page


def last_change_for(storage_uuid: str) -> AuditEvent | None:
    """The latest successful change of this storage (``.actor_username``, ``.timestamp``), if any."""
    return next(iter(AuditEvent.objects.raw(_LAST_CHANGE_SQL, [storage_uuid, Outcome.SUCCEEDED.value])), None)


def _roots(events: QuerySet[AuditEvent]) -> QuerySet:
    """Distinct entry roots of ``events`` (values "root"), newest first."""
    return events.annotate(root=Coalesce(F("attempt_id"), F("sequence"))).values("root").distinct().order_by("-root")


def _entries(roots: Sequence[int]) -> list[Entry]:
    """The entries with these roots, in the order given: one query, at most ROWS_PER_ENTRY rows each."""
    if not roots:
        return []
    rows = AuditEvent.objects.filter(Q(sequence__in=roots) | Q(attempt_id__in=roots)).order_by("sequence")
    grouped: dict[int, list[AuditEvent]] = {root: [] for root in roots}
    for row in rows[: len(roots) * ROWS_PER_ENTRY]:
        root = row.attempt_id if row.attempt_id in grouped else row.sequence
        if root in grouped:
            grouped[root].append(row)
    return [Entry.of(grouped[root]) for root in roots if grouped[root]]


def recent_for(storage_uuid: str, limit: int = 10) -> list[Entry]:
    """This storage's newest ``limit`` entries (attempt and outcome together; an attempt without an outcome,
    in progress or interrupted by a crash, on its own so it can be seen)."""
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_ROOTS_SQL, [storage_uuid, limit])
        return _entries([root for (root,) in cursor.fetchall()])


def entries_page(filters: dict, number: str | int | None, per_page: int) -> EntryPage:
    """One page of the entries with a row that matches ``filters`` (``events_matching``), newest first. The
    whole entry is shown, not only its matching row."""
    page = Paginator(_roots(events_matching(filters)), per_page).get_page(number)
    return EntryPage(entries=_entries([r["root"] for r in page.object_list]), page=page)


def events_matching(filters: dict) -> QuerySet[AuditEvent]:
    """Newest first, narrowed by the cleaned data of ``forms.AuditFilterForm`` (empty values ignored)."""
    events = AuditEvent.objects.order_by("-sequence")
    if filters.get("since"):
        events = events.filter(timestamp__gte=filters["since"])
    if filters.get("until"):
        events = events.filter(timestamp__lte=filters["until"])
    if filters.get("actor"):
        events = events.filter(actor_username__icontains=filters["actor"])
    if filters.get("storage"):
        term = filters["storage"]
        events = events.filter(Q(storage_uuid__iexact=term) | Q(storage_name__icontains=term))
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("field"):
        events = events.filter(changed_fields__contains=f",{filters['field']},")
    return events
