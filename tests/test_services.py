"""The service layer (dashboard/storages/services.py): the diff, the audit around every write, the errors."""

from __future__ import annotations


import pytest

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit import log as audit
from dashboard.audit.log import Action, Outcome
from dashboard.audit.models import AuditEvent
from dashboard.storages import changes, services
from dashboard.zstack.client import get_client
from tests.storage_helpers import body_of, header, once_the_success_is_recorded, storage_named, zstack_requests

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=7, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def uuid(zstack_settings) -> str:
    return storage_named(zstack_settings, "bs-prod-bj-01")["uuid"]


def current_values(uuid: str, **overrides) -> tuple[dict, dict]:
    """(the form's submitted values with ``overrides``, the snapshot of the values as loaded)."""
    client = get_client()
    loaded = changes.editable_values(client.get_image_store(uuid), client.get_tags(uuid))
    values = {**loaded, "systemTags": tuple(loaded["systemTags"]), "userTags": tuple(loaded["userTags"]),
              "password": ""}
    values.update(overrides)
    return values, loaded


def events(uuid: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence"))


def test_update_sends_only_changed_fields_and_records_attempt_then_success(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-new", sshPort=2200, systemTags=("priority::high", "x::y"))
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"name": "bs-new", "sshPort": 2200},
                            "systemTags": ["x::y"]}
    assert result.storage.name == "bs-new" and result.storage.ssh_port == 2200
    assert result.correlation_id == header(put, "X-Job-UUID")
    attempt, outcome = events(uuid)
    assert (attempt.outcome, outcome.outcome) == ("attempted", "succeeded")
    assert attempt.correlation_id == outcome.correlation_id == header(put, "X-Job-UUID")
    assert attempt.action == "storage.update" and attempt.actor_username == "alice"
    assert {c["field"] for c in attempt.changes} == {"name", "sshPort", "systemTags"}


def test_the_attempt_is_recorded_before_zstack_is_called(zstack_settings, uuid, monkeypatch):
    values, loaded = current_values(uuid, name="bs-order")
    seen_puts_at_attempt = []
    real_record = audit.record

    def spy(**kwargs):
        if kwargs["outcome"] == Outcome.ATTEMPTED:
            seen_puts_at_attempt.append(len(zstack_requests(zstack_settings, "PUT")))
        return real_record(**kwargs)

    monkeypatch.setattr(audit, "record", spy)
    zstack_settings.clear_requests()
    services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert seen_puts_at_attempt == [0]
    assert len(zstack_requests(zstack_settings, "PUT")) == 1


def test_when_the_attempt_cannot_be_recorded_zstack_is_not_called(zstack_settings, uuid, monkeypatch):
    values, loaded = current_values(uuid, name="bs-unaudited")

    def broken(**kwargs):
        raise audit.AuditUnavailable("database is gone")

    monkeypatch.setattr(audit, "record", broken)
    zstack_settings.clear_requests()
    with pytest.raises(services.AuditUnavailable):
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    with pytest.raises(services.AuditUnavailable):
        services.storage_reconnect(actor=ACTOR, uuid=uuid)
    assert zstack_requests(zstack_settings, "PUT") == []


def test_nothing_changed_means_no_write_and_no_audit_event(zstack_settings, uuid):
    values, loaded = current_values(uuid)
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert not result.changed and result.correlation_id is None
    assert [r for r in zstack_requests(zstack_settings) if r["method"] != "GET"] == []
    assert events(uuid) == []


def test_a_blank_description_equals_an_absent_one(zstack_settings):
    uuid = storage_named(zstack_settings, "bs-prod-bj-02")["uuid"]  # its description is null
    values, loaded = current_values(uuid, description="")
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert not result.changed


def test_the_password_is_recorded_only_as_changed_never_its_value(zstack_settings, uuid):
    values, loaded = current_values(uuid, password="Canary-Service-Pw")
    services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    for event in events(uuid):
        assert "Canary-Service-Pw" not in repr(event.changes)
        assert {"field": "password", "changed": True} in event.changes


def test_a_field_edited_by_the_user_and_changed_upstream_is_a_conflict_and_nothing_is_written(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="mine")
    zstack_settings.patch_storage(uuid, name="theirs")
    zstack_settings.clear_requests()
    with pytest.raises(services.StaleForm) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert zstack_requests(zstack_settings, "PUT") == []
    assert [(c.field, c.loaded, c.current, c.yours) for c in caught.value.conflicts] == [
        ("name", "bs-prod-bj-01", "theirs", "mine")]
    assert caught.value.current_values["name"] == "theirs"
    [event] = events(uuid)
    assert event.outcome == "conflict" and "name" in event.error_message


def test_resubmitting_with_the_fresh_snapshot_of_a_conflict_goes_through(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="mine")
    zstack_settings.patch_storage(uuid, name="theirs")
    with pytest.raises(services.StaleForm) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=caught.value.current_values)
    assert result.storage.name == "mine"


def test_a_capacity_or_status_change_upstream_is_not_a_conflict_and_the_save_goes_through(zstack_settings, uuid):
    values, loaded = current_values(uuid, description="my words")
    zstack_settings.patch_storage(uuid, status="Disconnected", availableCapacity=1024)  # bumps lastOpDate
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "my words"}}
    assert result.storage.description == "my words"
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]


def test_a_name_changed_upstream_while_the_user_edited_only_the_description_keeps_the_upstream_name(
        zstack_settings, uuid):
    values, loaded = current_values(uuid, description="only this")  # the form still shows the old name
    zstack_settings.patch_storage(uuid, name="renamed-elsewhere")
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "only this"}}
    assert (result.storage.name, result.storage.description) == ("renamed-elsewhere", "only this")
    assert storage_named(zstack_settings, "renamed-elsewhere")["description"] == "only this"


def test_an_edit_that_matches_an_upstream_change_is_not_a_conflict_and_sends_nothing(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="same-idea")
    zstack_settings.patch_storage(uuid, name="same-idea")
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert not result.changed and zstack_requests(zstack_settings, "PUT") == []


def test_an_upstream_failure_is_recorded_with_zstack_code_and_message(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-fails")
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "no space"}])
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert caught.value.code == "SYS.1006" and "no space" in caught.value.message
    attempt, failed = events(uuid)
    assert failed.outcome == "failed" and failed.error_code == "SYS.1006" and "no space" in failed.error_message
    assert failed.correlation_id == attempt.correlation_id == caught.value.correlation_id


def test_a_timeout_is_recorded_as_timed_out(zstack_settings, uuid, settings):
    settings.ZSTACK_JOB_DEADLINE = 1.0
    zstack_settings.set_faults(jobs_never_finish=True)
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_reconnect(actor=ACTOR, uuid=uuid)
    assert caught.value.outcome_unknown
    assert [e.outcome for e in events(uuid)] == ["attempted", "timed_out"]


def test_a_lost_job_is_an_unknown_outcome_recorded_as_timed_out_not_failed(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-lost")
    zstack_settings.set_faults(fail_next=[{"status": 404, "raw_body": "the job has been expired",
                                           "match": "GET /zstack/v1/api-jobs/"}])
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert caught.value.outcome_unknown and caught.value.code == "sdk.job-lost"
    assert "may still complete" in caught.value.message
    assert [e.outcome for e in events(uuid)] == ["attempted", "timed_out"]


def test_a_connection_dropped_after_the_put_was_sent_is_an_unknown_outcome(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-dropped")
    zstack_settings.set_faults(fail_next=[{"drop": True, "match": "PUT /zstack/v1/backup-storage/"}])
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert caught.value.outcome_unknown and "Reload to see the current state" in caught.value.message
    attempt, outcome = events(uuid)
    assert outcome.outcome == "timed_out" and outcome.correlation_id == attempt.correlation_id


# --- after a write succeeded, nothing turns it into an error --------------------------------------


def test_the_storage_comes_from_the_jobs_result_without_a_re_read(zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-from-job")
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert result.storage.name == "bs-from-job" and result.tags is not None
    after_put = [r["path"] for r in zstack_settings.requests()][-1:]
    assert "/api-jobs/" in after_put[0]  # the last call was the job poll: no re-read of the storage or tags


@pytest.mark.parametrize("write", ["reconnect", "disable", "update"])
def test_a_write_that_succeeded_is_reported_as_succeeded_even_if_the_re_read_fails(zstack_settings, uuid, write):
    zstack_settings.set_faults(omit_job_inventory=True)  # the job's answer lacks the inventory (§9): a re-read
    values, loaded = current_values(uuid, name="bs-saved-anyway")
    busy = [{"status": 503, "code": "SYS.1006", "details": "busy",
             "match": f"GET /zstack/v1/backup-storage/image-store/{uuid}"}]
    with once_the_success_is_recorded(lambda: zstack_settings.set_faults(fail_next=busy)):
        if write == "reconnect":
            result = services.storage_reconnect(actor=ACTOR, uuid=uuid)
        elif write == "disable":
            result = services.storage_set_state(actor=ACTOR, uuid=uuid, enabled=False)
        else:
            result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert result.storage is None and result.refresh_error == "busy"
    assert zstack_settings.faults()["fail_next"] == []  # the re-read did fail
    assert result.correlation_id
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]


def test_without_the_jobs_inventory_the_storage_is_read_again_once(zstack_settings, uuid):
    zstack_settings.set_faults(omit_job_inventory=True)
    values, loaded = current_values(uuid, name="bs-re-read")
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert result.storage.name == "bs-re-read" and result.refresh_error is None
    after_job = [r["path"] for r in zstack_settings.requests()]
    after_job = after_job[max(i for i, path in enumerate(after_job) if "/api-jobs/" in path) + 1:]
    assert after_job == [f"/zstack/v1/backup-storage/image-store/{uuid}"]


def test_set_state_records_enable_and_disable_with_the_state_change(zstack_settings, uuid):
    result = services.storage_set_state(actor=ACTOR, uuid=uuid, enabled=False)
    assert result.storage.state == "Disabled"
    services.storage_set_state(actor=ACTOR, uuid=uuid, enabled=True)
    succeeded = [e for e in events(uuid) if e.outcome == "succeeded"]
    assert [e.action for e in succeeded] == ["storage.disable", "storage.enable"]
    assert succeeded[0].changes == [{"field": "state", "before": "Enabled", "after": "Disabled"}]


def test_refused_and_invalid_attempts_are_recorded_without_any_upstream_call(zstack_settings, uuid):
    zstack_settings.clear_requests()
    services.write_refused(actor=ACTOR, action=Action.RECONNECT, uuid=uuid)
    services.storage_update_invalid(actor=ACTOR, uuid=uuid, errors={"sshPort": ["Too big."]})
    assert zstack_requests(zstack_settings) == []
    refused, invalid = events(uuid)
    assert (refused.outcome, refused.action) == ("refused", "storage.reconnect")
    assert (invalid.outcome, invalid.action) == ("invalid", "storage.update")
    assert "sshPort" in invalid.error_message


def test_tag_changes_add_in_the_update_and_delete_removed_tags_by_uuid(zstack_settings, uuid):
    values, loaded = current_values(uuid, userTags=("env::prod", "team::red"))
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    [delete] = zstack_requests(zstack_settings, "DELETE")
    assert body_of(put) == {"updateImageStoreBackupStorage": {}, "userTags": ["team::red"]}
    assert delete["path"].startswith("/zstack/v1/tags/")
    assert header(put, "X-Job-UUID") != header(delete, "X-Job-UUID")  # ZStack rejects a reused job uuid
    [change] = result.changes
    assert (change.field, change.added, change.removed) == ("userTags", ("team::red",), ("owner::storage-team",))
    tags = get_client().get_tags(uuid)
    assert tags.user_texts == ("env::prod", "team::red")


def test_each_tag_removal_is_recorded_as_its_own_success_with_the_job_uuid_of_its_delete_tag(
        zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-and-tags", userTags=("team::red",))  # drops two user tags
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    deletes = zstack_requests(zstack_settings, "DELETE")
    assert len(deletes) == 2
    attempt, *outcomes = events(uuid)
    assert attempt.outcome == "attempted" and attempt.correlation_id == header(put, "X-Job-UUID")
    assert [(e.outcome, e.attempt_id) for e in outcomes] == [("succeeded", attempt.sequence)] * 3
    update, *removals = outcomes
    assert update.correlation_id == header(put, "X-Job-UUID")
    assert update.changes == [{"field": "name", "before": "bs-prod-bj-01", "after": "bs-and-tags"},
                              {"field": "userTags", "added": ["team::red"], "removed": []}]
    assert [(e.correlation_id, e.changes) for e in removals] == [
        (header(delete, "X-Job-UUID"), [{"field": "userTags", "added": [], "removed": [text]}])
        for delete, text in zip(deletes, ("env::prod", "owner::storage-team"))]
    assert len({e.correlation_id for e in outcomes}) == 3  # three jobs, three ids
    [change] = [c for c in result.changes if c.field == "userTags"]  # the caller still sees the whole field
    assert (change.added, change.removed) == (("team::red",), ("env::prod", "owner::storage-team"))
    assert result.correlation_id == header(put, "X-Job-UUID")


def test_a_removal_alone_uses_the_attempts_job_uuid_for_its_delete_tag(zstack_settings, uuid):
    values, loaded = current_values(uuid, userTags=("env::prod",))
    zstack_settings.clear_requests()
    services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [delete] = zstack_requests(zstack_settings, "DELETE")
    attempt, removed = events(uuid)
    assert attempt.correlation_id == removed.correlation_id == header(delete, "X-Job-UUID")
    assert removed.changes == [{"field": "userTags", "added": [], "removed": ["owner::storage-team"]}]


# --- without a form: management commands and tasks -----------------------------------------------


def test_without_a_form_snapshot_only_the_given_fields_are_compared_and_sent(zstack_settings, uuid):
    zstack_settings.patch_storage(uuid, name="renamed-elsewhere")  # no snapshot, so no stale check either
    zstack_settings.clear_requests()
    result = services.storage_update(actor=Actor.system(), uuid=uuid, changes={"description": "x"})
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "x"}}
    assert (result.storage.name, result.storage.description) == ("renamed-elsewhere", "x")
    attempt, succeeded = events(uuid)
    assert (attempt.outcome, succeeded.outcome) == ("attempted", "succeeded")
    assert succeeded.changes == [{"field": "description", "before": "Production images, Beijing",
                                  "after": "x"}]
    assert (succeeded.actor_user_id, succeeded.actor_username, succeeded.actor_role) == (None, "system", "")
    assert succeeded.correlation_id == header(put, "X-Job-UUID")


def test_without_a_form_snapshot_a_value_zstack_already_holds_sends_nothing(zstack_settings, uuid):
    zstack_settings.clear_requests()
    result = services.storage_update(actor=Actor.system(), uuid=uuid,
                                     changes={"name": "bs-prod-bj-01", "userTags": ["owner::storage-team", "env::prod"]})
    assert not result.changed and zstack_requests(zstack_settings, "PUT") == [] and events(uuid) == []


# --- partial success: the update took effect, a tag part did not ---------------------------------


def test_a_failed_tag_removal_after_a_successful_update_is_a_partial_success_recorded_row_by_row(
        zstack_settings, uuid):
    values, loaded = current_values(uuid, name="bs-partly", userTags=("env::prod",))  # removes owner::storage-team
    zstack_settings.set_faults(fail_next=[{"status": 503, "code": "SYS.1006", "details": "the tag is locked",
                                           "match": "DELETE /zstack/v1/tags/"}])
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    [delete] = zstack_requests(zstack_settings, "DELETE")
    assert result.storage.name == "bs-partly"
    assert [c.field for c in result.changes] == ["name"]
    [part] = result.failed_parts
    assert (part.kind, part.field, part.tags, part.code) == ("not-removed", "userTags", ("owner::storage-team",),
                                                             "SYS.1006")
    assert part.message == "the tag is locked" and part.correlation_id == header(delete, "X-Job-UUID")
    attempt, succeeded, failed = events(uuid)
    assert (attempt.outcome, succeeded.outcome, failed.outcome) == ("attempted", "succeeded", "failed")
    assert succeeded.attempt_id == failed.attempt_id == attempt.sequence
    assert [c["field"] for c in succeeded.changes] == ["name"]
    assert succeeded.correlation_id == header(put, "X-Job-UUID")
    assert failed.changes == [{"field": "userTags", "added": [], "removed": ["owner::storage-team"]}]
    assert failed.error_code == "SYS.1006" and "the tag is locked" in failed.error_message
    assert failed.correlation_id == header(delete, "X-Job-UUID")


def test_when_the_only_change_is_a_tag_removal_that_fails_the_write_failed(zstack_settings, uuid):
    values, loaded = current_values(uuid, userTags=("env::prod",))
    zstack_settings.set_faults(fail_next=[{"status": 503, "code": "SYS.1006", "details": "the tag is locked",
                                           "match": "DELETE /zstack/v1/tags/"}])
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert caught.value.code == "SYS.1006"
    assert [e.outcome for e in events(uuid)] == ["attempted", "failed"]


def test_added_tags_zstack_accepted_but_did_not_store_are_reported_and_recorded_as_failed(zstack_settings, uuid):
    zstack_settings.set_faults(update_tags="ignore")  # the open-source core (zstack-api.md §4.2)
    values, loaded = current_values(uuid, description="tagged", userTags=("env::prod", "owner::storage-team",
                                                                          "team::blue"))
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put)["userTags"] == ["team::blue"]  # still sent, at the top level (issue 3)
    [part] = result.failed_parts
    assert (part.kind, part.tags, part.code) == ("not-stored", ("team::blue",), services.TAGS_NOT_STORED)
    assert "team::blue" not in result.tags.user_texts  # the tags re-read after the update
    assert [c.field for c in result.changes] == ["description"]
    _, succeeded, failed = events(uuid)
    assert succeeded.outcome == "succeeded" and [c["field"] for c in succeeded.changes] == ["description"]
    assert (failed.outcome, failed.error_code) == ("failed", "console.tags-not-stored")
    assert failed.changes == [{"field": "userTags", "added": ["team::blue"], "removed": []}]
    assert "did not store these tags: team::blue" in failed.error_message


def test_added_tags_zstack_stores_are_not_reported(zstack_settings, uuid):
    values, loaded = current_values(uuid, userTags=("env::prod", "owner::storage-team", "team::blue"))
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded=loaded)
    assert result.failed_parts == () and "team::blue" in result.tags.user_texts
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]
