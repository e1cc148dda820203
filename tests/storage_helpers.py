"""Fixtures and helpers shared by the storage view and service tests (imported by those modules)."""

from __future__ import annotations

import json
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from dashboard.accounts.roles import Role, assign_role
from dashboard.audit.models import AuditEvent
from dashboard.storages import changes
from dashboard.storages.forms import sign_snapshot
from dashboard.storages.submissions import new_token
from dashboard.storages.zstack_client import get_client
from tests.sim_helpers import storage_named as storage_named  # re-exported for the storage tests

PASSWORD = "Sturdy-Test-Pass-81"
HTMX = {"HTTP_HX_REQUEST": "true"}
# A simulator fault (set_faults(fail_next=[…])): ZStack answers the next tag removal with an error, so a save that
# also changes other fields partly succeeds.
TAG_REMOVAL_FAILS = {
    "status": 503,
    "code": "SYS.1006",
    "details": "the tag is locked",
    "match": "DELETE /zstack/v1/tags/",
}


def make_user(role: Role | None, username: str | None = None):
    user = get_user_model().objects.create_user(username=username or f"{role or 'norole'}-user", password=PASSWORD)
    if role is not None:
        assign_role(user, role)
    return user


def zstack_requests(sim, method: str | None = None, path_contains: str = "") -> list[dict]:
    """The /zstack requests the simulator received (login excluded), optionally filtered."""
    return [
        r
        for r in sim.requests()
        if r["path"].startswith("/zstack/")
        and not r["path"].endswith("/accounts/login")
        and (method is None or r["method"] == method)
        and path_contains in r["path"]
    ]


def body_of(request: dict) -> dict:
    body = request["body"]
    if isinstance(body, (bytes, bytearray)):
        body = body.decode()
    return json.loads(body) if isinstance(body, str) else body


def header(request: dict, name: str) -> str | None:
    for key, value in request["headers"].items():
        if key.lower() == name.lower():
            return value
    return None


def form_data(uuid: str, **overrides) -> dict:
    """What the prefilled edit form submits unchanged (as a browser would), plus overrides."""
    client = get_client()
    storage, tags = client.get_image_store(uuid), client.get_tags(uuid)
    data = {
        "name": storage.name,
        "description": storage.description or "",
        "hostname": storage.hostname,
        "username": storage.username,
        "password": "",
        "sshPort": str(storage.ssh_port),
        "systemTags": "\n".join(tags.system_texts),
        "userTags": "\r\n".join(tags.user_texts),
        "loaded": sign_snapshot(uuid, changes.editable_values(storage, tags)),
        "submission": new_token(uuid, "storage.update"),
    }
    data.update(overrides)
    return data


def action_data(uuid: str, path: str) -> dict:
    """What a card action's form posts: its one-time submission token (path: reconnect, enable, disable)."""
    return {"submission": new_token(uuid, f"storage.{path}")}


@contextmanager
def once_the_success_is_recorded(action):
    """Run ``action()`` when the write's success is recorded: after ZStack's job, before any re-read."""
    pending = [action]

    def run(sender, instance, **kwargs):
        if instance.outcome == "succeeded" and pending:
            pending.pop()()

    post_save.connect(run, sender=AuditEvent, weak=False, dispatch_uid="once_the_success_is_recorded")
    try:
        yield
    finally:
        post_save.disconnect(sender=AuditEvent, dispatch_uid="once_the_success_is_recorded")
