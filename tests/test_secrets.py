"""The SSH password is write-only (issue 4, "Tests"): a canary password submitted through the edit form
appears nowhere we keep or show anything — not in any HTTP response, the audit rows, the exports,
captured logs, or a dump of every table in the database. Only ZStack receives it."""

from __future__ import annotations

import html
import json
import logging
import re
from urllib.parse import quote, quote_plus

import pytest
from django.db import connection
from django.utils import translation

from dashboard.accounts.roles import Role
from dashboard.audit.messages import ZSTACK_TEXT_WITHHELD, describe
from dashboard.audit.models import AuditEvent
from dashboard.storages import tasks
from dashboard.storages.models import Submission
from dashboard.storages.submissions import parts_of
from tests.storage_helpers import HTMX, body_of, form_data, storage_named, zstack_requests

pytestmark = pytest.mark.django_db

CANARY = "Canary-SSH-Pw-5b9d0e"


def _database_dump() -> str:
    """Every value of every row of every table, as text (works on SQLite and PostgreSQL alike). Each value as
    it is, not its repr: a repr doubles a backslash and would hide a secret that has one."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.extend(f"{table}: {value}" for row in cursor.fetchall() for value in row)
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


# --- a job the background worker follows ------------------------------------------------------------

WORKER_CANARY = 'Canary-Worker-Pw"密\\9c41'  # a quote, a non-ASCII character and a backslash: encodings differ


def encodings_of(secret: str) -> dict[str, str]:
    return {
        "literal": secret,
        "json-ascii": json.dumps(secret)[1:-1],
        "json-non-ascii": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json-every-char-escaped": "".join(f"\\u{ord(c):04x}" for c in secret),
        "html": html.escape(secret),
        "html-numeric": "".join(f"&#{ord(c)};" for c in secret),
        "url": quote(secret, safe=""),
        "form": quote_plus(secret),
    }


@pytest.mark.slow  # a job that outlasts the request's wait, then the worker
def test_a_password_echoed_by_a_job_the_worker_follows_is_kept_nowhere(login_as, zstack_settings, settings, caplog):
    """The worker never holds the password, so it can't scrub an error that echoes it: it keeps ZStack's code
    and the job, and a sentence saying ZStack's words were withheld; a part sent without the password (a tag)
    keeps ZStack's words."""
    caplog.set_level(logging.DEBUG)
    settings.CONSOLE_WRITE_WAIT = 0.2
    sim = zstack_settings
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    echoes = encodings_of(WORKER_CANARY)
    sim.set_faults(
        job_seconds=1.0,  # longer than the request waits
        fail_next_jobs=[  # one per job, in the order they are sent: the update, then the tag
            {"code": "SYS.1006", "details": "ssh login failed; sent: " + " | ".join(echoes.values())},
            {"code": "SYS.1006", "details": "tag quota reached for tier::gold"},
        ],
    )
    admin = login_as(Role.ADMIN)
    data = form_data(uuid, password=WORKER_CANARY)
    data["userTags"] += "\r\ntier::gold"
    answer = admin.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    [submission] = Submission.objects.all()
    assert submission.running  # the request's wait ran out: the worker follows the jobs
    progress = re.search(r'hx-get="(/storages/[^"]+/submissions/[^"]+/)"', answer).group(1)

    tasks.follow_submission.call(submission.pk)  # what the worker runs, in this process: no password

    submission.refresh_from_db()
    assert submission.outcome == "failed"
    outcome = AuditEvent.objects.get(storage_uuid=uuid, outcome="failed")
    update, tag = outcome.changes[0], outcome.changes[-1]
    assert (outcome.error_code, update["error_code"], update["job"]) == (
        "SYS.1006",
        "SYS.1006",
        parts_of(submission)[0].job,
    )
    assert update["error"] == outcome.error_message == ZSTACK_TEXT_WITHHELD
    assert (tag["error_code"], tag["error"]) == ("SYS.1006", "tag quota reached for tier::gold")
    with translation.override("zh-hans"):
        assert "SSH 密码" in str(describe(outcome.error_code, outcome.error_message))
    pages = {"the answer to the POST": answer}
    for path in (
        progress,
        f"/storages/{uuid}/",
        f"/storages/{uuid}/card/",
        "/audit/",
        "/audit/export.csv",
        "/audit/export.json",
    ):
        response = admin.get(path, **(HTMX if path == progress else {}))
        assert response.status_code == 200, path
        content = b"".join(response.streaming_content) if response.streaming else response.content
        pages[path] = content.decode()
    for path in (progress, "/audit/", "/audit/export.csv"):  # the card's warning, the log, the CSV's reason
        assert "message is withheld: it may contain the SSH password" in html.unescape(pages[path]), path
    assert "SYS.1006" in pages["/audit/"] and "tag quota reached for tier::gold" in pages["/audit/"]

    assert WORKER_CANARY in [
        body_of(r)["updateImageStoreBackupStorage"].get("password") for r in zstack_requests(sim, "PUT")
    ]
    stored = _database_dump()  # the audit rows, the submission's parts, the worker's task and result
    logged = caplog.text + "".join(r.getMessage() + str(r.args) for r in caplog.records)
    for name, echoed in {"its ASCII start": "Canary-Worker-Pw", **echoes}.items():
        assert not [path for path, page in pages.items() if echoed in page], f"{name} in an HTTP response"
        assert echoed not in stored, f"{name} stored"
        assert echoed not in logged, f"{name} logged"
