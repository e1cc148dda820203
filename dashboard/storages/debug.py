"""Error reports that keep secrets out even with DEBUG on.

Django's SafeExceptionReporterFilter honours ``sensitive_post_parameters`` and ``sensitive_variables``
only while DEBUG is off ("if DEBUG is True then your site is not safe anyway"). ``make run`` serves with
DEBUG on, and its debug page would show the SSH password an administrator just typed. This filter is
always active; settings.DEFAULT_EXCEPTION_REPORTER_FILTER makes it the project's.

The ZStack client (dashboard.zstack) knows no Django, so it cannot use ``sensitive_variables``: its
frames hold the password, its hash, the session uuid (a bearer credential) and request bodies. Every
variable of a frame in that package, and of every frame it called (requests, urllib3), is hidden here.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

HIDDEN_PACKAGE = "dashboard.zstack"


def _within_client(frame: FrameType | None) -> bool:
    """The frame or one of its callers runs code of the ZStack client."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == HIDDEN_PACKAGE or module.startswith(HIDDEN_PACKAGE + "."):
            return True
        frame = frame.f_back
    return False


class SecretsHiddenExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request: Any) -> bool:
        return True

    def get_traceback_frame_variables(self, request: Any, tb_frame: FrameType) -> Any:
        if _within_client(tb_frame):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
