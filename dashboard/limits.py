"""The console's time limits, chosen together, read from the environment by settings.py and by
gunicorn.conf.py alike (no Django here), so the web server's timeout can never be shorter than the
longest request the console makes on purpose. This is the one place the numbers are derived; the README's
table ("Background worker and time limits") states the result.

The longest request is a write (an edit of the storage; an action reads less). In order:

1. **Planning:** it reads the storage, its system tags and its user tags at once (``PLANNING_READS``: one
   read's time; ``selectors.storage_for_edit``). A read is a GET, which the client tries again when ZStack does not answer
   (``dashboard/zstack/connection.py``, ``read_retries``): ``READ_ATTEMPTS`` × ``ZSTACK_TIMEOUT`` at worst.
   A session found expired costs one login on top (``LOGINS``; a write call, never tried twice).
2. **Following:** it sends its jobs and polls them for at most ``WRITE_WAIT``; the call in flight when the
   wait is spent still ends (a poll: one read), and every part not sent by then is left to the background
   worker, which follows the write up to ``JOB_DEADLINE`` (ZStack's own API timeout is 30 minutes). So the
   number of tags an edit adds or removes (one job each) does not lengthen the request
   (``dashboard/storages/follow.py``).
3. **The answer:** the card is read again for the page, its reads at once (``read_concurrently``): one
   read's time. A save that partly failed reads the storage for the form instead, also at once; a plain form
   post is redirected without reading.

``WEB_TIMEOUT`` (gunicorn's --timeout) is that worst case plus ``MARGIN``; the system check console.E001
(``dashboard/storages/checks.py``) refuses a configuration where it is not longer than the worst case.
gunicorn.conf.py gives a restarting worker as long (its graceful timeout), so a write request in flight ends
with its answer rather than an error.
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

READ_ATTEMPTS = 3  # a GET and its two retries (Connection.read_retries; tests/test_limits.py keeps them equal)
PLANNING_READS = 1  # the storage, its system tags and its user tags, read at once
LOGINS = 1  # a session found expired
READS_AFTER_THE_WAIT = 2  # the poll in flight when the wait is spent, and the card's re-read (its reads at once)
MARGIN = 15  # rendering, the database, a slow client


def worst_write_request(zstack_timeout: float = ZSTACK_TIMEOUT, write_wait: float = WRITE_WAIT) -> float:
    """Seconds a write request may take at worst (with the defaults, 3 reads × 3 tries × 10 s + 10 + 4 = 104)."""
    read = READ_ATTEMPTS * zstack_timeout
    return (PLANNING_READS + READS_AFTER_THE_WAIT) * read + LOGINS * zstack_timeout + write_wait


WEB_TIMEOUT = _seconds("CONSOLE_WEB_TIMEOUT", worst_write_request() + MARGIN)
