"""The SSH password is write-only (issue 4, "Tests"): a canary password submitted through the edit form
appears nowhere we keep or show anything — not in any HTTP response, the audit rows, the exports,
captured logs, or a dump of every table in the database. Only ZStack receives it."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from tests.storage_helpers import HTMX, body_of, form_data, storage_named, zstack_requests

pytestmark = pytest.mark.django_db

CANARY = "Canary-SSH-Pw-5b9d0e"


def _database_dump() -> str:
    """Every row of every table, as text (works on SQLite and PostgreSQL alike)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.append(f"{table}: {cursor.fetchall()!r}")
    return "\n".join(parts)


def test_a_canary_ssh_password_reaches_zstack_and_nowhere_else(login_as, zstack_settings, caplog):
    caplog.set_level(logging.DEBUG)
    sim = zstack_settings
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    other = storage_named(sim, "bs-prod-bj-02")["uuid"]
    admin = login_as(Role.ADMIN)
    bodies: list[str] = []

    # Succeeds without htmx, then with htmx (a second storage: the first one's form is now stale).
    bodies.append(admin.post(f"/storages/{uuid}/edit/", form_data(uuid, password=CANARY), follow=True).content.decode())
    bodies.append(admin.post(f"/storages/{other}/edit/", form_data(other, password=CANARY), **HTMX).content.decode())
    # Rejected by validation, failed upstream, and stale: each re-renders the form.
    bodies.append(
        admin.post(f"/storages/{uuid}/edit/", form_data(uuid, password=CANARY, sshPort="0"), **HTMX).content.decode()
    )
    # ZStack's error may echo the password it was sent: the follower scrubs it from what it keeps.
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": f"ssh login failed with password {CANARY}-2"}])
    bodies.append(
        admin.post(f"/storages/{uuid}/edit/", form_data(uuid, password=CANARY + "-2"), **HTMX).content.decode()
    )
    stale = form_data(uuid, password=CANARY, description="mine")  # a field someone else changes meanwhile
    sim.patch_storage(uuid, description="changed behind the form")
    bodies.append(admin.post(f"/storages/{uuid}/edit/", stale, **HTMX).content.decode())
    # Everything an admin or auditor can read afterwards.
    for path in (
        f"/storages/{uuid}/",
        f"/storages/{uuid}/card/",
        f"/storages/{uuid}/edit/",
        "/storages/",
        "/audit/",
        "/audit/?field=password",
        "/audit/export.csv",
        "/audit/export.json",
    ):
        response = admin.get(path)
        assert response.status_code == 200, path
        content = b"".join(response.streaming_content) if response.streaming else response.content
        bodies.append(content.decode())

    # The feature worked: ZStack got the password, and the audit trail knows it changed.
    sent = [body_of(r)["updateImageStoreBackupStorage"].get("password") for r in zstack_requests(sim, "PUT")]
    assert sent.count(CANARY) == 2 and CANARY + "-2" in sent
    password_changes = [c for e in AuditEvent.objects.all() for c in e.changes if c.get("field") == "password"]
    # Outcome rows add the part's job and result; never a value.
    assert password_changes and all(
        {k: v for k, v in c.items() if k not in ("job", "result", "error_code", "error")}
        == {"field": "password", "changed": True}
        for c in password_changes
    )
    assert '"password"' in bodies[-1]  # the JSON export lists the change (its fact, not its value)

    for canary in (CANARY, CANARY + "-2"):
        assert not [i for i, body in enumerate(bodies) if canary in body], "canary in an HTTP response"
        assert canary not in _database_dump()
        assert canary not in json.dumps([e.changes for e in AuditEvent.objects.all()])
        assert canary not in caplog.text
        assert all(canary not in (r.getMessage() + str(r.args)) for r in caplog.records)
