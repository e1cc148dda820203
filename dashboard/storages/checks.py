"""System checks: settings that would contradict each other at run time are refused at start-up."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from dashboard import limits


@register()
def time_limits_agree(app_configs, **kwargs):
    """A write request must end before the web server kills it (dashboard/limits.py)."""
    worst = limits.worst_write_request(settings.ZSTACK_TIMEOUT, settings.CONSOLE_WRITE_WAIT)
    if worst >= limits.WEB_TIMEOUT:
        return [
            Error(
                f"A write request may take {worst:g} s (dashboard/limits.py: its ZStack reads with their retries at "
                f"ZSTACK_TIMEOUT={settings.ZSTACK_TIMEOUT:g} s, its wait CONSOLE_WRITE_WAIT="
                f"{settings.CONSOLE_WRITE_WAIT:g} s, the call in flight and the card's re-read), "
                f"but the web server's timeout CONSOLE_WEB_TIMEOUT is {limits.WEB_TIMEOUT:g} s.",
                hint="Raise CONSOLE_WEB_TIMEOUT, or lower ZSTACK_TIMEOUT or CONSOLE_WRITE_WAIT.",
                id="console.E001",
            )
        ]
    if settings.CONSOLE_WRITE_WAIT >= settings.ZSTACK_JOB_DEADLINE:
        return [Error("CONSOLE_WRITE_WAIT must be shorter than ZSTACK_JOB_DEADLINE.", id="console.E002")]
    return []
