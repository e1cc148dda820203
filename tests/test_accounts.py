"""Log in and out, the adduser command and the demo users (docs/architecture.md §4, issue 3 "Users and access")."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from dashboard.accounts.roles import Role, role_of

pytestmark = pytest.mark.django_db

PASSWORD = "Sturdy-Login-Pass-55"


def adduser(username: str, role: str, password: str | None, monkeypatch) -> str:
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    args = [username, "--role", role] + (["--password-stdin"] if password is not None else [])
    call_command("adduser", *args, stdout=out)
    return out.getvalue()


def test_adduser_creates_a_user_with_the_role_and_the_password_from_stdin(monkeypatch):
    output = adduser("alice", "admin", PASSWORD, monkeypatch)
    user = get_user_model().objects.get(username="alice")
    assert "Created" in output and PASSWORD not in output
    assert user.check_password(PASSWORD)
    assert role_of(user) is Role.ADMIN


def test_adduser_updates_an_existing_user_role_and_password(monkeypatch):
    adduser("bob", "viewer", PASSWORD, monkeypatch)
    output = adduser("bob", "auditor", PASSWORD + "-new", monkeypatch)
    user = get_user_model().objects.get(username="bob")
    assert "Updated" in output
    assert role_of(user) is Role.AUDITOR and [g.name for g in user.groups.all()] == ["auditor"]
    assert user.check_password(PASSWORD + "-new")


def test_adduser_can_change_only_the_role(monkeypatch):
    adduser("carol", "viewer", PASSWORD, monkeypatch)
    adduser("carol", "admin", None, monkeypatch)
    user = get_user_model().objects.get(username="carol")
    assert role_of(user) is Role.ADMIN and user.check_password(PASSWORD)


def test_adduser_refuses_a_new_user_without_a_password(monkeypatch):
    with pytest.raises(CommandError, match="needs a password"):
        adduser("dave", "viewer", None, monkeypatch)
    assert not get_user_model().objects.filter(username="dave").exists()


def test_adduser_refuses_an_unknown_role_and_a_weak_password(monkeypatch):
    with pytest.raises(CommandError):
        adduser("erin", "root", PASSWORD, monkeypatch)
    with pytest.raises(CommandError, match="Password rejected"):
        adduser("erin", "viewer", "password", monkeypatch)
    with pytest.raises(CommandError, match="No password"):
        adduser("erin", "viewer", "", monkeypatch)


def test_ensure_demo_users_creates_one_user_per_role_with_fresh_printed_passwords(client):
    first, second = io.StringIO(), io.StringIO()
    call_command("ensure_demo_users", stdout=first)
    call_command("ensure_demo_users", stdout=second)
    passwords = {}
    for line in second.getvalue().splitlines():
        match = re.match(r"\s+(\w+)\s+role (\w+)\s+password (\S+)$", line)
        if match:
            passwords[match[1]] = match[3]
            assert role_of(get_user_model().objects.get(username=match[1])) == Role(match[2])
    assert set(passwords) == {"admin", "viewer", "auditor"}
    assert passwords["admin"] not in first.getvalue()  # new on every run
    response = client.post("/accounts/login/", {"username": "viewer", "password": passwords["viewer"]})
    assert response.status_code == 302


def test_login_page_is_public_and_has_the_username_and_password_fields(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in html and 'name="password"' in html
    assert 'autocomplete="current-password"' in html


def test_login_then_logout_by_post(client, monkeypatch):
    adduser("frank", "viewer", PASSWORD, monkeypatch)
    response = client.post("/accounts/login/", {"username": "frank", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/storages/"
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/storages/").status_code == 302
    assert "You are logged out." in client.get("/accounts/login/").content.decode()


def test_a_get_of_the_logout_address_asks_first_and_keeps_the_session(client, monkeypatch):
    adduser("frank", "viewer", PASSWORD, monkeypatch)
    client.post("/accounts/login/", {"username": "frank", "password": PASSWORD})
    response = client.get("/accounts/logout/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Log out?" in html and "frank" in html
    assert '<form method="post" action="/accounts/logout/"' in html and "csrfmiddlewaretoken" in html
    assert client.get("/accounts/logout/").wsgi_request.user.username == "frank"  # still signed in


def test_logged_out_the_logout_address_sends_to_the_login_page_without_a_message(client):
    response = client.get("/accounts/logout/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post("/accounts/logout/")
    assert "You are logged out." not in client.get("/accounts/login/").content.decode()


def test_the_login_page_has_a_language_switcher_that_works_without_javascript(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in html and 'name="language"' in html and "csrfmiddlewaretoken" in html
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "登录" in client.get("/accounts/login/").content.decode()


def test_wrong_password_shows_an_error_linked_to_the_fields(client, monkeypatch):
    adduser("grace", "viewer", PASSWORD, monkeypatch)
    response = client.post("/accounts/login/", {"username": "grace", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and 'aria-describedby="login-errors"' in html
    assert 'value="grace"' in html


def test_the_nav_shows_user_role_audit_link_language_switcher_and_logout(client, zstack_settings, monkeypatch):
    adduser("heidi", "auditor", PASSWORD, monkeypatch)
    client.post("/accounts/login/", {"username": "heidi", "password": PASSWORD})
    html = client.get("/storages/").content.decode()
    assert "heidi" in html and "Auditor" in html
    assert 'href="/audit/"' in html
    assert 'action="/i18n/setlang/"' in html and 'name="language"' in html
    assert 'action="/accounts/logout/"' in html


def test_viewers_get_no_audit_link(client, zstack_settings, monkeypatch):
    adduser("ivan", "viewer", PASSWORD, monkeypatch)
    client.post("/accounts/login/", {"username": "ivan", "password": PASSWORD})
    assert 'href="/audit/"' not in client.get("/storages/").content.decode()
