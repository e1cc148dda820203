"""The ZStack client against the bundled simulator over real HTTP on an ephemeral loopback port."""

import hashlib
import logging
import re
import socket

import pytest

from dashboard.storages.zstack_client import get_client
from dashboard.zstack import errors
from dashboard.zstack.client import ZStackClient, new_job_uuid
from tests.sim_helpers import run_in_threads, run_job, storage_named

CANARY = "Canary-Pw-7f3e"
API = "/zstack/v1"


@pytest.fixture
def client(sim):
    zstack = ZStackClient(sim.url, "admin", "password", timeout=2.0)
    zstack.retry_backoff = 0.01
    yield zstack
    zstack.close()


def calls(sim, method, path_prefix=API):
    return [r for r in sim.requests() if r["method"] == method and r["path"].startswith(path_prefix)]


def logins(sim):
    return calls(sim, "PUT", f"{API}/accounts/login")


def action_puts(sim):
    return [r for r in calls(sim, "PUT") if r["path"].endswith("/actions")]


def refused_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: connections are refused


# --- sessions -----------------------------------------------------------------------------------


def test_login_sends_the_lowercase_sha512_of_the_password_under_log_in_by_account(sim, client):
    session = client.login()
    [login] = logins(sim)
    assert login["body"] == {
        "logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"password").hexdigest()}
    }
    assert "Authorization" not in login["headers"]
    assert login["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert session.user_type == "AccountVO"


def test_one_session_is_reused_across_calls_and_threads(sim, client):
    sim.set_faults(latency_ms=50)  # keeps every thread in flight at once

    def read():
        client.query_zones()

    run_in_threads(read, 8)
    client.get_capacity(all=True)
    assert len(logins(sim)) == 1
    sessions = {r["headers"]["Authorization"] for r in calls(sim, "GET")}
    assert len(sessions) == 1 and sessions.pop().startswith("OAuth ")


def test_logout_deletes_the_session_and_the_next_call_logs_in_again(sim, client):
    client.query_zones()
    session_header = calls(sim, "GET")[0]["headers"]["Authorization"]
    client.logout()
    [logout] = calls(sim, "DELETE", f"{API}/accounts/sessions/")
    assert logout["path"].endswith(session_header.removeprefix("OAuth "))
    client.query_zones()
    assert len(logins(sim)) == 2


def test_wrong_credentials_raise_authentication_failed_with_id_1000(sim):
    with pytest.raises(errors.AuthenticationFailed) as caught:
        ZStackClient(sim.url, "admin", "not-the-password").query_zones()
    assert caught.value.code == "ID.1000"
    assert caught.value.details == "wrong account name or password"


def test_an_expired_session_is_renewed_once_for_a_query(sim, client):
    client.login()
    sim.expire_sessions()
    sim.clear_requests()
    page = client.query_image_stores()
    assert len(page.items) == 12
    assert len(logins(sim)) == 1
    first, second = calls(sim, "GET")
    assert first["headers"]["Authorization"] != second["headers"]["Authorization"]


def test_an_expired_session_fails_an_update_through_its_job_and_is_resent_under_a_fresh_job_uuid(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    client.login()
    sim.expire_sessions()
    sim.clear_requests()
    first_job = new_job_uuid()
    with pytest.raises(errors.SessionExpired) as caught:  # an async API reports ID.1001 only through its job
        run_job(client, client.submit_update(target["uuid"], job_uuid=first_job, description="renewed"))
    assert (caught.value.code, caught.value.job_uuid) == ("ID.1001", first_job)
    client.renew_session()
    second_job = new_job_uuid()  # ZStack refuses a used job uuid
    body = run_job(client, client.submit_update(target["uuid"], job_uuid=second_job, description="renewed"))
    assert len(logins(sim)) == 1
    first, second = action_puts(sim)
    assert [first["headers"]["X-Job-UUID"], second["headers"]["X-Job-UUID"]] == [first_job, second_job]
    assert first["headers"]["Authorization"] != second["headers"]["Authorization"]
    assert body["inventory"]["description"] == "renewed"
    assert storage_named(sim, "bs-prod-bj-01")["description"] == "renewed"


def test_a_second_session_error_is_raised_not_retried_again(sim, client):
    # Every new session is already expired when used: the simulator waits 5 ms before handling each request, longer
    # than a session lives (without the wait a fast loopback call could come within the 1 ms).
    sim.set_faults(session_timeout=0.001, latency_ms=5)
    client.login()
    sim.clear_requests()
    with pytest.raises(errors.SessionExpired) as caught:
        client.query_zones()
    assert caught.value.code == "ID.1001"
    assert len(logins(sim)) == 1
    assert len(calls(sim, "GET")) == 2


def test_many_threads_hitting_an_expired_session_trigger_one_login(sim, client):
    client.login()
    sim.expire_sessions()
    sim.clear_requests()
    sim.set_faults(latency_ms=50)  # all threads meet ID.1001 with the same stale session
    failures = []

    def read():
        try:
            client.query_zones()
        except errors.ZStackError as error:  # pragma: no cover - reported below
            failures.append(error)

    run_in_threads(read, 6)
    assert failures == []
    assert len(logins(sim)) == 1


# --- queries --------------------------------------------------------------------------------------


def test_query_conditions_are_percent_encoded_and_filter_like_zstack(sim, client):
    page = client.query_image_stores(conditions=["name~=%prod%", "state=Enabled"], sort="+name")
    names = [s.name for s in page.items]
    assert names == sorted(names) and names and all("prod" in name for name in names)
    [query] = calls(sim, "GET", f"{API}/backup-storage/image-store")
    assert "q=name~=%25prod%25" in query["query"]
    assert "sort=%2Bname" in query["query"]
    assert query["query"].count("q=") == 2


def test_values_with_plus_ampersand_hash_and_spaces_survive_the_url(sim, client):
    odd = "a+b & c#1 100%"
    target = storage_named(sim, "bs-ci-cache")
    sim.patch_storage(target["uuid"], name=odd)
    page = client.query_image_stores(conditions=[f"name={odd}"])
    assert [s.uuid for s in page.items] == [target["uuid"]]


def test_in_lists_sorting_descending_and_paging_with_count(sim, client):
    first = client.query_image_stores(limit=5, start=0, sort="-totalCapacity", with_count=True)
    second = client.query_image_stores(limit=5, start=5, sort="-totalCapacity", with_count=True)
    assert first.total == second.total == 12
    assert len(first.items) == len(second.items) == 5
    capacities = [s.total_capacity for s in first.items + second.items]
    assert capacities == sorted(capacities, reverse=True)
    assert not {s.uuid for s in first.items} & {s.uuid for s in second.items}
    wanted = [s.uuid for s in first.items[:2]]
    picked = client.query_image_stores(conditions=[f"uuid?={','.join(wanted)}"])
    assert sorted(s.uuid for s in picked.items) == sorted(wanted)
    assert picked.total is None


def test_an_image_store_is_typed_with_dates_and_capacities(sim, client):
    expected = storage_named(sim, "镜像仓库-北京-03")
    storage = client.get_image_store(expected["uuid"])
    assert storage.name == "镜像仓库-北京-03"
    assert storage.total_capacity == expected["totalCapacity"] == 64 * 2**40
    assert storage.ssh_port == 22 and storage.hostname == "imagestore-03.example.com"
    assert storage.create_date is not None and storage.create_date.tzinfo is not None
    assert 0 < storage.used_percent < 100


def test_getting_an_unknown_image_store_raises_resource_not_found(sim, client):
    with pytest.raises(errors.ResourceNotFound) as caught:
        client.get_image_store("0" * 32)
    assert caught.value.code == "SYS.1003"


def test_zones_for_a_list_of_uuids_take_exactly_one_call(sim, client):
    client.login()
    sim.clear_requests()
    zone_uuids = [zone["uuid"] for zone in sim.zones()]
    zones = client.zones_by_uuid(zone_uuids + zone_uuids[:1])
    assert set(zones) == set(zone_uuids)
    assert zones[zone_uuids[0]].name == sim.zones()[0]["name"]
    [query] = calls(sim, "GET")
    assert query["path"] == f"{API}/zones"
    assert f"q=uuid?={','.join(zone_uuids)}" in query["query"]


def test_zones_for_an_empty_list_make_no_call(sim, client):
    assert client.zones_by_uuid([]) == {}
    assert sim.requests() == []


def test_query_zones_returns_typed_zones(sim, client):
    page = client.query_zones(conditions=["isDefault=true"], with_count=True)
    assert page.total == 1 and page.items[0].is_default is True


def test_tags_of_a_storage_come_from_the_system_and_user_tag_queries(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    tags = client.get_tags(target["uuid"])
    assert tags.system_texts == ("priority::high",)
    assert sorted(tags.user_texts) == ["env::prod", "owner::storage-team"]
    assert {r["path"] for r in calls(sim, "GET")} == {f"{API}/system-tags", f"{API}/user-tags"}
    assert all(r["query"] == f"q=resourceUuid={target['uuid']}" for r in calls(sim, "GET"))


def test_capacity_sums_the_given_storages_zones_or_all(sim, client):
    storages = sim.storages()
    one, two = storages[0], storages[1]
    capacity = client.get_capacity(backup_storage_uuids=[one["uuid"], two["uuid"]])
    assert capacity.total == one["totalCapacity"] + two["totalCapacity"]
    assert capacity.available == one["availableCapacity"] + two["availableCapacity"]
    everything = client.get_capacity(all=True)
    assert everything.total == sum(s["totalCapacity"] for s in storages)
    zone = sim.zones()[2]["uuid"]
    in_zone = client.get_capacity(zone_uuids=[zone])
    assert in_zone.total == sum(s["totalCapacity"] for s in storages if zone in s["attachedZoneUuids"])


def test_capacity_without_any_selection_is_an_invalid_argument(sim, client):
    with pytest.raises(errors.InvalidArgument) as caught:
        client.get_capacity()
    assert caught.value.code == "SYS.1007"


# --- writes -------------------------------------------------------------------------------------


def test_update_sends_exactly_the_given_fields_and_no_tags(sim, client):
    target = storage_named(sim, "bs-sz-prod-01")
    job_uuid = new_job_uuid()
    ticket = client.submit_update(
        target["uuid"],
        job_uuid=job_uuid,
        name="bs-sz-prod-01b",
        description="moved",
        hostname="203.0.113.80",
        username="zs",
        password=CANARY,
        ssh_port="2222",
    )
    body = run_job(client, ticket)
    [put] = action_puts(sim)
    assert put["path"] == f"{API}/backup-storage/image-store/{target['uuid']}/actions"
    assert put["body"] == {
        "updateImageStoreBackupStorage": {
            "name": "bs-sz-prod-01b",
            "description": "moved",
            "hostname": "203.0.113.80",
            "username": "zs",
            "password": CANARY,
            "sshPort": 2222,
        }
    }
    assert put["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert put["headers"]["X-Job-UUID"] == ticket.job_uuid == job_uuid
    assert ticket.poll_path == f"/api-jobs/{job_uuid}"
    assert body["inventory"]["sshPort"] == 2222 and body["inventory"]["name"] == "bs-sz-prod-01b"
    assert storage_named(sim, "bs-sz-prod-01b")["_password"] == CANARY


def test_update_with_one_field_sends_only_that_field_and_no_tag_keys(sim, client):
    target = storage_named(sim, "bs-dev-shared")
    run_job(client, client.submit_update(target["uuid"], job_uuid=new_job_uuid(), description=""))
    [put] = action_puts(sim)
    assert put["body"] == {"updateImageStoreBackupStorage": {"description": ""}}


def test_a_job_uuid_sent_again_is_reported_already_submitted_and_zstack_runs_it_once(sim, client):
    target = storage_named(sim, "bs-ci-cache")["uuid"]
    job_uuid = new_job_uuid()
    first = client.submit_change_state(target, "disable", job_uuid=job_uuid)
    again = client.submit_change_state(target, "disable", job_uuid=job_uuid)  # a resumed submission
    assert not first.already_submitted and again.already_submitted
    assert again.poll_path == f"/api-jobs/{job_uuid}"
    assert [p["headers"]["X-Job-UUID"] for p in action_puts(sim)] == [job_uuid, job_uuid]
    assert run_job(client, again)["inventory"]["state"] == "Disabled"


def test_an_invalid_update_fails_through_the_job_with_sys_1007(sim, client):
    ticket = client.submit_update(storage_named(sim, "bs-ci-cache")["uuid"], job_uuid=new_job_uuid(), ssh_port=70000)
    with pytest.raises(errors.InvalidArgument) as caught:
        run_job(client, ticket)
    assert caught.value.code == "SYS.1007"
    assert caught.value.http_status == 503
    assert caught.value.job_uuid == action_puts(sim)[0]["headers"]["X-Job-UUID"] == ticket.job_uuid


def test_updating_an_unknown_storage_raises_resource_not_found(sim, client):
    with pytest.raises(errors.ResourceNotFound) as caught:
        run_job(client, client.submit_update("f" * 32, job_uuid=new_job_uuid(), name="ghost"))
    assert caught.value.code == "SYS.1003"


def test_change_state_uses_the_generic_backup_storage_path(sim, client):
    target = storage_named(sim, "bs-prod-bj-02")
    body = run_job(client, client.submit_change_state(target["uuid"], "disable", job_uuid=new_job_uuid()))
    assert body["inventory"]["state"] == "Disabled"
    [put] = action_puts(sim)
    assert put["path"] == f"{API}/backup-storage/{target['uuid']}/actions"
    assert put["body"] == {"changeBackupStorageState": {"stateEvent": "disable"}}
    enabled = run_job(client, client.submit_change_state(target["uuid"], "enable", job_uuid=new_job_uuid()))
    assert enabled["inventory"]["state"] == "Enabled"


def test_a_state_event_zstack_does_not_know_is_an_invalid_argument(sim, client):
    target = storage_named(sim, "bs-prod-bj-02")["uuid"]
    with pytest.raises(errors.InvalidArgument) as caught:
        run_job(client, client.submit_change_state(target, "Disable", job_uuid=new_job_uuid()))
    assert caught.value.code == "SYS.1007"


def test_reconnect_returns_the_reconnected_inventory(sim, client):
    target = storage_named(sim, "上海备份存储")  # Disconnected in the demo data
    body = run_job(client, client.submit_reconnect(target["uuid"], job_uuid=new_job_uuid()))
    assert body["inventory"]["status"] == "Connected"
    assert action_puts(sim)[0]["body"] == {"reconnectImageStoreBackupStorage": {}}


def test_a_reconnect_that_cannot_reach_the_host_fails_through_the_job(sim, client):
    sim.set_faults(reconnect_result="Disconnected")
    ticket = client.submit_reconnect(storage_named(sim, "bs-prod-bj-01")["uuid"], job_uuid=new_job_uuid())
    with pytest.raises(errors.OperationFailed) as caught:
        run_job(client, ticket)
    assert "unable to connect" in caught.value.details
    assert caught.value.job_uuid == action_puts(sim)[0]["headers"]["X-Job-UUID"]


def test_delete_tag_removes_the_tag_through_an_async_job(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    tag = client.get_tags(target["uuid"]).system[0]
    ticket = client.submit_delete_tag(tag.uuid, job_uuid=new_job_uuid())
    assert ticket.poll_path is not None  # an async job, not a synchronous answer
    run_job(client, ticket)
    [delete] = calls(sim, "DELETE", f"{API}/tags/")
    assert delete["headers"]["X-Job-UUID"] == ticket.job_uuid
    assert client.get_tags(target["uuid"]).system == ()


def test_jobs_are_polled_through_the_configured_host_when_the_location_is_foreign(sim, client):
    sim.set_faults(foreign_location="http://127.0.0.2:9", job_polls=3)
    ticket = client.submit_change_state(storage_named(sim, "bs-prod-bj-01")["uuid"], "disable", job_uuid=new_job_uuid())
    assert run_job(client, ticket)["inventory"]["state"] == "Disabled"
    polls = calls(sim, "GET", f"{API}/api-jobs/{ticket.job_uuid}")
    assert len(polls) == 4  # three 202s, then the result


def test_a_job_that_never_finishes_is_reported_running_at_each_look(sim, client):
    # The deadline is the follower's (storages/follow.py, tests/test_write_progress.py), not the client's.
    sim.set_faults(jobs_never_finish=True)
    ticket = client.submit_change_state(storage_named(sim, "bs-prod-bj-01")["uuid"], "disable", job_uuid=new_job_uuid())
    assert [client.poll_job(ticket).done for _ in range(3)] == [False, False, False]
    assert len(calls(sim, "GET", f"{API}/api-jobs/{ticket.job_uuid}")) == 3


def test_a_failed_job_raises_its_error_with_the_job_uuid(sim, client):
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "disk on fire"}])
    ticket = client.submit_reconnect(storage_named(sim, "bs-prod-bj-01")["uuid"], job_uuid=new_job_uuid())
    with pytest.raises(errors.OperationFailed) as caught:
        run_job(client, ticket)
    assert (caught.value.code, caught.value.details) == ("SYS.1006", "disk on fire")
    assert caught.value.description == "An operation failed"
    assert caught.value.job_uuid == action_puts(sim)[0]["headers"]["X-Job-UUID"]


def test_a_job_answering_404_is_lost(sim, client):
    sim.set_faults(fail_next=[{"status": 404, "raw_body": "the job has been expired", "match": f"GET {API}/api-jobs/"}])
    ticket = client.submit_change_state(storage_named(sim, "bs-prod-bj-01")["uuid"], "disable", job_uuid=new_job_uuid())
    with pytest.raises(errors.JobLost) as caught:
        client.poll_job(ticket)
    assert caught.value.details == "the job has been expired"
    assert caught.value.job_uuid == ticket.job_uuid


# --- failures of the transport and the REST layer ----------------------------------------------------


def test_a_503_error_on_a_query_keeps_zstacks_code_and_texts(sim, client):
    sim.set_faults(
        fail_next=[
            {
                "status": 503,
                "code": "ID.1002",
                "details": "no access to bs",
                "match": f"GET {API}/backup-storage/image-store",
            }
        ]
    )
    with pytest.raises(errors.PermissionDenied) as caught:
        client.query_image_stores()
    error = caught.value
    assert (error.code, error.details, error.http_status) == ("ID.1002", "no access to bs", 503)
    assert error.description == "The user doesn't have permission to perform the operation"


def test_a_condition_without_an_operator_is_a_400_invalid_argument(sim, client):
    with pytest.raises(errors.InvalidArgument) as caught:
        client.query_image_stores(conditions=["name"])
    assert caught.value.http_status == 400
    assert "doesn't contain any query operator" in caught.value.details


def test_an_unknown_route_is_a_protocol_error(sim, client):
    client.login()
    with pytest.raises(errors.ProtocolError) as caught:
        client._read("/no-such-api")
    assert caught.value.http_status == 404
    assert "no api mapping" in caught.value.details


def test_a_malformed_json_body_is_a_protocol_error(sim, client):
    sim.set_faults(fail_next=[{"status": 200, "raw_body": '{"inventories": [', "match": f"GET {API}/zones"}])
    with pytest.raises(errors.ProtocolError) as caught:
        client.query_zones()
    assert caught.value.code == "sdk.1002"


def test_an_empty_body_is_a_protocol_error(sim, client):
    sim.set_faults(fail_next=[{"status": 200, "raw_body": "", "match": f"GET {API}/zones"}])
    with pytest.raises(errors.ProtocolError):
        client.query_zones()


def test_a_dropped_connection_on_a_read_is_retried(sim, client):
    client.login()
    sim.clear_requests()
    sim.set_faults(drop_next=1)
    assert len(client.query_zones().items) == 3
    assert len(calls(sim, "GET")) == 2


def test_a_read_failing_every_time_raises_unavailable_after_two_retries(sim, client):
    client.login()
    sim.clear_requests()
    sim.set_faults(drop_next=5)
    with pytest.raises(errors.ZStackUnavailable):
        client.query_zones()
    assert len(calls(sim, "GET")) == 3


def test_a_dropped_connection_on_a_put_is_never_retried_and_its_outcome_is_unknown(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    client.login()
    sim.clear_requests()
    sim.set_faults(drop_next=1)
    with pytest.raises(errors.OutcomeUnknown) as caught:
        client.submit_update(target["uuid"], job_uuid=new_job_uuid(), name="once")
    assert len(calls(sim, "PUT")) == 1
    assert caught.value.job_uuid == calls(sim, "PUT")[0]["headers"]["X-Job-UUID"]
    assert storage_named(sim, "bs-prod-bj-01")["uuid"] == target["uuid"]  # unchanged, never re-sent


# Each kind of lost or unreadable answer to a write, over real HTTP (the fake-session tests in
# test_zstack_errors.py pin the pure mapping; these prove it holds for real sockets and real bodies).

UPDATE_PUT = f"PUT {API}/backup-storage/image-store/"
JOB_POLL = f"GET {API}/api-jobs/"


def polls(sim):
    return calls(sim, "GET", f"{API}/api-jobs/")


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxy_error_answering_an_update_leaves_its_outcome_unknown_and_it_is_sent_once(sim, client, status):
    target = storage_named(sim, "bs-prod-bj-01")
    client.login()
    sim.clear_requests()
    sim.set_faults(fail_next=[{"status": status, "raw_body": "<html>Bad Gateway</html>", "match": UPDATE_PUT}])
    with pytest.raises(errors.OutcomeUnknown) as caught:
        client.submit_update(target["uuid"], job_uuid=new_job_uuid(), name="maybe")
    error = caught.value
    assert type(error) is errors.OutcomeUnknown
    assert (error.code, error.http_status) == ("sdk.outcome-unknown", status)
    [put] = calls(sim, "PUT")
    assert error.job_uuid == put["headers"]["X-Job-UUID"]
    assert polls(sim) == []  # no job location to follow


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxy_error_answering_a_query_means_unreachable_and_is_retried(sim, client, status):
    client.login()
    sim.clear_requests()
    sim.set_faults(fail_next=[{"status": status, "raw_body": "Bad Gateway", "match": f"GET {API}/zones"}] * 3)
    with pytest.raises(errors.ZStackUnavailable) as caught:
        client.query_zones()
    assert (caught.value.code, caught.value.http_status) == ("sdk.unreachable", status)
    assert len(calls(sim, "GET")) == 3


@pytest.mark.parametrize("status, body", [(202, ""), (202, '{"location": '), (200, "<html>ok</html>"), (200, "[]")])
def test_an_unreadable_success_answering_a_write_leaves_its_outcome_unknown_and_it_is_sent_once(
    sim, client, status, body
):
    target = storage_named(sim, "bs-prod-bj-02")
    client.login()
    sim.clear_requests()
    sim.set_faults(fail_next=[{"status": status, "raw_body": body, "match": f"PUT {API}/backup-storage/"}])
    with pytest.raises(errors.OutcomeUnknown) as caught:
        client.submit_change_state(target["uuid"], "disable", job_uuid=new_job_uuid())
    error = caught.value
    assert type(error) is errors.OutcomeUnknown
    assert (error.code, error.http_status) == ("sdk.outcome-unknown", status)
    [put] = calls(sim, "PUT")
    assert error.job_uuid == put["headers"]["X-Job-UUID"]
    assert polls(sim) == []


def test_a_poll_that_loses_the_connection_every_time_raises_and_a_later_look_finds_the_job(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    client.login()
    sim.clear_requests()
    # Polls are reads, retried twice: all three attempts lose the connection.
    sim.set_faults(fail_next=[{"drop": True, "match": JOB_POLL}] * 3)
    ticket = client.submit_update(target["uuid"], job_uuid=new_job_uuid(), description="maybe")
    with pytest.raises(errors.ZStackUnavailable) as caught:  # the job's fate is unknown, not failed
        client.poll_job(ticket)
    assert caught.value.code == "sdk.unreachable"
    [put] = calls(sim, "PUT")
    assert put["headers"]["X-Job-UUID"] == ticket.job_uuid
    assert [p["path"] for p in polls(sim)] == [f"{API}/api-jobs/{ticket.job_uuid}"] * 3
    assert sim.faults()["fail_next"] == []  # every injected drop was met
    assert run_job(client, ticket)["inventory"]["description"] == "maybe"  # the follower looks again


def test_a_job_poll_losing_the_connection_once_is_retried_and_the_write_completes_sent_once(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    client.login()
    sim.clear_requests()
    sim.set_faults(fail_next=[{"drop": True, "match": JOB_POLL}])
    ticket = client.submit_update(target["uuid"], job_uuid=new_job_uuid(), description="after a lost poll")
    assert run_job(client, ticket)["inventory"]["description"] == "after a lost poll"
    [put] = calls(sim, "PUT")
    assert put["headers"]["X-Job-UUID"] == ticket.job_uuid
    assert len(polls(sim)) >= 2


def test_a_job_poll_answered_with_sys_1010_is_unavailable_not_an_unknown_outcome(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    client.login()
    sim.clear_requests()
    sim.set_faults(fail_next=[{"status": 503, "code": "SYS.1010", "details": "mn starting", "match": JOB_POLL}] * 3)
    ticket = client.submit_reconnect(target["uuid"], job_uuid=new_job_uuid())
    with pytest.raises(errors.ZStackUnavailable) as caught:
        run_job(client, ticket)
    error = caught.value
    assert not isinstance(error, errors.OutcomeUnknown)
    assert (error.code, error.details, error.http_status) == ("SYS.1010", "mn starting", 503)
    assert error.description == "Management server is not ready to serve"
    [put] = calls(sim, "PUT")
    assert error.job_uuid == put["headers"]["X-Job-UUID"]
    assert len(polls(sim)) == 3  # polls are reads: retried, then the answer stands


def test_a_job_ending_with_sys_1010_is_unavailable_with_the_job_uuid(sim, client):
    target = storage_named(sim, "bs-prod-bj-01")
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1010", "details": "mn not ready"}])
    with pytest.raises(errors.ZStackUnavailable) as caught:
        run_job(client, client.submit_change_state(target["uuid"], "disable", job_uuid=new_job_uuid()))
    error = caught.value
    assert not isinstance(error, errors.OutcomeUnknown)
    assert (error.code, error.details, error.http_status) == ("SYS.1010", "mn not ready", 503)
    assert len(action_puts(sim)) == 1
    assert error.job_uuid == action_puts(sim)[0]["headers"]["X-Job-UUID"]
    assert storage_named(sim, "bs-prod-bj-01")["state"] == "Enabled"  # the failed job did nothing


def test_a_refused_port_raises_unavailable(sim):
    with pytest.raises(errors.ZStackUnavailable) as caught:
        ZStackClient(refused_url(), "admin", "password", timeout=1.0).query_zones()
    assert caught.value.code == "sdk.unreachable"
    assert "refused" in caught.value.details.lower()


def test_a_put_to_a_refused_port_is_unavailable_not_an_unknown_outcome(sim):
    offline = ZStackClient(refused_url(), "admin", "password", timeout=1.0)
    offline._session_uuid = "5e55" * 8  # as if logged in before ZStack went away
    with pytest.raises(errors.ZStackUnavailable) as caught:
        offline.submit_update("b5" * 16, job_uuid=new_job_uuid(), name="never-sent")
    assert not isinstance(caught.value, errors.OutcomeUnknown)


def test_a_slow_answer_raises_timeout_without_a_retry(sim):
    slow = ZStackClient(sim.url, "admin", "password", timeout=0.2)
    slow.login()
    sim.clear_requests()
    sim.set_faults(latency_ms=600)
    with pytest.raises(errors.ZStackTimeout) as caught:
        slow.query_zones()
    assert caught.value.code == "sdk.1001"
    assert len(calls(sim, "GET")) == 1


# --- secrets and logs ---------------------------------------------------------------------------


def test_the_ssh_password_never_reaches_logs_errors_or_reprs(sim, client, caplog):
    caplog.set_level(logging.DEBUG)
    target = storage_named(sim, "bs-prod-bj-01")["uuid"]
    ticket = client.submit_update(target, job_uuid=new_job_uuid(), password=CANARY)
    body = run_job(client, ticket, secrets=(CANARY,))
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1007", "details": f"password {CANARY} is too weak"}])
    failing = client.submit_update(target, job_uuid=new_job_uuid(), password=CANARY)
    with pytest.raises(errors.InvalidArgument) as caught:
        run_job(client, failing, secrets=(CANARY,))
    texts = [
        caplog.text,
        str(caught.value),
        repr(caught.value),
        caught.value.user_message,
        repr(client),
        repr(ticket),
        repr(body),
    ] + [str(cause) for cause in caught.value.causes]
    assert all(CANARY not in text for text in texts)
    assert "PUT /backup-storage/image-store/" in caplog.text  # the log did record the calls


def test_the_login_password_its_hash_and_the_session_never_reach_logs_errors_or_reprs(sim, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = ZStackClient(sim.url, "admin", CANARY)
    with pytest.raises(errors.AuthenticationFailed) as caught:
        wrong.query_zones()
    right = ZStackClient(sim.url, "admin", "password")
    right.query_zones()
    right.logout()
    session_uuid = calls(sim, "GET")[0]["headers"]["Authorization"].removeprefix("OAuth ")
    secrets = [
        CANARY,
        hashlib.sha512(CANARY.encode()).hexdigest(),
        hashlib.sha512(b"password").hexdigest(),
        session_uuid,
    ]
    texts = caplog.text + str(caught.value) + repr(caught.value) + repr(wrong) + repr(right)
    for secret in secrets:
        assert secret not in texts


def test_each_call_logs_one_line_with_method_path_status_and_job(sim, client, caplog):
    caplog.set_level(logging.DEBUG, logger="dashboard.zstack")
    client.query_image_stores(conditions=["name~=%secret-looking%"])
    ticket = client.submit_change_state(storage_named(sim, "bs-prod-bj-01")["uuid"], "disable", job_uuid=new_job_uuid())
    run_job(client, ticket)
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("dashboard.zstack")]
    assert any(re.search(r"GET /backup-storage/image-store -> 200 \d+ ms", line) for line in lines)
    assert any(
        re.search(rf"PUT /backup-storage/\w+/actions -> 202 \d+ ms job={ticket.job_uuid}", line) for line in lines
    )
    assert any(
        re.search(rf"GET /api-jobs/{ticket.job_uuid} -> 200 \d+ ms job={ticket.job_uuid}", line) for line in lines
    )
    assert len(lines) == len(sim.requests())
    assert "secret-looking" not in caplog.text


# --- the process client -------------------------------------------------------------------------


def test_get_client_is_shared_and_rebuilt_when_zstack_settings_change(zstack_settings, settings):
    first = get_client()
    assert get_client() is first
    assert first.url == zstack_settings.url
    assert len(first.query_zones().items) == 3
    settings.ZSTACK_TIMEOUT = 1.5
    second = get_client()
    assert second is not first and second.timeout == 1.5


def test_job_uuids_are_32_lowercase_hex_and_fresh():
    uuids = {new_job_uuid() for _ in range(100)}
    assert len(uuids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", u) for u in uuids)
