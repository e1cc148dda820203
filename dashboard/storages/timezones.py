"""Times in the reader's zone: static/js/app.js stores the browser's IANA zone in the `tz` cookie;
without it (first visit, no JavaScript) settings.TIME_ZONE applies."""

from __future__ import annotations

import zoneinfo
from urllib.parse import unquote
from functools import wraps

from django.utils import timezone

COOKIE = "tz"


def zone_from_request(request):
    name = unquote(request.COOKIES.get(COOKIE, ""))  # app.js URI-encodes it: "Asia%2FShanghai"
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def browser_timezone(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        zone = zone_from_request(request)
        if zone is None:
            return view(request, *args, **kwargs)
        with timezone.override(zone):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    return wrapped


class BrowserTimezoneMiddleware:
    """The same for every view (add to MIDDLEWARE to cover pages outside the storages app)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_from_request(request)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
