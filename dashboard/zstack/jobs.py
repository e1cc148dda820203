"""Waiting for ZStack's async jobs: 202 + ``location``, then polling ``/api-jobs/{id}`` (docs/zstack-protocol.md §5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import ZStackTimeout

FIRST_INTERVAL = 0.05  # most jobs finish within a few hundred ms; ask early
MAX_INTERVAL = 1.0  # the SDKs poll every 1-2 s (§5.3); never slower than that
BACKOFF = 1.6


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


def wait(
    poll: Callable[[], tuple[int, dict[str, Any]]],
    *,
    deadline: float,
    job_uuid: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until the job is done and return its success body.

    ``poll`` performs one GET: it returns (status, body) for 2xx and raises the job's error for 503
    (``{"error": …}``) or JobLost for 404. 202 means still running (§5.2). Past ``deadline`` seconds the
    outcome is unknown, reported as ZStackTimeout with the SDKs' polling-timeout code sdk.1001 (§7.1).
    """
    ends = clock() + deadline
    interval = FIRST_INTERVAL
    while True:
        status, body = poll()
        if status != 202:
            return body
        remaining = ends - clock()
        if remaining <= 0:
            raise ZStackTimeout(
                f"job {job_uuid} still running after {deadline:g} s; its outcome is unknown",
                code="sdk.1001",
                job_uuid=job_uuid,
            )
        sleep(min(interval, remaining))
        interval = min(interval * BACKOFF, MAX_INTERVAL)
