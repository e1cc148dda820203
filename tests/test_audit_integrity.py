"""Integrity of the audit trail: append-only triggers, tamper detection by verify_audit, retention.

Tampering needs the triggers out of the way, as an attacker with database access would do: the tests drop
them with ``triggers.remove(connection)`` inside the test's own transaction, which pytest-django rolls back
afterwards, restoring them (DDL is transactional on SQLite and PostgreSQL).
"""

import hashlib
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dashboard.accounts.actor import Actor
from dashboard.audit import chain, triggers
from dashboard.audit.log import Action, FieldChange, Outcome, record
from dashboard.audit.models import APPEND_TOKEN, AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=3, username="alice", role=None, ip="127.0.0.1", user_agent="pytest")
requires_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite-only: DATABASE_URL selects another database"
)
requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
)


def add_events(count: int, **kwargs) -> list[AuditEvent]:
    return [
        record(
            actor=ACTOR,
            action=Action.UPDATE,
            storage_uuid="s1",
            storage_name=f"bs-{n}",
            outcome=Outcome.SUCCEEDED,
            changes=(FieldChange("name", before=f"bs-{n - 1}", after=f"bs-{n}"),),
            **kwargs,
        )
        for n in range(count)
    ]


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def assert_rejected(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql, params)


def insert_checkpoint(first: int, last: int, last_hash: str, *, count: int | None = None, signature: str | None = None):
    """A checkpoint inserted with raw SQL, as someone with database access would: well-formed unless told, and
    signed with the audit key unless given another ``signature``."""
    checkpoint = AuditCheckpoint(
        first_sequence=first,
        sequence=last,
        hash=last_hash,
        created_at=timezone.now(),
        archived_count=last - first + 1 if count is None else count,
        archive_name="forged.jsonl",
        archive_sha256="e" * 64,
    )
    chain.sign_checkpoint(checkpoint)
    if signature is not None:
        checkpoint.signature = signature
    raw(
        "INSERT INTO audit_auditcheckpoint (first_sequence, sequence, hash, created_at, archived_count, archive_name, "
        "archive_sha256, signature, key_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            checkpoint.first_sequence,
            checkpoint.sequence,
            checkpoint.hash,
            checkpoint.created_at,
            checkpoint.archived_count,
            checkpoint.archive_name,
            checkpoint.archive_sha256,
            checkpoint.signature,
            checkpoint.key_id,
        ],
    )


def insert_event(sequence: int, prev_hash: str, *, table: str = "audit_auditevent", timestamp=None) -> None:
    """An event inserted with raw SQL, with a correct hash of its own but no seal (into ``table``: the events
    table as the search_path finds it, unless a schema-qualified name is given)."""
    event = AuditEvent(
        sequence=sequence,
        prev_hash=prev_hash,
        actor_username="mallory",
        action="storage.update",
        storage_uuid="s1",
        outcome="succeeded",
        timestamp=timestamp or AuditEvent.objects.first().timestamp,
    )
    event.hash = chain.compute_hash(event)
    raw(
        f"INSERT INTO {table} (sequence, timestamp, actor_username, actor_role, ip, user_agent, action, "
        "storage_uuid, storage_name, outcome, changes, changed_fields, error_code, error_message, correlation_id, "
        "prev_hash, hash, key_id, seal) VALUES (%s, %s, 'mallory', '', '', '', 'storage.update', 's1', '', "
        "'succeeded', '[]', '', '', '', '', %s, %s, '', '')",
        [sequence, event.timestamp, prev_hash, event.hash],
    )


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
    first, _ = add_events(2)
    insert_checkpoint(1, 1, first.hash)

    assert_rejected("UPDATE audit_auditcheckpoint SET sequence = 99")
    assert_rejected("DELETE FROM audit_auditcheckpoint")


def test_the_database_lets_an_event_go_only_when_a_checkpoint_covers_it():
    first, second = add_events(2)
    insert_checkpoint(1, 1, first.hash)

    raw("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])
    assert_rejected("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == [second.sequence]


def test_the_proven_wipe_a_checkpoint_copying_the_newest_event_then_delete_everything_is_refused():
    events = add_events(5)
    newest = events[-1]

    # The review's attack, as it was run: the newest event's sequence and hash (nothing else plausible).
    assert_rejected(
        "INSERT INTO audit_auditcheckpoint (first_sequence, sequence, hash, created_at, archived_count, archive_name, "
        "archive_sha256, signature, key_id) VALUES (%s, %s, %s, %s, 1, '', '', '', '')",
        [newest.sequence, newest.sequence, newest.hash, timezone.now()],
    )
    assert_rejected("DELETE FROM audit_auditevent")

    assert AuditEvent.objects.count() == 5 and chain.verify().ok


@pytest.mark.parametrize("where", ["gap", "fork", "unlinked"])
def test_the_database_refuses_an_event_that_is_not_the_next_one_linked_to_the_head(where):
    first, second, head = add_events(3)
    sequence, prev_hash = {"gap": (5, head.hash), "fork": (3, second.hash), "unlinked": (4, first.hash)}[where]

    with pytest.raises(DatabaseError, match="only the next sequence, linked to the current head"), transaction.atomic():
        insert_event(sequence, prev_hash)
    insert_event(4, head.hash)  # the next one is accepted: the seal, not the database, tells it is forged

    assert AuditEvent.objects.count() == 4
    verify_audit_fails(r"event #4 .* sealed with an unknown key")


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param(dict(first=2, last=5), id="skips-the-oldest-events"),
        pytest.param(dict(first=1, last=5, count=1), id="count-does-not-match-the-range"),
        pytest.param(dict(first=1, last=5, last_hash="a" * 64), id="last-hash-is-not-the-events"),
        pytest.param(dict(first=1, last=9), id="covers-events-that-do-not-exist"),
        pytest.param(dict(first=3, last=2), id="ends-before-it-starts"),
    ],
)
def test_the_database_refuses_a_checkpoint_that_does_not_cover_exactly_the_oldest_events(claim):
    events = add_events(5)
    hashes = {e.sequence: e.hash for e in events}
    last_hash = claim.pop("last_hash", None) or hashes.get(claim["last"], "b" * 64)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        insert_checkpoint(claim["first"], claim["last"], last_hash, count=claim.get("count"))

    assert not AuditCheckpoint.objects.exists()
    assert_rejected("DELETE FROM audit_auditevent")


def test_the_database_refuses_a_checkpoint_that_does_not_follow_the_previous_one(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 3)
    later = add_events(2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))  # #1..#3

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        insert_checkpoint(5, 5, later[1].hash, count=1)  # leaves #4 out
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        insert_checkpoint(1, 4, later[0].hash)  # overlaps the first checkpoint

    assert AuditCheckpoint.objects.count() == 1 and chain.verify().ok


@pytest.mark.parametrize("kept", [0, 1], ids=["every-event", "all-but-the-newest"])
def test_wiping_the_trail_behind_a_well_formed_forged_checkpoint_is_reported_by_verify_audit(kept):
    # The careful version of the attack: a checkpoint consistent in every field the database can check (so the
    # trigger lets it in, and the events go), but not signed with the site's key, which SQL access doesn't give.
    events = add_events(5)
    last = events[len(events) - 1 - kept]
    insert_checkpoint(1, last.sequence, last.hash, signature=hashlib.sha256(b"anything").hexdigest())
    raw("DELETE FROM audit_auditevent WHERE sequence <= %s", [last.sequence])
    assert AuditEvent.objects.count() == kept

    message = verify_audit_fails(rf"checkpoint #{last.sequence} \(events #1..#{last.sequence}\) is not signed")
    assert "forged" in message


def test_verify_audit_names_a_deleted_checkpoint(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))
    add_events_at(timezone.now() - timedelta(days=5), 2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "b.jsonl"))
    add_events(1)
    triggers.remove(connection)
    raw("DELETE FROM audit_auditcheckpoint WHERE sequence = 2")

    verify_audit_fails(
        r"checkpoint #4 \(events #3..#4\) does not follow on from the start of the chain: "
        r"events #1..#2 are unaccounted for"
    )


def test_verify_audit_names_an_altered_checkpoint(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 3)
    add_events(1)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))
    triggers.remove(connection)
    raw("UPDATE audit_auditcheckpoint SET archive_sha256 = %s", ["0" * 64])  # point it at another file

    verify_audit_fails(r"checkpoint #3 \(events #1..#3\) is not signed")


def test_checkpoints_signed_with_a_rotated_key_verify_while_it_is_a_fallback(tmp_path, settings):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))
    old_key = settings.AUDIT_SIGNING_KEY

    settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_KEY_FALLBACKS = "a-new-audit-key-" + "x" * 40, [old_key]
    assert chain.verify().ok
    settings.AUDIT_SIGNING_KEY_FALLBACKS = []
    verify_audit_fails(r"checkpoint #2 .* AUDIT_SIGNING_KEY_FALLBACKS")


def test_checkpoints_are_signed_with_the_audit_key_not_the_secret_key(tmp_path, settings):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))

    settings.SECRET_KEY = "another-secret-key-" + "y" * 40  # sessions' key: irrelevant to the trail
    assert chain.verify().ok
    settings.AUDIT_SIGNING_KEY = "another-audit-key-" + "z" * 40
    verify_audit_fails(r"checkpoint #2 \(events #1..#2\) is not signed with this site's audit key")


@requires_sqlite
def test_sqlite_triggers_reject_update_and_delete():
    event = add_events(1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'")
        assert {row[0] for row in cursor.fetchall()} == {
            "audit_event_guard_insert",
            "audit_event_no_update",
            "audit_event_no_delete",
        }
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditcheckpoint'")
        assert {row[0] for row in cursor.fetchall()} == {
            "audit_checkpoint_no_update",
            "audit_checkpoint_no_delete",
            "audit_checkpoint_guard_insert",
        }

    assert_rejected("UPDATE audit_auditevent SET hash = 'x' WHERE id = %s", [event.pk])
    assert_rejected("DELETE FROM audit_auditevent")


@pytest.mark.postgres
@requires_postgresql
def test_postgresql_triggers_reject_update_delete_and_truncate():
    event = add_events(1)[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal"
        )
        assert {row[0] for row in cursor.fetchall()} == {
            "audit_event_guard_insert",
            "audit_event_no_update",
            "audit_event_no_delete",
            "audit_event_no_truncate",
        }

    assert_rejected("UPDATE audit_auditevent SET hash = 'x' WHERE id = %s", [event.pk])
    assert_rejected("DELETE FROM audit_auditevent")
    assert_rejected("TRUNCATE audit_auditevent")
    assert_rejected("TRUNCATE audit_auditcheckpoint")
    assert_rejected("TRUNCATE audit_auditevent, audit_auditcheckpoint CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


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
    raw(
        "UPDATE audit_auditevent SET changes = %s WHERE sequence = %s",
        [json.dumps([{"field": "name", "before": "x", "after": "innocent"}]), events[2].sequence],
    )

    verify_audit_fails(rf"event #{events[2].sequence} \(id {events[2].pk}\) was altered")


def test_verify_audit_names_an_edited_event_whose_hash_was_recomputed_by_its_seal():
    events = add_events(5)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.actor_username = "mallory"
    triggers.remove(connection)
    raw(
        "UPDATE audit_auditevent SET actor_username = 'mallory', hash = %s WHERE id = %s",
        [chain.compute_hash(forged), forged.pk],
    )

    verify_audit_fails(rf"event #{events[1].sequence} \(id {forged.pk}\) is not sealed with the audit key")


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
    forged = AuditEvent(
        actor_username="mallory",
        action="storage.update",
        storage_uuid="s1",
        outcome="succeeded",
        sequence=3,
        prev_hash=events[1].hash,
        timestamp=events[1].timestamp,
    )
    forged.hash = chain.compute_hash(forged)
    forged.save(append=APPEND_TOKEN)  # the model's internal path, as an attacker with the code could

    verify_audit_fails(rf"event #3 \(id {forged.pk}\) is sealed with an unknown key \(none\)")


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


def test_verify_audit_detects_an_archive_file_missing_its_first_events(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 3)
    output = tmp_path / "a.jsonl"
    call_command("archive_audit", "--older-than-days", "1", "--output", str(output))
    output.write_text("".join(output.read_text().splitlines(keepends=True)[1:]))  # still a chain: #2..#3

    with pytest.raises(CommandError, match=r"holds events #2..#3 \(2\), but checkpoint #3 .* claims #1..#3 \(3\)"):
        call_command("verify_audit", "--archive", str(output))


def test_verify_audit_reports_an_archive_it_cannot_read(tmp_path):
    not_json = tmp_path / "notes.txt"
    not_json.write_text("not an archive\n")

    with pytest.raises(CommandError, match="cannot be read") as missing:
        call_command("verify_audit", "--archive", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CommandError, match="line 1 is not an archived event") as garbled:
        call_command("verify_audit", "--archive", str(not_json))
    assert missing.value.returncode == garbled.value.returncode == 1


def test_verify_audit_checks_a_second_archive_against_the_first_checkpoint(tmp_path, capsys):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "a.jsonl"))
    add_events_at(timezone.now() - timedelta(days=5), 3)
    add_events(1)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path / "b.jsonl"))

    call_command("verify_audit", "--archive", str(tmp_path / "a.jsonl"), "--archive", str(tmp_path / "b.jsonl"))

    out = capsys.readouterr().out
    assert "a.jsonl intact: 2 events, up to #2" in out and "b.jsonl intact: 3 events, up to #5" in out
    assert "intact: 1 events verified after 2 checkpoints (events #1..#5 archived); head #6" in out


def test_verify_audit_detects_events_left_behind_a_checkpoint(tmp_path):
    events = add_events(3)
    insert_checkpoint(1, 1, events[0].hash)

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
    if connection.vendor == "postgresql":  # flushed with TRUNCATE: the guard is back on afterwards
        with pytest.raises(DatabaseError, match="append-only"):
            raw("TRUNCATE audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_a_flush_through_djangos_own_backend_is_refused():
    # Only the test backends (tests/db_backends/) let flush through; production's backend is Django's own.
    add_events(1)
    djangos_own = type(connection.ops).__mro__[1]  # the vendor's DatabaseOperations the test backend extends
    assert djangos_own.__module__.startswith("django.db.backends.")
    statements = connection.ops.sql_flush(no_style(), ["audit_auditevent"])
    with pytest.raises(DatabaseError, match="append-only"):
        djangos_own.execute_sql_flush(connection.ops, statements)
    assert AuditEvent.objects.count() == 1


@pytest.mark.postgres
@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failed_flush_leaves_the_truncate_guard_on_postgresql():
    add_events(1)

    with mock.patch(
        "django.core.management.commands.flush.sql_flush",
        return_value=['TRUNCATE "audit_auditevent"', "SELECT no_such_function()"],
    ):
        with pytest.raises(CommandError, match="couldn't be flushed"):
            call_command("flush", interactive=False, verbosity=0)

    assert AuditEvent.objects.count() == 1  # the TRUNCATE was rolled back with the rest
    with pytest.raises(DatabaseError, match="append-only"):
        raw("TRUNCATE audit_auditevent")
