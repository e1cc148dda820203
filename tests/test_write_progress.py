"""Writes that always finish, exactly once: one-time submission tokens, the in-progress card, the cheap
progress endpoint, and the background worker that follows what outlasts the web request. Through the
views, the real client and the simulator over HTTP."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from dashboard.accounts.roles import Role
from dashboard.audit.messages import describe
from dashboard.audit.models import AuditEvent
from dashboard.storages import follow, tasks
from dashboard.storages.models import Submission
from tests.sim_helpers import run_in_threads
from tests.storage_helpers import HTMX, action_data, form_data, header, make_user, zstack_requests


def outcomes(uuid: str) -> list[str]:
    return list(AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence").values_list("outcome", flat=True))


def writes(sim) -> list[dict]:
    return [r for r in zstack_requests(sim) if r["method"] != "GET"]


def progress_url(html: str) -> str:
    return re.search(r'hx-get="(/storages/[^"]+/submissions/[^"]+/)"', html).group(1)


# --- exactly once --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_form_posted_again_sends_nothing_and_shows_the_first_result(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-once", password="Replay-Pw-1")
    zstack_settings.clear_requests()
    first = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    again = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    assert len(writes(zstack_settings)) == 1
    assert "Saved." in first and "already submitted" not in first
    assert "This was already submitted; nothing was sent again." in again and "Saved." in again
    assert outcomes(uuid) == ["attempted", "succeeded"]


@pytest.mark.django_db
def test_a_replayed_action_sends_nothing(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = action_data(uuid, "reconnect")
    zstack_settings.clear_requests()
    answers = [client.post(f"/storages/{uuid}/reconnect/", data, **HTMX) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    first, *replays = [answer.content.decode() for answer in answers]
    assert "Reconnected." in first and "already submitted" not in first
    for again in replays:  # the first one's result, said to be a replay
        assert "This was already submitted; nothing was sent again." in again and "Reconnected." in again
    assert len(writes(zstack_settings)) == 1
    assert outcomes(uuid) == ["attempted", "succeeded"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["edit", "reconnect"])
def test_two_concurrent_posts_of_one_form_reach_zstack_once(zstack_settings, uuid, path, threads_database):
    """A double click or two tabs: both POSTs race; the unique reservation lets one through."""
    user = make_user(Role.ADMIN, "double-clicker")
    data = form_data(uuid, name="bs-raced") if path == "edit" else action_data(uuid, path)
    zstack_settings.set_faults(job_seconds=0.3)  # keep the first write busy while the second arrives
    zstack_settings.clear_requests()
    start, statuses = threading.Barrier(2), []

    def post():
        client = Client()
        client.force_login(user)
        start.wait()
        try:
            statuses.append(client.post(f"/storages/{uuid}/{path}/", data, **HTMX).status_code)
        finally:
            connection.close()

    run_in_threads(post, 2)
    assert statuses == [200, 200]
    assert len(writes(zstack_settings)) == 1
    assert Submission.objects.count() == 1
    assert outcomes(uuid).count("attempted") == 1


@pytest.mark.django_db
def test_a_button_without_a_valid_token_sends_nothing_and_says_so(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.clear_requests()
    for data in ({}, {"submission": "forged"}, action_data(uuid, "enable")):  # the last: another button's token
        html = client.post(f"/storages/{uuid}/reconnect/", data, **HTMX).content.decode()
        assert "This button had expired, so nothing was sent." in html
    assert writes(zstack_settings) == [] and outcomes(uuid) == []


# --- longer than the web request waits -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.slow  # a job that outlasts the request's wait, then the worker
def test_a_long_job_answers_with_the_card_in_progress_and_the_worker_records_the_outcome(
    login_as, zstack_settings, uuid, settings
):
    settings.CONSOLE_WRITE_WAIT = 0.2
    zstack_settings.set_faults(job_seconds=1.5)  # longer than the request waits
    client = login_as(Role.ADMIN)
    html = client.post(f"/storages/{uuid}/edit/", form_data(uuid, name="bs-slow-save"), **HTMX).content.decode()
    assert html.lstrip().startswith(f'<section id="storage-card-{uuid}"')
    assert "Saving changes…" in html and "Saved." not in html
    [submission] = Submission.objects.all()
    assert submission.running and submission.parts[0]["job"][:8] in html
    assert outcomes(uuid) == ["attempted"]  # the outcome is the worker's to record

    # While it runs, the page asks our own database, not ZStack.
    url = progress_url(html)
    zstack_settings.clear_requests()
    running = client.get(url, **HTMX)
    assert running.status_code == 200 and "Saving changes…" in running.content.decode()
    assert zstack_requests(zstack_settings) == []

    # The worker follows the job to its end and records the one outcome.
    follow.follow(submission.pk, seconds=None)
    submission.refresh_from_db()
    assert submission.status == "done" and submission.outcome == "succeeded"
    assert outcomes(uuid) == ["attempted", "succeeded"]
    done = client.get(url, **HTMX)
    assert done["HX-Retarget"] == f"#storage-card-{uuid}" and done["HX-Reswap"] == "outerHTML"
    assert "Saved." in done.content.decode() and "Saving changes…" not in done.content.decode()


@pytest.mark.django_db
@pytest.mark.slow  # a slowed simulator
def test_an_edit_of_many_tags_waits_only_its_budget_and_the_worker_sends_the_rest_once(
    login_as, zstack_settings, uuid, settings, monkeypatch
):
    """One job per tag: the request sends what its wait allows and leaves the rest to the worker, which
    sends each remaining job exactly once; the card then shows every tag ZStack stored."""
    latency, budget = 0.4, 0.5
    settings.CONSOLE_WRITE_WAIT = budget
    added = [f"batch::{n}" for n in range(10)]
    data = form_data(uuid, description="many tags", userTags="\n".join(["env::prod", "owner::storage-team", *added]))
    following, spent = follow.follow, []

    def timed_follow(*args, **kwargs):
        started = time.monotonic()
        try:
            return following(*args, **kwargs)
        finally:
            spent.append(time.monotonic() - started)

    monkeypatch.setattr(follow, "follow", timed_follow)
    client = login_as(Role.ADMIN)
    zstack_settings.set_faults(latency_ms=int(latency * 1000))
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    sent_in_request = len(writes(zstack_settings))
    zstack_settings.set_faults(latency_ms=0)
    monkeypatch.undo()

    # Sending all 11 jobs takes 4.4 s here: the request's follow stopped at its budget plus the call in flight.
    assert "Saving changes…" in html
    assert spent[0] < budget + latency + 1.0 and 1 <= sent_in_request < 11
    submission = Submission.objects.get()
    assert submission.running and outcomes(uuid) == ["attempted"]

    follow.follow(submission.pk, seconds=None)  # the worker's task
    submission.refresh_from_db()
    assert submission.outcome == "succeeded" and outcomes(uuid) == ["attempted", "succeeded"]
    sent = [header(r, "X-Job-UUID") for r in writes(zstack_settings)]
    assert len(sent) == 11 and sorted(sent) == sorted(part["job"] for part in submission.parts)  # each once
    done = client.get(progress_url(html), **HTMX).content.decode()
    assert "Saved." in done and all(tag in done for tag in added)  # the card re-read what ZStack stored


@pytest.mark.django_db
def test_a_new_ssh_password_is_sent_by_the_request_even_when_its_wait_is_spent(
    login_as, zstack_settings, uuid, settings
):
    """Only the request holds the password: its update is sent whatever the budget; the tags may wait."""
    settings.CONSOLE_WRITE_WAIT = 0.000001
    data = form_data(uuid, password="Budget-Pw-7", userTags="env::prod\nowner::storage-team\nlate::tag")
    zstack_settings.clear_requests()
    login_as(Role.ADMIN).post(f"/storages/{uuid}/edit/", data, **HTMX)
    assert [r["method"] for r in writes(zstack_settings)] == ["PUT"]  # the update; the tag is the worker's
    submission = follow.follow(Submission.objects.get().pk, seconds=None)
    assert submission.outcome == "succeeded"
    assert next(s for s in zstack_settings.storages() if s["uuid"] == uuid)["_password"] == "Budget-Pw-7"


@pytest.mark.django_db
def test_without_javascript_a_long_write_redirects_to_a_page_that_says_it_runs_and_later_shows_the_result(
    login_as, zstack_settings, uuid, settings
):
    settings.CONSOLE_WRITE_WAIT = 0.2
    zstack_settings.set_faults(jobs_never_finish=True)
    client = login_as(Role.ADMIN)
    response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"))
    assert response.status_code == 302 and "/submissions/" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Reconnecting…" in page and "ZStack is still working on it." in page
    assert "Reload to see the result" in page

    zstack_settings.set_faults(jobs_never_finish=False)
    follow.follow(Submission.objects.get().pk, seconds=None)
    page = client.get(response["Location"]).content.decode()
    assert "Reconnected." in page and "Reconnecting…" not in page


@pytest.mark.django_db
def test_other_users_see_a_write_in_progress_without_its_progress_link(login_as, zstack_settings, uuid, settings):
    settings.CONSOLE_WRITE_WAIT = 0.1
    zstack_settings.set_faults(jobs_never_finish=True)
    admin = login_as(Role.ADMIN, "first-admin")
    admin.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    viewer = Client()
    viewer.force_login(make_user(Role.VIEWER, "watching-viewer"))
    html = viewer.get(f"/storages/{uuid}/card/").content.decode()
    assert "Reconnecting…" in html and "/submissions/" not in html
    nonce = Submission.objects.get().token
    assert viewer.get(f"/storages/{uuid}/submissions/{nonce}/").status_code == 403


@pytest.mark.django_db
def test_a_job_still_running_at_the_deadline_is_recorded_as_timed_out(login_as, zstack_settings, uuid, settings):
    settings.CONSOLE_WRITE_WAIT = 0.1
    settings.ZSTACK_JOB_DEADLINE = 0.6
    zstack_settings.set_faults(jobs_never_finish=True)
    client = login_as(Role.ADMIN)
    client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    submission = follow.follow(Submission.objects.get().pk, seconds=None)
    assert submission.outcome == "timed_out"
    event = AuditEvent.objects.get(storage_uuid=uuid, outcome="timed_out")
    assert event.error_code == "console.deadline-running" and "may yet complete" in str(
        describe(event.error_code, event.error_message)
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_resumes_a_write_whose_follower_stopped(zstack_settings, uuid, settings):
    """A web worker restarted mid-wait leaves a running submission and no task: the worker's sweep queues
    it again and django-tasks-db's worker runs it to the end."""
    settings.CONSOLE_WRITE_WAIT = 0.1
    zstack_settings.set_faults(job_seconds=0.5)  # longer than the request waits
    client = Client()
    client.force_login(make_user(Role.ADMIN, "restart-admin"))
    client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the task was lost with the process that enqueued it
    Submission.objects.update(lease_owner="", lease_until=None)
    assert tasks.resume_stalled() == 1
    assert tasks.resume_stalled() == 0  # queued once: a sweep does not queue it again while it waits
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    submission = Submission.objects.get()
    assert submission.status == "done" and submission.outcome == "succeeded"
    assert outcomes(uuid) == ["attempted", "succeeded"]


@pytest.mark.django_db
def test_a_write_waiting_in_the_queue_is_queued_once_however_long_it_waits(login_as, zstack_settings, uuid, settings):
    """Every worker busy: the queued mark runs out, but the sweep sees the task still waiting and adds no
    duplicate; a task that was lost (or taken by a worker that died) gets the write queued again."""
    from django_tasks_db.models import DBTaskResult

    settings.CONSOLE_WRITE_WAIT = 0.05
    zstack_settings.set_faults(jobs_never_finish=True)
    login_as(Role.ADMIN).post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    assert DBTaskResult.objects.count() == 1
    Submission.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # the queued mark ran out
    assert tasks.resume_stalled() == 0 and DBTaskResult.objects.count() == 1
    DBTaskResult.objects.update(status="RUNNING")  # a worker took it, then died
    assert tasks.resume_stalled() == 1 and DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db
def test_the_sweep_prunes_task_rows_of_tasks_that_ended_long_ago(zstack_settings, uuid, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from dashboard.storages.management.commands import run_worker

    monkeypatch.setattr(run_worker, "close_old_connections", lambda: None)  # the test's transaction stays open

    ids = [tasks.follow_submission.enqueue(n).id for n in range(4)]
    now = timezone.now()
    for task_id, status, ended in zip(
        ids,
        ["SUCCESSFUL", "FAILED", "SUCCESSFUL", "READY"],
        [now - timedelta(days=2), now - timedelta(days=2), now - timedelta(minutes=5), None],
        strict=True,
    ):
        DBTaskResult.objects.filter(id=task_id).update(status=status, finished_at=ended)
    run_worker.Command().sweep()
    assert sorted(str(i) for i in DBTaskResult.objects.values_list("id", flat=True)) == sorted(ids[2:])


@pytest.mark.django_db
def test_a_twin_post_whose_first_never_plans_sends_nothing_and_says_so(login_as, zstack_settings, uuid, monkeypatch):
    """The first POST reserved the token and then got stuck before planning (no attempt recorded): the
    twin waits briefly, then answers 409 without writing, instead of guessing what the first will do."""
    from dashboard.storages import submissions

    monkeypatch.setattr(submissions, "TWIN_WAIT_SECONDS", 0.3)
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-stuck")
    Submission.objects.create(
        token=submissions.read_token(data["submission"], uuid=uuid, action="storage.update"),
        action="storage.update",
        storage_uuid=uuid,
    )
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data)
    assert response.status_code == 409
    assert "being sent by another request right now" in response.content.decode()
    assert writes(zstack_settings) == [] and outcomes(uuid) == []


@pytest.mark.django_db
def test_a_follower_that_lost_its_lease_stops_and_sends_nothing_again(login_as, zstack_settings, uuid, monkeypatch):
    """A follower slower than its lease: another one took the submission over before this one could record
    that it had sent the job. It must stop, not read the job as unsent and send it again and again."""
    zstack_settings.set_faults(job_seconds=5)  # the job runs while the follower looks at it
    monkeypatch.setattr(
        follow, "follow", lambda pk, **kwargs: Submission.objects.get(pk=pk)
    )  # the request sends nothing
    monkeypatch.setattr(tasks, "hand_to_worker", lambda submission: None)
    login_as(Role.ADMIN).post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    monkeypatch.undo()
    submission = Submission.objects.get()
    Submission.objects.update(lease_owner="", lease_until=None)
    send = follow._send

    def send_then_lose_the_lease(*args, **kwargs):
        sent = send(*args, **kwargs)
        Submission.objects.update(lease_owner="another-follower")  # it claimed the row meanwhile
        return sent

    monkeypatch.setattr(follow, "_send", send_then_lose_the_lease)
    zstack_settings.clear_requests()
    follow.follow(submission.pk, seconds=2)
    assert [r["path"].rsplit("/", 1)[-1] for r in writes(zstack_settings)] == ["actions"]  # sent once
    assert Submission.objects.get().lease_owner == "another-follower"  # left to it, untouched
