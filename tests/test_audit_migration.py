"""Migration 0004 (issue 9): a chain written before the audit key is verified as it stands, sealed once under the
key, and a sealing event says so; a chain that does not verify is not sealed (vouched for). Migration 0003 signs
older checkpoints as its release did. Both run frozen copies of the hashing and signing (migrations/_chain_v1.py)."""

import contextlib
import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.crypto import salted_hmac

from dashboard.audit import chain, keys, triggers
from dashboard.audit.log import Outcome
from dashboard.audit.migrations import _chain_v1 as frozen
from dashboard.audit.models import AuditCheckpoint, AuditEvent

BEFORE = ("audit", "0003_checkpoint_evidence")
BEFORE_CHECKPOINT_EVIDENCE = ("audit", "0002_append_only_triggers")


@contextlib.contextmanager
def schema_at(migration):
    """The audit tables as that migration left them (its historical apps); migrated forward again afterwards."""
    call_command("migrate", *migration, verbosity=0)
    try:
        yield MigrationExecutor(connection).loader.project_state(migration).apps
    finally:
        triggers.install(connection)  # a test may have dropped them: flush (and the next migration) expects them
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)


@pytest.fixture
def legacy_schema(transactional_db):
    """The audit tables as the previous release left them."""
    with schema_at(BEFORE) as apps:
        yield apps


def legacy_events(apps, count: int) -> list:
    model = apps.get_model("audit", "AuditEvent")
    events, prev = [], chain.GENESIS_HASH
    for n in range(1, count + 1):
        event = model(
            sequence=n,
            prev_hash=prev,
            timestamp=timezone.now(),
            actor_username="alice",
            action="storage.update",
            storage_uuid="s1",
            storage_name=f"bs-{n}",
            outcome="succeeded",
            changes=[{"field": "name", "before": "a", "after": f"bs-{n}"}],
        )
        event.hash = frozen.compute_hash(event)  # as the previous release hashed it
        event.save()
        events.append(event)
        prev = event.hash
    return events


def legacy_checkpoint(apps, last, settings) -> None:
    checkpoint = apps.get_model("audit", "AuditCheckpoint")(
        first_sequence=1,
        sequence=last.sequence,
        hash=last.hash,
        created_at=timezone.now(),
        archived_count=last.sequence,
        archive_name="a.jsonl",
        archive_sha256="e" * 64,
    )
    checkpoint.signature = salted_hmac(
        "dashboard.audit.checkpoint",
        frozen.checkpoint_bytes(checkpoint),
        secret=settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()
    checkpoint.save()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence <= %s", [last.sequence])


def test_an_existing_chain_is_verified_sealed_under_the_audit_key_and_a_sealing_event_says_so(legacy_schema, settings):
    events = legacy_events(legacy_schema, 3)
    legacy_checkpoint(legacy_schema, events[0], settings)

    call_command("migrate", "audit", verbosity=0)

    key_id = keys.current().key_id
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", "key_id")) == [
        (2, key_id),
        (3, key_id),
        (4, key_id),
    ]
    sealed = AuditEvent.objects.get(sequence=4)
    assert (sealed.action, sealed.prev_hash, sealed.actor_username) == (
        "audit.chain_sealed",
        events[2].hash,
        "migration audit.0004",
    )
    assert "Events #1..#3" in sealed.error_message and key_id in sealed.error_message
    assert AuditCheckpoint.objects.get().key_id == key_id
    assert chain.verify().ok
    settings.AUDIT_SIGNING_KEY = "not-the-key-that-sealed-them-" + "q" * 30
    assert not chain.verify().ok  # the seals really are the audit key's


def test_a_chain_that_does_not_verify_is_not_sealed(legacy_schema):
    events = legacy_events(legacy_schema, 3)
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET storage_name = 'forged' WHERE id = %s", [events[1].pk])

    with pytest.raises(RuntimeError, match="does not verify, so it is not sealed under the audit key: event #2"):
        call_command("migrate", "audit", verbosity=0)


def test_the_newest_migrations_frozen_trigger_sql_is_what_triggers_py_installs():
    # The migrations run a frozen copy of the trigger SQL (dashboard/audit/migrations/_sql_0005.py), so editing
    # triggers.py changes no migration: this fails until the change gets a migration with its own frozen copy.
    frozen = importlib.import_module("dashboard.audit.migrations._sql_0005")
    assert frozen.SQL == triggers._SQL
    assert frozen.TABLE_SCHEMA == triggers._TABLE_SCHEMA


def test_checkpoints_from_before_0003_are_signed_as_that_release_did_and_then_sealed_by_0004(transactional_db):
    with schema_at(BEFORE_CHECKPOINT_EVIDENCE) as apps:
        triggers.remove(connection)  # the frozen triggers name columns 0003 adds; archive_audit wrote these rows
        events = legacy_events(apps, 2)
        apps.get_model("audit", "AuditCheckpoint").objects.create(
            sequence=1,
            hash=events[0].hash,
            created_at=timezone.now(),
            archived_count=1,
            archive_name="a.jsonl",
            archive_sha256="e" * 64,
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE sequence = 1")

        call_command("migrate", "audit", verbosity=0)  # 0004 refuses a checkpoint 0003 did not sign with SECRET_KEY

        checkpoint = AuditCheckpoint.objects.get()
        assert (checkpoint.first_sequence, checkpoint.key_id) == (1, keys.current().key_id)
        assert list(AuditEvent.objects.values_list("sequence", flat=True).order_by("sequence")) == [2, 3]
        assert chain.verify().ok


def test_the_frozen_hashing_and_signing_are_what_chain_py_does_today(db, settings):
    # The migrations hash and sign with a frozen copy (dashboard/audit/migrations/_chain_v1.py), so editing chain.py
    # or keys.py changes no migration: this fails until such a change gets a new frozen copy of its own.
    event = AuditEvent(
        sequence=7,
        prev_hash="a" * 64,
        timestamp=timezone.now(),
        actor_username="alice",
        action="storage.update",
        storage_uuid="s1",
        outcome=Outcome.SUCCEEDED,
        changes=[{"field": "name", "before": "a", "after": "b"}],
        attempt_id=3,
    )
    event.hash = chain.compute_hash(event)
    assert frozen.compute_hash(event) == event.hash
    key, frozen_key = keys.current(), frozen.AuditKey(settings.AUDIT_SIGNING_KEY)
    assert frozen_key.key_id == key.key_id
    chain.seal(event, key)
    live_seal = event.seal
    frozen.seal(event, frozen_key)
    assert event.seal == live_seal
    checkpoint = AuditCheckpoint(
        first_sequence=1,
        sequence=6,
        hash="b" * 64,
        created_at=timezone.now(),
        archived_count=6,
        archive_name="a.jsonl",
        archive_sha256="e" * 64,
    )
    assert frozen.checkpoint_bytes(checkpoint) == chain.checkpoint_bytes(checkpoint)
    chain.sign_checkpoint(checkpoint, key)
    live_signature = checkpoint.signature
    frozen.sign_checkpoint(checkpoint, frozen_key)
    assert checkpoint.signature == live_signature
    assert frozen.GENESIS_HASH == chain.GENESIS_HASH
    assert (frozen.EVENT_SEAL, frozen.CHECKPOINT_SIGNATURE) == (chain.EVENT_SEAL, chain.CHECKPOINT_SIGNATURE)
