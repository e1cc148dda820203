"""Where an actor acts from: the address the audit trail records."""

import pytest
from django.test import RequestFactory

from dashboard.accounts.actor import client_ip


@pytest.fixture
def rf():
    return RequestFactory()


def test_without_trusted_proxies_forwarded_headers_are_ignored(rf, settings):
    settings.TRUSTED_PROXIES = 0
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "127.0.0.1"


def test_behind_one_proxy_the_address_it_appended_is_the_client(rf, settings):
    settings.TRUSTED_PROXIES = 1
    # A client may send its own X-Forwarded-For; our proxy appends the address it really saw.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"


def test_behind_two_proxies_the_outer_proxys_entry_is_the_client(rf, settings):
    settings.TRUSTED_PROXIES = 2
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="forged, 198.51.100.7, 127.0.0.5")
    assert client_ip(request) == "198.51.100.7"


def test_a_missing_forwarded_header_falls_back_to_the_peer_address(rf, settings):
    settings.TRUSTED_PROXIES = 1
    assert client_ip(rf.get("/", REMOTE_ADDR="192.0.2.1")) == "192.0.2.1"
