"""SQLite, for tests: flush's DELETEs run with ``triggers.wipe_permitted()`` on (see tests/db_backends/)."""

from django.db.backends.sqlite3 import base

from dashboard.audit import triggers


class DatabaseOperations(base.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        # The DELETE triggers ask the per-connection audit_wipe_permitted() function, which this switches on.
        with triggers.wipe_permitted():
            super().execute_sql_flush(sql_list)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
