"""Test-only control endpoints under ``/_sim/`` (outside ``/zstack/``, so never mistaken for ZStack).

Each endpoint mirrors a Python method of SimulatorServer, so HTTP and in-process tests share one
implementation. Bodies and answers are JSON (with a Content-Type, unlike ZStack's own answers).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulator.query import IMAGE_STORE
from simulator.state import State
from simulator.wire import Request, Response, json_response

if TYPE_CHECKING:
    from simulator.server import SimulatorServer

_JSON = "application/json"
_STATES = ("Enabled", "Disabled")
_STATUSES = ("Connecting", "Connected", "Disconnected")
# What another ZStack user could change out of band; identity and dates stay the simulator's.
_PATCHABLE = {
    name: kind for name, kind in IMAGE_STORE.fields.items() if name not in ("uuid", "type", "createDate", "lastOpDate")
}
_PATCHABLE["password"] = "str"


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Control:
    def __init__(self, simulator: SimulatorServer) -> None:
        self.sim = simulator

    def handle(self, request: Request) -> Response:
        try:
            body = self._dispatch(request)
        except ControlError as error:
            return json_response(error.status, {"error": str(error)}, _JSON)
        except ValueError as error:
            return json_response(400, {"error": str(error)}, _JSON)
        return json_response(200, body, _JSON)

    def _dispatch(self, request: Request) -> dict[str, Any]:
        route = (request.method, request.path)
        if route == ("POST", "/_sim/reset"):
            body = _body(request)
            storages, seed = body.get("storages"), body.get("seed")
            for name, value in (("storages", storages), ("seed", seed)):
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise ValueError(f"{name} must be a non-negative integer")
            self.sim.reset(storages=storages, seed=seed)
            return {"storages": len(self.sim.storages())}
        if route == ("POST", "/_sim/faults"):
            return {"faults": self.sim.set_faults(**_body(request))}
        if route == ("GET", "/_sim/faults"):
            return {"faults": self.sim.faults()}
        if route == ("POST", "/_sim/expire-sessions"):
            self.sim.expire_sessions()
            return {}
        if route == ("GET", "/_sim/requests"):
            return {"requests": self.sim.requests()}
        if route == ("DELETE", "/_sim/requests"):
            self.sim.clear_requests()
            return {}
        if route == ("GET", "/_sim/storages"):
            return {"storages": self.sim.storages()}
        if request.path.startswith("/_sim/storages/") and request.method == "PATCH":
            uuid = request.path[len("/_sim/storages/") :]
            return {"storage": self.sim.patch_storage(uuid, **_body(request))}
        raise ControlError(404, f"no control endpoint {request.method} {request.path}")


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def patch_storage(state: State, uuid: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Change a storage as another ZStack user would (bumping lastOpDate); caller holds the lock."""
    storage = state.storage_by_uuid.get(uuid)
    if storage is None:
        raise ControlError(404, f"no storage {uuid}")
    for name, value in fields.items():
        _check_patch(name, value)
    for name, value in fields.items():
        storage["_password" if name == "password" else name] = list(value) if isinstance(value, list) else value
    state.touch(storage)
    return storage


def _check_patch(name: str, value: Any) -> None:
    kind = _PATCHABLE.get(name)
    if kind is None:
        raise ValueError(f"{name} cannot be patched; patchable: {sorted(_PATCHABLE)}")
    if value is None:
        if name in ("name", "state", "status", "totalCapacity", "availableCapacity", "attachedZoneUuids"):
            raise ValueError(f"{name} cannot be null")
        return
    valid = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(item, str) for item in value),
    }[kind]
    if not valid or (name == "state" and value not in _STATES) or (name == "status" and value not in _STATUSES):
        raise ValueError(f"invalid value for {name}: {value!r}")
