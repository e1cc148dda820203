"""Migration 0004 (issue 9): a chain written before the audit key is verified as it stands, sealed once under the
key, and a sealing event says so; a chain that does not verify is not sealed (vouched for)."""

import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.crypto import salted_hmac

from dashboard.audit import chain, keys, triggers
from dashboard.audit.models import AuditCheckpoint, AuditEvent

BEFORE = ("audit", "0003_checkpoint_evidence")


@pytest.fixture
def legacy_schema(transactional_db):
    """The audit tables as the previous release left them; migrated forward again whatever the test does."""
    call_command("migrate", *BEFORE, verbosity=0)
    try:
        yield MigrationExecutor(connection).loader.project_state(BEFORE).apps
    finally:
        triggers.install(connection)  # a test may have dropped them: flush (and the next migration) expects them
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)


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
        event.hash = chain.compute_hash(event)
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
        "dashboard.audit.checkpoint", chain.checkpoint_bytes(checkpoint), secret=settings.SECRET_KEY, algorithm="sha256"
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
    # The migrations run a frozen copy of the trigger SQL (dashboard/audit/migrations/_sql_0004.py), so editing
    # triggers.py changes no migration: this fails until the change gets a migration with its own frozen copy.
    frozen = importlib.import_module("dashboard.audit.migrations._sql_0004")
    assert frozen.SQL == triggers._SQL
