"""Where to poll ZStack's async jobs: 202 + ``location``, then ``/api-jobs/{id}`` (docs/zstack-protocol.md §5).

The caller decides how often to look (dashboard/storages/follow.py); ``Connection.poll_job`` looks once."""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def job_path(location: object, job_uuid: str) -> str:
    """The job's path under ``/zstack/v1``, whatever host the location names.

    The management node advertises its own address, often unreachable from here (NAT, proxy, TLS
    front end, §5.1), so only the job id is taken from the location and the configured ZSTACK_URL is
    dialled. Without a usable location the id is our X-Job-UUID, which ZStack uses as the job id.
    """
    if isinstance(location, str):
        path = urlsplit(location).path
        marker = "/api-jobs/"
        if marker in path:
            job_id = path.split(marker, 1)[1].strip("/")
            if job_id:
                return f"/api-jobs/{quote(job_id, safe='')}"
    return f"/api-jobs/{quote(job_uuid, safe='')}"
