"""Triggers that reject UPDATE and DELETE on the audit tables, on SQLite and PostgreSQL (see triggers.py).

The SQL is the frozen copy in _sql_0004.py, not the live triggers module (which later changes may alter).
"""

from django.db import migrations

from ._sql_0004 import install_triggers as install
from ._sql_0004 import remove_triggers as remove


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
