"""PostgreSQL, for tests: flush's TRUNCATE runs with the audit tables' TRUNCATE triggers disabled, inside
flush's own transaction (see tests/db_backends/ and dashboard/audit/triggers.py)."""

from django.db.backends.postgresql import base

from dashboard.audit import triggers


class DatabaseOperations(base.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        # Django runs these in one transaction: the triggers are disabled and enabled again inside it, so no
        # other session sees them off, and a flush that fails rolls back with them on.
        if any("audit_auditevent" in sql for sql in sql_list):  # our tables exist and are being emptied
            sql_list = [*triggers.allow_truncate_sql(), *sql_list, *triggers.guard_truncate_sql()]
        super().execute_sql_flush(sql_list)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
