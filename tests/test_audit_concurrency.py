"""Several application processes append at once: the chain must stay one chain (no fork, no gap).

Real processes need a real database they can share: on SQLite a temporary file (pytest-django's SQLite test
database lives in memory), migrated by a subprocess; on PostgreSQL the test database itself.
"""

import os
import sqlite3
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import connection

from dashboard.audit.models import AuditEvent

# slow: real interpreters (subprocesses) writing one database file at once.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PER_PROCESS = 40
APPEND = """
import sys, time, django
django.setup()
from dashboard.accounts.actor import Actor
from dashboard.audit.log import Action, FieldChange, Outcome, record
start, worker, count = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
time.sleep(max(0.0, start - time.time()))  # both workers begin together
actor = Actor(user_id=None, username=worker, role=None, ip=None, user_agent="")
for n in range(count):
    attempt = record(actor=actor, action=Action.UPDATE, storage_uuid="s1", storage_name=f"{worker}-{n}",
                     outcome=Outcome.ATTEMPTED, changes=(FieldChange("name", before="a", after=f"{worker}-{n}"),))
    record(actor=actor, action=Action.UPDATE, storage_uuid="s1", storage_name=f"{worker}-{n}",
           outcome=Outcome.SUCCEEDED, attempt=attempt)
    time.sleep(0.002)  # a web worker's pace, not a tight loop: lets SQLite's busy handler hand the lock over
"""


# A slow download of the export: the reader streams it (2 rows per chunk, so the query is still open after the
# first rows) and stops mid-stream until told to go on.
EXPORT_SLOWLY = """
import sys, django
django.setup()
from dashboard.accounts.actor import Actor
from dashboard.audit import exports, selectors
from dashboard.audit.log import Action, Outcome, record
actor = Actor(user_id=None, username="reader", role=None, ip=None, user_agent="")
for n in range(6):
    record(actor=actor, action=Action.RECONNECT, storage_uuid="s1", storage_name=f"bs-{n}", outcome=Outcome.SUCCEEDED)
exports.CHUNK_SIZE = 2
stream = exports.csv_lines(selectors.events_matching({}))
rows = [next(stream), next(stream)]  # the header and the newest event: the read is under way
print("streaming", flush=True)
sys.stdin.readline()
rows.extend(stream)
print(f"exported {len(rows) - 1}", flush=True)
"""
# One audited write, giving up on a locked database after TIMEOUT seconds (production waits 20).
RECORD_ONCE = """
import sys, django
from django.conf import settings
if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    settings.DATABASES["default"]["OPTIONS"]["timeout"] = float(sys.argv[1])
django.setup()
from dashboard.accounts.actor import Actor
from dashboard.audit.log import Action, Outcome, record
actor = Actor(user_id=None, username="writer", role=None, ip=None, user_agent="")
event = record(actor=actor, action=Action.DISABLE, storage_uuid="s2", storage_name="bs", outcome=Outcome.ATTEMPTED)
print(f"recorded #{event.sequence}")
"""


def run(args, env, **kwargs):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.fixture
def shared_database(tmp_path, transactional_db):
    """(environment for subprocesses, kind). SQLite: a fresh migrated file. PostgreSQL: the test database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        if s.get("PASSWORD"):
            env["PGPASSWORD"] = s["PASSWORD"]
        return env, None
    path = tmp_path / "audit.sqlite3"
    env["DATABASE_URL"] = f"sqlite:///{path}"
    migrated = run(["manage.py", "migrate", "--verbosity", "0"], env)
    assert migrated.returncode == 0, migrated.stderr
    return env, path


def test_two_processes_appending_concurrently_leave_a_chain_that_verifies(shared_database):
    env, sqlite_path = shared_database
    start = f"{time.time() + 2.0:.3f}"  # time for both interpreters to import Django
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", APPEND, start, name, str(PER_PROCESS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err

    verified = run(["manage.py", "verify_audit"], env)

    assert verified.returncode == 0, verified.stderr
    assert f"intact: {4 * PER_PROCESS} events" in verified.stdout
    # The processes really interleaved, so the test did test something.
    if sqlite_path is not None:
        with sqlite3.connect(sqlite_path) as db:
            order = [row[0] for row in db.execute("SELECT actor_username FROM audit_auditevent ORDER BY sequence")]
    else:
        order = list(AuditEvent.objects.order_by("sequence").values_list("actor_username", flat=True))
    assert sum(1 for a, b in pairwise(order) if a != b) > 2


def test_an_audited_write_succeeds_while_an_export_is_being_streamed(shared_database):
    # On SQLite without WAL the export's open read holds a shared lock for the whole download, and the audit
    # insert of every write in the meantime cannot commit: it waits out the busy timeout and fails.
    env, _ = shared_database
    reader = subprocess.Popen(
        [sys.executable, "-c", EXPORT_SLOWLY],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "streaming", reader.stderr.read()

        written = run(["-c", RECORD_ONCE, "3"], env)

        assert written.returncode == 0, written.stderr  # waiting for the lock would fail after 3 s, not succeed
        assert written.stdout.strip() == "recorded #7"
        assert reader.poll() is None  # and it succeeded while the export was still open, mid-stream
        out, err = reader.communicate("go on\n", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.communicate()
    assert reader.returncode == 0, err
    assert out.strip() == "exported 6"  # the download saw the trail as it was when it started, whole
    verified = run(["manage.py", "verify_audit"], env)
    assert verified.returncode == 0 and "intact: 7 events" in verified.stdout, verified.stderr


def test_verify_audit_exits_non_zero_naming_the_event_edited_outside_the_application(shared_database):
    env, sqlite_path = shared_database
    if sqlite_path is None:
        pytest.skip("SQLite-only: edits the database file with the sqlite3 module, outside Django")
    added = run(["-c", APPEND, "0", "worker", "3"], env)
    assert added.returncode == 0, added.stderr

    with sqlite3.connect(sqlite_path) as db:
        # Outside Django the DELETE trigger's guard function does not exist: every delete fails.
        with pytest.raises(sqlite3.OperationalError, match="audit_wipe_permitted"):
            db.execute("DELETE FROM audit_auditevent WHERE sequence = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE audit_auditevent SET storage_name = 'forged' WHERE sequence = 2")
        db.execute("DROP TRIGGER audit_event_no_update")  # what an attacker with the file would do
        db.execute("UPDATE audit_auditevent SET storage_name = 'forged' WHERE sequence = 2")

    verified = run(["manage.py", "verify_audit"], env)

    assert verified.returncode != 0
    assert "event #2" in verified.stderr and "altered" in verified.stderr


def test_an_event_appended_by_a_second_console_with_another_key_is_reported_by_verify_audit(shared_database):
    # Another console process (the same code, the same database) started with its own AUDIT_SIGNING_KEY: the
    # database accepts its correctly linked INSERT, and verify_audit run with the real key names it.
    env, _ = shared_database
    assert run(["-c", APPEND, "0", "worker", "1"], env).returncode == 0  # events #1, #2
    intruder = run(["-c", RECORD_ONCE, "20"], {**env, "AUDIT_SIGNING_KEY": "another-console-" + "k" * 40})
    assert intruder.returncode == 0 and intruder.stdout.strip() == "recorded #3", intruder.stderr
    assert run(["-c", APPEND, "0", "worker", "1"], env).returncode == 0  # #4, #5 after it, sealed properly

    verified = run(["manage.py", "verify_audit"], env)

    assert verified.returncode == 1
    assert "event #3" in verified.stderr and "without the audit key" in verified.stderr
