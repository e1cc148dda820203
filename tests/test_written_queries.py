"""The queries every request, the storage card and the detail page make on every load and refresh are written
out as SQL (docs/performance.md, "Queries written out"). Each must return what the queryset it stands for returns, for
any rows: Hypothesis draws the rows, the ORM's queryset is the oracle. The suite runs on SQLite and, in CI, on
PostgreSQL, so both dialects are held to it.

Each example writes rows for storage uuids of its own, so rows left by earlier examples never match.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.accounts.actor import Actor
from dashboard.accounts.backends import RoleBackend
from dashboard.accounts.roles import Role
from dashboard.accounts.sessions import SessionStore
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.log import Action, Outcome, record
from dashboard.audit.models import AuditEvent
from dashboard.capacity import selectors as capacity_selectors
from dashboard.capacity import thresholds
from dashboard.capacity.models import CapacitySnapshot, ThresholdOverride
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


# Snapshots of two storages, up to 40 days old (the history reads 30), some at the same minute as others.
SNAPSHOTS = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 40 * 24 * 60), st.integers(0, 10**15)), max_size=30)


@settings(max_examples=60)
@given(rows=SNAPSHOTS)
def test_the_capacity_history_matches_its_queryset(rows):
    storages = fresh_uuids(2)
    now = timezone.now()
    CapacitySnapshot.objects.bulk_create(
        CapacitySnapshot(
            storage_uuid=storages[which],
            taken_at=now - timedelta(minutes=minutes_ago, seconds=0.5),  # never on the 30-day line itself
            used_bytes=used,
            total_bytes=10**15,
        )
        for which, minutes_ago, used in rows
    )

    for storage in storages:
        expected = tuple(
            CapacitySnapshot.objects.filter(storage_uuid=storage, taken_at__gte=timezone.now() - timedelta(days=30))
            .order_by("taken_at", "used_bytes")
            .values_list("taken_at", "used_bytes", "total_bytes")
        )
        found = capacity_selectors.history(storage).points
        assert sorted(found) == sorted(expected)  # the same points, each time with its zone (UTC)
        assert [at for at, _, _ in found] == sorted(at for at, _, _ in expected)  # oldest first
        assert all(at.utcoffset() == timedelta(0) for at, _, _ in found)


# --- the session and the user, read on every request ---------------------------------------------


@pytest.mark.parametrize("state", ["live", "expired", "unknown"])
def test_the_session_read_matches_djangos(state):
    written = SessionStore()
    written["seen"] = 42
    written.create()
    key = written.session_key
    if state == "expired":
        Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    if state == "unknown":
        key = "x" * 32

    ours, djangos = SessionStore(key), db.SessionStore(key)
    found, expected = ours._get_session_from_db(), djangos._get_session_from_db()

    assert found == expected and (found is None) == (state != "live")
    assert (ours.session_key, ours.load()) == (djangos.session_key, djangos.load())
    if state == "live":
        assert (found.session_data, found.expire_date) == (expected.session_data, expected.expire_date)
        assert ours.load() == {"seen": 42}


@pytest.mark.parametrize("state", ["active", "inactive", "unknown"])
def test_the_user_read_matches_modelbackends(state):
    user = get_user_model().objects.create_user("reader", password="Canary-Pw-1", is_active=state != "inactive")
    pk = user.pk if state != "unknown" else user.pk + 1000

    for user_id in (pk, str(pk)):  # the session keeps the id as text
        found, expected = RoleBackend().get_user(user_id), ModelBackend().get_user(user_id)
        assert found == expected and (found is None) == (state != "active")
        if found is not None:
            assert [getattr(found, f.attname) for f in found._meta.concrete_fields] == [
                getattr(expected, f.attname) for f in expected._meta.concrete_fields
            ]
