"""Checkpoints become evidence: first sequence and signature; triggers refuse checkpoints that don't cover
exactly the oldest events, and (PostgreSQL) TRUNCATE. See triggers.py and chain.py."""

from django.db import migrations, models

# The trigger SQL and the signing are frozen copies (_sql_0004.py, _chain_v1.py), not the live modules: a later
# change to those cannot change what this migration does.
from ._chain_v1 import secret_key_signature
from ._sql_0004 import install_triggers, remove_triggers


def backfill(apps, schema_editor):
    """Checkpoints written before this migration (by archive_audit, which the triggers then let alone write
    them) get their first sequence, the one after the previous checkpoint's, and a signature as this release
    made them: under SECRET_KEY (migration 0004 verifies it and signs again under the audit key)."""
    from django.conf import settings

    checkpoint_model = apps.get_model("audit", "AuditCheckpoint")
    previous = 0
    for checkpoint in checkpoint_model.objects.using(schema_editor.connection.alias).order_by("sequence"):
        checkpoint.first_sequence = previous + 1
        checkpoint.signature = secret_key_signature(checkpoint, settings.SECRET_KEY)
        checkpoint_model.objects.using(schema_editor.connection.alias).filter(pk=checkpoint.pk).update(
            first_sequence=checkpoint.first_sequence, signature=checkpoint.signature
        )
        previous = checkpoint.sequence


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    # Migrating back below 0003 re-installs this version's triggers (reverse of the first operation): they
    # refuse every new checkpoint on the older table (fail closed) until you migrate forward again.
    operations = [
        # Before the fields are added: on SQLite adding them rebuilds the table (which the triggers on the event
        # table refer to), and the backfill below updates rows, which the triggers refuse.
        migrations.RunPython(remove_triggers, install_triggers),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="first_sequence",
            field=models.PositiveBigIntegerField(default=0, verbose_name="first archived sequence"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="signature",
            field=models.CharField(default="", max_length=64, verbose_name="signature"),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
