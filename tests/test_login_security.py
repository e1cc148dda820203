"""The front door (issue 10): lockout of a user name + address pair, the audit trail of logins,
Argon2 with upgrade at login, bounded password checks, and session keys and limits."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.db.models import Q

from dashboard.accounts import middleware as session_limits
from dashboard.accounts import views as account_views
from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from tests.storage_helpers import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "Wrong-Canary-Pass-3141"


def attempt(client, username, password, address="203.0.113.7", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def fail_until_locked(client, username, address="203.0.113.7", **extra):
    responses = [attempt(client, username, WRONG, address, **extra) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    return responses[-1]


def login_events(action=None):
    events = AuditEvent.objects.filter(action__startswith="auth.").order_by("sequence")
    return [(e.action, e.outcome, e.actor_username, e.ip) for e in events if action is None or e.action == action]


def test_five_failures_lock_the_pair_and_even_the_right_password_gets_the_lockout_page(client):
    make_user(Role.VIEWER, "vera")
    locked = fail_until_locked(client, "vera")
    html = locked.content.decode()
    assert "Too many failed logins" in html and "15 minutes" in html
    right = attempt(client, "vera", PASSWORD)
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_the_lock_holds_only_that_user_name_from_that_address(client):
    make_user(Role.VIEWER, "vera")
    make_user(Role.VIEWER, "walt")
    fail_until_locked(client, "vera", "203.0.113.7")
    # A colleague behind the same address, and vera from another address, still log in.
    assert attempt(client, "walt", PASSWORD, "203.0.113.7").status_code == 302
    client.logout()
    assert attempt(client, "vera", PASSWORD, "198.51.100.9").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, settings):
    settings.TRUSTED_PROXIES = 0
    make_user(Role.VIEWER, "vera")
    fail_until_locked(client, "vera")
    forged = attempt(client, "vera", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert forged.status_code == 429


def test_behind_a_trusted_proxy_the_lock_is_per_client_address_the_proxy_saw(client, settings):
    settings.TRUSTED_PROXIES = 1
    make_user(Role.VIEWER, "vera")
    proxy = "10.0.0.1"
    fail_until_locked(client, "vera", proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # The client can prepend anything: only the address our proxy appended counts.
    assert attempt(client, "vera", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7").status_code == 429
    assert attempt(client, "vera", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_logins_failures_and_the_lockout_are_in_the_audit_trail_without_the_password(client):
    make_user(Role.ADMIN, "ada")
    assert attempt(client, "ada", PASSWORD).status_code == 302
    client.logout()
    fail_until_locked(client, "ada")
    attempt(client, "ada", PASSWORD)  # refused while locked: recorded as the lock, not as a login
    ip = "203.0.113.7"
    assert login_events() == [
        ("auth.login", "succeeded", "ada", ip),
        *[("auth.login_failed", "failed", "ada", ip)] * 4,
        ("auth.lockout", "refused", "ada", ip),
        ("auth.lockout", "refused", "ada", ip),
    ]
    success = AuditEvent.objects.get(action="auth.login")
    assert success.actor_role == "admin" and success.actor_user_id is not None and success.storage_uuid == ""
    for model_text in AuditEvent.objects.values_list("changes", "error_message", "user_agent"):
        assert WRONG not in str(model_text) and PASSWORD not in str(model_text)
    assert not AccessAttempt.objects.filter(Q(post_data__contains=WRONG) | Q(get_data__contains=WRONG)).exists()


def test_the_documented_unlock_command_lets_the_user_in_again(client):
    make_user(Role.VIEWER, "vera")
    fail_until_locked(client, "vera")
    call_command("axes_reset_username", "vera", stdout=io.StringIO())
    assert attempt(client, "vera", PASSWORD).status_code == 302


def test_the_failure_limit_comes_from_the_settings(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user(Role.VIEWER, "vera")
    assert [attempt(client, "vera", WRONG).status_code for _ in range(2)] == [200, 429]


def test_a_pbkdf2_hash_is_upgraded_to_argon2_at_the_next_login(client, settings):
    from dashboard import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = make_user(Role.VIEWER, "olga")
    old = PBKDF2PasswordHasher()
    user.password = old.encode(PASSWORD, old.salt(), iterations=1000)  # any PBKDF2 hash, cheaply
    user.save(update_fields=["password"])

    assert attempt(client, "olga", PASSWORD).status_code == 302
    upgraded = get_user_model().objects.get(pk=user.pk).password
    assert upgraded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    client.logout()
    assert attempt(client, "olga", PASSWORD).status_code == 302  # the new hash verifies


def test_when_every_password_check_slot_is_taken_the_login_answers_busy(client, monkeypatch):
    make_user(Role.VIEWER, "vera")
    monkeypatch.setattr(account_views, "_password_checks", threading.BoundedSemaphore(1))
    account_views._password_checks.acquire()
    try:
        busy = attempt(client, "vera", PASSWORD)
    finally:
        account_views._password_checks.release()
    assert busy.status_code == 503 and busy["Retry-After"] and "The console is busy" in busy.content.decode()
    assert "_auth_user_id" not in client.session and login_events() == []
    assert attempt(client, "vera", PASSWORD).status_code == 302  # the slot is free again


def test_the_session_key_changes_at_login_even_when_the_same_user_logs_in_again(client):
    make_user(Role.VIEWER, "vera")
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    attempt(client, "vera", PASSWORD)
    first = client.session.session_key
    attempt(client, "vera", PASSWORD)
    second = client.session.session_key
    assert client.session["_auth_user_id"]
    assert len({before, first, second}) == 3


def _age_session(client, *, started_ago: int, seen_ago: int) -> None:
    session = client.session
    now = int(time.time())
    session[session_limits.STARTED] = now - started_ago
    session[session_limits.SEEN] = now - seen_ago
    session.save()


def test_a_session_idle_for_longer_than_the_limit_ends(client, zstack_settings):
    make_user(Role.VIEWER, "vera")
    attempt(client, "vera", PASSWORD)
    _age_session(client, started_ago=29 * 60, seen_ago=29 * 60)
    assert client.get("/storages/").status_code == 200
    _age_session(client, started_ago=31 * 60, seen_ago=31 * 60)
    response = client.get("/storages/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_a_session_ends_after_the_absolute_lifetime_however_active(client, zstack_settings):
    make_user(Role.VIEWER, "vera")
    attempt(client, "vera", PASSWORD)
    _age_session(client, started_ago=12 * 3600 - 60, seen_ago=0)
    assert client.get("/storages/").status_code == 200
    _age_session(client, started_ago=12 * 3600 + 1, seen_ago=0)
    assert client.get("/storages/").status_code == 302


def test_the_cards_own_polling_does_not_keep_a_session_alive(client, zstack_settings):
    make_user(Role.VIEWER, "vera")
    attempt(client, "vera", PASSWORD)
    uuid = zstack_settings.storages()[0]["uuid"]
    _age_session(client, started_ago=20 * 60, seen_ago=20 * 60)
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": f"storage-card-{uuid}"}
    assert client.get(f"/storages/{uuid}/card/", **poll).status_code == 200
    progress = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "write-" + "a" * 32}  # a write's progress line
    client.get(f"/storages/{uuid}/submissions/unknown/", **progress)
    assert int(time.time()) - client.session[session_limits.SEEN] >= 20 * 60  # not refreshed by the polls
    assert client.get(f"/storages/{uuid}/").status_code == 200
    assert int(time.time()) - client.session[session_limits.SEEN] < 60  # a page the user opened is


def test_the_limits_come_from_the_environment():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SECRET_KEY": "k" * 50,
        "AUDIT_SIGNING_KEY": "a" * 40,
        "DJANGO_SESSION_IDLE_MINUTES": "5",
        "DJANGO_SESSION_MAX_HOURS": "2",
        "DJANGO_LOGIN_FAILURE_LIMIT": "7",
        "DJANGO_LOGIN_COOLOFF_MINUTES": "30",
    }
    code = (
        "import dashboard.settings as s; print(s.SESSION_IDLE_TIMEOUT.total_seconds(), "
        "s.SESSION_MAX_LIFETIME.total_seconds(), s.SESSION_COOKIE_AGE, s.AXES_FAILURE_LIMIT, "
        "s.AXES_COOLOFF_TIME.total_seconds())"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["300.0", "7200.0", "7200", "7", "1800.0"], out.stderr
