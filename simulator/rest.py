"""Checks ZStack's REST layer makes before a message reaches the API pipeline ([RS] handleApi).

Their failures are plain-text 400/500 answers (§7.2); the session itself is judged later, by the
pipeline, which is why an unknown session is a 503 ID.1001 and not a 4xx (§2.3).
"""

from __future__ import annotations

import json
from typing import Any

from simulator.state import State
from simulator.wire import Request, Response, RestError, invalid_session, json_response


def ok(request: Request, body: dict[str, Any], schema: dict[str, str]) -> Response:
    """A 200 success body; ``schema`` only when the request sent X-JSON-Schema (§1, §6.4)."""
    if request.header("X-JSON-Schema") is not None:
        body = {**body, "schema": schema}
    return json_response(200, body)


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object. ZStack fails with an exception (500) on anything else (§3.2)."""
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body.strip() else None
    except ValueError:
        raise RestError(500, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RestError(500, "the request body is not a JSON object")
    return body


def optional_json_object(request: Request) -> dict[str, Any]:
    """For unique paths, whose body is read under the expected key only when there is one (§3.2)."""
    return json_object(request) if request.body.strip() else {}


def job_uuid_header(state: State, request: Request) -> str | None:
    """X-Job-UUID: exactly 32 chars; a reused id on PUT/POST/DELETE is rejected (§1, §10.9)."""
    job_uuid = request.header("X-Job-UUID")
    if job_uuid is None:
        return None
    if len(job_uuid) != 32:
        raise RestError(400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")
    if request.method in ("PUT", "POST", "DELETE"):
        with state.lock:
            duplicate = job_uuid in state.jobs
        if duplicate:
            raise RestError(400, f"Duplicate job uuid[{job_uuid}]")
    return job_uuid


def session_uuid(request: Request) -> str:
    """The session named by ``Authorization: OAuth <uuid>``; lenient about spacing like [RS] (§2.4)."""
    value = request.header("Authorization")
    if value is None:
        raise RestError(400, "missing header 'Authorization'")
    if value.startswith("ZStack"):
        raise RestError(
            400,
            "access-key authentication ('ZStack <AccessKeyId>:<signature>') is not "
            "supported by the simulator; use 'OAuth <session uuid>'",
        )
    if not value.startswith("OAuth"):
        raise RestError(400, "Authorization type must be 'OAuth'")
    return value[len("OAuth") :].strip()


def session_renewed(state: State, request: Request) -> bool:
    """Header checks, then whether the session is valid (renewing it: sliding expiry, §2.3)."""
    uuid = session_uuid(request)
    with state.lock:
        return state.renew_session(uuid)


def require_session(state: State, request: Request) -> None:
    """For sync APIs: the pipeline answers an invalid session with 503 ID.1001 (§2.3)."""
    job_uuid_header(state, request)
    if not session_renewed(state, request):
        raise invalid_session()
