"""Helpers for tests that read the simulator's state directly, and follow a ZStack job as the console does. Free of
Django, so the simulator's own tests (tests/test_simulator.py) can use them too."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any


def storage_named(sim, name: str) -> dict[str, Any]:
    """The simulator's record of the storage with this name (its demo data names are unique)."""
    return next(s for s in sim.storages() if s["name"] == name)


def run_job(client, ticket, *, looks: int = 100, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """Follow a submitted job to its end as the console's follower does (``poll_job`` until done): its success
    body, or its error raised. A poll whose answer was lost raises too (the follower would look again)."""
    for _ in range(looks):
        status = client.poll_job(ticket, secrets)
        if status.done:
            if status.error is not None:
                raise status.error
            return status.body or {}
        time.sleep(0.01)
    raise AssertionError(f"job {ticket.job_uuid} still running after {looks} looks")


def run_in_threads(target: Callable[[], object], count: int) -> None:
    """Run ``target`` in ``count`` threads at once and wait for all of them (a race, or one shared session)."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# 255 characters: the longest name, hostname or SSH user ZStack (and the edit form) accepts.
LONG_WORD = "long-name-without-any-space-" + "x" * (255 - len("long-name-without-any-space-"))
LONG_DESCRIPTION = ("A description with a very long unbroken token " + "y" * 200)[:255]
LONG_TAG = "owner::" + "z" * (255 - len("owner::"))
# A valid host name as long as RFC 1123 allows (253 characters, labels of 63), so the edit form accepts it.
LONG_HOST = ".".join(["h" * 63] * 3 + ["h" * 61])


def _zstack_call(sim, method: str, path: str, body: dict | None = None, session: str | None = None) -> dict:
    """One call to the simulator's ZStack API over real HTTP (standard library only)."""
    request = urllib.request.Request(
        sim.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"OAuth {session}"} if session else {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback simulator only
        text = response.read().decode()
        return {"status": response.status, "headers": dict(response.headers), "body": json.loads(text) if text else {}}


def add_user_tag_over_http(sim, resource_uuid: str, tag: str) -> None:
    """CreateUserTag through the simulator's ZStack API, as another ZStack user would (docs/zstack-protocol.md
    §4.7): log in, POST /user-tags, poll the job until it ends."""
    password = hashlib.sha512(b"password").hexdigest()
    login = _zstack_call(
        sim, "PUT", "/zstack/v1/accounts/login", {"logInByAccount": {"accountName": "admin", "password": password}}
    )
    session = login["body"]["inventory"]["uuid"]
    body = {"params": {"resourceType": "BackupStorageVO", "resourceUuid": resource_uuid, "tag": tag}}
    reply = _zstack_call(sim, "POST", "/zstack/v1/user-tags", body, session)
    location = reply["body"].get("location") or reply["headers"].get("Location")
    job_path = "/zstack/v1/api-jobs/" + location.rstrip("/").rsplit("/", 1)[-1]
    for _ in range(50):
        if _zstack_call(sim, "GET", job_path, session=session)["status"] != 202:
            return
    raise AssertionError(f"the tag job {job_path} did not end")


def give_long_values(sim, uuid: str) -> None:
    """Long values without a space to break at: a name, SSH user and user tag of 255 characters, a host name
    of 253 and a long description, set on one storage through the simulator (its control API for the
    inventory, its ZStack API for the tag)."""
    sim.patch_storage(uuid, name=LONG_WORD, description=LONG_DESCRIPTION, hostname=LONG_HOST, username=LONG_WORD)
    add_user_tag_over_http(sim, uuid, LONG_TAG)
