"""Session limits and private responses (README "Production", issue 10).

An idle session ends SESSION_IDLE_TIMEOUT after the user's last request; any session ends
SESSION_MAX_LIFETIME after login, active or not. The storage card's own polling is not the user's
activity: a tab left open on a detail page would otherwise keep a session alive for ever.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils.cache import patch_cache_control

STARTED = "_console_started"
SEEN = "_console_seen"
# Write the last-seen time at most once a minute: not a session save on every request.
SEEN_RESOLUTION = 60


def start_session_clock(request) -> None:
    """At login: both limits count from now."""
    now = int(time.time())
    request.session[STARTED] = now
    request.session[SEEN] = now


def _is_background_poll(request) -> bool:
    """The card refreshing itself, or a write's progress line asking how it stands: htmx names the
    triggering element in HX-Trigger (ids `storage-card-<uuid>` and `write-<job>`, templates/storages/detail.html)."""
    return request.method == "GET" and request.headers.get("HX-Trigger", "").startswith(("storage-card-", "write-"))


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started, seen = session.get(STARTED), session.get(SEEN)
            if started is None or seen is None:  # a session from before these limits: they start now
                start_session_clock(request)
            elif (
                now - seen > settings.SESSION_IDLE_TIMEOUT.total_seconds()
                or now - started > settings.SESSION_MAX_LIFETIME.total_seconds()
            ):
                logout(request)  # LoginRequiredMiddleware then sends the request to the login page
            elif now - seen >= SEEN_RESOLUTION and not _is_background_poll(request):
                session[SEEN] = now
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """Every response to a logged-in user may show hostnames or the audit trail: no cache may keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
