"""The service layer (dashboard/storages/services.py): one job per part, one attempt and one outcome row
per submission, one-time nonces, and the worker taking over what outlasts the web request's wait.
Everything goes through the real client to the simulator over real HTTP."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.signals import post_save
from django_tasks_db.models import DBTaskResult

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit.log import Action
from dashboard.audit.messages import describe
from dashboard.audit.models import AuditEvent
from dashboard.storages import changes, follow, services, wording
from dashboard.storages.models import Submission
from dashboard.storages.zstack_client import get_client
from dashboard.zstack.errors import ResourceNotFound
from tests.sim_helpers import run_in_threads
from tests.storage_helpers import TAG_REMOVAL_FAILS, body_of, header, storage_named, zstack_requests

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
ACTOR = Actor(user_id=7, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="pytest")


def current_values(uuid: str, **overrides) -> tuple[dict, dict]:
    """(the form's submitted values with ``overrides``, the snapshot of the values as loaded)."""
    client = get_client()
    loaded = changes.editable_values(client.get_image_store(uuid), client.get_tags(uuid))
    values = {
        **loaded,
        "systemTags": tuple(loaded["systemTags"]),
        "userTags": tuple(loaded["userTags"]),
        "password": "",
    }
    values.update(overrides)
    return values, loaded


def update(uuid: str, nonce: str | None = None, **overrides) -> services.WriteProgress:
    values, loaded = current_values(uuid, **overrides)
    return services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded, nonce=nonce)


def events(uuid: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence"))


def writes(sim) -> list[dict]:
    return [r for r in zstack_requests(sim) if r["method"] != "GET"]


def job(request: dict) -> str:
    return header(request, "X-Job-UUID")


@contextmanager
def when_the_attempt_is_recorded(action):
    """Run ``action()`` once the attempt row is stored: after the reads, before any job is sent."""

    def run(sender, instance, **kwargs):
        if instance.outcome == "attempted":
            action()

    post_save.connect(run, sender=AuditEvent, weak=False, dispatch_uid="when_the_attempt_is_recorded")
    try:
        yield
    finally:
        post_save.disconnect(sender=AuditEvent, dispatch_uid="when_the_attempt_is_recorded")


@contextmanager
def audit_store_down():
    """The audit table cannot be written (renamed away for the duration): a real database error."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')


# --- one job per part, one attempt and one outcome row ---------------------------------------------


def test_an_update_sends_only_the_changed_fields_without_tags_and_adds_the_tag_with_its_own_job(zstack_settings, uuid):
    zstack_settings.clear_requests()
    result = update(uuid, name="bs-new", sshPort=2200, userTags=("env::prod", "owner::storage-team", "team::red"))
    [put], [post] = zstack_requests(zstack_settings, "PUT"), zstack_requests(zstack_settings, "POST")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"name": "bs-new", "sshPort": 2200}}
    assert (post["path"], body_of(post)) == (
        "/zstack/v1/user-tags",
        {"params": {"resourceType": "ImageStoreBackupStorageVO", "resourceUuid": uuid, "tag": "team::red"}},
    )
    assert not result.running and result.changed and not result.replayed and result.failed_parts == []
    assert [(p.kind, p.job, p.state) for p in result.parts] == [
        ("update", job(put), "succeeded"),
        ("tag-add", job(post), "succeeded"),
    ]
    attempt, outcome = events(uuid)
    assert (attempt.outcome, outcome.outcome, outcome.attempt_id) == ("attempted", "succeeded", attempt.sequence)
    assert attempt.correlation_id == outcome.correlation_id == result.correlation_id == job(put)
    assert attempt.action == outcome.action == "storage.update" and outcome.actor_username == "alice"
    assert [c["field"] for c in attempt.changes] == ["name", "sshPort", "userTags"]
    done = {"result": "succeeded"}
    assert outcome.changes == [
        {"field": "name", "before": "bs-prod-bj-01", "after": "bs-new", "job": job(put), **done},
        {"field": "sshPort", "before": 22, "after": 2200, "job": job(put), **done},
        {"field": "userTags", "added": ["team::red"], "removed": [], "job": job(post), **done},
    ]
    assert not outcome.error_code and not outcome.error_message
    assert storage_named(zstack_settings, "bs-new")["sshPort"] == 2200
    assert set(get_client().get_tags(uuid).user_texts) == {"env::prod", "owner::storage-team", "team::red"}


def test_tags_are_added_with_create_tag_and_removed_with_delete_tag_leaving_zstack_with_exactly_the_saved_tags(
    zstack_settings, uuid
):
    zstack_settings.clear_requests()  # the default simulator drops tags sent on an update, as ZStack's core
    result = update(
        uuid, systemTags=("priority::high", "maintenance::window::01:00-03:00"), userTags=("env::prod", "team::red")
    )
    assert zstack_requests(zstack_settings, "PUT") == []  # no plain field changed: no update at all
    [system] = zstack_requests(zstack_settings, "POST", "/system-tags")
    [user] = zstack_requests(zstack_settings, "POST", "/user-tags")
    [delete] = zstack_requests(zstack_settings, "DELETE")
    assert body_of(system)["params"]["tag"] == "maintenance::window::01:00-03:00"
    assert body_of(user)["params"]["tag"] == "team::red" and delete["path"].startswith("/zstack/v1/tags/")
    assert len({job(system), job(user), job(delete)}) == 3  # ZStack refuses a reused job uuid
    assert [p.kind for p in result.parts] == ["tag-add", "tag-add", "tag-remove"]
    tags = get_client().get_tags(uuid)
    assert sorted(tags.system_texts) == ["maintenance::window::01:00-03:00", "priority::high"]
    assert sorted(tags.user_texts) == ["env::prod", "team::red"]
    attempt, outcome = events(uuid)
    assert attempt.correlation_id == job(system) and outcome.outcome == "succeeded"
    assert [(c["field"], c["added"], c["removed"], c["job"]) for c in outcome.changes] == [
        ("systemTags", ["maintenance::window::01:00-03:00"], [], job(system)),
        ("userTags", ["team::red"], [], job(user)),
        ("userTags", [], ["owner::storage-team"], job(delete)),
    ]


def test_an_invalid_system_tag_fails_its_part_with_sys_1007_while_the_other_changes_succeed(zstack_settings, uuid):
    result = update(uuid, description="tagged", systemTags=("priority::high", "bogus::tag"))
    assert [(p.kind, p.state) for p in result.parts] == [("update", "succeeded"), ("tag-add", "failed")]
    [failed] = result.failed_parts
    assert failed.error_code == "SYS.1007" and "no system tag matches[bogus::tag]" in failed.error_message
    assert result.changed and get_client().get_tags(uuid).system_texts == ("priority::high",)
    assert storage_named(zstack_settings, "bs-prod-bj-01")["description"] == "tagged"
    attempt, outcome = events(uuid)  # one outcome row for the whole submission
    assert (outcome.outcome, outcome.error_code) == ("partial", "SYS.1007")
    assert "no system tag matches[bogus::tag]" in outcome.error_message
    described, tagged = outcome.changes
    assert (described["field"], described["result"]) == ("description", "succeeded") and "error_code" not in described
    assert (tagged["field"], tagged["added"], tagged["result"], tagged["error_code"]) == (
        "systemTags",
        ["bogus::tag"],
        "failed",
        "SYS.1007",
    )
    assert tagged["job"] == failed.job and "no system tag matches[bogus::tag]" in tagged["error"]


def test_a_tag_removal_whose_delete_tag_fails_after_a_successful_update_is_a_partial_success(zstack_settings, uuid):
    zstack_settings.set_faults(fail_next=[TAG_REMOVAL_FAILS])
    zstack_settings.clear_requests()
    result = update(uuid, name="bs-partly", userTags=("env::prod",))  # removes owner::storage-team
    [put], [delete] = zstack_requests(zstack_settings, "PUT"), zstack_requests(zstack_settings, "DELETE")
    assert [(p.kind, p.state) for p in result.parts] == [("update", "succeeded"), ("tag-remove", "failed")]
    [failed] = result.failed_parts
    assert (failed.job, failed.error_code) == (job(delete), "SYS.1006")
    assert "the tag is locked" in failed.error_message
    attempt, outcome = events(uuid)
    assert (outcome.outcome, outcome.error_code, outcome.attempt_id) == ("partial", "SYS.1006", attempt.sequence)
    assert [(c["field"], c["result"], c["job"]) for c in outcome.changes] == [
        ("name", "succeeded", job(put)),
        ("userTags", "failed", job(delete)),
    ]
    assert set(get_client().get_tags(uuid).user_texts) == {"env::prod", "owner::storage-team"}


def test_when_the_only_job_fails_the_write_failed_with_zstacks_code_and_message(zstack_settings, uuid):
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "no space"}])
    result = update(uuid, name="bs-fails")
    [part] = result.failed_parts
    assert not result.changed and result.parts == [part]
    assert (part.kind, part.error_code) == ("update", "SYS.1006") and "no space" in part.error_message
    attempt, failed = events(uuid)
    assert (failed.outcome, failed.error_code) == ("failed", "SYS.1006") and "no space" in failed.error_message
    assert failed.correlation_id == attempt.correlation_id == part.job
    assert failed.changes[0]["result"] == "failed" and failed.changes[0]["error_code"] == "SYS.1006"


def test_the_password_is_sent_but_recorded_only_as_changed_never_its_value(zstack_settings, uuid):
    zstack_settings.clear_requests()
    result = update(uuid, password="Canary-Service-Pw")
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"password": "Canary-Service-Pw"}}
    assert storage_named(zstack_settings, "bs-prod-bj-01")["_password"] == "Canary-Service-Pw"
    attempt, outcome = events(uuid)
    assert attempt.changes == [{"field": "password", "changed": True}]
    assert outcome.changes == [
        {"field": "password", "changed": True, "job": result.correlation_id, "result": "succeeded"}
    ]
    submission = Submission.objects.get(pk=result.submission.pk)
    assert "Canary-Service-Pw" not in repr((submission.parts, submission.changes, outcome.changes))


def test_the_attempt_is_recorded_before_any_job_is_sent(zstack_settings, uuid):
    sent_at_attempt = []
    zstack_settings.clear_requests()
    with when_the_attempt_is_recorded(lambda: sent_at_attempt.append(len(writes(zstack_settings)))):
        update(uuid, name="bs-order")
    assert sent_at_attempt == [0] and len(zstack_requests(zstack_settings, "PUT")) == 1


def test_when_the_attempt_cannot_be_recorded_nothing_is_sent_and_the_nonce_can_be_used_again(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-unaudited")
    zstack_settings.clear_requests()
    with audit_store_down():
        with pytest.raises(services.AuditUnavailable):
            services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded, nonce="n-audit")
        with pytest.raises(services.AuditUnavailable):
            services.storage_reconnect(actor=ACTOR, uuid=uuid, nonce="n-audit-2")
    assert writes(zstack_settings) == [] and not Submission.objects.exists()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded, nonce="n-audit")
    assert not result.replayed and result.changed and len(zstack_requests(zstack_settings, "PUT")) == 1


def test_nothing_to_change_sends_nothing_and_records_nothing(zstack_settings, uuid):
    zstack_settings.clear_requests()
    result = update(uuid)
    assert result.submission is None and not result.changed and result.correlation_id is None
    assert writes(zstack_settings) == [] and events(uuid) == [] and not Submission.objects.exists()
    blank_description = storage_named(zstack_settings, "bs-prod-bj-02")["uuid"]  # its description is null
    assert update(blank_description, description="").submission is None


def test_an_unknown_storage_raises_not_found_records_nothing_and_releases_the_nonce(zstack_settings):
    with pytest.raises(ResourceNotFound):
        services.storage_update(actor=ACTOR, uuid="f" * 32, changes={"name": "x"}, nonce="n-unknown")
    with pytest.raises(ResourceNotFound):
        services.storage_reconnect(actor=ACTOR, uuid="f" * 32, nonce="n-unknown")  # the nonce was released
    assert writes(zstack_settings) == [] and events("f" * 32) == [] and not Submission.objects.exists()


# --- stale forms -------------------------------------------------------------------------------------


def test_a_field_edited_by_the_user_and_changed_upstream_is_a_conflict_that_sends_nothing_and_frees_the_nonce(
    zstack_settings, uuid
):
    values, loaded = current_values(uuid, name="mine")
    zstack_settings.patch_storage(uuid, name="theirs")
    zstack_settings.clear_requests()
    with pytest.raises(services.StaleForm) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded, nonce="n-stale")
    assert writes(zstack_settings) == []
    assert [(c.field, c.loaded, c.current, c.yours) for c in caught.value.conflicts] == [
        ("name", "bs-prod-bj-01", "theirs", "mine")
    ]
    assert caught.value.current_values["name"] == "theirs"
    [conflict] = events(uuid)
    assert conflict.outcome == "conflict" and "name" in conflict.error_message
    # The re-rendered form resubmits the same token with the fresh snapshot: it goes through.
    result = services.storage_update(
        actor=ACTOR, uuid=uuid, changes=values, loaded=caught.value.current_values, nonce="n-stale"
    )
    assert not result.replayed and result.changed and storage_named(zstack_settings, "mine")
    assert [e.outcome for e in events(uuid)] == ["conflict", "attempted", "succeeded"]


def test_upstream_changes_to_fields_the_user_did_not_edit_are_no_conflict_and_are_kept(zstack_settings, uuid):
    values, loaded = current_values(uuid, description="only this")  # the form still shows the old name
    zstack_settings.patch_storage(uuid, name="renamed-elsewhere", status="Disconnected", availableCapacity=1024)
    zstack_settings.clear_requests()
    services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "only this"}}
    assert storage_named(zstack_settings, "renamed-elsewhere")["description"] == "only this"
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]


def test_an_edit_that_matches_an_upstream_change_is_not_a_conflict_and_sends_nothing(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="same-idea")
    zstack_settings.patch_storage(uuid, name="same-idea")
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert result.submission is None and writes(zstack_settings) == [] and events(uuid) == []


# --- one-time nonces -----------------------------------------------------------------------------------


def test_the_same_nonce_twice_sends_once_and_replays_the_first_result(zstack_settings, uuid):
    zstack_settings.clear_requests()
    first = update(uuid, nonce="n-twice", name="bs-once")
    again = update(uuid, nonce="n-twice", name="bs-twice")
    assert len(zstack_requests(zstack_settings, "PUT")) == 1 and storage_named(zstack_settings, "bs-once")
    assert again.replayed and not first.replayed
    assert again.submission.pk == first.submission.pk and again.submission.outcome == "succeeded"
    assert again.correlation_id == first.correlation_id and [p.state for p in again.parts] == ["succeeded"]
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_nonce_at_once_send_one_put(zstack_settings, uuid, threads_database):
    values, loaded = current_values(uuid, name="bs-raced")
    zstack_settings.clear_requests()
    start, results, errors = threading.Barrier(2), [], []

    def submit():
        try:
            start.wait()
            results.append(
                services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded, nonce="n-race")
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    run_in_threads(submit, 2)
    assert errors == []
    assert len(zstack_requests(zstack_settings, "PUT")) == 1
    assert sorted(r.replayed for r in results) == [False, True]
    assert len({r.submission.pk for r in results}) == 1
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]


# --- jobs that outlast the request, or never end --------------------------------------------------------


@pytest.mark.slow  # a job that outlasts the request's wait, then the worker
def test_a_job_that_outlasts_the_requests_wait_is_handed_to_the_worker_which_records_the_one_outcome(
    zstack_settings, uuid, settings
):
    settings.CONSOLE_WRITE_WAIT = 0.3
    zstack_settings.set_faults(job_seconds=1.5)
    result = update(uuid, nonce="n-slow", name="bs-slow")
    assert result.running and result.parts[0].state == "submitted"
    assert Submission.objects.get(pk=result.submission.pk).lease_owner == follow.QUEUED
    assert [e.outcome for e in events(uuid)] == ["attempted"]
    assert DBTaskResult.objects.filter(task_path__endswith="follow_submission").count() == 1
    replay = update(uuid, nonce="n-slow", name="bs-slow")  # the same form again while it runs
    assert replay.replayed and replay.running and len(zstack_requests(zstack_settings, "PUT")) == 1
    done = follow.follow(result.submission.pk, seconds=None)  # acting as the worker
    assert (done.status, done.outcome) == ("done", "succeeded")
    attempt, outcome = events(uuid)
    assert (outcome.outcome, outcome.attempt_id, outcome.correlation_id) == (
        "succeeded",
        attempt.sequence,
        attempt.correlation_id,
    )
    assert storage_named(zstack_settings, "bs-slow")
    follow.follow(result.submission.pk, seconds=None)  # a second follower finds it done
    assert len(events(uuid)) == 2


def test_a_job_that_never_finishes_is_timed_out_at_the_deadline(zstack_settings, uuid, settings):
    settings.ZSTACK_JOB_DEADLINE = 0.5
    zstack_settings.set_faults(jobs_never_finish=True)
    result = services.storage_reconnect(actor=ACTOR, uuid=uuid)
    [part] = result.failed_parts
    assert (part.kind, part.state, part.error_code) == ("reconnect", "timed_out", "console.deadline-running")
    assert "ZStack may yet complete it" in wording.part_error(part)
    assert [e.outcome for e in events(uuid)] == ["attempted", "timed_out"]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 404, "raw_body": "the job has been expired", "match": "GET /zstack/v1/api-jobs/"},  # a lost job
        {"drop": True, "match": "PUT /zstack/v1/backup-storage/"},  # the connection dropped after the PUT was sent
    ],
    ids=["job-lost", "put-dropped"],
)
def test_a_job_whose_result_cannot_be_had_is_an_unknown_outcome_recorded_as_timed_out_not_failed(
    zstack_settings, uuid, fault
):
    zstack_settings.set_faults(fail_next=[fault])
    result = update(uuid, name="bs-unknown")
    [part] = result.failed_parts
    assert (part.state, part.error_code) == ("timed_out", "sdk.job-lost") and "may still" in wording.part_error(part)
    attempt, outcome = events(uuid)
    assert (outcome.outcome, outcome.error_code, outcome.correlation_id) == (
        "timed_out",
        part.error_code,
        attempt.correlation_id,
    )


def test_an_expired_session_is_renewed_and_the_job_sent_once_more_under_a_fresh_job_uuid(zstack_settings, uuid):
    zstack_settings.clear_requests()
    with when_the_attempt_is_recorded(zstack_settings.expire_sessions):  # after the reads, before the PUT
        result = update(uuid, name="bs-relogin", password="Canary-Relogin-Pw")
    first, second = zstack_requests(zstack_settings, "PUT")
    assert body_of(first) == body_of(second)  # the password too: this request still holds it
    assert job(first) != job(second)
    assert [(p.state, p.job, p.resubmitted) for p in result.parts] == [("succeeded", job(second), True)]
    assert storage_named(zstack_settings, "bs-relogin")["_password"] == "Canary-Relogin-Pw"
    attempt, outcome = events(uuid)
    assert (attempt.correlation_id, outcome.outcome, outcome.attempt_id) == (job(first), "succeeded", attempt.sequence)
    assert outcome.changes[0]["job"] == job(second)
    assert "Canary-Relogin-Pw" not in repr(Submission.objects.get(pk=result.submission.pk).parts)


# --- actions, refused and invalid writes, commands --------------------------------------------------------


def test_reconnect_enable_and_disable_are_one_job_each_with_their_change_recorded(zstack_settings, uuid):
    disabled = services.storage_set_state(actor=ACTOR, uuid=uuid, enabled=False)
    assert [(p.kind, p.state) for p in disabled.parts] == [("disable", "succeeded")]
    assert storage_named(zstack_settings, "bs-prod-bj-01")["state"] == "Disabled"
    services.storage_set_state(actor=ACTOR, uuid=uuid, enabled=True)
    reconnected = services.storage_reconnect(actor=ACTOR, uuid=uuid)
    assert [(p.kind, p.changes) for p in reconnected.parts] == [("reconnect", [])]
    outcomes = [e for e in events(uuid) if e.outcome != "attempted"]
    assert [(e.action, e.outcome) for e in outcomes] == [
        ("storage.disable", "succeeded"),
        ("storage.enable", "succeeded"),
        ("storage.reconnect", "succeeded"),
    ]
    assert outcomes[0].changes == [
        {
            "field": "state",
            "before": "Enabled",
            "after": "Disabled",
            "job": disabled.correlation_id,
            "result": "succeeded",
        }
    ]


def test_refused_and_invalid_writes_are_single_rows_without_any_upstream_call(zstack_settings, uuid):
    zstack_settings.clear_requests()
    services.write_refused(actor=ACTOR, action=Action.RECONNECT, uuid=uuid)
    services.storage_update_invalid(
        actor=ACTOR,
        uuid=uuid,
        errors={"sshPort": [ValidationError("Too big.", code="max_value")]},
        storage_name="bs-prod-bj-01",
    )
    assert zstack_requests(zstack_settings) == []
    refused, invalid = events(uuid)
    assert (refused.outcome, refused.action, refused.attempt_id) == ("refused", "storage.reconnect", None)
    assert (invalid.outcome, invalid.action, invalid.storage_name) == ("invalid", "storage.update", "bs-prod-bj-01")
    assert invalid.error_code == "console.invalid" and not Submission.objects.exists()
    assert str(describe(invalid.error_code, invalid.error_message)) == "SSH port: Too big."


def test_without_a_form_snapshot_only_the_given_fields_are_compared_and_sent(zstack_settings, uuid):
    zstack_settings.patch_storage(uuid, name="renamed-elsewhere")  # no snapshot, so no stale check either
    zstack_settings.clear_requests()
    result = services.storage_update(actor=Actor.system(), uuid=uuid, changes={"description": "x"})
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "x"}}
    assert storage_named(zstack_settings, "renamed-elsewhere")["description"] == "x"
    attempt, succeeded = events(uuid)
    assert succeeded.changes == [
        {
            "field": "description",
            "before": "Production images, Beijing",
            "after": "x",
            "job": result.correlation_id,
            "result": "succeeded",
        }
    ]
    assert (succeeded.actor_user_id, succeeded.actor_username, succeeded.actor_role) == (None, "system", "")


def test_without_a_form_snapshot_values_zstack_already_holds_send_nothing(zstack_settings, uuid):
    zstack_settings.clear_requests()
    held = {"name": "bs-prod-bj-01", "userTags": ["owner::storage-team", "env::prod"]}
    result = services.storage_update(actor=Actor.system(), uuid=uuid, changes=held)
    assert result.submission is None and writes(zstack_settings) == [] and events(uuid) == []
