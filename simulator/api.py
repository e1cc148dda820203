"""The ``/zstack/v1`` routes and the synchronous APIs: login, sessions, queries, capacity, audits.

Routing follows [RS]: paths are matched with the context path stripped (``/v1/...``); an unknown path
is a plain-text 404 ``no api mapping to /v1/...``; a known path with a method it does not serve is 405.
Async actions and job polling live in async_api.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator import async_api, audits
from simulator.query import (
    BACKUP_STORAGE,
    IMAGE,
    IMAGE_STORE,
    SYSTEM_TAG,
    USER_TAG,
    ZONE,
    QueryParams,
    Resource,
    parse_params,
    run_query,
    split_condition,
)
from simulator.rest import job_uuid_header, ok, optional_json_object, require_session
from simulator.seed import IMAGE_STORE_TYPE
from simulator.state import State
from simulator.wire import (
    ApiError,
    Request,
    Response,
    RestError,
    format_date,
    invalid_argument,
    json_response,
    text_response,
)

Handler = Callable[..., Response]
SESSION_CLASS = "org.zstack.header.identity.SessionInventory"
LOGIN_MSG = "org.zstack.header.identity.APILogInByAccountMsg"
_UUID = r"(?P<uuid>[^/]+)"


class ZStackApi:
    def __init__(self, state: State, job_base_url: Callable[[], str]) -> None:
        self.state = state
        self.actions = async_api.AsyncApi(state, job_base_url)
        routes: list[tuple[str, dict[str, Handler]]] = [
            # A unique path: [RS] does not check the method there (§3.2).
            (r"/accounts/login", {"*": self.login}),
            (rf"/accounts/sessions/{_UUID}", {"DELETE": self.logout}),
            (rf"/accounts/sessions/{_UUID}/valid", {"GET": self.validate_session}),
            (r"/zones", {"GET": self.query_zones}),
            (rf"/zones/{_UUID}", {"GET": self.query_zones}),
            (r"/backup-storage/image-store", {"GET": self.query_image_stores}),
            (rf"/backup-storage/image-store/{_UUID}", {"GET": self.query_image_stores}),
            (rf"/backup-storage/image-store/{_UUID}/actions", {"PUT": self.actions.image_store_action}),
            # Exact paths win over templated ones, as in [RS]; so capacities comes before {uuid}.
            (r"/backup-storage/capacities", {"GET": self.capacity}),
            (r"/backup-storage", {"GET": self.query_backup_storages}),
            (rf"/backup-storage/{_UUID}", {"GET": self.query_backup_storages}),
            (rf"/backup-storage/{_UUID}/actions", {"PUT": self.actions.backup_storage_action}),
            # Shared with the create APIs: [RS] picks the API by method (§4.7).
            (r"/system-tags", {"GET": self.query_system_tags, "POST": self.actions.create_system_tag}),
            (r"/user-tags", {"GET": self.query_user_tags, "POST": self.actions.create_user_tag}),
            (rf"/tags/{_UUID}", {"DELETE": self.actions.delete_tag}),
            (r"/images", {"GET": self.query_images}),
            (rf"/images/{_UUID}", {"GET": self.query_images}),
            (rf"/api-jobs/{_UUID}", {"*": self.actions.poll_job}),
            (r"/zwatch/audits", {"GET": self.get_audits}),
        ]
        self._routes = [(re.compile(f"^{pattern}$"), methods) for pattern, methods in routes]

    def handle(self, request: Request) -> Response:
        path = request.path[len("/zstack") :]  # [RS] routes on "/v1/..." (§1)
        for pattern, methods in self._routes if path.startswith("/v1/") else ():
            match = pattern.match(path[len("/v1") :])
            if match is None:
                continue
            handler = methods.get(request.method) or methods.get("*")
            if handler is None:
                return text_response(405, f"the method[{request.method}] is not supported for the path[{path}]")
            try:
                return handler(request, **match.groupdict())
            except RestError as error:
                return text_response(error.status, error.text)
            except ApiError as error:  # sync failures: 503 JSON (§7.2)
                return json_response(503, error.body())
        return text_response(404, f"no api mapping to {path}")

    # -- sessions (§2) ------------------------------------------------------------------------

    def login(self, request: Request) -> Response:
        body = optional_json_object(request)
        job_uuid_header(self.state, request)
        # A wrongly named key is silently ignored on a unique path, so validation fails (§2.1).
        params = body.get("logInByAccount")
        params = params if isinstance(params, dict) else {}
        for name in ("accountName", "password"):
            if params.get(name) is None:
                raise invalid_argument(f"field[{name}] of message[{LOGIN_MSG}] is mandatory, can not be null")
        with self.state.lock:
            session = self.state.login(str(params["accountName"]), str(params["password"]))
        if session is None:
            raise ApiError("ID.1000", "wrong account name or password")
        tz = self.state.tz
        inventory = {
            "uuid": session.uuid,
            "accountUuid": self.state.account_uuid,
            "userUuid": self.state.account_uuid,
            "userType": "AccountVO",
            "expiredDate": format_date(session.expires, tz),
            "createDate": format_date(session.created, tz),
            # @APINoSee, but the HTTP Gson does not filter it (§2.1, inferred).
            "noSessionEvaluation": False,
        }
        return ok(request, {"inventory": inventory}, {"inventory": SESSION_CLASS})

    def logout(self, request: Request, uuid: str) -> Response:
        job_uuid_header(self.state, request)
        with self.state.lock:
            self.state.logout(uuid)
        return ok(request, {}, {})  # always success, even for unknown sessions (§2.2)

    def validate_session(self, request: Request, uuid: str) -> Response:
        with self.state.lock:  # no renewal: a check without side effects (§2.3)
            valid = self.state.session_valid(uuid)
        return ok(request, {"valid": valid}, {})

    # -- queries (§4.1, §6) ---------------------------------------------------------------------

    def query_zones(self, request: Request, uuid: str | None = None) -> Response:
        return self._query(request, ZONE, lambda: self.state.zones, uuid)

    def query_image_stores(self, request: Request, uuid: str | None = None) -> Response:
        return self._query(request, IMAGE_STORE, lambda: self.state.storages, uuid)

    def query_images(self, request: Request, uuid: str | None = None) -> Response:
        # QueryImage (§4.8): images on a storage are `backupStorageRefs.backupStorageUuid=<uuid>`.
        return self._query(request, IMAGE, lambda: self._images_for(request), uuid)

    def _images_for(self, request: Request) -> list[dict[str, Any]]:
        """Where to look: a query for the images on a storage starts from that storage's images
        (state.images_on), in their usual order; its condition is still applied to them like any other."""
        for name, value in request.pairs():
            if name == "q" and value.partition("=")[0] == "backupStorageRefs.backupStorageUuid":
                return self.state.images_on.get(value.partition("=")[2].casefold(), [])
        return self.state.images

    def query_backup_storages(self, request: Request, uuid: str | None = None) -> Response:
        # With a `type=ImageStoreBackupStorage` condition ZStack queries the child inventory class,
        # so the subclass fields appear (§4.1 getQueryTargetInventoryClass).
        resource = BACKUP_STORAGE
        if uuid is None:
            for name, value in request.pairs():
                if name == "q" and split_condition(value) == ("type", "=", IMAGE_STORE_TYPE):
                    resource = IMAGE_STORE
        return self._query(request, resource, lambda: self.state.storages, uuid)

    def query_system_tags(self, request: Request) -> Response:
        return self._query(request, SYSTEM_TAG, lambda: self._tags("System"))

    def query_user_tags(self, request: Request) -> Response:
        return self._query(request, USER_TAG, lambda: self._tags("User"))

    def _tags(self, tag_type: str) -> list[dict[str, Any]]:
        return [tag for tag in self.state.tags if tag["type"] == tag_type]

    def _query(
        self, request: Request, resource: Resource, records: Callable[[], list[dict[str, Any]]], uuid: str | None = None
    ) -> Response:
        require_session(self.state, request)
        # The /{uuid} form is the single condition uuid=<uuid>; every other parameter is ignored
        # and a miss is an empty list, not a 404 (§4.1).
        params = QueryParams(conditions=[]) if uuid is not None else parse_params(request.pairs())
        with self.state.lock:
            rows = records()
            if uuid is not None:
                rows = [row for row in rows if row["uuid"] == uuid]
            body = run_query(resource, rows, params, tz=self.state.tz, tags_of=self.state.tags_of)
        return json_response(200, body)  # "schema" is always there on queries (§6.3)

    # -- GetBackupStorageCapacity (§4.5) -----------------------------------------------------

    def capacity(self, request: Request) -> Response:
        require_session(self.state, request)
        pairs = request.pairs()
        zone_uuids = _list_param(pairs, "zoneUuids")
        storage_uuids = _list_param(pairs, "backupStorageUuids")
        every = next((v for k, v in pairs if k == "all"), "").lower() == "true"
        if not zone_uuids and not storage_uuids and not every:
            raise invalid_argument(
                "zoneUuids, backupStorageUuids must have at least one be none-empty list, or all is set to true"
            )
        with self.state.lock:
            storages = self.state.storages
            if every:
                chosen = list(storages)
            elif storage_uuids:
                wanted = set(storage_uuids)
                chosen = [s for s in storages if s["uuid"] in wanted]
            else:  # a join on the zone-ref table: a storage in two listed zones counts twice
                chosen = [s for zone in dict.fromkeys(zone_uuids) for s in storages if zone in s["attachedZoneUuids"]]
            total = sum(s["totalCapacity"] for s in chosen)
            available = sum(s["availableCapacity"] for s in chosen)
        return ok(request, {"totalCapacity": total, "availableCapacity": available, "success": True}, {})

    # -- ZWatch GetAuditData (§4.6) -----------------------------------------------------------

    def get_audits(self, request: Request) -> Response:
        require_session(self.state, request)
        with self.state.lock:
            body = audits.select(self.state.audits, request.pairs())
        return ok(request, body, {})


def _list_param(pairs: list[tuple[str, str]], name: str) -> list[str]:
    """Repeated keys (``x=a&x=b``) or indexed ones (``x.0=a&x.1=b``), both accepted (§4.5)."""
    repeated = [value for key, value in pairs if key == name]
    indexed = {
        int(key[len(name) + 1 :]): value
        for key, value in pairs
        if key.startswith(name + ".") and key[len(name) + 1 :].isdigit()
    }
    return [v for v in repeated + [indexed[i] for i in sorted(indexed)] if v]
