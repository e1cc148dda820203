"""Database triggers that make the audit tables append-only, per vendor (created by migration 0002).

UPDATE is always rejected. DELETE is rejected unless a checkpoint covers the event's sequence: that is how
``archive_audit`` prunes (it writes the checkpoint first, in the same transaction), and nothing else can
remove an event the chain still needs. Checkpoints themselves can't be updated or deleted.

Whole-database resets: Django's ``flush`` (which the test runner uses between transactional tests) empties
every table. On PostgreSQL it uses TRUNCATE, which row triggers don't see. On SQLite it uses DELETE, so the
SQLite triggers also let a delete through while ``wipe_permitted()`` is on — a per-connection SQL function
registered by this app and switched on only by our ``flush`` command. Outside Django (the sqlite3 shell) the
function does not exist, so every DELETE there fails.

A later migration that alters these tables on SQLite rebuilds them, which drops their triggers: call
``install`` again at its end.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

REJECTION = "audit trail is append-only"
WIPE_FUNCTION = "audit_wipe_permitted"
_wipe_permitted: ContextVar[bool] = ContextVar("audit_wipe_permitted", default=False)

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
        BEGIN SELECT RAISE(ABORT, '{REJECTION}: UPDATE rejected'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
        WHEN NOT EXISTS (SELECT 1 FROM audit_auditcheckpoint c WHERE c.sequence >= OLD.sequence)
             AND NOT {WIPE_FUNCTION}()
        BEGIN SELECT RAISE(ABORT, '{REJECTION}: DELETE rejected'); END""",
    f"""CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
        BEGIN SELECT RAISE(ABORT, '{REJECTION}: UPDATE rejected'); END""",
    f"""CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
        WHEN NOT {WIPE_FUNCTION}()
        BEGIN SELECT RAISE(ABORT, '{REJECTION}: DELETE rejected'); END""",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
]

_POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{REJECTION}: % rejected on %', TG_OP, TG_TABLE_NAME; END $$""",
    f"""CREATE OR REPLACE FUNCTION audit_event_guard_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM audit_auditcheckpoint c WHERE c.sequence >= OLD.sequence) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION '{REJECTION}: DELETE rejected on %', TG_TABLE_NAME;
        END $$""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_event_guard_delete()""",
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()""",
]
_POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update ON audit_auditcheckpoint",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete ON audit_auditcheckpoint",
]

_SQL = {
    "sqlite": (_SQLITE_INSTALL, _SQLITE_REMOVE),
    "postgresql": (_POSTGRES_INSTALL, _POSTGRES_REMOVE),
}


def _statements(vendor: str, index: int) -> list[str]:
    try:
        return _SQL[vendor][index]
    except KeyError:
        raise NotImplementedError(f"No append-only triggers for the {vendor} database backend.") from None


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, 0):
            cursor.execute(sql)


def remove(connection) -> None:
    """Tests use this inside their own transaction to tamper with rows (the rollback restores the triggers)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, 1):
            cursor.execute(sql)


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """connection_created handler: give each SQLite connection the function the DELETE triggers ask."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(WIPE_FUNCTION, 0, lambda: int(_wipe_permitted.get()))


@contextmanager
def wipe_permitted():
    """Let a whole-database reset (``flush``) empty the audit tables on SQLite. Nothing else uses this."""
    token = _wipe_permitted.set(True)
    try:
        yield
    finally:
        _wipe_permitted.reset(token)
