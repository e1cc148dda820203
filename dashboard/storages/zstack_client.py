"""The console's one ZStack client per process, built from Django's settings, and the pool its
independent reads run in.

dashboard.zstack knows no Django (docs/architecture.md §5): its client takes its settings as
arguments. This module is the glue: it reads the ZSTACK_* settings, shares one thread-safe client per
process, and forgets it when a ZSTACK_* setting changes (tests, ``override_settings``). With
ZSTACK_SHARE_SESSION (on when REDIS_URL is set) the client keeps its ZStack session in Django's cache, so
every process of every instance uses one login (docs/performance.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from dashboard.zstack.client import ZStackClient

_client: ZStackClient | None = None
_client_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
# How long a request's thread lets its reads be picked up before it goes on with its own work. A read sends its
# request as soon as its thread runs, but a request's thread that went straight on to its database queries
# would hold the interpreter lock meanwhile: at 50 ms per call a detail page's six reads went out over 8 ms
# instead of 3, and the page waited for the last one (docs/performance.md). Bounded, so a page whose reads
# queue behind other pages' in a busy pool goes on after this long.
READS_START_WAIT = 0.010


class CachedSessionStore:
    """The ZStack session uuid in Django's cache (Redis in production), one key per node and account.
    It expires before ZStack's own 2-hour sliding timeout would matter; a session ZStack ended sooner is
    replaced by the client's re-login (docs/zstack-protocol.md §2.3), which stores the new one here."""

    timeout = 3600

    def __init__(self, url: str, account: str) -> None:
        digest = hashlib.sha256(f"{url}\n{account}".encode()).hexdigest()[:24]
        self.key = f"zstack-session:{digest}"

    def get(self) -> str | None:
        value = cache.get(self.key)
        return value if isinstance(value, str) else None

    def put(self, session_uuid: str) -> None:
        cache.set(self.key, session_uuid, self.timeout)

    def clear(self, session_uuid: str) -> None:
        if cache.get(self.key) == session_uuid:  # never drop a newer session another process stored
            cache.delete(self.key)


def client_from_settings() -> ZStackClient:
    share = getattr(settings, "ZSTACK_SHARE_SESSION", False)
    return ZStackClient(
        settings.ZSTACK_URL,
        settings.ZSTACK_ACCOUNT,
        settings.ZSTACK_PASSWORD,
        time_zone=getattr(settings, "ZSTACK_TIME_ZONE", "Asia/Shanghai"),
        timeout=float(getattr(settings, "ZSTACK_TIMEOUT", 10.0)),
        session_store=CachedSessionStore(settings.ZSTACK_URL, settings.ZSTACK_ACCOUNT) if share else None,
    )


def _read_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = int(getattr(settings, "ZSTACK_READ_CONCURRENCY", 8))
            _pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="zstack-read")
        return _pool


def read_soon(*calls: Callable[[], Any]) -> Callable[[], list[Any]]:
    """Start independent ZStack reads in the bounded pool now; the returned function waits for every one
    and returns their results in order, or raises the first error once all have ended (no read is left
    running on behalf of a finished request). Meanwhile the request's thread does other work, such as its
    own database queries: a page costs its slowest read, not the sum of its reads and queries. Only a
    request's thread may call this, never a pool task: a pool task waiting on tasks of its own pool could
    wait for ever. It returns once every read has started (or after READS_START_WAIT), so that the reads are
    on their way before the request's thread takes the interpreter for its own work."""
    started = threading.Semaphore(0)

    def start(call: Callable[[], Any]) -> Any:
        started.release()
        return call()

    futures = [_read_pool().submit(start, call) for call in calls]
    deadline = time.monotonic() + READS_START_WAIT
    for _ in futures:
        if not started.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break  # the pool is busy: these reads wait their turn, the request does not

    def wait() -> list[Any]:
        results: list[Any] = []
        first_error: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as error:
                first_error = first_error or error
        if first_error is not None:
            raise first_error
        return results

    return wait


def read_concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent ZStack reads at once and wait for them: read_soon, with the request's own thread
    doing the first read instead of waiting idle. The threads share the process's one client (one session,
    one connection pool); the bounded pool keeps a burst of pages from opening unbounded connections."""
    if len(calls) <= 1:
        return [call() for call in calls]
    rest = read_soon(*calls[1:])
    try:
        first = calls[0]()
    except BaseException:
        with contextlib.suppress(BaseException):
            rest()  # waited for, then the first error is the one raised
        raise
    return [first, *rest()]


def get_client() -> ZStackClient:
    global _client
    with _client_lock:
        if _client is None:
            _client = client_from_settings()
        return _client


def reset_client() -> None:
    """Forget the process client; the next get_client() builds one from the current settings."""
    global _client
    with _client_lock:
        old, _client = _client, None
    if old is not None:
        old.close()


@receiver(setting_changed)
def _rebuild_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("ZSTACK_"):
        reset_client()
    if setting == "ZSTACK_READ_CONCURRENCY":
        global _pool
        with _pool_lock:
            old, _pool = _pool, None
        if old is not None:
            old.shutdown(wait=False)
