"""The audit trail's outcomes (issue 4, "Recording"), each driven through the views with the test client
against the simulator, checking every recorded field: who (user id, username and role snapshots, IP,
user agent), what (action code, storage uuid and name snapshot, per-field changes), how it ended
(outcome, error code and message), the correlation id ZStack received as X-Job-UUID, the duration, and
the attempt written before its outcome and linked from it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from tests.storage_helpers import HTMX, action_data, form_data, header, make_user, storage_named, zstack_requests

pytestmark = pytest.mark.django_db

IP = "203.0.113.45"
USER_AGENT = "AuditOutcomes/1.0 (pytest)"
RECORDED = (
    "action",
    "outcome",
    "actor_user_id",
    "actor_username",
    "actor_role",
    "ip",
    "user_agent",
    "storage_uuid",
    "storage_name",
    "changes",
    "changed_fields",
    "error_code",
    "error_message",
    "correlation_id",
)


def browser(role: Role, username: str):
    """A logged-in test client whose requests come from IP with USER_AGENT; and its user."""
    user = make_user(role, username)
    client = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)
    client.force_login(user)
    return client, user


def events(uuid: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence"))


def recorded(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in RECORDED}


def by(user, role: str) -> dict:
    return {
        "actor_user_id": user.pk,
        "actor_username": user.username,
        "actor_role": role,
        "ip": IP,
        "user_agent": USER_AGENT,
    }


def changed_fields(changes: list[dict]) -> str:
    return "".join(f",{c['field']}" for c in changes) + "," if changes else ""


def assert_attempt_then_outcomes(attempt: AuditEvent, *outcomes: AuditEvent) -> None:
    """The attempt (written first, no duration, links to nothing) concludes in each outcome row: written
    after it, linked to it, with a duration in whole milliseconds."""
    assert attempt.outcome == "attempted" and attempt.attempt_id is None and attempt.duration_ms is None
    for outcome in outcomes:
        assert outcome.sequence > attempt.sequence and outcome.timestamp >= attempt.timestamp
        assert outcome.attempt_id == attempt.sequence and outcome.attempt == attempt
        assert isinstance(outcome.duration_ms, int) and outcome.duration_ms >= 0


# --- one test per outcome ------------------------------------------------------------------------


def part(change: dict, request: dict, result: str = "succeeded", **error) -> dict:
    """A change as an outcome row lists it: with the job that made it and how that job ended."""
    return {**change, "job": header(request, "X-Job-UUID"), "result": result, **error}


def test_one_save_of_several_changes_records_one_attempt_and_one_outcome_listing_every_part(zstack_settings, uuid):
    client, user = browser(Role.ADMIN, "alice-admin")
    data = form_data(
        uuid,
        name="bs-audited",
        description="",
        sshPort="2222",
        password="Outcome-Pw-1",
        userTags="env::prod\nteam::blue",
    )  # adds team::blue, removes owner::storage-team
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    assert response.status_code == 200 and "Saved" in response.content.decode()
    [put] = zstack_requests(zstack_settings, "PUT")
    [delete] = zstack_requests(zstack_settings, "DELETE")
    [create] = zstack_requests(zstack_settings, "POST", "/user-tags")

    attempt, outcome = events(uuid)
    who = {
        **by(user, "admin"),
        "action": "storage.update",
        "storage_uuid": uuid,
        "storage_name": "bs-prod-bj-01",
        "error_code": "",
        "error_message": "",
    }
    name = {"field": "name", "before": "bs-prod-bj-01", "after": "bs-audited"}
    description = {"field": "description", "before": "Production images, Beijing", "after": ""}
    port = {"field": "sshPort", "before": 22, "after": 2222}
    password = {"field": "password", "changed": True}
    everything = [
        name,
        description,
        port,
        password,
        {"field": "userTags", "added": ["team::blue"], "removed": ["owner::storage-team"]},
    ]
    assert recorded(attempt) == {
        **who,
        "outcome": "attempted",
        "changes": everything,
        "changed_fields": ",name,description,sshPort,password,userTags,",
        "correlation_id": header(put, "X-Job-UUID"),
    }
    parts = [
        part(name, put),
        part(description, put),
        part(port, put),
        part(password, put),
        part({"field": "userTags", "added": ["team::blue"], "removed": []}, create),
        part({"field": "userTags", "added": [], "removed": ["owner::storage-team"]}, delete),
    ]
    assert recorded(outcome) == {
        **who,
        "outcome": "succeeded",
        "changes": parts,
        "changed_fields": ",name,description,sshPort,password,userTags,userTags,",
        "correlation_id": header(put, "X-Job-UUID"),
    }
    assert len({header(r, "X-Job-UUID") for r in (put, create, delete)}) == 3
    assert_attempt_then_outcomes(attempt, outcome)
    assert "Outcome-Pw-1" not in repr([recorded(e) for e in events(uuid)])


def test_a_job_that_fails_upstream_records_zstacks_code_and_message(zstack_settings, uuid):
    client, user = browser(Role.ADMIN, "bob-admin")
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "the image store is out of space"}])
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", form_data(uuid, description="will not stick"), **HTMX)
    assert "the image store is out of space" in response.content.decode()
    [put] = zstack_requests(zstack_settings, "PUT")

    attempt, failed = events(uuid)
    changes = [{"field": "description", "before": "Production images, Beijing", "after": "will not stick"}]
    common = {
        **by(user, "admin"),
        "action": "storage.update",
        "storage_uuid": uuid,
        "storage_name": "bs-prod-bj-01",
        "changes": changes,
        "changed_fields": ",description,",
        "correlation_id": header(put, "X-Job-UUID"),
    }
    assert recorded(attempt) == {**common, "outcome": "attempted", "error_code": "", "error_message": ""}
    error = {"error_code": "SYS.1006", "error": "the image store is out of space"}
    assert recorded(failed) == {
        **common,
        "changes": [part(changes[0], put, "failed", **error)],
        "outcome": "failed",
        "error_code": "SYS.1006",
        "error_message": "the image store is out of space",
    }
    assert_attempt_then_outcomes(attempt, failed)
    assert storage_named(zstack_settings, "bs-prod-bj-01")["description"] == "Production images, Beijing"


def test_a_job_that_never_finishes_records_timed_out(zstack_settings, uuid, settings):
    settings.ZSTACK_JOB_DEADLINE = 0.5
    client, user = browser(Role.ADMIN, "carol-admin")
    zstack_settings.set_faults(jobs_never_finish=True)
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    assert response.status_code == 200
    [put] = zstack_requests(zstack_settings, "PUT")

    attempt, timed_out = events(uuid)
    common = {
        **by(user, "admin"),
        "action": "storage.reconnect",
        "storage_uuid": uuid,
        "storage_name": "bs-prod-bj-01",
        "changes": [],
        "changed_fields": "",
        "correlation_id": header(put, "X-Job-UUID"),
    }
    assert recorded(attempt) == {**common, "outcome": "attempted", "error_code": "", "error_message": ""}
    assert recorded(timed_out) == {
        **common,
        "outcome": "timed_out",
        "error_code": "sdk.1001",
        "error_message": "Still running at the console's deadline; ZStack may yet complete it.",
    }
    assert_attempt_then_outcomes(attempt, timed_out)
    assert timed_out.duration_ms >= 500  # it waited for the job deadline


def test_a_stale_form_records_a_conflict_and_calls_nothing(zstack_settings, uuid):
    client, user = browser(Role.ADMIN, "dave-admin")
    data = form_data(uuid, name="my-name", description="my description")
    zstack_settings.patch_storage(uuid, name="their-name")
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data)
    assert response.status_code == 409
    assert zstack_requests(zstack_settings, "PUT") == []

    [conflict] = events(uuid)
    changes = [
        {"field": "name", "before": "their-name", "after": "my-name"},
        {"field": "description", "before": "Production images, Beijing", "after": "my description"},
    ]
    assert recorded(conflict) == {
        **by(user, "admin"),
        "action": "storage.update",
        "outcome": "conflict",
        "storage_uuid": uuid,
        "storage_name": "their-name",
        "changes": changes,
        "changed_fields": ",name,description,",
        "error_code": "",
        "error_message": "Changed in ZStack since the form was loaded: name",
        "correlation_id": "",
    }
    assert conflict.attempt_id is None and conflict.duration_ms is None  # no upstream call, nothing to time


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("edit", "storage.update"),
        ("reconnect", "storage.reconnect"),
        ("enable", "storage.enable"),
        ("disable", "storage.disable"),
    ],
)
def test_a_viewers_write_is_refused_and_recorded_with_its_action(zstack_settings, uuid, path, action):
    client, user = browser(Role.VIEWER, "erin-viewer")
    zstack_settings.clear_requests()
    data = form_data(uuid, name="viewer-was-here") if path == "edit" else action_data(uuid, path)
    assert client.post(f"/storages/{uuid}/{path}/", data).status_code == 403
    assert [r for r in zstack_requests(zstack_settings) if r["method"] != "GET"] == []

    [refused] = events(uuid)
    assert recorded(refused) == {
        **by(user, "viewer"),
        "action": action,
        "outcome": "refused",
        "storage_uuid": uuid,
        "storage_name": "",  # refused before anything is read, ZStack included
        "changes": [],
        "changed_fields": "",
        "error_code": "",
        "error_message": "Permission denied.",
        "correlation_id": "",
    }
    assert refused.attempt_id is None and refused.duration_ms is None


def test_an_invalid_edit_is_recorded_as_invalid_and_never_sent(zstack_settings, uuid):
    client, user = browser(Role.ADMIN, "frank-admin")
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", form_data(uuid, sshPort="70000", password="Invalid-Pw-2"))
    assert response.status_code == 422
    assert zstack_requests(zstack_settings, "PUT") == []

    [invalid] = events(uuid)
    assert recorded(invalid) == {
        **by(user, "admin"),
        "action": "storage.update",
        "outcome": "invalid",
        "storage_uuid": uuid,
        "storage_name": "bs-prod-bj-01",
        "changes": [],
        "changed_fields": "",
        "error_code": "",
        "error_message": "sshPort: SSH port must be between 1 and 65535.",
        "correlation_id": "",
    }
    assert invalid.attempt_id is None and invalid.duration_ms is None
    assert "Invalid-Pw-2" not in repr(recorded(invalid))


# --- the card actions, each under its own action code --------------------------------------------


@pytest.mark.parametrize(
    ("name", "path", "action", "changes"),
    [
        ("bs-prod-bj-01", "reconnect", "storage.reconnect", []),
        ("bs-prod-bj-01", "disable", "storage.disable", [{"field": "state", "before": "Enabled", "after": "Disabled"}]),
        ("bs-dev-shared", "enable", "storage.enable", [{"field": "state", "before": "Disabled", "after": "Enabled"}]),
    ],
)
def test_each_card_action_is_recorded_with_its_action_code(zstack_settings, name, path, action, changes):
    uuid = storage_named(zstack_settings, name)["uuid"]
    client, user = browser(Role.ADMIN, "grace-admin")
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/{path}/", action_data(uuid, path))
    assert response.status_code == 302
    [put] = zstack_requests(zstack_settings, "PUT")

    attempt, succeeded = events(uuid)
    common = {
        **by(user, "admin"),
        "action": action,
        "storage_uuid": uuid,
        "storage_name": name,
        "changes": changes,
        "changed_fields": changed_fields(changes),
        "error_code": "",
        "error_message": "",
        "correlation_id": header(put, "X-Job-UUID"),
    }
    assert recorded(attempt) == {**common, "outcome": "attempted"}
    assert recorded(succeeded) == {**common, "outcome": "succeeded", "changes": [part(c, put) for c in changes]}
    assert_attempt_then_outcomes(attempt, succeeded)
