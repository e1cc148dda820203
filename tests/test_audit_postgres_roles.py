"""Least privilege on PostgreSQL (issue 9): the runtime role may read and append audit events, nothing else.

The test runs as the superuser (CI: postgres), which owns the tables as an owner role would; it creates a
runtime role with a name unique to the run, grants it with ``grant_runtime_role`` and acts as it with
``SET ROLE``. Everything happens in the test's transaction: the rollback drops the role and its grants.
"""

import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dashboard.audit import chain
from dashboard.audit.models import AuditEvent
from tests.test_audit_integrity import add_events, insert_event, raw

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]


@pytest.fixture
def runtime_role():
    """A fresh runtime role with the console's grants; the test's connection acts as it until the test ends."""
    role = f"audit_rt_{uuid.uuid4().hex[:12]}"
    raw(f'CREATE ROLE "{role}" NOLOGIN')
    call_command("grant_runtime_role", role, verbosity=0)
    add_events(3)  # written as the owner, before switching
    raw(f'SET ROLE "{role}"')
    yield role
    raw("RESET ROLE")


def refused(sql: str, params=(), match: str = "permission denied|must be owner") -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        raw(sql, params)


def test_the_runtime_role_appends_and_reads_through_the_application(runtime_role):
    (event,) = add_events(1)

    assert event.sequence == 4 and chain.verify().ok
    assert AuditEvent.objects.count() == 4


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("UPDATE audit_auditevent SET storage_name = 'forged'", id="update"),
        pytest.param("DELETE FROM audit_auditevent WHERE sequence = 3", id="delete"),
        pytest.param("TRUNCATE audit_auditevent", id="truncate"),
        pytest.param("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update", id="disable-trigger"),
        pytest.param("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", id="disable-all-triggers"),
        pytest.param("DROP TRIGGER audit_event_guard_insert ON audit_auditevent", id="drop-trigger"),
        pytest.param("ALTER TABLE audit_auditevent ADD COLUMN note text", id="alter"),
        pytest.param("UPDATE audit_auditcheckpoint SET hash = 'x'", id="update-checkpoint"),
        pytest.param("TRUNCATE audit_auditcheckpoint", id="truncate-checkpoint"),
        pytest.param(
            "INSERT INTO audit_auditcheckpoint (first_sequence, sequence, hash, created_at, archived_count, "
            "archive_name, archive_sha256, signature, key_id) VALUES (1, 1, 'x', now(), 1, '', '', '', '')",
            id="insert-checkpoint",
        ),
        pytest.param(
            "CREATE TRIGGER mine BEFORE INSERT ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION audit_reject_change()",
            id="create-trigger",
        ),
    ],
)
def test_the_runtime_role_cannot_change_remove_or_unguard_audit_rows(runtime_role, sql):
    refused(sql)

    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2, 3]
    assert chain.verify().ok


@pytest.mark.parametrize("where", ["gap", "fork", "unlinked"])
def test_the_runtime_role_cannot_insert_an_event_out_of_sequence(runtime_role, where):
    head = AuditEvent.objects.get(sequence=3)
    second = AuditEvent.objects.get(sequence=2)
    sequence, prev_hash = {"gap": (5, head.hash), "fork": (3, second.hash), "unlinked": (4, second.hash)}[where]

    with pytest.raises(DatabaseError, match="only the next sequence, linked to the current head"), transaction.atomic():
        insert_event(sequence, prev_hash)
    assert AuditEvent.objects.count() == 3


@pytest.mark.parametrize("shadowed", ["events", "events-and-checkpoints"])
def test_a_temporary_table_named_like_an_audit_table_does_not_fool_the_insert_guard(runtime_role, shadowed):
    # pg_temp comes first on a search_path that doesn't name it: without their own search_path, the guards read
    # the caller's temporary audit_auditevent (a made-up head) instead of the real one.
    real = f"{current_schema()}.audit_auditevent"
    raw("CREATE TEMP TABLE audit_auditevent (sequence integer, hash text, prev_hash text)")
    if shadowed == "events":
        raw("INSERT INTO audit_auditevent VALUES (41, 'made-up-head', '')")
    else:
        raw("CREATE TEMP TABLE audit_auditcheckpoint (sequence integer, hash text)")
        raw("INSERT INTO audit_auditcheckpoint VALUES (41, 'made-up-head')")

    with pytest.raises(DatabaseError, match="only the next sequence, linked to the current head"), transaction.atomic():
        insert_event(42, "made-up-head", table=real, timestamp=timezone.now())
    raw("DISCARD TEMP")  # the application's own queries would read the temporary tables too
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2, 3]
    assert chain.verify().ok


def test_every_audit_trigger_function_pins_its_search_path(runtime_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_trigger t ON t.tgfoid = p.oid "
            "WHERE t.tgrelid IN ('audit_auditevent'::regclass, 'audit_auditcheckpoint'::regclass) "
            "AND NOT t.tgisinternal"
        )
        functions = dict(cursor.fetchall())

    assert len(functions) == 4  # the reject, delete and two insert guards
    pinned = f"search_path=pg_catalog, {current_schema()}, pg_temp"
    assert all(config == [pinned] for config in functions.values()), functions


def test_without_publics_temporary_privilege_the_runtime_role_cannot_create_temporary_tables(runtime_role):
    raw("RESET ROLE")
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    raw(f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC")  # the README's one-time SQL; rolled back after
    raw(f'SET ROLE "{runtime_role}"')

    refused("CREATE TEMP TABLE audit_auditevent (sequence integer)")


def test_grant_runtime_role_says_when_public_still_lets_the_role_create_temporary_tables(capsys):
    role = f"audit_rt_{uuid.uuid4().hex[:12]}"
    raw(f'CREATE ROLE "{role}" NOLOGIN')

    call_command("grant_runtime_role", role)

    assert "may still create temporary tables" in capsys.readouterr().out  # PUBLIC holds it on a new database


def current_schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def test_grant_runtime_role_refuses_a_superuser_or_the_tables_owner():
    owner = connection.settings_dict["USER"] or "postgres"
    with pytest.raises(CommandError, match="superuser|owns the audit tables"):
        call_command("grant_runtime_role", owner)


def test_grant_runtime_role_prints_the_statements_for_review(capsys):
    call_command("grant_runtime_role", "console_app", "--print")

    sql = capsys.readouterr().out
    assert 'GRANT SELECT, INSERT ON "audit_auditevent" TO "console_app"' in sql
    assert 'GRANT SELECT ON "audit_auditcheckpoint" TO "console_app"' in sql
    assert "TRUNCATE" not in sql and "TRIGGER" not in sql
    assert "REVOKE TEMPORARY ON DATABASE" in sql and 'FROM "console_app"' in sql
