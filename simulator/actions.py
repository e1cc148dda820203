"""What the async APIs do when their job completes (docs/zstack-protocol.md §4.2–§4.4, DeleteTag).

Each function runs under the state lock and either returns the job's success body and schema or
raises ApiError, which the job delivers as 503 ``{"error": …}`` on the poll (§7.2). Validation lives
here, not at submit, because ZStack validates async messages after answering 202 (§5.1).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from simulator import images
from simulator.query import IMAGE_STORE, SYSTEM_TAG, USER_TAG, to_inventory
from simulator.state import State
from simulator.wire import ApiError, invalid_argument

Result = tuple[dict[str, Any], dict[str, str]]  # (success body, schema)

UPDATE_MSG = "org.zstack.storage.backup.imagestore.APIUpdateImageStoreBackupStorageMsg"
RECONNECT_MSG = "org.zstack.storage.backup.imagestore.APIReconnectImageStoreBackupStorageMsg"
RECLAIM_MSG = "org.zstack.storage.backup.imagestore.APIReclaimSpaceFromImageStoreMsg"
GC_RESULT_CLASS = "org.zstack.storage.backup.imagestore.ImageStoreGcResult"
UPDATE_GENERIC_MSG = "org.zstack.header.storage.backup.APIUpdateBackupStorageMsg"
RECONNECT_GENERIC_MSG = "org.zstack.header.storage.backup.APIReconnectBackupStorageMsg"
CHANGE_STATE_MSG = "org.zstack.header.storage.backup.APIChangeBackupStorageStateMsg"
DELETE_TAG_MSG = "org.zstack.header.tag.APIDeleteTagMsg"
CREATE_SYSTEM_TAG_MSG = "org.zstack.header.tag.APICreateSystemTagMsg"
CREATE_USER_TAG_MSG = "org.zstack.header.tag.APICreateUserTagMsg"
# The system tags a backup storage accepts. ZStack registers patterns per resource type and refuses any
# other system tag; these few are the simulator's own (the seeded priority::… tags match them).
STORAGE_RESOURCE_TYPES = ("BackupStorageVO", "ImageStoreBackupStorageVO")
SYSTEM_TAG_PATTERNS = (
    re.compile(r"priority::(high|normal|low)"),
    re.compile(r"maintenance::window::[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}"),
    re.compile(r"capacity::warning::[0-9]{1,2}"),
)

# @APIParam maxLength of the update messages ([SDK] UpdateImageStoreBackupStorageAction, §4.2).
_MAX_LENGTH = {"name": 255, "description": 2048, "hostname": 255, "username": 255, "password": 255}
_GENERIC_FIELDS = ("name", "description")  # APIUpdateBackupStorageMsg has only these
_STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled"}


def storage_or_error(state: State, uuid: str, vo_type: str) -> dict[str, Any]:
    storage = state.storage_by_uuid.get(uuid)
    if storage is None:  # PortApiValidator's wording (§4.2)
        raise ApiError("SYS.1003", f"invalid field[uuid], resource[uuid:{uuid}, type:{vo_type}] not found")
    return storage


def inventory_result(state: State, storage: dict[str, Any]) -> Result:
    # The runtime object is the ImageStore subclass, so its fields appear (§4.2, inferred).
    return {"inventory": to_inventory(IMAGE_STORE, storage, state.tz)}, {"inventory": IMAGE_STORE.inventory_class}


def update(
    state: State,
    uuid: str,
    params: dict[str, Any],
    system_tags: list[str] | None,
    user_tags: list[str] | None,
    *,
    generic: bool = False,
) -> Result:
    """A partial update: only non-null fields change; never a reconnect (§4.2)."""
    message = UPDATE_GENERIC_MSG if generic else UPDATE_MSG
    storage = storage_or_error(state, uuid, "BackupStorageVO" if generic else "ImageStoreBackupStorageVO")
    changes = _validated_changes(params, message, _GENERIC_FIELDS if generic else tuple(_MAX_LENGTH))
    if not generic and params.get("sshPort") is not None:
        port = int(Decimal(str(params["sshPort"])))  # integral: TypeVerifier checked it at submit
        if not 1 <= port <= 65535:
            raise invalid_argument("field[sshPort] must be in range of [1, 65535]")
        changes["sshPort"] = port
    tags = [("System", text) for text in _tag_list(system_tags, "systemTags")]
    tags += [("User", text) for text in _tag_list(user_tags, "userTags")]
    if "password" in changes:
        changes["_password"] = changes.pop("password")  # stored, never serialized
    storage.update(changes)
    # Tags given on an update: ZStack's core accepts them without storing them (the default,
    # update_tags "ignore"; only create messages persist request tags); "store" makes them tag records
    # unless already present. Adding is CreateSystemTag/CreateUserTag, removal DELETE /tags/{uuid}.
    if state.faults.update_tags == "store":
        for tag_type, text in tags:
            if text not in state.tags_of(uuid, tag_type):
                state.add_tag(uuid, text, tag_type)
    state.touch(storage)
    return inventory_result(state, storage)


def _validated_changes(params: dict[str, Any], message: str, names: tuple[str, ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in names:
        value = params.get(name)
        if value is None:  # JSON null = not given (§3.1)
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # Gson reads a JSON number into a String field as its text
        if not isinstance(value, str):
            raise invalid_argument(f"field[{name}] of message[{message}] must be a string")
        limit = _MAX_LENGTH[name]
        if len(value) > limit:
            raise invalid_argument(
                f"field[{name}] of message[{message}] exceeds max length of string."
                f" expected was <= {limit}, actual was {len(value)}"
            )
        changes[name] = value
    return changes


def _tag_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_argument(f"field[{name}] must be a list of strings")
    return [item for item in value if item]


def start_reconnect(state: State, uuid: str) -> None:
    """While a reconnect job runs the storage shows ``Connecting`` (§4.3)."""
    storage = state.storage_by_uuid.get(uuid)
    if storage is not None:
        storage["status"] = "Connecting"
        state.touch(storage)


def finish_reconnect(state: State, uuid: str, *, generic: bool = False) -> Result:
    storage = storage_or_error(state, uuid, "BackupStorageVO" if generic else "ImageStoreBackupStorageVO")
    result = state.faults.reconnect_result
    storage["status"] = result
    state.touch(storage)
    if result == "Disconnected":  # the job carries the connect error (§4.3)
        raise ApiError(
            "SYS.1006",
            f"unable to connect to the image store backup storage[uuid:{uuid}, name:{storage['name']}]",
            cause=ApiError(
                "SYS.1000",
                f"ssh connection to {storage.get('hostname')}:{storage.get('sshPort')} failed: connection refused",
            ),
        )
    return inventory_result(state, storage)


def reclaim_space(state: State, uuid: str) -> Result:
    """ImageStore garbage collection (§4.8): frees the storage's seeded reclaimable bytes, which go back to
    its available capacity; the result is ``{"gcResult": {"freedSpaceInBytes": N}}`` (the event is
    ``@RestResponse(allTo = "gcResult")``, and the field a primitive long, so 0 is sent too). The agent is
    reached over HTTP, so a disconnected storage fails the job (inferred: the agent call fails)."""
    storage = storage_or_error(state, uuid, "ImageStoreBackupStorageVO")
    if storage["status"] == "Disconnected":
        raise ApiError(
            "SYS.1006",
            f"unable to reclaim space from the image store backup storage[uuid:{uuid}, name:{storage['name']}]",
            cause=ApiError("SYS.1000", f"the agent on {storage.get('hostname')} cannot be reached"),
        )
    freed = images.reclaim(storage)
    state.touch(storage)
    return {"gcResult": {"freedSpaceInBytes": freed}}, {"gcResult": GC_RESULT_CLASS}


def change_state(state: State, uuid: str, params: dict[str, Any]) -> Result:
    """Only ``enable``/``disable``, case-sensitive; idempotent (§4.4)."""
    storage = storage_or_error(state, uuid, "BackupStorageVO")
    event = params.get("stateEvent")
    if event is None:
        raise invalid_argument(f"field[stateEvent] of message[{CHANGE_STATE_MSG}] is mandatory, can not be null")
    if event not in _STATE_EVENTS:
        raise invalid_argument(
            f"valid value for field[stateEvent] of message[{CHANGE_STATE_MSG}] are [enable, disable], but {event} found"
        )
    storage["state"] = _STATE_EVENTS[event]
    state.touch(storage)
    return inventory_result(state, storage)


def delete_tag(state: State, tag_uuid: str) -> Result:
    # Deleting what is already gone succeeds: ZStack's delete APIs are idempotent (inferred).
    state.delete_tag(tag_uuid)
    return {}, {}


def create_tag(state: State, params: dict[str, Any], tag_type: str) -> Result:
    """A tag record on a storage (§4.7). System tags must match a registered pattern: SYS.1007."""
    message = CREATE_SYSTEM_TAG_MSG if tag_type == "System" else CREATE_USER_TAG_MSG
    for name in ("resourceType", "resourceUuid", "tag"):
        if not isinstance(params.get(name), str) or not params[name]:
            raise invalid_argument(f"field[{name}] of message[{message}] is mandatory, can not be null")
    resource_type, resource_uuid, text = params["resourceType"], params["resourceUuid"], params["tag"]
    if resource_type not in STORAGE_RESOURCE_TYPES:
        raise invalid_argument(f"no resource type[{resource_type}] found for tag")
    if resource_uuid not in state.storage_by_uuid:
        raise ApiError(
            "SYS.1003", f"invalid field[resourceUuid], resource[uuid:{resource_uuid}, type:{resource_type}] not found"
        )
    if tag_type == "System" and not any(p.fullmatch(text) for p in SYSTEM_TAG_PATTERNS):
        raise invalid_argument(f"no system tag matches[{text}] for resourceType[{resource_type}]")
    tag = state.add_tag(resource_uuid, text, tag_type, resource_type=resource_type)
    resource = SYSTEM_TAG if tag_type == "System" else USER_TAG
    return {"inventory": to_inventory(resource, tag, state.tz)}, {"inventory": resource.inventory_class}
