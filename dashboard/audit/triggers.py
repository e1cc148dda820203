"""Database triggers that make the audit tables append-only, per vendor (installed by migrations 0002-0005).

- UPDATE is always rejected, on events and on checkpoints.
- INSERT of an event is rejected unless it is the next one: its sequence follows the head (the newest event,
  else the newest checkpoint, else 0) and its ``prev_hash`` is the head's hash. Someone with SQL access can
  then only append at the head — and without the audit key, what they append fails its seal (chain.py).
- DELETE of an event is rejected unless a checkpoint covers its sequence: that is how ``archive_audit``
  prunes (it writes the checkpoint first, in the same transaction). Checkpoints can't be deleted.
- INSERT of a checkpoint is rejected unless it covers exactly the events at the start of the chain as they
  are now: it starts right after the previous checkpoint (or at #1), those events all exist (the count of
  events in its range is its ``archived_count``), none older remains, the first links to the previous
  checkpoint's hash (or the genesis) and its last sequence and hash are an existing event's. Without this,
  one forged row ("covers up to the newest event") let every event be deleted with verify_audit passing.
  A checkpoint that is consistent but forged (someone with SQL access copying what archive_audit would
  write) still gets through the database: ``verify_audit`` catches it by its signature (see chain.py).
- TRUNCATE (PostgreSQL only; SQLite has none) is rejected by a statement trigger on both tables.

Whole-database resets: Django's ``flush`` empties every table, and the triggers refuse it. The test runner
flushes between transactional tests, so the test-only database backends (tests/db_backends/, selected by
tests/settings.py) let it, with the two helpers here:
- PostgreSQL flushes with TRUNCATE. ``allow_truncate_sql()`` disables the two TRUNCATE triggers and
  ``guard_truncate_sql()`` enables them again; the backend runs them around its TRUNCATE in flush's own
  transaction, so no other session ever sees the triggers disabled, and a failure rolls back to enabled.
  ALTER TABLE needs the tables' owner: a role that may only write rows can't do the same.
- SQLite flushes with DELETE, so its DELETE triggers also let a delete through while ``wipe_permitted()``
  is on — a per-connection SQL function registered by this app and switched on only by that backend.
  Outside Django (the sqlite3 shell) the function does not exist, so every DELETE there fails.

A later migration that alters these tables on SQLite rebuilds them, which drops their triggers: call
``remove`` before it and ``install`` again at its end (as 0003 does).

Name resolution (PostgreSQL, migration 0005): the guards name the audit tables without a schema, and a function
without its own ``search_path`` resolves them through the caller's, where ``pg_temp`` comes first unless it is
named. The runtime role could then CREATE TEMP TABLE audit_auditevent holding a made-up head, and the INSERT
guard compared a new event with that instead of the real chain. So every function pins its ``search_path``:
see ``_PINNED_SEARCH_PATH``. SQLite binds the names in a (non-TEMP) trigger's body to the trigger's own schema,
so a TEMP table there shadows nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

REJECTION = "audit trail is append-only"
WIPE_FUNCTION = "audit_wipe_permitted"
_wipe_permitted: ContextVar[bool] = ContextVar("audit_wipe_permitted", default=False)

GENESIS_HASH = "0" * 64  # chain.GENESIS_HASH (chain imports models; this module stays import-free)
CHECKPOINT_REJECTION = (
    f"{REJECTION}: checkpoint INSERT rejected: a checkpoint must cover exactly the oldest "
    f"events, as archive_audit writes it"
)

EVENT_REJECTION = f"{REJECTION}: event INSERT rejected: only the next sequence, linked to the current head"
# The event INSERT guard's condition, shared by both vendors (chain.head() in SQL).
_EVENT_FOLLOWS_HEAD = f"""
    NEW.sequence = COALESCE((SELECT MAX(e.sequence) FROM audit_auditevent e),
                            (SELECT MAX(c.sequence) FROM audit_auditcheckpoint c), 0) + 1
    AND NEW.prev_hash = COALESCE((SELECT e.hash FROM audit_auditevent e ORDER BY e.sequence DESC LIMIT 1),
                                 (SELECT c.hash FROM audit_auditcheckpoint c ORDER BY c.sequence DESC LIMIT 1),
                                 '{GENESIS_HASH}')"""

# The checkpoint INSERT guard's condition, shared by both vendors (NEW is the checkpoint being inserted).
_CHECKPOINT_COVERS_OLDEST_EVENTS = f"""
    NEW.first_sequence = COALESCE((SELECT MAX(c.sequence) FROM audit_auditcheckpoint c), 0) + 1
    AND NEW.sequence >= NEW.first_sequence
    AND NEW.archived_count = NEW.sequence - NEW.first_sequence + 1
    AND NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence < NEW.first_sequence)
    AND (SELECT COUNT(*) FROM audit_auditevent e
         WHERE e.sequence BETWEEN NEW.first_sequence AND NEW.sequence) = NEW.archived_count
    AND EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence = NEW.sequence AND e.hash = NEW.hash)
    AND EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence = NEW.first_sequence
                AND e.prev_hash = COALESCE((SELECT c.hash FROM audit_auditcheckpoint c
                                            ORDER BY c.sequence DESC LIMIT 1), '{GENESIS_HASH}'))"""

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER audit_event_guard_insert BEFORE INSERT ON audit_auditevent
        WHEN NOT COALESCE(({_EVENT_FOLLOWS_HEAD}), 0)
        BEGIN SELECT RAISE(ABORT, '{EVENT_REJECTION}'); END""",
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
    # COALESCE: a NULL anywhere (a missing column value, no such event) must refuse, not pass.
    f"""CREATE TRIGGER audit_checkpoint_guard_insert BEFORE INSERT ON audit_auditcheckpoint
        WHEN NOT COALESCE(({_CHECKPOINT_COVERS_OLDEST_EVENTS}), 0)
        BEGIN SELECT RAISE(ABORT, '{CHECKPOINT_REJECTION}'); END""",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_guard_insert",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoint_guard_insert",
]

# Every PostgreSQL function runs with this search_path, whoever fires it: pg_catalog first (no built-in can be
# shadowed), then the schema the audit tables live in, and pg_temp named last (unnamed, it is searched *first*),
# so that only the owner of that schema (who owns the tables anyway) could put a table in the guards' way.
# Not a fixed ``public``: Django creates the tables in the first schema of the migrating role's search_path,
# which is not public where that role has a schema of its own ("$user" comes first by default) or the DBA
# chose another; there ``public`` would make the guards read no table, or another application's. ``install``
# puts the quoted name of the table's schema in place of ``{schema}`` (``_TABLE_SCHEMA``).
_PINNED_SEARCH_PATH = "SET search_path = pg_catalog, {schema}, pg_temp"
# The schema of the table ``CREATE TRIGGER ... ON audit_auditevent`` attaches to: the first schema on the
# search_path that holds it, never a temporary one.
_TABLE_SCHEMA = """SELECT quote_ident(n.nspname) FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = 'audit_auditevent' AND c.relkind IN ('r', 'p')
      AND n.nspname = ANY (pg_catalog.current_schemas(false)) AND n.oid <> pg_catalog.pg_my_temp_schema()
    ORDER BY pg_catalog.array_position(pg_catalog.current_schemas(false), n.nspname) LIMIT 1"""

_POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql
        {_PINNED_SEARCH_PATH} AS $$
        BEGIN RAISE EXCEPTION '{REJECTION}: % rejected on %', TG_OP, TG_TABLE_NAME; END $$""",
    f"""CREATE OR REPLACE FUNCTION audit_event_guard_delete() RETURNS trigger LANGUAGE plpgsql
        {_PINNED_SEARCH_PATH} AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM audit_auditcheckpoint c WHERE c.sequence >= OLD.sequence) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION '{REJECTION}: DELETE rejected on %', TG_TABLE_NAME;
        END $$""",
    # IF treats NULL as false: a missing value or event refuses.
    f"""CREATE OR REPLACE FUNCTION audit_checkpoint_guard_insert() RETURNS trigger LANGUAGE plpgsql
        {_PINNED_SEARCH_PATH} AS $$
        BEGIN
            IF {_CHECKPOINT_COVERS_OLDEST_EVENTS} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{CHECKPOINT_REJECTION}';
        END $$""",
    f"""CREATE OR REPLACE FUNCTION audit_event_guard_insert() RETURNS trigger LANGUAGE plpgsql
        {_PINNED_SEARCH_PATH} AS $$
        BEGIN
            IF {_EVENT_FOLLOWS_HEAD} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{EVENT_REJECTION}';
        END $$""",
    """CREATE TRIGGER audit_event_guard_insert BEFORE INSERT ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_event_guard_insert()""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_event_guard_delete()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
        FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()""",
    """CREATE TRIGGER audit_checkpoint_guard_insert BEFORE INSERT ON audit_auditcheckpoint
        FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_guard_insert()""",
]
_POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_guard_insert ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update ON audit_auditcheckpoint",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete ON audit_auditcheckpoint",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint",
    "DROP TRIGGER IF EXISTS audit_checkpoint_guard_insert ON audit_auditcheckpoint",
]
_POSTGRES_TRUNCATE_TRIGGERS = (
    ("audit_auditevent", "audit_event_no_truncate"),
    ("audit_auditcheckpoint", "audit_checkpoint_no_truncate"),
)


def allow_truncate_sql() -> list[str]:
    """PostgreSQL: disable the TRUNCATE triggers. Only for the tests' ``flush``, inside its transaction (see above)."""
    return [f"ALTER TABLE {table} DISABLE TRIGGER {name}" for table, name in _POSTGRES_TRUNCATE_TRIGGERS]


def guard_truncate_sql() -> list[str]:
    """PostgreSQL: enable the TRUNCATE triggers again, before that transaction commits."""
    return [f"ALTER TABLE {table} ENABLE TRIGGER {name}" for table, name in _POSTGRES_TRUNCATE_TRIGGERS]


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
    """Create the triggers, replacing any there are (an earlier version's included)."""
    remove(connection)
    with connection.cursor() as cursor:
        statements = _statements(connection.vendor, 0)
        if connection.vendor == "postgresql":
            cursor.execute(_TABLE_SCHEMA)
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError("audit_auditevent is in no schema on the search_path: run migrate first")
            statements = [sql.replace("{schema}", row[0]) for sql in statements]
        for sql in statements:
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
    """Let the tests' whole-database reset (``flush``) empty the audit tables on SQLite. Nothing else uses this."""
    token = _wipe_permitted.set(True)
    try:
        yield
    finally:
        _wipe_permitted.reset(token)
