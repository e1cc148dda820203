"""Logging in: the stock LoginView with a fresh session key every time, a bounded number of concurrent
password checks, and the page django-axes shows a locked-out user name + address pair."""

from __future__ import annotations

import threading

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import login_audit
from .middleware import start_session_clock

# Per process: gunicorn's workers each get their own, which is what bounds each worker's CPU.
_password_checks = threading.BoundedSemaphore(max(1, settings.LOGIN_CONCURRENCY))


class LoginView(auth_views.LoginView):
    """Django's own (it already hides the password from error reports)."""

    def post(self, request, *args, **kwargs):
        # A login attempt holds a thread for one password hash; when as many attempts as allowed are
        # already hashing, say "busy" at once rather than queue: queued attempts would take every
        # worker thread, and the pages with them.
        if not _password_checks.acquire(blocking=False):
            response = render(request, "registration/busy.html", status=503)
            response["Retry-After"] = "5"
            return response
        try:
            return super().post(request, *args, **kwargs)
        finally:
            _password_checks.release()

    def form_valid(self, form):
        # django.contrib.auth.login() keeps the session key when the same user logs in again over a
        # live session; a new key at every login means a key seen before login is never a logged-in one.
        self.request.session.cycle_key()
        response = super().form_valid(form)
        start_session_clock(self.request)
        login_audit.record_login(self.request, form.get_user())
        return response


class LogoutView(auth_views.LogoutView):
    """POST logs out (the header's button) and says so on the login page. GET, from a bookmark or a typed
    address, asks first: a link must never end a session by itself."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        return render(request, "registration/logout_confirm.html")

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:  # after logout(): the message rides in the new, empty session
            messages.success(request, _("You are logged out."))
        return response


@login_not_required
def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: our page, 429, saying how long the lock lasts (never who is locked)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
