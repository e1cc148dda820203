"""The console's one ZStack client per process, built from Django's settings.

dashboard.zstack knows no Django (docs/architecture.md §5): its client takes its settings as
arguments. This module is the glue: it reads the ZSTACK_* settings, shares one thread-safe client per
process, and forgets it when a ZSTACK_* setting changes (tests, ``override_settings``).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from dashboard.zstack.client import ZStackClient

_client: ZStackClient | None = None
_client_lock = threading.Lock()


def client_from_settings() -> ZStackClient:
    return ZStackClient(
        settings.ZSTACK_URL,
        settings.ZSTACK_ACCOUNT,
        settings.ZSTACK_PASSWORD,
        time_zone=getattr(settings, "ZSTACK_TIME_ZONE", "Asia/Shanghai"),
        timeout=float(getattr(settings, "ZSTACK_TIMEOUT", 10.0)),
    )


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
