"""The time limits of dashboard/limits.py: the web server's timeout covers the worst write request, and the
system check refuses a configuration where it does not."""

from __future__ import annotations

import runpy
from pathlib import Path

from dashboard import limits
from dashboard.storages.checks import time_limits_agree
from dashboard.zstack.connection import Connection


def test_the_default_limits_pass_the_check():
    assert time_limits_agree(None) == []
    assert limits.WEB_TIMEOUT > limits.worst_write_request()


def test_a_web_timeout_shorter_than_the_worst_write_request_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "WEB_TIMEOUT", limits.worst_write_request() - 1)
    [error] = time_limits_agree(None)
    assert error.id == "console.E001" and "CONSOLE_WEB_TIMEOUT" in error.msg


def test_a_longer_zstack_timeout_needs_a_longer_web_timeout(settings):
    settings.ZSTACK_TIMEOUT = limits.ZSTACK_TIMEOUT * 2  # each read may now take twice as long, thrice
    assert [error.id for error in time_limits_agree(None)] == ["console.E001"]


def test_the_worst_write_request_counts_each_read_with_its_retries():
    assert limits.READ_ATTEMPTS == 1 + Connection.read_retries
    assert limits.worst_write_request(10, 4) == 3 * 3 * 10 + 10 + 4  # planning reads at once, poll, card


def test_gunicorn_lets_a_restart_wait_for_the_worst_write_request():
    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert conf["timeout"] == int(limits.WEB_TIMEOUT)
    assert conf["graceful_timeout"] > limits.worst_write_request()
