"""Least privilege on PostgreSQL (issue 9): the grants of the console's runtime role.

Two roles. The *owner* owns the tables: it runs ``migrate``, ``archive_audit`` (which deletes archived events
behind a checkpoint) and this module's grants. The *runtime* role is what the console, its worker and its
cron jobs connect as. On the audit tables it may only read and append: SELECT and INSERT on events (and the
INSERT trigger accepts only the next sequence, linked to the head), SELECT on checkpoints — no UPDATE,
DELETE, TRUNCATE or TRIGGER privilege, and since it owns nothing it can't ALTER, drop or disable a trigger.
Every other table it may read and write as the application needs; ``django_migrations`` it may only read.

Grants name the tables that exist, so run ``grant_runtime_role`` again after every ``migrate``.

Temporary tables: the runtime role needs none, so a TEMPORARY privilege granted to it directly is taken back. By
default PUBLIC holds TEMPORARY on every database, and a REVOKE from one role takes nothing away while PUBLIC
holds it; revoking it from PUBLIC is a database-wide choice, left to the DBA's one-time SQL (README,
Production), and ``temporary_tables_allowed`` lets the command say when it is still granted. The triggers do
not rely on it: a TEMP table named like an audit table once shadowed the real one inside the INSERT guard, and
the guards now pin their search_path so that it can't (triggers.py, "Name resolution"; migration 0005).
"""

from __future__ import annotations

AUDIT_EVENTS = "audit_auditevent"
AUDIT_CHECKPOINTS = "audit_auditcheckpoint"
READ_ONLY = ("django_migrations",)


class RoleError(Exception):
    pass


def runtime_grants(connection, role: str) -> list[str]:
    """The statements that give ``role`` exactly the runtime privileges on this database's tables."""
    q = connection.ops.quote_name
    tables = sorted(connection.introspection.table_names())
    if AUDIT_EVENTS not in tables:
        raise RoleError("the audit tables do not exist yet: run migrate (as the owner role) first")
    everything = ", ".join(q(t) for t in tables)
    application = ", ".join(q(t) for t in tables if t not in (AUDIT_EVENTS, AUDIT_CHECKPOINTS, *READ_ONLY))
    read_only = ", ".join(q(t) for t in tables if t in READ_ONLY)
    database = q(connection.settings_dict["NAME"])
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {q(role)}",
        f"REVOKE TEMPORARY ON DATABASE {database} FROM {q(role)}",  # a direct grant; PUBLIC's: see above
        f"GRANT USAGE ON SCHEMA public TO {q(role)}",
        f"REVOKE ALL ON {everything} FROM {q(role)}",  # start from nothing: a re-run also takes back extras
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {application} TO {q(role)}",
        f"GRANT SELECT, INSERT ON {q(AUDIT_EVENTS)} TO {q(role)}",
        f"GRANT SELECT ON {q(AUDIT_CHECKPOINTS)} TO {q(role)}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q(role)}",  # ids of new rows
    ]
    if read_only:
        statements.insert(5, f"GRANT SELECT ON {read_only} TO {q(role)}")
    return statements


def temporary_tables_allowed(connection, role: str) -> bool:
    """Whether ``role`` may still create temporary tables here (through PUBLIC, after the grants)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", [role])
        return bool(cursor.fetchone()[0])


def check_runtime_role(connection, role: str) -> None:
    """Refuse a role the grants could not confine: a superuser, the tables' owner, or a member of it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            raise RoleError(f"there is no role {role!r}: create it first (README, Production)")
        if row[0]:
            raise RoleError(f"{role!r} is a superuser: it bypasses every grant and trigger")
        cursor.execute(
            "SELECT pg_has_role(%s, tableowner, 'USAGE') FROM pg_tables WHERE tablename = %s", [role, AUDIT_EVENTS]
        )
        row = cursor.fetchone()
        if row is not None and row[0]:
            raise RoleError(f"{role!r} owns the audit tables (or is a member of their owner): it could alter them")
