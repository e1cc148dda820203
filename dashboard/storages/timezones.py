"""Times in the reader's zone: static/js/app.js stores the browser's IANA zone in the `tz` cookie;
without it (first visit, no JavaScript) settings.TIME_ZONE applies."""

from __future__ import annotations

import zoneinfo
from urllib.parse import unquote

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


class BrowserTimezoneMiddleware:
    """Render every page in the reader's zone (after AuthenticationMiddleware in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_from_request(request)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
