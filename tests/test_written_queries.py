"""The queries the storage card and the detail page make on every load and refresh are written out as SQL
(docs/performance.md, "Queries written out"). Each must return what the queryset it stands for returns, for
any rows: Hypothesis draws the rows, the ORM's queryset is the oracle. The suite runs on SQLite and, in CI, on
PostgreSQL, so both dialects are held to it.

Each example writes rows for storage uuids of its own, so rows left by earlier examples never match.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.log import Action, Outcome, record
from dashboard.audit.models import AuditEvent
from dashboard.capacity import thresholds
from dashboard.capacity.models import ThresholdOverride
from dashboard.storages import submissions
from dashboard.storages.models import Submission

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=1, username="alice", role=Role.ADMIN, ip=None, user_agent="")
# Attempts, their outcomes and rows of their own (a refusal, a failure), for two storages, some outcomes
# pointing back at an earlier attempt of the same storage.
AUDIT_STEPS = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from(list(Outcome)), st.booleans()), min_size=0, max_size=25
)


def fresh_uuids(count: int) -> list[str]:
    return [uuidlib.uuid4().hex for _ in range(count)]


@settings(max_examples=60)
@given(steps=AUDIT_STEPS, limit=st.sampled_from([1, 3, 10]))
def test_the_audit_reads_match_their_querysets(steps, limit):
    storages = fresh_uuids(2)
    open_attempts: dict[int, list[AuditEvent]] = {0: [], 1: []}
    for which, outcome, concludes in steps:
        attempt = None
        if outcome is not Outcome.ATTEMPTED and concludes and open_attempts[which]:
            attempt = open_attempts[which].pop(0)
        row = record(
            actor=ACTOR, action=Action.UPDATE, storage_uuid=storages[which], storage_name="bs", outcome=outcome,
            attempt=attempt,
        )  # fmt: skip
        if outcome is Outcome.ATTEMPTED:
            open_attempts[which].append(row)

    for storage in storages:
        events = AuditEvent.objects.filter(storage_uuid=storage)
        expected_last = events.filter(outcome=Outcome.SUCCEEDED).order_by("-sequence").first()
        assert audit_selectors.last_change_for(storage) == expected_last
        if expected_last is not None:  # every field loaded, with its type (the card shows the time)
            found = audit_selectors.last_change_for(storage)
            assert (found.timestamp, found.actor_username) == (expected_last.timestamp, expected_last.actor_username)

        roots = [r["root"] for r in audit_selectors._roots(events)[:limit]]
        expected_entries = audit_selectors._entries(roots)
        assert [[row.pk for row in entry.rows] for entry in audit_selectors.recent_for(storage, limit=limit)] == [
            [row.pk for row in entry.rows] for entry in expected_entries
        ]


# Writes: their status, whether their attempt row is recorded yet, and when they began (drawn from three
# moments, so several begin at once and the order's tie-break matters).
SUBMISSIONS = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from(list(Submission.Status)), st.booleans(), st.integers(0, 2)),
    max_size=16,
)


@settings(max_examples=60)
@given(rows=SUBMISSIONS)
def test_the_running_writes_match_their_queryset(rows):
    storages = fresh_uuids(2)
    now = timezone.now()
    for which, status, recorded, minute in rows:
        Submission.objects.create(
            token=uuidlib.uuid4().hex,
            action=Action.UPDATE,
            storage_uuid=storages[which],
            status=status,
            attempt_sequence=1 if recorded else None,
            created_at=now + timedelta(minutes=minute),
        )

    for storage in storages:
        expected = Submission.objects.filter(
            storage_uuid=storage, status=Submission.Status.RUNNING, attempt_sequence__isnull=False
        ).order_by("created_at", "id")[:10]
        found = submissions.running_for(storage)
        assert [s.pk for s in found] == [s.pk for s in expected]
        assert [(s.created_at, s.parts, s.actor) for s in found] == [(s.created_at, s.parts, s.actor) for s in expected]


@settings(max_examples=30)
@given(overridden=st.lists(st.booleans(), min_size=1, max_size=4), warning=st.integers(1, 98))
def test_a_storage_thresholds_match_their_queryset(overridden, warning):
    storages = fresh_uuids(len(overridden))
    for storage, has_override in zip(storages, overridden, strict=True):
        if has_override:
            ThresholdOverride.objects.create(
                storage_uuid=storage,
                warning_percent=warning,
                critical_percent=warning + 1,
                updated_at=timezone.now(),
                updated_by_username="alice",
            )

    for storage in storages:
        row = ThresholdOverride.objects.filter(storage_uuid=storage).first()
        expected = thresholds._of(row) if row is not None else thresholds.defaults()
        assert thresholds.for_storage(storage) == expected
