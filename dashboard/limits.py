"""The console's time limits, chosen together, read from the environment by settings.py and by
gunicorn.conf.py alike (no Django here), so the web server's timeout can never be shorter than the
longest request the console makes on purpose.

A write request makes at most ``UPSTREAM_CALLS_PER_WRITE`` calls to ZStack (read the storage, read its
two kinds of tags, submit the update), each bounded by ``ZSTACK_TIMEOUT``, then waits at most
``WRITE_WAIT`` for the jobs it started. Whatever is still running then is followed by the background
worker up to ``JOB_DEADLINE`` (ZStack's own API timeout is 30 minutes), and the page shows it in progress.
``WEB_TIMEOUT`` (gunicorn's --timeout) covers the worst write request with a margin; settings.py
refuses a configuration where it does not (a system check).
"""

from __future__ import annotations

import os


def _seconds(name: str, default: float) -> float:
    value = float(os.environ.get(name) or default)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds")
    return value


ZSTACK_TIMEOUT = _seconds("ZSTACK_TIMEOUT", 10)  # each HTTP call to ZStack
WRITE_WAIT = _seconds("CONSOLE_WRITE_WAIT", 4)  # a write request's wait for its jobs
JOB_DEADLINE = _seconds("ZSTACK_JOB_DEADLINE", 1800)  # one write's jobs, followed by the worker
UPSTREAM_CALLS_PER_WRITE = 4
MARGIN = 15  # rendering, the database, a slow client
WEB_TIMEOUT = _seconds("CONSOLE_WEB_TIMEOUT", UPSTREAM_CALLS_PER_WRITE * ZSTACK_TIMEOUT + WRITE_WAIT + MARGIN)


def worst_write_request() -> float:
    return UPSTREAM_CALLS_PER_WRITE * ZSTACK_TIMEOUT + WRITE_WAIT
