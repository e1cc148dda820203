"""Async API jobs: 202 + location at submit, then polling ``/api-jobs/{id}`` (docs/zstack-protocol.md §5).

A job's work runs when it completes, i.e. at the poll after ``job_polls`` 202 answers, so tests decide
exactly when an update lands; a job that never finishes never changes anything.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobResult:
    status: int  # 200 success, 503 failure (§5.2)
    body: dict[str, Any]
    schema: dict[str, str]  # added to the body when the *polling* request sends X-JSON-Schema


PROCESSING = JobResult(202, {}, {})  # an empty ApiResponse, not the location again (§5.2)


@dataclass
class Job:
    uuid: str
    run: Callable[[], JobResult]
    polls_left: int
    ready_at: float = 0.0  # time.monotonic() before which the job is still processing (job_seconds)
    result: JobResult | None = None


class JobStore:
    """All jobs since the last reset. Callers hold the simulator's state lock."""

    # ZStack purges finished jobs after 3 h (§5.2); a bound keeps a long demo run's memory flat.
    MAX_JOBS = 10_000

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def __contains__(self, job_uuid: str) -> bool:
        return job_uuid in self._jobs

    def add(self, job: Job) -> None:
        self._jobs[job.uuid] = job
        while len(self._jobs) > self.MAX_JOBS:
            self._jobs.popitem(last=False)

    def poll(self, job_uuid: str, *, never_finish: bool) -> JobResult | None:
        """The job's answer now, or None when unknown (404 ``the job has been expired``)."""
        job = self._jobs.get(job_uuid)
        if job is None:
            return None
        if job.result is None:
            if never_finish:
                return PROCESSING
            if time.monotonic() < job.ready_at:
                return PROCESSING
            if job.polls_left > 0:
                job.polls_left -= 1
                return PROCESSING
            job.result = job.run()  # once; later polls repeat the same answer (§5.2)
        return job.result
