"""ZStack REST client (zstack-api.md). CONTRACT SKELETON: signatures are fixed; bodies to implement.

Public surface (other modules rely on it exactly):

    client = get_client()                     # one per process, built from settings, thread-safe
    client.query_image_stores(conditions=["state=Enabled", "name~=%web%"], limit=20, start=0,
                              sort="-totalCapacity", with_count=True) -> QueryPage[BackupStorage]
    client.get_image_store(uuid) -> BackupStorage            # raises ResourceNotFound
    client.query_zones(conditions=(), limit=None, start=None, sort=None, with_count=False) -> QueryPage[Zone]
    client.zones_by_uuid(uuids) -> dict[str, Zone]           # ONE call: q=uuid?=a,b,c (no call for an empty list)
    client.get_tags(resource_uuid) -> ResourceTags           # system-tags + user-tags queries
    client.get_capacity(*, backup_storage_uuids=(), zone_uuids=(), all=False) -> Capacity
    client.update_image_store(uuid, *, job_uuid=None, name=None, description=None, hostname=None,
                              username=None, password=None, ssh_port=None,
                              system_tags=None, user_tags=None) -> WriteResult[BackupStorage]
    client.reconnect_image_store(uuid, *, job_uuid=None) -> WriteResult[BackupStorage]
    client.change_state(uuid, state_event, *, job_uuid=None) -> WriteResult[BackupStorage]   # "enable" | "disable"
    client.delete_tag(tag_uuid, *, job_uuid=None) -> WriteResult[None]
    client.login(); client.logout()
    new_job_uuid() -> str                                    # 32 lowercase hex

Writes take an optional ``job_uuid`` (the caller generates it first so the audit trail can record the
attempt before the call); the returned WriteResult / raised ZStackError carries the X-Job-UUID ZStack
finally accepted (a resubmission after re-login needs a fresh one: ZStack rejects duplicates).
"""
