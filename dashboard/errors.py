"""Our error pages where Django would answer with its own: the CSRF failure (CSRF_FAILURE_VIEW) and
the empty body of a 405. 400, 403, 404 and 500 are the templates of the same names."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import render


def csrf_failure(request, reason: str = ""):
    # Django's page explains CSRF to developers (and mentions DEBUG); ours tells the user what to do.
    # The reason stays out of the page: it is for the developer, and the log has it.
    return render(request, "403_csrf.html", status=403)


class ErrorPagesMiddleware:
    """A 405 from require_http_methods or a class-based view has no body: give it our page, keeping
    the Allow header that says which methods work. With DEBUG on (the `make run` demo) a 404 is our
    page too, not Django's technical one: the demo shows what users will see (the log keeps the path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            # No URL matched: Django's handler answered with its technical page (DEBUG) before any view ran.
            return render(request, "404.html", status=404)
        if response.status_code == 405 and not getattr(response, "streaming", False) and not response.content:
            page = render(request, "405.html", status=405)
            if response.has_header("Allow"):
                page["Allow"] = response["Allow"]
            return page
        return response

    def process_exception(self, request, exception):
        """A view raised Http404: with DEBUG on, Django would answer with its technical page."""
        if settings.DEBUG and isinstance(exception, Http404):
            return render(request, "404.html", status=404)
        return None
