"""record(): one event per write attempt and outcome, with every field the audit trail promises."""

from datetime import UTC

import pytest
from django.db import OperationalError

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit import chain
from dashboard.audit.log import Action, AuditUnavailable, FieldChange, Outcome, record
from dashboard.audit.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db

UUID = "a3f1c0de5b6e4f7a8b9c0d1e2f3a4b5c"
ALICE = Actor(user_id=7, username="alice", role=Role.ADMIN, ip="192.0.2.10", user_agent="Firefox/140")
CHANGES = (
    FieldChange("name", before="bs-old", after="bs-new"),
    FieldChange("sshPort", before=22, after=2222),
    FieldChange("userTags", added=("tier=gold",), removed=("tier=silver",)),
)


def record_by_alice(**fields):
    """record() by Alice, of the test storage named "bs-old" unless ``fields`` say otherwise."""
    return record(**{"actor": ALICE, "storage_uuid": UUID, "storage_name": "bs-old", **fields})


def recorded(**fields) -> AuditEvent:
    """record_by_alice(), then the event as the database stored it."""
    return AuditEvent.objects.get(pk=record_by_alice(**fields).pk)


def record_attempt(action=Action.UPDATE, changes=CHANGES):
    return record_by_alice(action=action, outcome=Outcome.ATTEMPTED, changes=changes, correlation_id="job-1")


def assert_actor_and_storage(event):
    assert (event.actor_user_id, event.actor_username, event.actor_role) == (7, "alice", "admin")
    assert (event.ip, event.user_agent) == ("192.0.2.10", "Firefox/140")
    assert (event.storage_uuid, event.storage_name) == (UUID, "bs-old")
    assert event.timestamp.utcoffset().total_seconds() == 0


def test_an_attempt_is_recorded_with_actor_storage_changes_and_correlation_id():
    event = AuditEvent.objects.get(pk=record_attempt().pk)

    assert_actor_and_storage(event)
    assert (event.action, event.outcome, event.correlation_id) == ("storage.update", "attempted", "job-1")
    assert event.changes == [
        {"field": "name", "before": "bs-old", "after": "bs-new"},
        {"field": "sshPort", "before": 22, "after": 2222},
        {"field": "userTags", "added": ["tier=gold"], "removed": ["tier=silver"]},
    ]
    assert event.changed_fields == ",name,sshPort,userTags,"
    assert event.attempt_id is None and event.duration_ms is None and event.error_code == ""


def test_a_success_links_its_attempt_and_records_duration_and_the_job_uuid():
    attempt = record_attempt()
    event = recorded(
        action=Action.UPDATE,
        outcome=Outcome.SUCCEEDED,
        changes=CHANGES,
        attempt=attempt,
        duration_ms=842,
    )
    assert_actor_and_storage(event)
    assert event.outcome == "succeeded" and event.attempt_id == attempt.sequence
    assert event.correlation_id == "job-1"  # inherited from the attempt
    assert event.duration_ms == 842 and event.sequence == attempt.sequence + 1
    assert event.changes[0] == {"field": "name", "before": "bs-old", "after": "bs-new"}


def test_an_upstream_failure_records_zstacks_code_and_description():
    attempt = record_attempt(Action.RECONNECT, changes=())
    event = recorded(
        action=Action.RECONNECT,
        outcome=Outcome.FAILED,
        attempt=attempt,
        error_code="SYS.1006",
        error_message="Host unreachable: connect timed out",
        duration_ms=3100,
    )
    assert_actor_and_storage(event)
    assert (event.action, event.outcome) == ("storage.reconnect", "failed")
    assert (event.error_code, event.error_message) == ("SYS.1006", "Host unreachable: connect timed out")
    assert event.attempt_id == attempt.sequence and event.duration_ms == 3100


def test_a_timeout_is_recorded_with_its_duration_measured_from_the_attempt_when_not_given():
    attempt = record_attempt(Action.ENABLE, changes=())
    event = recorded(
        action=Action.ENABLE,
        outcome=Outcome.TIMED_OUT,
        attempt=attempt,
        error_code="timeout",
        error_message="The job did not finish within 120 s",
    )
    assert (event.action, event.outcome, event.error_code) == ("storage.enable", "timed_out", "timeout")
    assert event.duration_ms is not None and event.duration_ms >= 0
    assert event.correlation_id == "job-1"


def test_a_conflict_from_a_stale_form_is_recorded_without_an_attempt():
    event = recorded(
        action=Action.UPDATE,
        outcome=Outcome.CONFLICT,
        changes=CHANGES[:1],
        error_code="conflict",
        error_message="The storage changed since the form was loaded",
    )
    assert_actor_and_storage(event)
    assert (event.outcome, event.error_code, event.attempt_id) == ("conflict", "conflict", None)
    assert event.changes == [{"field": "name", "before": "bs-old", "after": "bs-new"}]


def test_a_refusal_records_who_was_refused_and_their_role():
    viewer = Actor(user_id=9, username="victor", role=Role.VIEWER, ip="2001:db8::5", user_agent="curl/8")
    event = recorded(
        actor=viewer, action=Action.DISABLE, storage_name=None, outcome=Outcome.REFUSED, error_code="permission_denied"
    )
    assert (event.actor_user_id, event.actor_username, event.actor_role) == (9, "victor", "viewer")
    assert (event.ip, event.user_agent) == ("2001:db8::5", "curl/8")
    assert (event.action, event.outcome, event.error_code) == ("storage.disable", "refused", "permission_denied")
    assert event.storage_name == "" and event.changes == []


def test_an_invalid_submission_records_the_validation_error():
    event = recorded(
        action=Action.UPDATE,
        outcome=Outcome.INVALID,
        changes=(FieldChange("sshPort", before=22, after=70000),),
        error_code="invalid",
        error_message="sshPort: must be between 1 and 65535",
    )
    assert (event.outcome, event.error_code) == ("invalid", "invalid")
    assert event.error_message == "sshPort: must be between 1 and 65535"
    assert event.changes == [{"field": "sshPort", "before": 22, "after": 70000}]


def test_a_password_change_stores_only_that_it_changed_never_a_value():
    canary = "Canary-Pa55word-7f3e"
    event = recorded(
        action=Action.UPDATE,
        storage_name="bs",
        outcome=Outcome.ATTEMPTED,
        changes=(FieldChange("password", before="old-" + canary, after=canary),),
    )
    assert event.changes == [{"field": "password", "changed": True}]
    stored = repr([getattr(event, f.attname) for f in AuditEvent._meta.fields])
    assert canary not in stored


def test_system_actors_are_recorded_without_user_role_or_ip():
    event = recorded(actor=Actor.system("nightly-job"), action=Action.RECONNECT, outcome=Outcome.ATTEMPTED)
    assert (event.actor_user_id, event.actor_username, event.actor_role, event.ip) == (None, "nightly-job", "", "")


def test_events_get_consecutive_sequence_numbers_linked_by_hash():
    first, second = record_attempt(), record_attempt()

    assert second.sequence == first.sequence + 1
    assert second.prev_hash == first.hash and second.hash == chain.compute_hash(second)
    assert first.timestamp <= second.timestamp and first.timestamp.tzinfo is not None
    assert chain.verify().ok


def test_record_raises_audit_unavailable_when_the_event_cannot_be_stored(monkeypatch):
    def broken_head():
        raise OperationalError("database is locked")

    monkeypatch.setattr(chain, "head", broken_head)

    with pytest.raises(AuditUnavailable):
        record_attempt()


def test_an_outcome_cannot_link_to_a_row_that_is_not_an_attempt():
    attempt = record_attempt()
    done = record_by_alice(
        action=Action.UPDATE,
        storage_name="bs",
        outcome=Outcome.SUCCEEDED,
        attempt=attempt,
    )

    with pytest.raises(ValueError):
        record_by_alice(
            action=Action.UPDATE,
            storage_name="bs",
            outcome=Outcome.FAILED,
            attempt=done,
        )


def test_the_model_refuses_save_delete_update_and_bulk_create_from_application_code():
    event = record_attempt()

    event.storage_name = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(storage_name="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(
            sequence=99,
            timestamp=event.timestamp.astimezone(UTC),
            actor_username="x",
            action="storage.update",
            storage_uuid=UUID,
            outcome="succeeded",
            prev_hash="0",
            hash="1",
        )
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(sequence=100)])
    assert AuditEvent.objects.get(pk=event.pk).storage_name == "bs-old"
