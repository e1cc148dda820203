"""Triggers that reject UPDATE and DELETE on the audit tables, on SQLite and PostgreSQL (see triggers.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from dashboard.audit import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from dashboard.audit import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
