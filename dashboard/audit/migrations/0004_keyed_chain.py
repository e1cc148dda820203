"""The keyed chain (issue 9): events get a key id and a seal, checkpoints a key id and a signature under the audit
key instead of SECRET_KEY, and the event table an INSERT guard (triggers.py).

The chain already there is verified as it stands (its SHA-256 links, and its checkpoints under SECRET_KEY or
SECRET_KEY_FALLBACKS, as the previous release did), then sealed once under the audit key, and an
``audit.chain_sealed`` event says so: sealing a chain vouches for it, so one that does not verify is refused
(run the previous release's ``verify_audit`` and investigate before migrating).
"""

from django.db import migrations, models

# The trigger SQL and the hashing and signing are frozen copies (_sql_0004.py, _chain_v1.py), not the live
# modules: a later change to those cannot change what this migration does to existing rows.
from . import _chain_v1 as frozen
from ._sql_0004 import install_triggers, remove_triggers

SEALED_BY = "migration audit.0004"


def seal_existing_chain(apps, schema_editor):
    from django.conf import settings
    from django.utils import timezone

    db = schema_editor.connection.alias
    event_model = apps.get_model("audit", "AuditEvent")
    checkpoint_model = apps.get_model("audit", "AuditCheckpoint")
    key = frozen.AuditKey(settings.AUDIT_SIGNING_KEY)  # the key is configuration; how it signs is frozen
    expected_sequence, expected_prev = 1, frozen.GENESIS_HASH

    def refuse(problem: str):
        raise RuntimeError(
            f"The audit chain does not verify, so it is not sealed under the audit key: {problem}. "
            f"Investigate with the previous release's verify_audit before migrating."
        )

    for checkpoint in checkpoint_model.objects.using(db).order_by("sequence"):
        secret_keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        if checkpoint.first_sequence != expected_sequence or not frozen.signed_under_secret_key(
            checkpoint, secret_keys
        ):
            refuse(f"checkpoint #{checkpoint.sequence} is out of place or not signed with SECRET_KEY")
        frozen.sign_checkpoint(checkpoint, key)
        checkpoint_model.objects.using(db).filter(pk=checkpoint.pk).update(
            key_id=checkpoint.key_id, signature=checkpoint.signature
        )
        expected_sequence, expected_prev = checkpoint.sequence + 1, checkpoint.hash
    for event in event_model.objects.using(db).order_by("sequence").iterator(chunk_size=2000):
        if (event.sequence, event.prev_hash) != (expected_sequence, expected_prev):
            refuse(f"event #{event.sequence} does not follow #{expected_sequence - 1}")
        if frozen.compute_hash(event) != event.hash:
            refuse(f"event #{event.sequence} no longer matches its hash")
        frozen.seal(event, key)
        event_model.objects.using(db).filter(pk=event.pk).update(key_id=event.key_id, seal=event.seal)
        expected_sequence, expected_prev = event.sequence + 1, event.hash
    if expected_sequence == 1:
        return  # a new trail: nothing to vouch for
    note = event_model(
        sequence=expected_sequence,
        prev_hash=expected_prev,
        timestamp=timezone.now(),
        actor_username=SEALED_BY,
        action="audit.chain_sealed",
        storage_uuid="",
        outcome="succeeded",
        changes=[],
        error_message=(
            f"Events #1..#{expected_sequence - 1} (head {expected_prev}) were written before the audit "
            f"key; their SHA-256 chain and checkpoints verified, and they were sealed once under audit "
            f"key {key.key_id}."
        ),
    )
    note.hash = frozen.compute_hash(note)
    frozen.seal(note, key)
    note.save(using=db)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_checkpoint_evidence")]

    operations = [
        migrations.RunPython(remove_triggers, install_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", max_length=16, verbose_name="key id"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seal",
            field=models.CharField(default="", max_length=64, verbose_name="seal"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="key_id",
            field=models.CharField(default="", max_length=16, verbose_name="key id"),
            preserve_default=False,
        ),
        migrations.RunPython(seal_existing_chain, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
