"""Reading the fleet from ZStack, page by page. The one module of this app that imports the ZStack client,
so if its Django glue moves (issue 11 is making dashboard/zstack/ framework-free) only this import changes.
Pages are read the way dashboard/storages/selectors.py reads the list: query_image_stores with limit/start."""

from __future__ import annotations

from collections.abc import Iterator

from dashboard.storages.zstack_client import get_client
from dashboard.zstack.inventory import BackupStorage

PAGE_SIZE = 500


def storage_pages(page_size: int = PAGE_SIZE) -> Iterator[tuple[BackupStorage, ...]]:
    """Every image store, one page (a tuple) at a time, sorted by uuid so paging is stable while storages
    are added. Raises ZStackError when ZStack can't be reached."""
    client = get_client()
    start = 0
    total: int | None = None
    while True:
        page = client.query_image_stores(limit=page_size, start=start, sort="+uuid", with_count=total is None)
        if total is None:
            total = page.total
        if page.items:
            yield page.items
        start += page_size
        if len(page.items) < page_size or (total is not None and start >= total):
            return


def live_storages(page_size: int = PAGE_SIZE) -> Iterator[BackupStorage]:
    for page in storage_pages(page_size):
        yield from page


def zone_names() -> dict[str, str]:
    return {z.uuid: z.name or z.uuid for z in get_client().query_zones().items}


def storage_name(uuid: str) -> str:
    """The storage's name; raises ResourceNotFound for an unknown uuid, ZStackError when unreachable."""
    return get_client().get_image_store(uuid).name or ""
