"""Logins, failed logins and lockouts in the audit trail: the "who" of who changed what starts here.

A login through the login page is recorded by its view (dashboard/accounts/views.py), not on
user_logged_in: that signal also fires for logins no one typed (the test client's force_login).
Failures are recorded on user_login_failed (connected in apps.py), after django-axes's own receiver,
which has by then flagged a locked-out user name + address pair on the request.
The password is never passed on: the failure signal's credentials are already cleansed, and only the
user name is read from them.
"""

from __future__ import annotations

import logging

from dashboard.audit import log as audit

from .actor import Actor, client_ip
from .roles import role_of

logger = logging.getLogger(__name__)


def record_login(request, user) -> None:
    actor = Actor(
        user_id=user.pk,
        username=user.get_username(),
        role=role_of(user),
        ip=client_ip(request),
        user_agent=_user_agent(request),
    )
    _record(actor, audit.Action.LOGIN, audit.Outcome.SUCCEEDED)


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is None:  # authenticate() called outside a web request (a command): not a login attempt
        return
    attempted = Actor(
        user_id=None,
        username=str(credentials.get("username") or ""),
        role=None,
        ip=client_ip(request),
        user_agent=_user_agent(request),
    )
    if getattr(request, "axes_locked_out", False):
        # This failure reached the limit, or the pair was locked already and the password never checked.
        _record(attempted, audit.Action.LOCKOUT, audit.Outcome.REFUSED)
    else:
        _record(attempted, audit.Action.LOGIN_FAILED, audit.Outcome.FAILED)


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:512]


def _record(actor: Actor, action: audit.Action, outcome: audit.Outcome) -> None:
    try:
        audit.record(actor=actor, action=action, storage_uuid="", storage_name=None, outcome=outcome)
    except audit.AuditUnavailable:
        # A login changes nothing in ZStack; refusing it because the trail is down would lock everyone out.
        logger.error("login event not recorded: the audit trail is unavailable (%s)", action)
