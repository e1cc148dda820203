"""Django's ``flush``, able to empty the append-only audit tables as the triggers otherwise forbid.

The test runner flushes the database after every transactional test (live-server browser tests included).
A flush erases everything by design, so it is let through here, and only here (see triggers.py):

- SQLite flushes with DELETE, which the row triggers reject unless ``wipe_permitted()`` is on.
- PostgreSQL flushes with TRUNCATE, which statement triggers reject. Flush's own statements run in one
  transaction (``execute_sql_flush``); ours disable those two triggers at its start and enable them again
  at its end, inside that transaction: no other session sees them disabled, and if the flush fails the
  rollback leaves them enabled.
"""

from contextlib import contextmanager

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections

from dashboard.audit import triggers


@contextmanager
def _truncate_permitted(connection):
    """For this flush only, wrap the statements ``execute_sql_flush`` runs in one transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    ops = connection.ops
    execute_sql_flush = ops.execute_sql_flush

    def with_truncate_permitted(sql_list):
        if any("audit_auditevent" in sql for sql in sql_list):  # our tables exist and are being emptied
            sql_list = [*triggers.allow_truncate_sql(), *sql_list, *triggers.guard_truncate_sql()]
        return execute_sql_flush(sql_list)

    ops.execute_sql_flush = with_truncate_permitted
    try:
        yield
    finally:
        del ops.execute_sql_flush  # the class's method again


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with triggers.wipe_permitted(), _truncate_permitted(connection):
            return super().handle(**options)
