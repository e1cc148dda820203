"""The service layer (dashboard/storages/services.py): the diff, the audit around every write, the errors."""

from __future__ import annotations

import pytest

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit import log as audit
from dashboard.audit.log import Action, Outcome
from dashboard.audit.models import AuditEvent
from dashboard.storages import services
from dashboard.zstack.client import get_client
from tests.storage_helpers import body_of, header, storage_named, zstack_requests

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=7, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def uuid(zstack_settings) -> str:
    return storage_named(zstack_settings, "bs-prod-bj-01")["uuid"]


def current_values(uuid: str, **overrides) -> tuple[dict, str]:
    client = get_client()
    storage, tags = client.get_image_store(uuid), client.get_tags(uuid)
    values = {"name": storage.name, "description": storage.description or "", "hostname": storage.hostname,
              "username": storage.username, "password": "", "sshPort": storage.ssh_port,
              "systemTags": tags.system_texts, "userTags": tags.user_texts}
    values.update(overrides)
    return values, services.last_op_stamp(storage)


def events(uuid: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence"))


def test_update_sends_only_changed_fields_and_records_attempt_then_success(zstack_settings, uuid):
    values, stamp = current_values(uuid, name="bs-new", sshPort=2200, systemTags=("priority::high", "x::y"))
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
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
    values, stamp = current_values(uuid, name="bs-order")
    seen_puts_at_attempt = []
    real_record = audit.record

    def spy(**kwargs):
        if kwargs["outcome"] == Outcome.ATTEMPTED:
            seen_puts_at_attempt.append(len(zstack_requests(zstack_settings, "PUT")))
        return real_record(**kwargs)

    monkeypatch.setattr(audit, "record", spy)
    zstack_settings.clear_requests()
    services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    assert seen_puts_at_attempt == [0]
    assert len(zstack_requests(zstack_settings, "PUT")) == 1


def test_when_the_attempt_cannot_be_recorded_zstack_is_not_called(zstack_settings, uuid, monkeypatch):
    values, stamp = current_values(uuid, name="bs-unaudited")

    def broken(**kwargs):
        raise audit.AuditUnavailable("database is gone")

    monkeypatch.setattr(audit, "record", broken)
    zstack_settings.clear_requests()
    with pytest.raises(services.AuditUnavailable):
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    with pytest.raises(services.AuditUnavailable):
        services.storage_reconnect(actor=ACTOR, uuid=uuid)
    assert zstack_requests(zstack_settings, "PUT") == []


def test_nothing_changed_means_no_write_and_no_audit_event(zstack_settings, uuid):
    values, stamp = current_values(uuid)
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    assert not result.changed and result.correlation_id is None
    assert [r for r in zstack_requests(zstack_settings) if r["method"] != "GET"] == []
    assert events(uuid) == []


def test_a_blank_description_equals_an_absent_one(zstack_settings):
    uuid = storage_named(zstack_settings, "bs-prod-bj-02")["uuid"]  # its description is null
    values, stamp = current_values(uuid, description="")
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    assert not result.changed


def test_the_password_is_recorded_only_as_changed_never_its_value(zstack_settings, uuid):
    values, stamp = current_values(uuid, password="Canary-Service-Pw")
    services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    for event in events(uuid):
        assert "Canary-Service-Pw" not in repr(event.changes)
        assert {"field": "password", "changed": True} in event.changes


def test_a_stale_form_raises_records_a_conflict_and_writes_nothing(zstack_settings, uuid):
    values, stamp = current_values(uuid, name="mine")
    zstack_settings.patch_storage(uuid, name="theirs")
    zstack_settings.clear_requests()
    with pytest.raises(services.StaleForm) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    assert zstack_requests(zstack_settings, "PUT") == []
    assert caught.value.current.name == "theirs"
    assert [(c.field, c.yours, c.current) for c in caught.value.conflicts] == [("name", "mine", "theirs")]
    [event] = events(uuid)
    assert event.outcome == "conflict"


def test_an_upstream_failure_is_recorded_with_zstack_code_and_message(zstack_settings, uuid):
    values, stamp = current_values(uuid, name="bs-fails")
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "no space"}])
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    assert caught.value.code == "SYS.1006" and "no space" in caught.value.message
    attempt, failed = events(uuid)
    assert failed.outcome == "failed" and failed.error_code == "SYS.1006" and "no space" in failed.error_message
    assert failed.correlation_id == attempt.correlation_id == caught.value.correlation_id


def test_a_timeout_is_recorded_as_timed_out(zstack_settings, uuid, settings):
    settings.ZSTACK_JOB_DEADLINE = 1.0
    zstack_settings.set_faults(jobs_never_finish=True)
    with pytest.raises(services.WriteFailed) as caught:
        services.storage_reconnect(actor=ACTOR, uuid=uuid)
    assert caught.value.timed_out
    assert [e.outcome for e in events(uuid)] == ["attempted", "timed_out"]


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
    values, stamp = current_values(uuid, userTags=("env::prod", "team::red"))
    zstack_settings.clear_requests()
    result = services.storage_update(actor=ACTOR, uuid=uuid, changes=values, loaded_last_op_date=stamp)
    [put] = zstack_requests(zstack_settings, "PUT")
    [delete] = zstack_requests(zstack_settings, "DELETE")
    assert body_of(put) == {"updateImageStoreBackupStorage": {}, "userTags": ["team::red"]}
    assert delete["path"].startswith("/zstack/v1/tags/")
    assert header(put, "X-Job-UUID") != header(delete, "X-Job-UUID")  # ZStack rejects a reused job uuid
    [change] = result.changes
    assert (change.field, change.added, change.removed) == ("userTags", ("team::red",), ("owner::storage-team",))
    tags = get_client().get_tags(uuid)
    assert tags.user_texts == ("env::prod", "team::red")
