"""ZStack REST client (docs/zstack-protocol.md). Knows HTTP and ZStack; never Django, requests or users.

Public surface (other modules rely on it exactly):

    client = ZStackClient(url, account, password, time_zone=…, timeout=…,
                          session_store=None)   # thread-safe; session_store shares the session between processes
    # the console's one per process: dashboard.storages.zstack_client.get_client()
    client.query_image_stores(conditions=["state=Enabled", "name~=%web%"], limit=20, start=0,
                              sort="-totalCapacity", with_count=True) -> QueryPage[BackupStorage]
    client.get_image_store(uuid) -> BackupStorage            # raises ResourceNotFound
    client.query_zones(conditions=(), limit=None, start=None, sort=None, with_count=False) -> QueryPage[Zone]
    client.zones_by_uuid(uuids) -> dict[str, Zone]           # ONE call: q=uuid?=a,b,c (no call for an empty list)
    client.get_tags(resource_uuid) -> ResourceTags           # system-tags + user-tags queries
    client.get_system_tags(resource_uuid) / get_user_tags(resource_uuid) -> tuple[Tag, ...]   # one query each
    client.get_capacity(*, backup_storage_uuids=(), zone_uuids=(), all=False) -> Capacity
    client.query_images(conditions=(), limit=None, start=None, sort=None, with_count=False) -> QueryPage[Image]
    client.images_on_backup_storage(uuid, *, limit, start=0, sort="-actualSize") -> QueryPage[Image]  # with total
    client.actual_size_on_backup_storage(uuid, *, page_size=1000, max_images=20000) -> StoredBytes
    # Writes are submitted without waiting; the caller follows the job (the console: storages/follow.py,
    # in the web request and then the background worker):
    client.submit_update(uuid, *, job_uuid, name=…, …, password=…, ssh_port=…) -> JobTicket   # no tags
    client.submit_reconnect(uuid, *, job_uuid) / submit_change_state(uuid, event, *, job_uuid) -> JobTicket
    client.submit_create_tag(resource_uuid, tag, *, user, resource_type, job_uuid) -> JobTicket
    client.submit_delete_tag(tag_uuid, *, job_uuid) -> JobTicket
    client.submit_reclaim_space(uuid, *, job_uuid) -> JobTicket  # its job body: ReclaimResult.from_job_body
    client.poll_job(ticket, secrets=()) -> JobStatus          # one look: running, succeeded (body) or failed (error)
    client.renew_session()                                   # log in again now (a job failed with ID.1001)
    client.login(); client.logout()
    new_job_uuid() -> str                                    # 32 lowercase hex

Writes take the caller's ``job_uuid`` (generated first, so the audit trail records the attempt before
the call and a resumed submission resends under the same one: ZStack refuses a duplicate, reported as
``JobTicket.already_submitted``). A job that fails with ID.1001 is resent by the caller after
``renew_session()``, under a fresh job uuid. A write whose answer was lost after it was sent raises
OutcomeUnknown: ZStack may have made the change; a poll whose answer was lost raises and may be repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import Any, TypeVar
from urllib.parse import quote

from . import query, transport
from .connection import Connection, new_job_uuid
from .errors import ProtocolError, ResourceNotFound
from .inventory import (
    BackupStorage,
    Capacity,
    Image,
    JobTicket,
    QueryPage,
    ResourceTags,
    StoredBytes,
    Tag,
    Zone,
    parse_long,
)

__all__ = ["ZStackClient", "new_job_uuid"]
T = TypeVar("T")


class ZStackClient(Connection):
    """The typed ZStack API this console uses. Settings come in as constructor arguments; the console
    builds one per process from Django's settings (dashboard/storages/zstack_client.py)."""

    # --- reads (§4.1, §4.5, §6) ---------------------------------------------------------------

    def _query(
        self,
        path: str,
        parse: Callable[[dict[str, Any], tzinfo], T],
        conditions: Iterable[str],
        limit: int | None,
        start: int | None,
        sort: str | None,
        with_count: bool,
    ) -> QueryPage[T]:
        reply = self._read(
            path, query.query_string(conditions, limit=limit, start=start, sort=sort, with_count=with_count)
        )
        return QueryPage(items=self._items(reply, parse, path), total=parse_long(reply.get("total")))

    def _items(self, reply: dict[str, Any], parse: Callable[[dict[str, Any], tzinfo], T], path: str) -> tuple[T, ...]:
        inventories = reply.get("inventories")
        try:
            return tuple(parse(item, self.tz) for item in inventories)  # type: ignore[union-attr]  # None: TypeError below
        except (TypeError, KeyError, AttributeError) as exc:
            raise ProtocolError(
                f"GET {path}: malformed inventories ({type(exc).__name__})", code=transport.BAD_BODY_CODE
            ) from None

    def query_image_stores(
        self,
        conditions: Iterable[str] = (),
        limit: int | None = None,
        start: int | None = None,
        sort: str | None = None,
        with_count: bool = False,
    ) -> QueryPage[BackupStorage]:
        return self._query(
            "/backup-storage/image-store", BackupStorage.from_json, conditions, limit, start, sort, with_count
        )

    def get_image_store(self, uuid: str) -> BackupStorage:
        # GET …/{uuid} answers 200 {"inventories": []} for an unknown uuid, never 404 (§4.1).
        path = f"/backup-storage/image-store/{quote(uuid, safe='')}"
        items = self._items(self._read(path), BackupStorage.from_json, path)
        if not items:
            raise ResourceNotFound(f"image store {uuid} not found", code="SYS.1003")
        return items[0]

    def query_zones(
        self,
        conditions: Iterable[str] = (),
        limit: int | None = None,
        start: int | None = None,
        sort: str | None = None,
        with_count: bool = False,
    ) -> QueryPage[Zone]:
        return self._query("/zones", Zone.from_json, conditions, limit, start, sort, with_count)

    def zones_by_uuid(self, uuids: Iterable[str]) -> dict[str, Zone]:
        wanted = list(dict.fromkeys(uuids))
        if not wanted:
            return {}
        page = self.query_zones([query.in_list("uuid", wanted)], limit=len(wanted))
        return {zone.uuid: zone for zone in page.items}

    def get_tags(self, resource_uuid: str) -> ResourceTags:
        # Inventories carry no tags; they are their own resources (§6.5).
        return ResourceTags(system=self.get_system_tags(resource_uuid), user=self.get_user_tags(resource_uuid))

    def get_system_tags(self, resource_uuid: str) -> tuple[Tag, ...]:
        """One of get_tags' two queries, for a caller that runs independent reads at once."""
        return self._tags("/system-tags", resource_uuid)

    def get_user_tags(self, resource_uuid: str) -> tuple[Tag, ...]:
        return self._tags("/user-tags", resource_uuid)

    def _tags(self, path: str, resource_uuid: str) -> tuple[Tag, ...]:
        condition = query.query_string([f"resourceUuid={resource_uuid}"])
        return self._items(self._read(path, condition), Tag.from_json, path)

    def get_capacity(
        self, *, backup_storage_uuids: Iterable[str] = (), zone_uuids: Iterable[str] = (), all: bool = False
    ) -> Capacity:
        # Lists go as repeated keys, as the SDK sends them (§4.5).
        pairs = [("backupStorageUuids", u) for u in backup_storage_uuids] + [("zoneUuids", z) for z in zone_uuids]
        if all:
            pairs.append(("all", "true"))
        reply = self._read("/backup-storage/capacities", query.encode(pairs))
        return Capacity(
            total=parse_long(reply.get("totalCapacity")) or 0, available=parse_long(reply.get("availableCapacity")) or 0
        )

    # --- images (§4.8) ---------------------------------------------------------------------------

    def query_images(
        self,
        conditions: Iterable[str] = (),
        limit: int | None = None,
        start: int | None = None,
        sort: str | None = None,
        with_count: bool = False,
    ) -> QueryPage[Image]:
        return self._query("/images", Image.from_json, conditions, limit, start, sort, with_count)

    def images_on_backup_storage(
        self, uuid: str, *, limit: int, start: int = 0, sort: str = "-actualSize"
    ) -> QueryPage[Image]:
        """One page of the images stored on a backup storage, with their total count. ZStack sorts without
        a tie-breaker (§9): images of equal size may swap places between two pages."""
        return self.query_images([_on_backup_storage(uuid)], limit=limit, start=start, sort=sort, with_count=True)

    def actual_size_on_backup_storage(
        self, uuid: str, *, page_size: int = 1000, max_images: int = 20_000
    ) -> StoredBytes:
        """The bytes the storage's images take (the sum of their actualSize). ZStack has no sum query, so
        this reads only ``uuid,actualSize`` a page at a time, at most ``max_images``: past that the sum
        is a lower bound (``complete`` False)."""
        condition = [_on_backup_storage(uuid)]
        total, seen, start, count = 0, 0, 0, None
        while seen < max_images:
            qs = query.query_string(
                condition, limit=page_size, start=start, with_count=count is None, fields=("uuid", "actualSize")
            )
            reply = self._read("/images", qs)
            items = reply.get("inventories")
            if not isinstance(items, list):
                raise ProtocolError("GET /images: malformed inventories", code=transport.BAD_BODY_CODE)
            if count is None:
                count = parse_long(reply.get("total"))
            total += sum(parse_long(i.get("actualSize")) or 0 for i in items if isinstance(i, dict))
            seen += len(items)
            start += page_size
            if len(items) < page_size or (count is not None and seen >= count):
                return StoredBytes(total=total, images=count if count is not None else seen, complete=True)
        return StoredBytes(total=total, images=count if count is not None else seen, complete=False)

    # --- writes: async, 202 + job (§4.2-§4.4, §5), submitted without waiting: the caller follows the job ---

    def submit_update(
        self,
        uuid: str,
        *,
        job_uuid: str,
        name: str | None = None,
        description: str | None = None,
        hostname: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ssh_port: int | None = None,
    ) -> JobTicket:
        """UpdateImageStoreBackupStorage with only the given fields and no tags (§4.2)."""
        body = _update_body(
            name=name,
            description=description,
            hostname=hostname,
            username=username,
            password=password,
            ssh_port=ssh_port,
        )
        secrets = (password,) if password else ()
        return self.submit_job("PUT", _image_store_actions(uuid), body, job_uuid, secrets)

    def submit_reconnect(self, uuid: str, *, job_uuid: str) -> JobTicket:
        return self.submit_job("PUT", _image_store_actions(uuid), {"reconnectImageStoreBackupStorage": {}}, job_uuid)

    def submit_change_state(self, uuid: str, state_event: str, *, job_uuid: str) -> JobTicket:
        return self.submit_job(
            "PUT",
            f"/backup-storage/{quote(uuid, safe='')}/actions",
            {"changeBackupStorageState": {"stateEvent": state_event}},
            job_uuid,
        )

    def submit_create_tag(
        self, resource_uuid: str, tag: str, *, user: bool, resource_type: str, job_uuid: str
    ) -> JobTicket:
        """CreateUserTag / CreateSystemTag (§4.7): POST /user-tags or /system-tags, body key ``params``.
        System tags are checked against ZStack's patterns for the resource type: SYS.1007 through the job."""
        body = {"params": {"resourceType": resource_type, "resourceUuid": resource_uuid, "tag": tag}}
        return self.submit_job("POST", "/user-tags" if user else "/system-tags", body, job_uuid)

    def submit_delete_tag(self, tag_uuid: str, *, job_uuid: str) -> JobTicket:
        return self.submit_job("DELETE", f"/tags/{quote(tag_uuid, safe='')}", None, job_uuid)

    def submit_reclaim_space(self, uuid: str, *, job_uuid: str) -> JobTicket:
        """ImageStore garbage collection (§4.8), on the shared image-store actions path: the body key is
        matched exactly (§3.2). The job's body is ``{"gcResult": {"freedSpaceInBytes": N}}``, read with
        ``ReclaimResult.from_job_body``."""
        return self.submit_job("PUT", _image_store_actions(uuid), {"reclaimSpaceFromImageStore": {}}, job_uuid)


def _on_backup_storage(uuid: str) -> str:
    # The @Queryable join of ImageInventory on its backup-storage refs (§4.8).
    return f"backupStorageRefs.backupStorageUuid={uuid}"


def _image_store_actions(uuid: str) -> str:
    return f"/backup-storage/image-store/{quote(uuid, safe='')}/actions"


def _update_body(
    *,
    name: str | None,
    description: str | None,
    hostname: str | None,
    username: str | None,
    password: str | None,
    ssh_port: int | None,
) -> dict[str, Any]:
    """Only the given fields: ZStack changes each non-null one (§4.2)."""
    fields = {
        "name": name,
        "description": description,
        "hostname": hostname,
        "username": username,
        "password": password,
        "sshPort": None if ssh_port is None else int(ssh_port),
    }
    return {"updateImageStoreBackupStorage": {k: v for k, v in fields.items() if v is not None}}
