"""The audit tables' trigger SQL as migration 0005 installs it: a frozen copy of dashboard/audit/triggers.py at
migration 0005 (each PostgreSQL function pins its search_path, so a TEMP table can't shadow the audit tables), so
that later changes to that module cannot change what this migration did.

Never edit this file. A change to the triggers gets a new migration with its own copy (tests/test_audit_migration.py
fails until the newest copy matches triggers.py). The leading underscore keeps Django's migration loader away.
"""

SQLITE_INSTALL = [
    """CREATE TRIGGER audit_event_guard_insert BEFORE INSERT ON audit_auditevent
        WHEN NOT COALESCE((
    NEW.sequence = COALESCE((SELECT MAX(e.sequence) FROM audit_auditevent e),
                            (SELECT MAX(c.sequence) FROM audit_auditcheckpoint c), 0) + 1
    AND NEW.prev_hash = COALESCE((SELECT e.hash FROM audit_auditevent e ORDER BY e.sequence DESC LIMIT 1),
                                 (SELECT c.hash FROM audit_auditcheckpoint c ORDER BY c.sequence DESC LIMIT 1),
                                 '0000000000000000000000000000000000000000000000000000000000000000')), 0)
        BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: event INSERT rejected: only the next sequence, linked to the current head'); END""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE rejected'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
        WHEN NOT EXISTS (SELECT 1 FROM audit_auditcheckpoint c WHERE c.sequence >= OLD.sequence)
             AND NOT audit_wipe_permitted()
        BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE rejected'); END""",
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
        BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE rejected'); END""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
        WHEN NOT audit_wipe_permitted()
        BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE rejected'); END""",
    """CREATE TRIGGER audit_checkpoint_guard_insert BEFORE INSERT ON audit_auditcheckpoint
        WHEN NOT COALESCE((
    NEW.first_sequence = COALESCE((SELECT MAX(c.sequence) FROM audit_auditcheckpoint c), 0) + 1
    AND NEW.sequence >= NEW.first_sequence
    AND NEW.archived_count = NEW.sequence - NEW.first_sequence + 1
    AND NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence < NEW.first_sequence)
    AND (SELECT COUNT(*) FROM audit_auditevent e
         WHERE e.sequence BETWEEN NEW.first_sequence AND NEW.sequence) = NEW.archived_count
    AND EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence = NEW.sequence AND e.hash = NEW.hash)
    AND EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence = NEW.first_sequence
                AND e.prev_hash = COALESCE((SELECT c.hash FROM audit_auditcheckpoint c
                                            ORDER BY c.sequence DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000'))), 0)
        BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: checkpoint INSERT rejected: a checkpoint must cover exactly the oldest events, as archive_audit writes it'); END""",
]
SQLITE_REMOVE = [
    """DROP TRIGGER IF EXISTS audit_event_guard_insert""",
    """DROP TRIGGER IF EXISTS audit_event_no_update""",
    """DROP TRIGGER IF EXISTS audit_event_no_delete""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_no_update""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_no_delete""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_guard_insert""",
]
POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql
        SET search_path = pg_catalog, {schema}, pg_temp AS $$
        BEGIN RAISE EXCEPTION 'audit trail is append-only: % rejected on %', TG_OP, TG_TABLE_NAME; END $$""",
    """CREATE OR REPLACE FUNCTION audit_event_guard_delete() RETURNS trigger LANGUAGE plpgsql
        SET search_path = pg_catalog, {schema}, pg_temp AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM audit_auditcheckpoint c WHERE c.sequence >= OLD.sequence) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'audit trail is append-only: DELETE rejected on %', TG_TABLE_NAME;
        END $$""",
    """CREATE OR REPLACE FUNCTION audit_checkpoint_guard_insert() RETURNS trigger LANGUAGE plpgsql
        SET search_path = pg_catalog, {schema}, pg_temp AS $$
        BEGIN
            IF 
    NEW.first_sequence = COALESCE((SELECT MAX(c.sequence) FROM audit_auditcheckpoint c), 0) + 1
    AND NEW.sequence >= NEW.first_sequence
    AND NEW.archived_count = NEW.sequence - NEW.first_sequence + 1
    AND NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence < NEW.first_sequence)
    AND (SELECT COUNT(*) FROM audit_auditevent e
         WHERE e.sequence BETWEEN NEW.first_sequence AND NEW.sequence) = NEW.archived_count
    AND EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence = NEW.sequence AND e.hash = NEW.hash)
    AND EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.sequence = NEW.first_sequence
                AND e.prev_hash = COALESCE((SELECT c.hash FROM audit_auditcheckpoint c
                                            ORDER BY c.sequence DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000')) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit trail is append-only: checkpoint INSERT rejected: a checkpoint must cover exactly the oldest events, as archive_audit writes it';
        END $$""",
    """CREATE OR REPLACE FUNCTION audit_event_guard_insert() RETURNS trigger LANGUAGE plpgsql
        SET search_path = pg_catalog, {schema}, pg_temp AS $$
        BEGIN
            IF 
    NEW.sequence = COALESCE((SELECT MAX(e.sequence) FROM audit_auditevent e),
                            (SELECT MAX(c.sequence) FROM audit_auditcheckpoint c), 0) + 1
    AND NEW.prev_hash = COALESCE((SELECT e.hash FROM audit_auditevent e ORDER BY e.sequence DESC LIMIT 1),
                                 (SELECT c.hash FROM audit_auditcheckpoint c ORDER BY c.sequence DESC LIMIT 1),
                                 '0000000000000000000000000000000000000000000000000000000000000000') THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit trail is append-only: event INSERT rejected: only the next sequence, linked to the current head';
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
POSTGRES_REMOVE = [
    """DROP TRIGGER IF EXISTS audit_event_guard_insert ON audit_auditevent""",
    """DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent""",
    """DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent""",
    """DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_no_update ON audit_auditcheckpoint""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_no_delete ON audit_auditcheckpoint""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint""",
    """DROP TRIGGER IF EXISTS audit_checkpoint_guard_insert ON audit_auditcheckpoint""",
]
SQL = {"sqlite": (SQLITE_INSTALL, SQLITE_REMOVE), "postgresql": (POSTGRES_INSTALL, POSTGRES_REMOVE)}
# The quoted name of the audit tables' schema, put in place of {schema} in the PostgreSQL functions.
TABLE_SCHEMA = """SELECT quote_ident(n.nspname) FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = 'audit_auditevent' AND c.relkind IN ('r', 'p')
      AND n.nspname = ANY (pg_catalog.current_schemas(false)) AND n.oid <> pg_catalog.pg_my_temp_schema()
    ORDER BY pg_catalog.array_position(pg_catalog.current_schemas(false), n.nspname) LIMIT 1"""


def _execute(schema_editor, index: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in SQL:
        raise NotImplementedError(f"No append-only triggers for the {vendor} database backend.")
    with schema_editor.connection.cursor() as cursor:
        statements = SQL[vendor][index]
        if vendor == "postgresql" and index == 0:
            cursor.execute(TABLE_SCHEMA)
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError("audit_auditevent is in no schema on the search_path")
            statements = [sql.replace("{schema}", row[0]) for sql in statements]
        for sql in statements:
            cursor.execute(sql)


def remove_triggers(apps, schema_editor) -> None:
    """RunPython operation: drop the triggers (IF EXISTS)."""
    _execute(schema_editor, 1)


def install_triggers(apps, schema_editor) -> None:
    """RunPython operation: create the triggers, replacing any there are (an earlier version's included)."""
    _execute(schema_editor, 1)
    _execute(schema_editor, 0)
