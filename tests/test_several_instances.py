"""Several console instances behind one address (README "Running several instances"): two gunicorn instances
(gunicorn.conf.py, DEBUG off, the README's production settings) and one background worker, sharing one
PostgreSQL database, one Redis and one ZStack (the simulator, in-process on an ephemeral port). Any instance
accepts any request of a user's: the session, its CSRF token and a form loaded through the other; an edit is
seen through the other at once; edits through both at the same time leave one verifiable audit chain; an
instance killed mid-edit loses nothing, the worker finishes the write and records it.

Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL, a database number of the tests' own: the instances
share it), as `.ci/run` provides; skipped without them. The servers start once for the module."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import requests

from simulator.server import SimulatorServer
from tests.production_helpers import ADMIN, HTMX, Browser, Console, audit_rows, new_database, production_env

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
# A write request waits this long for its jobs before handing them to the worker (README "Background
# worker and time limits"); longer than the default 4 s so the instance is surely killed while it waits.
WRITE_WAIT = 10
KILLED_JOB_SECONDS = 15  # the ZStack job the killed instance was following


def redis_problem() -> str | None:
    """Why Redis can't be used here, or None."""
    if not REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/N, a database number of the tests' own"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"needs Redis: REDIS_URL is unreachable ({error.__class__.__name__})"
    return None


REDIS_PROBLEM = redis_problem()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (as .ci/run does)",
    ),
    pytest.mark.skipif(REDIS_PROBLEM is not None, reason=str(REDIS_PROBLEM)),
]


@pytest.fixture(autouse=True)
def empty_cache():
    """Replaces tests/conftest.py's: on this run the test process's cache is the instances' Redis database, and
    emptying it between these tests would throw away what the instances share there."""


@dataclass
class Deployment:
    a: Console  # instance A, with the background worker beside it
    b: Console  # instance B, web only
    simulator: SimulatorServer


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    logs = tmp_path_factory.mktemp("instances")
    simulator = SimulatorServer(host="127.0.0.1", port=0, log_requests=False).start()
    try:
        with new_database(logs) as database_url:
            shared = production_env(
                database_url=database_url,
                zstack_url=simulator.url,
                REDIS_URL=REDIS_URL,
                CONSOLE_WRITE_WAIT=str(WRITE_WAIT),
            )
            a, b = Console(shared, logs / "a"), Console(shared, logs / "b")
            a.prepare()  # migrations, static files and users: once, not per instance
            try:
                a.start_web()
                b.start_web()
                a.start_worker()
                yield Deployment(a, b, simulator)
            finally:
                a.stop_all()
                b.stop_all()
    finally:
        simulator.stop()


@pytest.fixture
def instances(deployment: Deployment) -> Deployment:
    """Both instances up (the last test kills one), ZStack jobs quick, the request log empty."""
    if not deployment.b.running("gunicorn"):
        deployment.b.start_web()
    deployment.simulator.set_faults(job_seconds=0)
    deployment.simulator.clear_requests()
    return deployment


def storage_uuid(simulator: SimulatorServer, name: str) -> str:
    return next(s["uuid"] for s in simulator.storages() if s["name"] == name)


def same_session(browser: Browser, base: str) -> Browser:
    """The same user's cookies sent to another instance, as a load balancer without sticky sessions does."""
    other = Browser(base)
    for name, value in browser.cookies().items():
        other.http.cookies.set(name, value)
    return other


def test_a_session_logged_in_through_one_instance_is_accepted_by_the_other(instances):
    through_a = Browser(instances.a.url)
    through_a.login(*ADMIN)
    through_b = same_session(through_a, instances.b.url)

    page = through_b.request("GET", "/storages/")
    assert page.status_code == 200 and "bs-prod-bj-01" in page.text and ADMIN[0] in page.text

    # The session lives in the shared Redis (cached_db): not only in the database behind it.
    key = through_a.cookies()["sessionid"]
    assert redis.Redis.from_url(REDIS_URL).exists(f"isc:1:django.contrib.sessions.cached_db{key}")

    # Logging out through B ends the session everywhere.
    csrf = through_b.hidden_inputs(page.text)["csrfmiddlewaretoken"]
    assert through_b.request("POST", "/accounts/logout/", data={"csrfmiddlewaretoken": csrf}).status_code == 302
    after = same_session(through_a, instances.a.url).request("GET", "/storages/")
    assert after.status_code == 302 and "/accounts/login/" in after.headers["Location"]


def test_an_edit_through_one_instance_is_visible_through_the_other_at_once(instances):
    uuid = storage_uuid(instances.simulator, "bs-prod-bj-01")
    through_b = Browser(instances.b.url)
    through_b.login(*ADMIN)
    through_a = same_session(through_b, instances.a.url)

    # The form comes from B and is saved through A: its CSRF token, signed snapshot and one-time token hold.
    form, csrf = through_b.edit_form(uuid, description="edited through instance A")
    saved = through_a.request("POST", f"/storages/{uuid}/edit/", data=form, headers={**HTMX, **csrf})
    assert saved.status_code == 200 and "edited through instance A" in saved.text

    assert "edited through instance A" in through_b.request("GET", f"/storages/{uuid}/").text
    assert "edited through instance A" in through_b.request("GET", f"/storages/{uuid}/card/").text
    rows = [r for r in audit_rows(instances.b.url) if r["storage_uuid"] == uuid]
    assert [r["outcome"] for r in rows][-2:] == ["attempted", "succeeded"]


def test_concurrent_edits_through_both_instances_leave_one_verifiable_audit_chain(instances):
    names = ["bs-prod-bj-02", "bs-sh-archive", "bs-dev-shared", "imagestore-dr-01"]  # one writer each
    uuids = [storage_uuid(instances.simulator, name) for name in names]
    before = audit_rows(instances.a.url, prefix="")
    edits_each, start, failures = 3, threading.Barrier(len(uuids)), []

    def edit(n: int, uuid: str) -> None:
        base = (instances.a if n % 2 == 0 else instances.b).url  # two writers on each instance
        try:
            browser = Browser(base)
            browser.login(*ADMIN)
            start.wait(timeout=60)
            for round_ in range(edits_each):
                form, csrf = browser.edit_form(uuid, description=f"writer {n} round {round_}")
                saved = browser.request("POST", f"/storages/{uuid}/edit/", data=form, headers={**HTMX, **csrf})
                assert saved.status_code == 200 and f"writer {n} round {round_}" in saved.text, saved.text[:300]
        except BaseException as error:  # collected: the assertion below names it
            failures.append(f"writer {n}: {error!r}")

    writers = [threading.Thread(target=edit, args=(n, uuid)) for n, uuid in enumerate(uuids)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    assert not failures, failures

    stored = {s["uuid"]: s.get("description") for s in instances.simulator.storages()}
    assert [stored[uuid] for uuid in uuids] == [f"writer {n} round {edits_each - 1}" for n in range(len(uuids))]
    events = audit_rows(instances.b.url, prefix="")
    # One chain: numbered without gaps, each event sealed onto the one before, whichever instance wrote it.
    assert [int(r["sequence"]) for r in events] == list(range(1, len(events) + 1))
    assert all(r["prev_hash"] == previous["hash"] for previous, r in zip(events, events[1:], strict=False))
    new = [r for r in events if int(r["sequence"]) > max(int(r["sequence"]) for r in before)]
    updates = Counter((r["storage_uuid"], r["outcome"]) for r in new if r["action"] == "storage.update")
    assert updates == Counter({(uuid, outcome): edits_each for uuid in uuids for outcome in ("attempted", "succeeded")})
    # Every outcome names its own attempt, on the same storage.
    edits = [r for r in new if r["action"] == "storage.update"]
    attempts = {r["sequence"]: r["storage_uuid"] for r in edits if r["outcome"] == "attempted"}
    assert all(attempts[r["attempt_sequence"]] == r["storage_uuid"] for r in edits if r["outcome"] == "succeeded")
    # Besides the edits: the writers' logins and the auditor's who exported this.
    assert Counter(r["action"] for r in new) == Counter(
        {"storage.update": 2 * edits_each * len(uuids), "auth.login": len(uuids) + 1}
    )

    verified = instances.a.manage("verify_audit")
    assert f"Audit chain intact: {len(events)} events verified" in verified


def test_an_instance_killed_mid_edit_loses_nothing(instances):
    uuid = storage_uuid(instances.simulator, "bs-prod-bj-01")
    through_b = Browser(instances.b.url)
    through_b.login(*ADMIN)
    through_a = same_session(through_b, instances.a.url)
    instances.simulator.set_faults(job_seconds=KILLED_JOB_SECONDS)
    form, csrf = through_b.edit_form(uuid, description="saved while B died")

    answered: list[object] = []

    def post() -> None:
        try:
            answered.append(through_b.request("POST", f"/storages/{uuid}/edit/", data=form, headers={**HTMX, **csrf}))
        except requests.RequestException as error:
            answered.append(error)

    request = threading.Thread(target=post)
    request.start()
    # B has sent the update and is polling its job (the part is recorded as sent before the first poll).
    deadline = time.monotonic() + 60
    while not any(r["path"].startswith("/zstack/v1/api-jobs/") for r in instances.simulator.requests()):
        assert time.monotonic() < deadline, instances.simulator.requests()
        time.sleep(0.05)
    instances.b.kill("gunicorn")
    request.join(timeout=30)
    assert isinstance(answered[0], requests.ConnectionError), answered  # B died before it answered

    # The user goes on through A: the write is in progress there, then the worker records its end.
    assert "Saving changes…" in through_a.request("GET", f"/storages/{uuid}/").text
    deadline = time.monotonic() + 120  # B's lease on the write (30 s) runs out, the worker's sweep resumes it
    while True:
        rows = [
            r for r in audit_rows(instances.a.url) if r["storage_uuid"] == uuid and "saved while B died" in r["changes"]
        ]
        if [r["outcome"] for r in rows] == ["attempted", "succeeded"]:
            break
        assert time.monotonic() < deadline, rows
        time.sleep(1)
    assert "saved while B died" in through_a.request("GET", f"/storages/{uuid}/").text
    puts = [r for r in instances.simulator.requests() if r["method"] == "PUT" and uuid in r["path"]]
    assert len(puts) == 1  # sent once, by B; the worker followed B's job instead of sending it again
    assert "Audit chain intact" in instances.a.manage("verify_audit")
