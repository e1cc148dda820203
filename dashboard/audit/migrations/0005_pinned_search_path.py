"""The audit triggers' PostgreSQL functions pin their search_path (pg_catalog, the tables' schema, pg_temp last).

Without it they resolved ``audit_auditevent`` and ``audit_auditcheckpoint`` through the caller's search_path, where
pg_temp comes first: the runtime role could create a TEMP table of that name holding a made-up head and have the
INSERT guard accept an event out of sequence (dashboard/audit/triggers.py, "Name resolution"). The functions are
replaced (CREATE OR REPLACE) and the triggers re-created; no row changes. SQLite's triggers are unchanged (it binds
a trigger's table names to the trigger's own schema) and are simply installed again.
"""

from django.db import migrations

# Frozen copies (never the live triggers module): forwards the SQL of this migration, backwards that of 0004.
from . import _sql_0004, _sql_0005


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_keyed_chain")]

    operations = [migrations.RunPython(_sql_0005.install_triggers, _sql_0004.install_triggers)]
