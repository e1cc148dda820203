"""The async action endpoints and job polling (docs/zstack-protocol.md §3, §4.2–§4.4, §5).

Submission checks only what ZStack's REST layer checks (body, action key, X-Job-UUID, Authorization
header, TypeVerifier) and answers 202 + location; everything else — the session, validation, unknown
uuids, injected job faults — arrives through the job (§5.1, §7.2).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator import actions, audits
from simulator.jobs import Job, JobResult
from simulator.rest import job_uuid_header, json_object, ok, session_renewed
from simulator.state import State
from simulator.wire import ApiError, Request, Response, RestError, invalid_session, json_response, new_uuid

# The action keys of each shared path, in registration order (§3.2). Matching is exact and
# case-sensitive: `updateimagestorebackupstorage` (the explorer pages' spelling) is a 400.
_IMAGE_STORE_ACTIONS = (
    "updateImageStoreBackupStorage",
    "reconnectImageStoreBackupStorage",
    "reclaimSpaceFromImageStore",
)
_BACKUP_STORAGE_ACTIONS = ("changeBackupStorageState", "updateBackupStorage", "reconnectBackupStorage")
_DEFAULT_API_TIMEOUT_MS = 1_800_000


class AsyncApi:
    def __init__(self, state: State, job_base_url: Callable[[], str]) -> None:
        self.state = state
        self.job_base_url = job_base_url

    def image_store_action(self, request: Request, uuid: str) -> Response:
        body = json_object(request)
        key = _action_key(body, _IMAGE_STORE_ACTIONS, f"/v1/backup-storage/image-store/{uuid}/actions")
        params = _action_params(body, key)
        if key == "updateImageStoreBackupStorage":
            _verify_integer(params, "sshPort")
            system_tags, user_tags = _tag_param(body, params, "systemTags"), _tag_param(body, params, "userTags")
            return self._submit(
                request,
                actions.UPDATE_MSG,
                uuid,
                "ImageStoreBackupStorageVO",
                lambda: actions.update(self.state, uuid, params, system_tags, user_tags),
            )
        if key == "reclaimSpaceFromImageStore":
            return self._submit(
                request,
                actions.RECLAIM_MSG,
                uuid,
                "ImageStoreBackupStorageVO",
                lambda: actions.reclaim_space(self.state, uuid),
            )
        return self._submit(
            request,
            actions.RECONNECT_MSG,
            uuid,
            "ImageStoreBackupStorageVO",
            lambda: actions.finish_reconnect(self.state, uuid),
            start=lambda: actions.start_reconnect(self.state, uuid),
        )

    def backup_storage_action(self, request: Request, uuid: str) -> Response:
        body = json_object(request)
        key = _action_key(body, _BACKUP_STORAGE_ACTIONS, f"/v1/backup-storage/{uuid}/actions")
        params = _action_params(body, key)
        if key == "changeBackupStorageState":
            return self._submit(
                request,
                actions.CHANGE_STATE_MSG,
                uuid,
                "BackupStorageVO",
                lambda: actions.change_state(self.state, uuid, params),
            )
        if key == "updateBackupStorage":
            system_tags, user_tags = _tag_param(body, params, "systemTags"), _tag_param(body, params, "userTags")
            return self._submit(
                request,
                actions.UPDATE_GENERIC_MSG,
                uuid,
                "BackupStorageVO",
                lambda: actions.update(self.state, uuid, params, system_tags, user_tags, generic=True),
            )
        return self._submit(
            request,
            actions.RECONNECT_GENERIC_MSG,
            uuid,
            "BackupStorageVO",
            lambda: actions.finish_reconnect(self.state, uuid, generic=True),
            start=lambda: actions.start_reconnect(self.state, uuid),
        )

    def create_system_tag(self, request: Request) -> Response:
        return self._create_tag(request, "System")

    def create_user_tag(self, request: Request) -> Response:
        return self._create_tag(request, "User")

    def _create_tag(self, request: Request, tag_type: str) -> Response:
        """CreateSystemTag / CreateUserTag: POST on the query path, body key ``params`` (§4.7)."""
        params = _action_params(json_object(request), "params")
        message = actions.CREATE_SYSTEM_TAG_MSG if tag_type == "System" else actions.CREATE_USER_TAG_MSG
        resource_uuid = params.get("resourceUuid")
        return self._submit(
            request,
            message,
            resource_uuid if isinstance(resource_uuid, str) else "",
            f"{tag_type}TagVO",
            lambda: actions.create_tag(self.state, params, tag_type),
        )

    def delete_tag(self, request: Request, uuid: str) -> Response:
        return self._submit(
            request, actions.DELETE_TAG_MSG, uuid, "TagVO", lambda: actions.delete_tag(self.state, uuid)
        )

    def poll_job(self, request: Request, uuid: str) -> Response:
        """No authentication is checked here: [RS] answers job polls before parsing it (§5.2)."""
        if request.method != "GET":
            raise RestError(405, "only GET method is allowed for querying job status")
        with self.state.lock:
            result = self.state.jobs.poll(uuid, never_finish=self.state.faults.jobs_never_finish)
            omit_inventory = self.state.faults.omit_job_inventory
        if result is None:
            raise RestError(404, "the job has been expired")
        if result.status == 200:
            if omit_inventory:  # only the answer loses it; the job did its work (§9)
                return ok(request, _without_inventory(result.body), _without_inventory(result.schema))
            return ok(request, result.body, result.schema)
        return json_response(result.status, result.body)

    def _submit(
        self,
        request: Request,
        api_name: str,
        resource_uuid: str,
        resource_type: str,
        run: Callable[[], actions.Result],
        start: Callable[[], None] | None = None,
    ) -> Response:
        job_uuid = job_uuid_header(self.state, request) or new_uuid()
        session_ok = session_renewed(self.state, request)
        submitted = time.time()
        error: ApiError | None = None  # decided under the lock below, read when the job completes

        def finish() -> JobResult:
            try:
                if error is not None:
                    raise error
                body, schema = run()
                result = JobResult(200, body, schema)
            except ApiError as failure:
                result = JobResult(503, failure.body(), {})
            if session_ok:  # without a session there is no operator to audit
                self.state.add_audit(
                    audits.build(
                        api_name=api_name,
                        resource_uuid=resource_uuid,
                        resource_type=resource_type,
                        account_uuid=self.state.account_uuid,
                        account_name=self.state.options.account,
                        job_uuid=job_uuid,
                        submitted=submitted,
                        request_body=request.logged_body(),
                        status=result.status,
                        response_body=result.body,
                        client_ip=request.client_ip,
                        user_agent=request.header("User-Agent"),
                    )
                )
            return result

        with self.state.lock:
            if job_uuid in self.state.jobs:  # a concurrent twin got here first
                raise RestError(400, f"Duplicate job uuid[{job_uuid}]")
            error = None if session_ok else invalid_session()
            if error is None:
                error = self.state.faults.take_job_fault()
            if error is None and start is not None:
                start()
            self.state.jobs.add(
                Job(
                    uuid=job_uuid,
                    run=finish,
                    polls_left=self.state.faults.job_polls,
                    ready_at=time.monotonic() + self.state.faults.job_seconds,
                )
            )
            base = self.state.faults.foreign_location or self.job_base_url()
        return json_response(
            202, {"location": f"{base}/zstack/v1/api-jobs/{job_uuid}", "apiTimeout": _api_timeout_ms(request)}
        )


def _without_inventory(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "inventory"}


def _action_key(body: dict[str, Any], candidates: tuple[str, ...], path: str) -> str:
    for key in candidates:
        if key in body:
            return key
    raise RestError(400, f"the body doesn't contain action mapping to the URL[{path}]")


def _action_params(body: dict[str, Any], key: str) -> dict[str, Any]:
    params = body.get(key)
    return params if isinstance(params, dict) else {}


def _tag_param(body: dict[str, Any], params: dict[str, Any], name: str) -> Any:
    """Tags may sit beside the action object or inside it; a top-level non-null value wins (§3.1)."""
    top = body.get(name)
    return top if top is not None else params.get(name)


def _verify_integer(params: dict[str, Any], name: str) -> None:
    """[RS] TypeVerifier: 22, "22" and 22.0 pass, 22.5 does not; a 400 before any job (§3.1)."""
    value = params.get(name)
    if value is None:
        return
    if isinstance(value, bool):
        integral = False
    elif isinstance(value, int):
        integral = True
    elif isinstance(value, float):
        integral = value.is_integer()
    else:
        try:
            number = Decimal(str(value).strip())
            integral = number.is_finite() and number == number.to_integral_value()
        except InvalidOperation:
            integral = False
    if not integral:
        raise RestError(400, f"[{name}] field is excepted an int or long, but was [{value}].")


def _api_timeout_ms(request: Request) -> int:
    header = request.header("X-API-Timeout")  # seconds (§1)
    if header is not None and header.strip().isdigit():
        return int(header.strip()) * 1000
    return _DEFAULT_API_TIMEOUT_MS
