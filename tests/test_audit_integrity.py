"""Integrity of the audit trail: append-only triggers, tamper detection by verify_audit, retention.

Tampering needs the triggers out of the way, as an attacker with database access would do: the tests drop
them with ``triggers.remove(connection)`` inside the test's own transaction, which pytest-django rolls back
afterwards, restoring them (DDL is transactional on SQLite and PostgreSQL).
"""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dashboard.accounts.actor import Actor
from dashboard.audit import chain, triggers
from dashboard.audit.log import Action, FieldChange, Outcome, record
from dashboard.audit.models import APPEND_TOKEN, AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=3, username="alice", role=None, ip="127.0.0.1", user_agent="pytest")
requires_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite-only: DATABASE_URL selects another database")
requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
)


def add_events(count: int, **kwargs) -> list[AuditEvent]:
    return [
        record(actor=ACTOR, action=Action.UPDATE, storage_uuid="s1", storage_name=f"bs-{n}", outcome=Outcome.SUCCEEDED,
               changes=(FieldChange("name", before=f"bs-{n - 1}", after=f"bs-{n}"),), **kwargs)  # fmt: skip
        for n in range(count)
    ]


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def assert_rejected(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql, params)


def verify_audit_fails(match: str) -> str:
    with pytest.raises(CommandError, match=match) as caught:
        call_command("verify_audit")
    assert caught.value.returncode == 1
    return str(caught.value)


# --- triggers -------------------------------------------------------------------------------------------------


def test_the_database_rejects_update_of_an_audit_event():
    event = add_events(1)[0]

    assert_rejected("UPDATE audit_auditevent SET storage_name = 'forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).storage_name == "bs-0"


def test_the_database_rejects_delete_of_an_audit_event():
    event = add_events(1)[0]

    assert_rejected("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_database_rejects_update_and_delete_of_a_checkpoint():
    add_events(2)
    raw("INSERT INTO audit_auditcheckpoint (sequence, hash, created_at, archived_count, archive_name, archive_sha256) "
        "VALUES (1, %s, %s, 1, '', '')", [chain.GENESIS_HASH, timezone.now()])  # fmt: skip

    assert_rejected("UPDATE audit_auditcheckpoint SET sequence = 99")
    assert_rejected("DELETE FROM audit_auditcheckpoint")


def test_the_database_lets_an_event_go_only_when_a_checkpoint_covers_it():
    first, second = add_events(2)
    raw("INSERT INTO audit_auditcheckpoint (sequence, hash, created_at, archived_count, archive_name, archive_sha256) "
        "VALUES (%s, %s, %s, 1, '', '')", [first.sequence, first.hash, timezone.now()])  # fmt: skip

    raw("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])
    assert_rejected("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == [second.sequence]


@requires_sqlite
def test_sqlite_triggers_reject_update_and_delete():
    event = add_events(1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'")
        assert {row[0] for row in cursor.fetchall()} == {"audit_event_no_update", "audit_event_no_delete"}

    assert_rejected("UPDATE audit_auditevent SET hash = 'x' WHERE id = %s", [event.pk])
    assert_rejected("DELETE FROM audit_auditevent")


@pytest.mark.postgres
@requires_postgresql
def test_postgresql_triggers_reject_update_and_delete():
    event = add_events(1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal")
        assert {row[0] for row in cursor.fetchall()} == {"audit_event_no_update", "audit_event_no_delete"}

    assert_rejected("UPDATE audit_auditevent SET hash = 'x' WHERE id = %s", [event.pk])
    assert_rejected("DELETE FROM audit_auditevent")


# --- verify_audit ------------------------------------------------------------------------------------------------


def test_verify_audit_passes_on_an_intact_chain(capsys):
    add_events(5)

    call_command("verify_audit")

    assert "intact: 5 events" in capsys.readouterr().out


def test_verify_audit_passes_on_an_empty_trail(capsys):
    call_command("verify_audit")
    assert "intact: 0 events" in capsys.readouterr().out


def test_verify_audit_names_an_edited_event():
    events = add_events(5)
    triggers.remove(connection)
    raw("UPDATE audit_auditevent SET changes = %s WHERE sequence = %s",
        [json.dumps([{"field": "name", "before": "x", "after": "innocent"}]), events[2].sequence])  # fmt: skip

    verify_audit_fails(rf"event #{events[2].sequence} \(id {events[2].pk}\) was altered")


def test_verify_audit_names_an_edited_event_whose_hash_was_recomputed_by_its_successor_link():
    events = add_events(5)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.actor_username = "mallory"
    triggers.remove(connection)
    raw("UPDATE audit_auditevent SET actor_username = 'mallory', hash = %s WHERE id = %s",
        [chain.compute_hash(forged), forged.pk])  # fmt: skip

    verify_audit_fails(rf"event #{events[2].sequence} .* does not link to event #{events[1].sequence}")


def test_verify_audit_names_a_deleted_event():
    events = add_events(5)
    triggers.remove(connection)
    raw("DELETE FROM audit_auditevent WHERE sequence = %s", [events[3].sequence])

    verify_audit_fails(rf"event #{events[3].sequence} is missing \(deleted\)")


def test_verify_audit_names_a_reordering():
    events = add_events(5)
    a, b = events[1], events[2]
    triggers.remove(connection)
    # Swap the two events' places in the chain (their sequence numbers), via a free number.
    raw("UPDATE audit_auditevent SET sequence = 999999 WHERE id = %s", [a.pk])
    raw("UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [a.sequence, b.pk])
    raw("UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [b.sequence, a.pk])

    verify_audit_fails(rf"event #{a.sequence} \(id {b.pk}\)")


def test_verify_audit_names_an_inserted_event():
    events = add_events(3)
    triggers.remove(connection)
    # A forged event with a valid hash of its own slips in after #2, and the old #3 is renumbered #4.
    raw("UPDATE audit_auditevent SET sequence = 4 WHERE id = %s", [events[2].pk])
    forged = AuditEvent(actor_username="mallory", action="storage.update", storage_uuid="s1", outcome="succeeded",
                        sequence=3, prev_hash=events[1].hash, timestamp=events[1].timestamp)  # fmt: skip
    forged.hash = chain.compute_hash(forged)
    forged.save(append=APPEND_TOKEN)  # the model's internal path, as an attacker with the code could

    verify_audit_fails(rf"event #4 \(id {events[2].pk}\) does not link to event #3")


# --- retention ---------------------------------------------------------------------------------------------------


def add_events_at(when, count):
    with mock.patch("dashboard.audit.log.timezone.now", return_value=when):
        return add_events(count)


def test_archive_moves_old_events_to_a_file_and_the_remaining_chain_still_verifies(tmp_path, capsys):
    old = add_events_at(timezone.now() - timedelta(days=100), 3)
    recent = add_events(2)
    output = tmp_path / "audit-2026.jsonl"

    call_command("archive_audit", "--older-than-days", "90", "--output", str(output))

    assert list(AuditEvent.objects.order_by("sequence").values_list("pk", flat=True)) == [e.pk for e in recent]
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.hash, checkpoint.archived_count) == (old[-1].sequence, old[-1].hash, 3)
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["sequence"] for line in lines] == [e.sequence for e in old]
    assert all(line["hash"] == e.hash for line, e in zip(lines, old, strict=True))
    call_command("verify_audit", "--archive", str(output))
    assert "intact: 2 events" in capsys.readouterr().out


def test_appends_after_an_archive_continue_the_chain_from_the_checkpoint(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))

    (event,) = add_events(1)

    assert event.sequence == 3 and event.prev_hash == AuditCheckpoint.objects.get().hash
    assert chain.verify().ok


def test_archive_without_old_events_changes_nothing(tmp_path, capsys):
    add_events(2)

    call_command("archive_audit", "--older-than-days", "30", "--output", str(tmp_path / "none.jsonl"))

    assert AuditEvent.objects.count() == 2 and not AuditCheckpoint.objects.exists()
    assert not (tmp_path / "none.jsonl").exists() and "Nothing" in capsys.readouterr().out


def test_archive_refuses_to_prune_a_chain_that_does_not_verify(tmp_path):
    events = add_events_at(timezone.now() - timedelta(days=10), 2)
    triggers.remove(connection)
    raw("UPDATE audit_auditevent SET storage_name = 'forged' WHERE id = %s", [events[0].pk])
    triggers.install(connection)

    with pytest.raises(CommandError, match="does not verify"):
        call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))
    assert AuditEvent.objects.count() == 2


def test_verify_audit_detects_an_edited_archive_file(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    output = tmp_path / "a.jsonl"
    call_command("archive_audit", "--older-than-days", "1", "--output", str(output))
    output.write_text(output.read_text().replace("bs-0", "bs-X"))

    with pytest.raises(CommandError, match="line 1 .* altered"):
        call_command("verify_audit", "--archive", str(output))


def test_verify_audit_detects_events_deleted_behind_the_checkpoint(tmp_path):
    events = add_events(3)
    raw("INSERT INTO audit_auditcheckpoint (sequence, hash, created_at, archived_count, archive_name, archive_sha256) "
        "VALUES (%s, %s, %s, 1, '', '')", [events[0].sequence, events[0].hash, timezone.now()])  # fmt: skip

    verify_audit_fails(rf"event #{events[0].sequence} .* at or below checkpoint")


# --- flush (the test runner's reset between transactional tests) -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_tables_so_transactional_tests_can_reset():
    add_events(2)

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    assert add_events(1)[0].sequence == 1  # a new chain from the genesis
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM audit_auditevent")
