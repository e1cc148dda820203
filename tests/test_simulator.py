"""Conformance tests of the ZStack simulator against docs/zstack-protocol.md §10 (simulator list), over real
HTTP with http.client, plus its /_sim/ control endpoints, Python API and command line.

Demo-data facts used below come from simulator/seed.py (the first dozen storages are hand-written).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import simulator.server
from simulator.__main__ import parse_args
from simulator.server import SimulatorServer
from tests.sim_helpers import run_in_threads, storage_named

API = "/zstack/v1"
ZSTACK_DATE = re.compile(
    r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d?, \d{4} "
    r"(1[0-2]|[1-9]):[0-5]\d:[0-5]\d (AM|PM)$"
)
UUID = re.compile(r"^[0-9a-f]{32}$")
PASSWORD_HASH = hashlib.sha512(b"password").hexdigest()
IMAGE_STORE_CLASS = "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class ZStack:
    """A deliberately plain HTTP helper (not the project's client) over one keep-alive connection."""

    def __init__(self, url: str) -> None:
        self.base = urlsplit(url)
        self.session: str | None = None
        self._connect()

    def _connect(self) -> None:
        self.conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=10)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: str | bytes | None = None,
    ) -> Reply:
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        try:
            self.conn.request(method, path, body=data, headers=headers or {})
            response = self.conn.getresponse()
            text = response.read().decode("utf-8")
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self._connect()
            raise
        if response.will_close:
            self.conn.close()
            self._connect()
        return Reply(response.status, response.headers, text)

    def login(self) -> str:
        reply = self.request(
            "PUT", f"{API}/accounts/login", {"logInByAccount": {"accountName": "admin", "password": PASSWORD_HASH}}
        )
        assert reply.status == 200, reply.text
        self.session = reply.json["inventory"]["uuid"]
        return self.session

    def auth(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"OAuth {self.session or self.login()}", **(extra or {})}

    def get(
        self, path: str, params: list[tuple[str, str]] | dict | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        query = f"?{urlencode(params)}" if params else ""
        return self.request("GET", f"{API}{path}{query}", headers=self.auth(headers))

    def query(self, path: str, *conditions: str, **params: Any) -> Reply:
        return self.get(path, [("q", c) for c in conditions] + [(k, str(v)) for k, v in params.items()])

    def names(self, path: str, *conditions: str, **params: Any) -> list[str]:
        reply = self.query(path, *conditions, **params)
        assert reply.status == 200, reply.text
        return [item["name"] for item in reply.json["inventories"]]

    def put(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request("PUT", f"{API}{path}", body, headers=self.auth(headers))

    def job_path(self, submitted: Reply) -> str:
        assert submitted.status == 202, submitted.text
        return urlsplit(submitted.json["location"]).path

    def finish(self, submitted: Reply, headers: dict[str, str] | None = None) -> Reply:
        path = self.job_path(submitted)
        for _ in range(20):
            reply = self.request("GET", path, headers=headers)
            if reply.status != 202:
                return reply
        raise AssertionError("the job never finished")

    def update(self, uuid: str, body: dict[str, Any], **top: Any) -> Reply:
        return self.finish(
            self.put(f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": body, **top})
        )


@pytest.fixture
def zs(sim: SimulatorServer) -> ZStack:
    return ZStack(sim.url)


def by_uuid(sim: SimulatorServer, uuid: str) -> dict[str, Any]:
    return next(s for s in sim.storages() if s["uuid"] == uuid)


def error_of(reply: Reply) -> dict[str, Any]:
    assert reply.status == 503, (reply.status, reply.text)
    return reply.json["error"]


# -- §10.1 routing ----------------------------------------------------------------------------


def test_unknown_path_under_zstack_is_a_plain_text_404_naming_the_v1_path(zs: ZStack) -> None:
    reply = zs.request("GET", f"{API}/no-such-thing", headers=zs.auth())
    assert (reply.status, reply.text) == (404, "no api mapping to /v1/no-such-thing")


def test_a_known_path_with_a_method_it_does_not_serve_is_405(zs: ZStack) -> None:
    assert zs.request("POST", f"{API}/backup-storage/capacities", headers=zs.auth()).status == 405


# -- §10.2 login --------------------------------------------------------------------------------


def test_login_with_the_sha512_hex_of_the_password_returns_a_session_inventory(zs: ZStack) -> None:
    reply = zs.request(
        "PUT", f"{API}/accounts/login", {"logInByAccount": {"accountName": "admin", "password": PASSWORD_HASH}}
    )
    assert reply.status == 200
    inventory = reply.json["inventory"]
    assert UUID.match(inventory["uuid"]) and UUID.match(inventory["accountUuid"])
    assert inventory["userUuid"] == inventory["accountUuid"]
    assert inventory["userType"] == "AccountVO"
    assert ZSTACK_DATE.match(inventory["expiredDate"]) and ZSTACK_DATE.match(inventory["createDate"])


@pytest.mark.parametrize(
    "account, password",
    [
        ("admin", "password"),  # the plain password is not what ZStack compares
        ("admin", PASSWORD_HASH.upper()),  # compared verbatim with the lowercase hex
        ("nobody", PASSWORD_HASH),
    ],
)
def test_login_with_wrong_credentials_is_503_id_1000(zs: ZStack, account: str, password: str) -> None:
    reply = zs.request(
        "PUT", f"{API}/accounts/login", {"logInByAccount": {"accountName": account, "password": password}}
    )
    error = error_of(reply)
    assert error["code"] == "ID.1000"
    assert error["description"] == "Unable to authenticate a user"
    assert error["details"] == "wrong account name or password"


def test_login_under_the_old_login_key_is_ignored_and_fails_validation(zs: ZStack) -> None:
    reply = zs.request("PUT", f"{API}/accounts/login", {"logIn": {"accountName": "admin", "password": PASSWORD_HASH}})
    assert error_of(reply)["code"] == "SYS.1007"


# -- §10.3 logout -------------------------------------------------------------------------------


def test_logout_needs_no_authorization_and_answers_an_empty_object_even_for_unknown_sessions(zs: ZStack) -> None:
    reply = zs.request("DELETE", f"{API}/accounts/sessions/{'0' * 32}")
    assert (reply.status, reply.json) == (200, {})


def test_logout_ends_the_session(zs: ZStack) -> None:
    session = zs.login()
    assert zs.request("DELETE", f"{API}/accounts/sessions/{session}").status == 200
    assert error_of(zs.get("/zones"))["code"] == "ID.1001"
    assert zs.request("GET", f"{API}/accounts/sessions/{session}/valid").json == {"valid": False}


# -- §10.4 authorization --------------------------------------------------------------------------


def test_a_query_without_authorization_is_a_plain_text_400(zs: ZStack) -> None:
    reply = zs.request("GET", f"{API}/zones")
    assert (reply.status, reply.text) == (400, "missing header 'Authorization'")


def test_a_query_with_another_authorization_scheme_is_a_plain_text_400(zs: ZStack) -> None:
    reply = zs.request("GET", f"{API}/zones", headers={"Authorization": f"Bearer {'a' * 32}"})
    assert (reply.status, reply.text) == (400, "Authorization type must be 'OAuth'")


def test_the_oauth_header_is_parsed_leniently_about_spacing(zs: ZStack) -> None:
    session = zs.login()
    assert zs.request("GET", f"{API}/zones", headers={"Authorization": f"OAuth   {session} "}).status == 200


def test_an_unknown_session_is_not_rejected_by_http_but_a_sync_call_fails_with_id_1001(zs: ZStack) -> None:
    zs.session = "f" * 32
    error = error_of(zs.get("/backup-storage/image-store"))
    assert error["code"] == "ID.1001"
    assert error["description"] == ("The session is invalid, either wrong session id or the session has been expired")


def test_an_async_call_with_an_expired_session_is_accepted_and_its_job_fails_with_id_1001(
    sim: SimulatorServer, zs: ZStack
) -> None:
    target = storage_named(sim, "bs-prod-bj-01")
    zs.login()
    sim.expire_sessions()
    result = zs.update(target["uuid"], {"name": "renamed"})
    assert error_of(result)["code"] == "ID.1001"
    assert storage_named(sim, "bs-prod-bj-01")["name"] == "bs-prod-bj-01"


# -- §10.5 sliding expiry -------------------------------------------------------------------------


@pytest.mark.slow  # waits out real session timeouts
def test_each_authenticated_call_slides_the_session_expiry(sim: SimulatorServer, zs: ZStack) -> None:
    sim.set_faults(session_timeout=1.0)
    zs.login()
    for _ in range(3):  # 1.8 s in all: alive only because every call renews it
        time.sleep(0.6)
        assert zs.get("/zones").status == 200
    time.sleep(1.2)
    assert error_of(zs.get("/zones"))["code"] == "ID.1001"


@pytest.mark.slow  # waits out a real session timeout
def test_checking_a_session_is_valid_does_not_renew_it(sim: SimulatorServer, zs: ZStack) -> None:
    sim.set_faults(session_timeout=1.0)
    session = zs.login()
    time.sleep(0.6)
    assert zs.request("GET", f"{API}/accounts/sessions/{session}/valid").json == {"valid": True}
    time.sleep(0.6)
    assert zs.request("GET", f"{API}/accounts/sessions/{session}/valid").json == {"valid": False}


# -- §10.6 action dispatch on shared paths ----------------------------------------------------------


def test_the_action_key_is_matched_case_sensitively_on_the_shared_path(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"updateimagestorebackupstorage": {"name": "x"}})
    assert reply.status == 400
    assert reply.text == (
        f"the body doesn't contain action mapping to the URL[/v1/backup-storage/image-store/{uuid}/actions]"
    )


def test_change_state_is_not_an_action_of_the_image_store_path(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = zs.put(
        f"/backup-storage/image-store/{uuid}/actions", {"changeBackupStorageState": {"stateEvent": "disable"}}
    )
    assert reply.status == 400


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]"])
def test_an_empty_or_non_json_body_on_the_shared_path_is_a_500(sim: SimulatorServer, zs: ZStack, raw: str) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = zs.request("PUT", f"{API}/backup-storage/image-store/{uuid}/actions", raw=raw, headers=zs.auth())
    assert reply.status == 500


def test_tags_are_accepted_inside_the_action_or_beside_it_and_top_level_wins(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    sim.set_faults(update_tags="store")  # so what the update read can be seen
    assert zs.update(uuid, {"userTags": ["inside"], "systemTags": ["sys::inside"]}, userTags=["outside"]).status == 200
    user = [t["tag"] for t in zs.query("/user-tags", f"resourceUuid={uuid}").json["inventories"]]
    system = [t["tag"] for t in zs.query("/system-tags", f"resourceUuid={uuid}").json["inventories"]]
    assert "outside" in user and "inside" not in user
    assert system == ["sys::inside"]


# -- §10.7 async submission -------------------------------------------------------------------------


def test_an_async_put_answers_202_with_an_absolute_location_and_an_api_timeout(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}})
    assert reply.status == 202
    assert re.match(rf"^{re.escape(sim.url)}/zstack/v1/api-jobs/[0-9a-f]{{32}}$", reply.json["location"])
    assert isinstance(reply.json["apiTimeout"], int) and reply.json["apiTimeout"] > 0


def test_validation_errors_arrive_only_through_the_job(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    submitted = zs.put(
        f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"name": "n" * 256}}
    )
    assert submitted.status == 202
    error = error_of(zs.finish(submitted))
    assert error["code"] == "SYS.1007"
    assert error["description"] == "One or more API argument is invalid"
    assert "name" in error["details"]


def test_a_foreign_location_is_advertised_but_the_job_still_answers_on_the_real_address(
    sim: SimulatorServer, zs: ZStack
) -> None:
    sim.set_faults(foreign_location="http://127.0.0.2:9")
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    submitted = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}})
    assert submitted.json["location"].startswith("http://127.0.0.2:9/zstack/v1/api-jobs/")
    assert zs.finish(submitted).status == 200


# -- §10.8 job polling ---------------------------------------------------------------------------------


def test_a_job_answers_202_empty_for_the_configured_number_of_polls_then_its_result(
    sim: SimulatorServer, zs: ZStack
) -> None:
    sim.set_faults(job_polls=3)
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    path = zs.job_path(
        zs.put(f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"name": "after"}})
    )
    for _ in range(3):
        reply = zs.request("GET", path)
        assert (reply.status, reply.json) == (202, {})
    assert by_uuid(sim, uuid)["name"] == "bs-prod-bj-01"  # nothing applied while running
    done = zs.request("GET", path)
    assert done.status == 200 and done.json["inventory"]["name"] == "after"
    again = zs.request("GET", path)  # the result can be fetched repeatedly
    assert (again.status, again.json) == (200, done.json)


def test_job_polls_need_no_authorization(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    submitted = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}})
    assert zs.finish(submitted, headers={}).status == 200


def test_an_unknown_job_is_a_plain_text_404(zs: ZStack) -> None:
    reply = zs.request("GET", f"{API}/api-jobs/{'a' * 32}")
    assert (reply.status, reply.text) == (404, "the job has been expired")


def test_polling_a_job_with_another_method_is_405(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    path = zs.job_path(zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}}))
    assert zs.request("DELETE", path).status == 405


def test_jobs_that_never_finish_answer_202_and_change_nothing(sim: SimulatorServer, zs: ZStack) -> None:
    sim.set_faults(jobs_never_finish=True)
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    path = zs.job_path(
        zs.put(f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"name": "never"}})
    )
    assert all(zs.request("GET", path).status == 202 for _ in range(5))
    assert by_uuid(sim, uuid)["name"] == "bs-prod-bj-01"
    sim.set_faults(jobs_never_finish=False)
    statuses = [zs.request("GET", path).status for _ in range(3)]
    assert statuses[-1] == 200 and by_uuid(sim, uuid)["name"] == "never"


# -- §10.9 X-Job-UUID ----------------------------------------------------------------------------------


def test_the_x_job_uuid_header_becomes_the_job_id(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    job = "0123456789abcdef0123456789abcdef"
    submitted = zs.put(
        f"/backup-storage/image-store/{uuid}/actions",
        {"reconnectImageStoreBackupStorage": {}},
        headers={"X-Job-UUID": job},
    )
    assert submitted.json["location"].endswith(f"/api-jobs/{job}")


@pytest.mark.parametrize("job", ["0123456789abcdef", "01234567-89ab-cdef-0123-456789abcdef"])
def test_an_x_job_uuid_that_is_not_32_chars_is_a_plain_text_400(sim: SimulatorServer, zs: ZStack, job: str) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = zs.put(
        f"/backup-storage/image-store/{uuid}/actions",
        {"reconnectImageStoreBackupStorage": {}},
        headers={"X-Job-UUID": job},
    )
    assert (reply.status, reply.text) == (400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")


def test_a_reused_x_job_uuid_is_a_plain_text_400_duplicate(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    job = "fedcba9876543210fedcba9876543210"
    path = f"/backup-storage/image-store/{uuid}/actions"
    assert zs.put(path, {"reconnectImageStoreBackupStorage": {}}, headers={"X-Job-UUID": job}).status == 202
    reply = zs.put(path, {"reconnectImageStoreBackupStorage": {}}, headers={"X-Job-UUID": job})
    assert (reply.status, reply.text) == (400, f"Duplicate job uuid[{job}]")
    deleted = zs.request("DELETE", f"{API}/tags/{'1' * 32}", headers=zs.auth({"X-Job-UUID": job}))
    assert deleted.status == 400


# -- §10.10 queries ---------------------------------------------------------------------------------


def test_conditions_are_repeatable_and_anded(zs: ZStack) -> None:
    assert zs.names("/backup-storage/image-store", "state=Disabled", "status=Disconnected") == ["bs-legacy-2019"]


def test_operators_are_detected_in_the_fixed_order_so_a_value_holding_one_is_misparsed(zs: ZStack) -> None:
    # "name=a!=b" is field "name=a", operator "!=", value "b" (§6.2): an unknown field.
    error = error_of(zs.query("/backup-storage/image-store", "name=a!=b"))
    assert error["code"] == "SYS.1000"
    assert "name=a" in error["details"]


def test_in_and_not_in_take_comma_separated_lists(zs: ZStack) -> None:
    assert sorted(zs.names("/backup-storage/image-store", "name?=bs-prod-bj-01,bs-ci-cache")) == [
        "bs-ci-cache",
        "bs-prod-bj-01",
    ]
    assert len(zs.names("/backup-storage/image-store", "name!?=bs-prod-bj-01,bs-ci-cache")) == 10


def test_like_supports_percent_and_underscore_and_ignores_case(zs: ZStack) -> None:
    assert zs.names("/backup-storage/image-store", "name~=bs-prod-bj-0_") == ["bs-prod-bj-01", "bs-prod-bj-02"]
    assert zs.names("/backup-storage/image-store", "name~=BS-PROD%") == ["bs-prod-bj-01", "bs-prod-bj-02"]
    assert sorted(zs.names("/backup-storage/image-store", "name~=%仓库%")) == ["深圳灾备镜像仓库", "镜像仓库-北京-03"]
    assert len(zs.names("/backup-storage/image-store", "name!~=%仓库%")) == 10


def test_is_null_and_not_null_test_for_absent_fields(zs: ZStack) -> None:
    assert zs.names("/backup-storage/image-store", "description is null") == [
        "bs-prod-bj-02",
        "上海备份存储",
        "bs-sz-prod-01",
    ]
    assert len(zs.names("/backup-storage/image-store", "description not null")) == 9


def test_a_null_field_fails_negated_comparisons_too_like_sql(zs: ZStack) -> None:
    names = zs.names("/backup-storage/image-store", "description!=Production images, Beijing")
    assert len(names) == 8 and "bs-prod-bj-02" not in names


def test_numeric_comparisons_compare_numbers(zs: ZStack) -> None:
    hundred_tib = str(100 * 2**40)
    assert sorted(zs.names("/backup-storage/image-store", f"totalCapacity>={hundred_tib}")) == sorted(
        ["bs-prod-bj-01", "bs-prod-bj-02", "bs-sh-archive", "imagestore-dr-01", "深圳灾备镜像仓库"]
    )
    assert zs.names("/backup-storage/image-store", f"totalCapacity>{hundred_tib}", "sshPort<1000") == [
        "深圳灾备镜像仓库"
    ]


def test_date_conditions_accept_iso_or_zstack_dates_in_server_time(zs: ZStack) -> None:
    # Zones are created 2023-01-01, -04 and -07 at midnight Asia/Shanghai (seed.py).
    assert zs.names("/zones", "createDate<2023-01-02") == ["zone-beijing-01"]
    assert zs.names("/zones", "createDate<Jan 2, 2023 12:00:00 AM") == ["zone-beijing-01"]
    assert zs.names("/zones", "createDate>=2023-01-04 00:00:00") == ["zone-shanghai-02", "华南-深圳"]
    assert error_of(zs.query("/zones", "createDate>yesterday"))["code"] == "SYS.1000"


def test_limit_defaults_to_1000(sim: SimulatorServer, zs: ZStack) -> None:
    sim.reset(storages=1005)
    reply = zs.query("/backup-storage/image-store", replyWithCount="true")
    assert len(reply.json["inventories"]) == 1000 and reply.json["total"] == 1005


def test_start_and_limit_page_through_a_stable_order(zs: ZStack) -> None:
    everything = zs.names("/backup-storage/image-store", sort="name")
    pages = [zs.names("/backup-storage/image-store", sort="name", start=start, limit=5) for start in (0, 5, 10)]
    assert [len(page) for page in pages] == [5, 5, 2]
    assert sum(pages, []) == everything


def test_reply_with_count_adds_the_total_ignoring_limit_and_count_returns_only_the_total(zs: ZStack) -> None:
    reply = zs.query("/backup-storage/image-store", "state=Enabled", limit=2, replyWithCount="true")
    assert len(reply.json["inventories"]) == 2 and reply.json["total"] == 10
    counted = zs.query("/backup-storage/image-store", "state=Enabled", count="true", replyWithCount="true")
    assert counted.json == {"total": 10, "schema": {}}


def test_sort_takes_plus_minus_or_a_bare_field_and_a_raw_plus_still_sorts_ascending(zs: ZStack) -> None:
    def capacities(sort: str, raw: bool = False) -> list[int]:
        reply = (
            zs.request("GET", f"{API}/backup-storage/image-store?sort={sort}", headers=zs.auth())
            if raw
            else zs.query("/backup-storage/image-store", sort=sort)
        )
        return [item["totalCapacity"] for item in reply.json["inventories"]]

    ascending = capacities("totalCapacity")
    assert ascending == sorted(ascending) and len(set(ascending)) > 5
    assert capacities("-totalCapacity") == ascending[::-1]
    assert capacities("+totalCapacity") == ascending  # sent as %2B
    assert capacities("+totalCapacity", raw=True) == ascending  # a raw "+" decodes to a space
    assert zs.names("/backup-storage/image-store", sort="-totalCapacity")[0] == "bs-sh-archive"


def test_only_the_first_fields_parameter_is_used(zs: ZStack) -> None:
    reply = zs.get("/zones", [("fields", "name,uuid"), ("fields", "state")])
    assert all(set(zone) == {"name", "uuid"} for zone in reply.json["inventories"])


def test_unknown_query_parameters_are_ignored(zs: ZStack) -> None:
    assert len(zs.names("/backup-storage/image-store", condition="name=nothing", sortBy="name")) == 12


def test_a_condition_without_an_operator_is_a_plain_text_400(zs: ZStack) -> None:
    reply = zs.query("/backup-storage/image-store", "state")
    assert reply.status == 400
    assert reply.text.startswith(
        "Invalid query parameter. The 'state' in the parameter[q] doesn't contain any query operator."
    )


@pytest.mark.parametrize("params", [{"limit": "ten"}, {"start": "1.5"}])
def test_a_non_integer_limit_or_start_is_a_plain_text_400(zs: ZStack, params: dict[str, str]) -> None:
    assert zs.get("/zones", params).status == 400


def test_an_unknown_field_in_a_condition_or_sort_is_a_503(zs: ZStack) -> None:
    assert error_of(zs.query("/backup-storage/image-store", "password=x"))["code"] == "SYS.1000"
    assert error_of(zs.query("/zones", sort="-nothing"))["code"] == "SYS.1000"


def test_get_by_uuid_ignores_other_parameters_and_answers_an_empty_list_when_missing(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-dev-shared")["uuid"]
    reply = zs.get(f"/backup-storage/image-store/{uuid}", {"q": "state=Enabled", "limit": "0", "fields": "uuid"})
    assert [i["name"] for i in reply.json["inventories"]] == ["bs-dev-shared"]
    missing = zs.get(f"/backup-storage/image-store/{'0' * 32}")
    assert (missing.status, missing.json) == (200, {"inventories": [], "schema": {}})
    zone = sim.zones()[0]
    assert zs.get(f"/zones/{zone['uuid']}").json["inventories"] == [zone]


def test_the_generic_backup_storage_query_gives_subclass_fields_only_for_the_image_store_type(zs: ZStack) -> None:
    generic = zs.query("/backup-storage", "name=bs-prod-bj-01").json
    assert "hostname" not in generic["inventories"][0]
    typed = zs.query("/backup-storage", "type=ImageStoreBackupStorage", "name=bs-prod-bj-01").json
    assert typed["inventories"][0]["hostname"] == "192.0.2.11"
    assert typed["schema"] == {"inventories[0]": IMAGE_STORE_CLASS}
    assert error_of(zs.query("/backup-storage", "hostname=192.0.2.11"))["code"] == "SYS.1000"


def test_storages_can_be_queried_by_attached_zone(sim: SimulatorServer, zs: ZStack) -> None:
    beijing, shanghai, _ = (zone["uuid"] for zone in sim.zones())
    in_beijing = zs.names("/backup-storage/image-store", f"attachedZoneUuids={beijing}")
    assert in_beijing == ["bs-prod-bj-01", "bs-prod-bj-02", "镜像仓库-北京-03", "bs-dev-shared", "bs-legacy-2019"]
    either = zs.names("/backup-storage/image-store", f"attachedZoneUuids?={beijing},{shanghai}")
    assert len(either) == 8
    assert zs.names("/backup-storage/image-store", "attachedZoneUuids is null") == ["bs-ci-cache"]


def test_the_tag_pseudo_fields_filter_by_tag_text(zs: ZStack) -> None:
    assert zs.names("/backup-storage/image-store", "__systemTag__=priority::high") == [
        "bs-prod-bj-01",
        "深圳灾备镜像仓库",
    ]
    assert zs.names("/backup-storage/image-store", "__userTag__~=%prod%") == [
        "bs-prod-bj-01",
        "bs-prod-bj-02",
        "bs-sz-prod-01",
    ]
    assert len(zs.names("/backup-storage/image-store", "__userTag__!~=%prod%")) == 9


def test_system_and_user_tags_are_queryable_by_resource(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    user = zs.query("/user-tags", f"resourceUuid={uuid}").json
    assert sorted(t["tag"] for t in user["inventories"]) == ["env::prod", "owner::storage-team"]
    assert all(t["type"] == "User" and UUID.match(t["uuid"]) for t in user["inventories"])
    system = zs.query("/system-tags", f"resourceUuid={uuid}").json["inventories"]
    assert [(t["tag"], t["inherent"]) for t in system] == [("priority::high", False)]


# -- §10.11 schema ----------------------------------------------------------------------------------


def test_query_replies_always_carry_a_schema_in_reverse_order(zs: ZStack) -> None:
    reply = zs.query("/zones")
    assert list(reply.json["schema"]) == ["inventories[2]", "inventories[1]", "inventories[0]"]
    assert set(reply.json["schema"].values()) == {"org.zstack.header.zone.ZoneInventory"}
    assert zs.query("/zones", "name=none").json == {"inventories": [], "schema": {}}


def test_other_success_bodies_carry_a_schema_only_when_x_json_schema_is_sent(sim: SimulatorServer, zs: ZStack) -> None:
    login = {"logInByAccount": {"accountName": "admin", "password": PASSWORD_HASH}}
    assert "schema" not in zs.request("PUT", f"{API}/accounts/login", login).json
    with_schema = zs.request("PUT", f"{API}/accounts/login", login, headers={"X-JSON-Schema": "true"}).json
    assert with_schema["schema"] == {"inventory": "org.zstack.header.identity.SessionInventory"}
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    submitted = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}})
    assert "schema" not in zs.finish(submitted).json
    assert zs.finish(submitted, headers={"X-JSON-Schema": ""}).json["schema"] == {"inventory": IMAGE_STORE_CLASS}


# -- §10.12 wire formats ---------------------------------------------------------------------------


def test_answers_have_no_content_type_and_always_a_content_length(zs: ZStack) -> None:
    for reply in (zs.query("/zones"), zs.request("GET", f"{API}/zones"), zs.query("/zones", "x=1")):
        assert reply.headers.get("Content-Type") is None
        assert int(reply.headers["Content-Length"]) == len(reply.text.encode("utf-8"))


def test_null_fields_are_omitted_not_sent_as_null(zs: ZStack) -> None:
    reply = zs.query("/backup-storage/image-store", "name=bs-prod-bj-02")
    assert "description" not in reply.json["inventories"][0]
    assert "null" not in zs.query("/backup-storage/image-store").text


def test_dates_use_zstacks_format_in_the_configured_time_zone(sim: SimulatorServer, zs: ZStack) -> None:
    # The first zone is created at 2023-01-01 00:00:00 Asia/Shanghai (seed.py).
    assert zs.query("/zones", "name=zone-beijing-01").json["inventories"][0]["createDate"] == "Jan 1, 2023 12:00:00 AM"
    with SimulatorServer(port=0, time_zone="UTC", log_requests=False) as utc:
        assert utc.zones()[0]["createDate"] == "Dec 31, 2022 4:00:00 PM"
    dates = [
        i[key]
        for i in zs.query("/backup-storage/image-store").json["inventories"]
        for key in ("createDate", "lastOpDate")
    ]
    assert all(ZSTACK_DATE.match(date) for date in dates)


def test_capacities_are_json_integers_and_uuids_are_32_lowercase_hex(zs: ZStack) -> None:
    text = zs.query("/backup-storage/image-store").text
    assert "E" not in re.sub(r'"[^"]*"', "", text)  # no exponent notation anywhere outside strings
    for item in json.loads(text)["inventories"]:
        assert type(item["totalCapacity"]) is int and type(item["availableCapacity"]) is int
        assert 0 <= item["availableCapacity"] <= item["totalCapacity"]
        assert UUID.match(item["uuid"]) and all(UUID.match(z) for z in item["attachedZoneUuids"])


# -- §10.13 ChangeBackupStorageState ------------------------------------------------------------------


def change_state(zs: ZStack, uuid: str, event: Any) -> Reply:
    return zs.finish(zs.put(f"/backup-storage/{uuid}/actions", {"changeBackupStorageState": {"stateEvent": event}}))


def test_change_state_disables_and_enables_and_is_idempotent(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    for event, expected in (
        ("disable", "Disabled"),
        ("disable", "Disabled"),
        ("enable", "Enabled"),
        ("enable", "Enabled"),
    ):
        reply = change_state(zs, uuid, event)
        assert reply.status == 200 and reply.json["inventory"]["state"] == expected
        assert by_uuid(sim, uuid)["state"] == expected


@pytest.mark.parametrize("event", ["Disable", "DISABLE", "off", None])
def test_change_state_accepts_only_lowercase_enable_or_disable_and_fails_in_the_job(
    sim: SimulatorServer, zs: ZStack, event: Any
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert error_of(change_state(zs, uuid, event))["code"] == "SYS.1007"
    assert by_uuid(sim, uuid)["state"] == "Enabled"


def test_change_state_of_an_unknown_storage_fails_with_sys_1003(zs: ZStack) -> None:
    error = error_of(change_state(zs, "0" * 32, "disable"))
    assert error["code"] == "SYS.1003" and "0" * 32 in error["details"]


# -- §10.14 UpdateImageStoreBackupStorage ----------------------------------------------------------------


def test_an_update_changes_only_the_given_fields_and_bumps_last_op_date(sim: SimulatorServer, zs: ZStack) -> None:
    before = storage_named(sim, "bs-sh-archive")
    reply = zs.update(before["uuid"], {"name": "archive-2", "sshPort": 2200})
    assert reply.status == 200
    after = reply.json["inventory"]
    assert (after["name"], after["sshPort"]) == ("archive-2", 2200)
    unchanged = {k: v for k, v in before.items() if k not in ("name", "sshPort", "lastOpDate", "_password")}
    assert {k: after[k] for k in unchanged} == unchanged
    assert after["lastOpDate"] != before["lastOpDate"]
    assert by_uuid(sim, before["uuid"]) == {**after, "_password": before["_password"]}


def test_an_update_treats_json_nulls_as_absent(sim: SimulatorServer, zs: ZStack) -> None:
    before = storage_named(sim, "bs-prod-bj-01")
    reply = zs.update(
        before["uuid"],
        {
            "name": None,
            "description": None,
            "hostname": None,
            "username": None,
            "password": None,
            "sshPort": None,
            "uuid": None,
        },
        systemTags=None,
    )
    assert reply.status == 200
    assert {k: v for k, v in by_uuid(sim, before["uuid"]).items() if k != "lastOpDate"} == {
        k: v for k, v in before.items() if k != "lastOpDate"
    }


def test_two_updates_within_a_second_still_give_different_last_op_dates(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    first = zs.update(uuid, {"description": "one"}).json["inventory"]["lastOpDate"]
    second = zs.update(uuid, {"description": "two"}).json["inventory"]["lastOpDate"]
    assert first != second


@pytest.mark.parametrize("port", [0, 65536, -22])
def test_an_ssh_port_out_of_range_fails_in_the_job_with_sys_1007(sim: SimulatorServer, zs: ZStack, port: int) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert error_of(zs.update(uuid, {"sshPort": port}))["code"] == "SYS.1007"
    assert by_uuid(sim, uuid)["sshPort"] == 22


@pytest.mark.parametrize("port", [22.5, "22.5", "ssh", True])
def test_a_non_integral_ssh_port_is_a_plain_text_400_at_submit(sim: SimulatorServer, zs: ZStack, port: Any) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"sshPort": port}})
    assert reply.status == 400
    assert reply.text.startswith("[sshPort] field is excepted an int or long")


@pytest.mark.parametrize("port", [2222, "2222", 2222.0])
def test_integral_ssh_ports_pass_the_type_check_in_any_json_form(sim: SimulatorServer, zs: ZStack, port: Any) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert zs.update(uuid, {"sshPort": port}).json["inventory"]["sshPort"] == 2222


@pytest.mark.parametrize(
    "field, limit", [("name", 255), ("description", 2048), ("hostname", 255), ("username", 255), ("password", 255)]
)
def test_update_fields_are_limited_in_length(sim: SimulatorServer, zs: ZStack, field: str, limit: int) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert zs.update(uuid, {field: "x" * limit}).status == 200
    assert error_of(zs.update(uuid, {field: "y" * (limit + 1)}))["code"] == "SYS.1007"


def test_an_update_of_an_unknown_storage_fails_in_the_job_with_sys_1003(zs: ZStack) -> None:
    error = error_of(zs.update("0" * 32, {"name": "ghost"}))
    assert error["code"] == "SYS.1003"
    assert error["description"] == "A resource can not be found"


def test_an_update_does_not_reconnect(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "上海备份存储")["uuid"]
    assert zs.update(uuid, {"hostname": "198.51.100.99"}).json["inventory"]["status"] == "Disconnected"


def test_the_ssh_password_is_stored_but_never_returned(sim: SimulatorServer, zs: ZStack) -> None:
    canary = "canary-Pa55w0rd-7f3a"
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    replies = [zs.update(uuid, {"password": canary})]
    replies += [
        zs.get(f"/backup-storage/image-store/{uuid}"),
        zs.query("/backup-storage/image-store"),
        zs.query("/backup-storage", "type=ImageStoreBackupStorage"),
        zs.get("/zwatch/audits"),
    ]
    assert all(reply.status == 200 and canary not in reply.text for reply in replies)
    assert "password" not in replies[1].json["inventories"][0]
    assert by_uuid(sim, uuid)["_password"] == canary


def test_with_update_tags_store_tags_given_on_an_update_are_stored_once_as_tag_records(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    sim.set_faults(update_tags="store")
    for _ in range(2):
        assert (
            zs.update(uuid, {}, systemTags=["priority::high", "new::system"], userTags=["env::prod", "新标签"]).status
            == 200
        )
    user = sorted(t["tag"] for t in zs.query("/user-tags", f"resourceUuid={uuid}").json["inventories"])
    system = sorted(t["tag"] for t in zs.query("/system-tags", f"resourceUuid={uuid}").json["inventories"])
    assert user == ["env::prod", "owner::storage-team", "新标签"]
    assert system == ["new::system", "priority::high"]


def test_by_default_an_update_accepts_tags_but_stores_none_like_zstack_core(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert (
        zs.update(uuid, {"description": "still applied"}, systemTags=["new::system"], userTags=["team::blue"]).status
        == 200
    )
    user = sorted(t["tag"] for t in zs.query("/user-tags", f"resourceUuid={uuid}").json["inventories"])
    system = sorted(t["tag"] for t in zs.query("/system-tags", f"resourceUuid={uuid}").json["inventories"])
    assert user == ["env::prod", "owner::storage-team"] and system == ["priority::high"]
    assert by_uuid(sim, uuid)["description"] == "still applied"


def test_update_tags_defaults_to_ignore_and_accepts_only_store_or_ignore(sim: SimulatorServer, zs: ZStack) -> None:
    assert sim.faults()["update_tags"] == "ignore"
    assert control(zs, "POST", "/_sim/faults", {"update_tags": "drop"}).status == 400
    storing = SimulatorServer(port=0, update_tags="store")
    try:
        assert storing.faults()["update_tags"] == "store"
    finally:
        storing.stop()


def create_tag(zs: ZStack, kind: str, params: dict[str, Any]) -> Reply:
    """POST /system-tags or /user-tags with the body key ``params`` (CreateSystemTag/CreateUserTag)."""
    return zs.finish(zs.request("POST", f"{API}/{kind}-tags", {"params": params}, headers=zs.auth()))


def test_create_user_tag_adds_a_tag_record_through_a_job(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    reply = create_tag(zs, "user", {"resourceType": "BackupStorageVO", "resourceUuid": uuid, "tag": "团队::蓝"})
    assert reply.status == 200, reply.text
    inventory = reply.json["inventory"]
    assert (inventory["tag"], inventory["resourceUuid"], inventory["resourceType"], inventory["type"]) == (
        "团队::蓝",
        uuid,
        "BackupStorageVO",
        "User",
    )
    user = [t["tag"] for t in zs.query("/user-tags", f"resourceUuid={uuid}").json["inventories"]]
    assert "团队::蓝" in user


def test_create_system_tag_accepts_a_registered_pattern_and_refuses_others_through_the_job(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-02")["uuid"]
    params = {"resourceType": "ImageStoreBackupStorageVO", "resourceUuid": uuid}
    assert create_tag(zs, "system", {**params, "tag": "priority::low"}).status == 200
    refused = zs.request("POST", f"{API}/system-tags", {"params": {**params, "tag": "free text"}}, headers=zs.auth())
    assert refused.status == 202  # validated after the 202, like every async API
    error = error_of(zs.finish(refused))
    assert error["code"] == "SYS.1007"
    assert error["details"] == "no system tag matches[free text] for resourceType[ImageStoreBackupStorageVO]"
    system = [t["tag"] for t in zs.query("/system-tags", f"resourceUuid={uuid}").json["inventories"]]
    assert system == ["priority::low"]


def test_create_tag_on_an_unknown_resource_fails_with_sys_1003(sim: SimulatorServer, zs: ZStack) -> None:
    error = error_of(create_tag(zs, "user", {"resourceType": "BackupStorageVO", "resourceUuid": "0" * 32, "tag": "x"}))
    assert error["code"] == "SYS.1003"


def test_with_job_seconds_a_job_answers_202_until_that_time_has_passed(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    sim.set_faults(job_seconds=0.6, job_polls=0)
    path = zs.job_path(
        zs.put(f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"name": "slow"}})
    )
    assert zs.request("GET", path).status == 202
    assert by_uuid(sim, uuid)["name"] == "bs-prod-bj-01"  # nothing happens while the job runs
    time.sleep(0.7)
    assert zs.request("GET", path).status == 200
    assert by_uuid(sim, uuid)["name"] == "slow"
    assert control(zs, "POST", "/_sim/faults", {"job_seconds": -1}).status == 400


def test_with_omit_job_inventory_a_finished_job_answers_200_empty_but_its_work_is_done(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert sim.faults()["omit_job_inventory"] is False
    sim.set_faults(omit_job_inventory=True)  # docs/zstack-protocol.md §9
    submitted = zs.put(
        f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"name": "no-envelope"}}
    )
    finished = zs.finish(submitted)
    assert (finished.status, finished.json) == (200, {})
    assert zs.finish(submitted, headers={"X-JSON-Schema": "true"}).json == {"schema": {}}
    assert by_uuid(sim, uuid)["name"] == "no-envelope"
    reconnected = zs.finish(
        zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}})
    )
    assert (reconnected.status, reconnected.json) == (200, {})
    sim.set_faults(omit_job_inventory=False)  # the job's result was kept: the envelope is back
    assert zs.finish(submitted).json["inventory"]["name"] == "no-envelope"


def test_omit_job_inventory_leaves_failed_jobs_and_sync_answers_alone_and_accepts_only_booleans(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    sim.set_faults(omit_job_inventory=True, fail_next_jobs=[{"code": "SYS.1006", "details": "broken"}])
    failed = zs.finish(zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}}))
    assert error_of(failed)["details"] == "broken"
    assert zs.query("/backup-storage/image-store", f"uuid={uuid}").json["inventories"][0]["uuid"] == uuid
    assert control(zs, "POST", "/_sim/faults", {"omit_job_inventory": "yes"}).status == 400
    sim.reset()
    assert sim.faults()["omit_job_inventory"] is False


def test_delete_tag_is_async_and_removes_the_tag_record(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    tag = zs.query("/user-tags", f"resourceUuid={uuid}", "tag=env::prod").json["inventories"][0]
    submitted = zs.request("DELETE", f"{API}/tags/{tag['uuid']}", headers=zs.auth())
    assert submitted.status == 202
    assert (lambda r: (r.status, r.json))(zs.finish(submitted)) == (200, {})
    assert zs.query("/user-tags", f"uuid={tag['uuid']}").json["inventories"] == []
    assert zs.names("/backup-storage/image-store", "__userTag__=env::prod") == ["bs-prod-bj-02", "bs-sz-prod-01"]


# -- ReconnectImageStoreBackupStorage (§4.3) --------------------------------------------------------------


def test_a_reconnect_shows_connecting_while_its_job_runs_then_connected(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "上海备份存储")["uuid"]
    submitted = zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}})
    assert zs.get(f"/backup-storage/image-store/{uuid}").json["inventories"][0]["status"] == "Connecting"
    result = zs.finish(submitted)
    assert result.status == 200 and result.json["inventory"]["status"] == "Connected"
    assert by_uuid(sim, uuid)["status"] == "Connected"


def test_a_reconnect_can_be_made_to_end_disconnected_with_the_connect_error(sim: SimulatorServer, zs: ZStack) -> None:
    sim.set_faults(reconnect_result="Disconnected")
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    error = error_of(
        zs.finish(zs.put(f"/backup-storage/image-store/{uuid}/actions", {"reconnectImageStoreBackupStorage": {}}))
    )
    assert error["code"] == "SYS.1006" and error["cause"]["code"] == "SYS.1000"
    assert by_uuid(sim, uuid)["status"] == "Disconnected"


# -- §10.15 GetBackupStorageCapacity ------------------------------------------------------------------


def test_capacity_sums_the_listed_storages_given_as_repeated_or_indexed_keys(sim: SimulatorServer, zs: ZStack) -> None:
    a, b = storage_named(sim, "bs-prod-bj-01"), storage_named(sim, "bs-ci-cache")
    expected = {
        "totalCapacity": a["totalCapacity"] + b["totalCapacity"],
        "availableCapacity": a["availableCapacity"] + b["availableCapacity"],
        "success": True,
    }
    repeated = zs.get(
        "/backup-storage/capacities", [("backupStorageUuids", a["uuid"]), ("backupStorageUuids", b["uuid"])]
    )
    indexed = zs.get(
        "/backup-storage/capacities", [("backupStorageUuids.0", a["uuid"]), ("backupStorageUuids.1", b["uuid"])]
    )
    assert repeated.json == expected and indexed.json == expected


def test_capacity_by_zone_counts_a_storage_in_two_listed_zones_twice(sim: SimulatorServer, zs: ZStack) -> None:
    beijing, shanghai, _ = (zone["uuid"] for zone in sim.zones())

    def total(zone_uuids: list[str]) -> int:
        return sum(s["totalCapacity"] for z in zone_uuids for s in sim.storages() if z in s["attachedZoneUuids"])

    reply = zs.get("/backup-storage/capacities", [("zoneUuids", beijing), ("zoneUuids", shanghai)])
    # bs-prod-bj-02 is in both zones, so this differs from a sum over distinct storages.
    assert reply.json["totalCapacity"] == total([beijing, shanghai])
    everything = zs.get("/backup-storage/capacities", {"all": "true"}).json
    assert everything["totalCapacity"] == sum(s["totalCapacity"] for s in sim.storages())
    assert everything["success"] is True


@pytest.mark.parametrize("params", [{}, {"all": "false"}, {"zoneUuids": ""}])
def test_capacity_without_lists_and_without_all_is_sys_1007(zs: ZStack, params: dict[str, str]) -> None:
    assert error_of(zs.get("/backup-storage/capacities", params))["code"] == "SYS.1007"


# -- §10.16 audits ------------------------------------------------------------------------------------------


def test_audits_record_who_changed_what_with_the_password_masked(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    zs.update(uuid, {"name": "audited", "password": "secret-canary"})
    change_state(zs, uuid, "Nope")
    audits = zs.get("/zwatch/audits").json["audits"]
    assert [a["apiName"].rsplit(".", 1)[1] for a in audits] == [
        "APIChangeBackupStorageStateMsg",
        "APIUpdateImageStoreBackupStorageMsg",
    ]
    failed, updated = audits
    assert (updated["resourceUuid"], updated["success"], updated["error"]) == (uuid, True, "")
    assert updated["operatorAccountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert "audited" in updated["requestDump"] and "secret-canary" not in json.dumps(audits)
    assert failed["success"] is False and "SYS.1007" in failed["error"]


# -- demo data ----------------------------------------------------------------------------------------------


def test_the_demo_data_is_a_deterministic_mixed_dozen_over_three_zones(sim: SimulatorServer) -> None:
    storages = sim.storages()
    assert len(storages) == 12 and len(sim.zones()) == 3
    assert {s["state"] for s in storages} == {"Enabled", "Disabled"}
    assert {s["status"] for s in storages} == {"Connected", "Disconnected"}
    assert any(re.search(r"[\u4e00-\u9fff]", s["name"]) for s in storages)
    assert all(s["totalCapacity"] >= 2**40 for s in storages)  # TB-sized
    assert sim.tags()
    sim.reset()
    assert sim.storages() == storages  # same uuids, names and dates after a reset


def test_ten_thousand_storages_answer_the_list_pages_query() -> None:
    # The "well under 50 ms" target is measured by `make bench` (python -m simulator.bench), not asserted here:
    # a loaded machine would fail it without anything being wrong.
    from simulator.bench import measure

    timings, body = measure(storages=10_000, rounds=3)
    assert body["total"] > 20 and len(body["inventories"]) == 20
    assert len(timings) == 3


# -- control endpoints and the Python API ----------------------------------------------------------------


def control(zs: ZStack, method: str, path: str, body: Any = None) -> Reply:
    reply = zs.request(method, path, body)
    assert reply.headers.get("Content-Type") == "application/json"
    return reply


def test_reset_restores_data_and_clears_faults_sessions_jobs_and_the_request_log(
    sim: SimulatorServer, zs: ZStack
) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    job = zs.job_path(
        zs.put(f"/backup-storage/image-store/{uuid}/actions", {"updateImageStoreBackupStorage": {"name": "changed"}})
    )
    zs.request("GET", job), zs.request("GET", job)
    sim.set_faults(latency_ms=5, job_polls=4, fail_next=[{"match": "GET /nothing"}])
    assert control(zs, "POST", "/_sim/reset").json == {"storages": 12}
    assert storage_named(sim, "bs-prod-bj-01")["uuid"] == uuid
    assert sim.faults()["job_polls"] == 1 and sim.faults()["fail_next"] == []
    assert sim.requests() == []
    assert error_of(zs.get("/zones"))["code"] == "ID.1001"
    assert zs.request("GET", job).status == 404


def test_reset_takes_a_size_and_a_seed(sim: SimulatorServer, zs: ZStack) -> None:
    control(zs, "POST", "/_sim/reset", {"storages": 40, "seed": 7})
    first = sim.storages()
    assert len(first) == 40
    sim.reset(storages=40, seed=8)
    assert [s["uuid"] for s in sim.storages()] != [s["uuid"] for s in first]
    assert control(zs, "POST", "/_sim/reset", {"storages": "many"}).status == 400


def test_fail_next_fails_only_the_next_matching_request_with_a_zstack_error(sim: SimulatorServer, zs: ZStack) -> None:
    zs.login()
    faults = control(
        zs,
        "POST",
        "/_sim/faults",
        {
            "fail_next": [
                {"status": 503, "code": "SYS.1006", "details": "boom", "match": "GET /zstack/v1/backup-storage"}
            ]
        },
    )
    assert faults.json["faults"]["fail_next"][0]["details"] == "boom"
    assert zs.get("/zones").status == 200  # does not match
    error = error_of(zs.get("/backup-storage/image-store"))
    assert (error["code"], error["description"], error["details"]) == ("SYS.1006", "An operation failed", "boom")
    assert zs.get("/backup-storage/image-store").status == 200  # consumed


def test_fail_next_can_send_a_raw_body_without_content_length(sim: SimulatorServer, zs: ZStack) -> None:
    zs.login()
    sim.set_faults(
        fail_next=[
            {"status": 502, "raw_body": "<html>bad gateway</html>", "omit_content_length": True},
            {"status": 503, "raw_body": "not json"},
        ]
    )
    first = zs.get("/zones")
    assert (first.status, first.text, first.headers.get("Content-Length")) == (502, "<html>bad gateway</html>", None)
    second = zs.get("/zones")
    assert (second.status, second.text) == (503, "not json")


def test_fail_next_jobs_makes_the_next_job_end_with_that_error(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    sim.set_faults(fail_next_jobs=[{"code": "SYS.1001", "details": "timeout"}])
    error = error_of(zs.update(uuid, {"name": "x"}))
    assert (error["code"], error["details"]) == ("SYS.1001", "timeout")
    assert by_uuid(sim, uuid)["name"] == "bs-prod-bj-01"
    assert zs.update(uuid, {"name": "x"}).status == 200


def test_fail_next_can_drop_the_matching_request_without_handling_it(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    zs.login()
    sim.set_faults(fail_next=[{"drop": True, "match": "PUT /zstack/v1/backup-storage/"}])
    assert zs.get("/zones").status == 200  # another request: untouched
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        zs.update(uuid, {"name": "never-applied"})
    assert by_uuid(sim, uuid)["name"] == "bs-prod-bj-01"


def test_drop_next_closes_the_connection_without_an_answer(sim: SimulatorServer, zs: ZStack) -> None:
    zs.login()
    sim.set_faults(drop_next=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        zs.get("/zones")
    assert zs.get("/zones").status == 200


def test_latency_delays_every_zstack_call_but_not_control_calls(
    sim: SimulatorServer, zs: ZStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the simulator asks to sleep, not a stopwatch: a loaded machine cannot make this pass or fail.
    sleeps: list[float] = []
    monkeypatch.setattr(
        simulator.server,
        "time",
        SimpleNamespace(sleep=sleeps.append, perf_counter=time.perf_counter, monotonic=time.monotonic),
    )
    zs.login()
    sleeps.clear()
    sim.set_faults(latency_ms=150)
    assert zs.get("/zones").status == 200
    assert sleeps == [0.15]
    assert control(zs, "GET", "/_sim/faults").status == 200
    assert sleeps == [0.15]  # the control call was not delayed


def test_bad_fault_settings_are_rejected_loudly(sim: SimulatorServer, zs: ZStack) -> None:
    assert control(zs, "POST", "/_sim/faults", {"latency": 5}).status == 400
    assert control(zs, "POST", "/_sim/faults", {"reconnect_result": "Maybe"}).status == 400
    with pytest.raises(ValueError):
        sim.set_faults(job_polls=-1)


def test_expire_sessions_invalidates_every_session(sim: SimulatorServer, zs: ZStack) -> None:
    session = zs.login()
    assert control(zs, "POST", "/_sim/expire-sessions").status == 200
    assert zs.request("GET", f"{API}/accounts/sessions/{session}/valid").json == {"valid": False}
    assert error_of(zs.get("/zones"))["code"] == "ID.1001"


def test_the_request_log_has_every_zstack_request_and_can_be_cleared(sim: SimulatorServer, zs: ZStack) -> None:
    session = zs.login()
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    zs.get("/zones", {"q": "name~=%zone%"})
    zs.put(
        f"/backup-storage/image-store/{uuid}/actions",
        {"updateImageStoreBackupStorage": {"name": "n"}},
        headers={"X-Job-UUID": "ab" * 16},
    )
    logged = control(zs, "GET", "/_sim/requests").json["requests"]
    assert [(r["method"], r["path"]) for r in logged] == [
        ("PUT", "/zstack/v1/accounts/login"),
        ("GET", "/zstack/v1/zones"),
        ("PUT", f"/zstack/v1/backup-storage/image-store/{uuid}/actions"),
    ]
    assert logged[0]["body"]["logInByAccount"]["password"] == PASSWORD_HASH
    assert logged[1]["query"] == "q=name~%3D%25zone%25" and logged[1]["body"] is None
    assert logged[1]["headers"]["Authorization"] == f"OAuth {session}"
    assert logged[2]["headers"]["X-Job-UUID"] == "ab" * 16
    assert logged[2]["body"] == {"updateImageStoreBackupStorage": {"name": "n"}}
    assert sim.requests() == logged
    control(zs, "DELETE", "/_sim/requests")
    assert sim.requests() == []


def test_patch_storage_changes_a_storage_out_of_band_and_bumps_last_op_date(sim: SimulatorServer, zs: ZStack) -> None:
    before = storage_named(sim, "bs-prod-bj-01")
    reply = control(zs, "PATCH", f"/_sim/storages/{before['uuid']}", {"name": "someone-else", "status": "Connecting"})
    assert reply.json["storage"]["name"] == "someone-else"
    seen = zs.get(f"/backup-storage/image-store/{before['uuid']}").json["inventories"][0]
    assert (seen["name"], seen["status"]) == ("someone-else", "Connecting")
    assert seen["lastOpDate"] != before["lastOpDate"]
    assert sim.patch_storage(before["uuid"], availableCapacity=5)["availableCapacity"] == 5


def test_patch_storage_rejects_unknown_storages_fields_and_values(sim: SimulatorServer, zs: ZStack) -> None:
    uuid = storage_named(sim, "bs-prod-bj-01")["uuid"]
    assert control(zs, "PATCH", f"/_sim/storages/{'0' * 32}", {"name": "x"}).status == 404
    assert control(zs, "PATCH", f"/_sim/storages/{uuid}", {"uuid": "x"}).status == 400
    assert control(zs, "PATCH", f"/_sim/storages/{uuid}", {"state": "enabled"}).status == 400
    assert control(zs, "GET", "/_sim/nothing").status == 404


# -- HTTP behaviour ---------------------------------------------------------------------------------------


def test_keep_alive_calls_do_not_stall_on_delayed_acks(sim: SimulatorServer, zs: ZStack) -> None:
    # With Nagle on, each call on a reused connection waits ~40 ms for the client's delayed ACK. The cause is
    # checked here (one connection, TCP_NODELAY on the server's socket); scripts/bench.py prints the timing.
    zs.login()
    assert zs.get("/zones").status == 200
    connection = zs.conn.sock
    for _ in range(20):
        reply = zs.get("/zones")
        assert reply.status == 200
        assert reply.headers.get("Connection") != "close"
    assert zs.conn.sock is connection  # every call reused the one keep-alive connection
    served = list(sim._httpd._connections)
    assert served
    assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in served)


def test_concurrent_clients_are_served_consistently(sim: SimulatorServer) -> None:
    results: list[int] = []

    def worker() -> None:
        client = ZStack(sim.url)
        uuid = sim.storages()[0]["uuid"]
        for index in range(5):
            results.append(client.query("/backup-storage/image-store", "state=Enabled").status)
            results.append(client.update(uuid, {"description": f"d{index}"}).status)

    run_in_threads(worker, 6)
    assert results == [200] * 60


def test_the_command_line_serves_the_api_and_logs_one_line_per_request_without_secrets() -> None:
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            "0",
            "--storages",
            "3",
            "--password",
            "cli-secret",
            "--job-polls",
            "0",
            "--update-tags",
            "ignore",
        ],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stderr.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/zstack/v1", banner).group(1)
        zs = ZStack(url)
        login = zs.request(
            "PUT",
            f"{API}/accounts/login",
            {"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"cli-secret").hexdigest()}},
        )
        zs.session = login.json["inventory"]["uuid"]
        uuid = zs.query("/backup-storage/image-store").json["inventories"][0]["uuid"]
        assert len(zs.query("/backup-storage/image-store").json["inventories"]) == 3
        assert zs.update(uuid, {"password": "ssh-canary"}).status == 200  # done at the first poll
        tags_before = zs.query("/user-tags", f"resourceUuid={uuid}").json["inventories"]
        assert zs.update(uuid, {}, userTags=["cli::ignored"]).status == 200  # --update-tags ignore
        assert zs.query("/user-tags", f"resourceUuid={uuid}").json["inventories"] == tags_before
    finally:
        process.terminate()
        log = process.communicate(timeout=10)[1]
    assert re.search(r"PUT /zstack/v1/accounts/login 200 [\d.]+ms", log)
    assert re.search(r"GET /zstack/v1/api-jobs/[0-9a-f]{32} 200", log)
    for secret in ("cli-secret", "ssh-canary", hashlib.sha512(b"cli-secret").hexdigest(), zs.session):
        assert secret not in log


def control_status(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/_sim/storages", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_control_endpoints_are_off_unless_asked_for():
    """They can read stored SSH passwords: the command line serves them only with --control."""
    assert parse_args([]).control is False and parse_args(["--control"]).control is True
    with SimulatorServer(port=0, log_requests=False, control_endpoints=False) as closed:
        assert control_status(closed.url) == 404


@pytest.mark.parametrize(("options", "expected"), [([], 404), (["--control"], 200)])
def test_the_command_line_serves_the_control_endpoints_only_with_control(options, expected) -> None:
    """`python -m simulator` itself, not just parse_args: the in-process default is to serve them."""
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--storages", "2", "--quiet", *options],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stderr.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/zstack/v1", banner).group(1)
        assert control_status(url) == expected
        assert ZStack(url).get("/zones").status == 200  # the API itself is served either way
    finally:
        process.terminate()
        process.communicate(timeout=10)
