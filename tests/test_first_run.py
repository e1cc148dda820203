"""The first run (issue 13): `make run` checks its ports before it starts or prints anything, and the
demo (DEBUG on) shows our 404 page, not Django's technical one."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from dashboard.accounts.roles import Role

ROOT = Path(__file__).resolve().parents[1]
RUN_DEMO = ROOT / "scripts" / "run-demo.sh"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_demo(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"ZSTACK_URL", "DATABASE_URL"}}
    return subprocess.run(
        [str(RUN_DEMO)], env={**environment, **env}, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


@pytest.fixture
def busy_port():
    """A port something listens on, as another program would."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    yield listener.getsockname()[1]
    listener.close()


def test_a_busy_console_port_is_named_with_the_variable_before_anything_starts(busy_port):
    result = _run_demo(CONSOLE_PORT=str(busy_port), SIMULATOR_PORT=str(_free_port()))
    assert result.returncode == 1
    assert result.stdout == ""  # no "started", no address, no migration output
    assert f"port {busy_port} (the console) is already in use" in result.stderr
    assert "CONSOLE_PORT=" in result.stderr and "Traceback" not in result.stderr


def test_a_busy_simulator_port_is_named_with_the_variable_before_anything_starts(busy_port):
    result = _run_demo(CONSOLE_PORT=str(_free_port()), SIMULATOR_PORT=str(busy_port))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"port {busy_port} (the ZStack simulator) is already in use" in result.stderr
    assert "SIMULATOR_PORT=" in result.stderr and "(the console)" not in result.stderr


def test_with_a_zstack_url_of_its_own_the_simulator_port_is_not_checked(busy_port):
    console = socket.socket()
    console.bind(("127.0.0.1", 0))
    console.listen()
    try:
        result = _run_demo(
            CONSOLE_PORT=str(console.getsockname()[1]), SIMULATOR_PORT=str(busy_port), ZSTACK_URL="http://127.0.0.1:9"
        )
    finally:
        console.close()
    assert result.returncode == 1 and "(the console)" in result.stderr and "simulator" not in result.stderr


def test_a_port_that_is_not_a_number_is_refused_by_name():
    result = _run_demo(CONSOLE_PORT="eighty")
    assert result.returncode == 1 and result.stdout == ""
    assert '"eighty" is not a port number' in result.stderr


@pytest.mark.django_db
def test_with_debug_on_an_unknown_address_gets_our_404_page(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="error-page"' in html and "Not found · ImageStore Storage Console" in html
    assert "URLconf" not in html and "DEBUG = True" not in html


@pytest.mark.django_db
def test_with_debug_on_a_view_raising_not_found_gets_our_404_page(login_as, zstack_settings, settings):
    settings.DEBUG = True
    response = login_as(Role.ADMIN).get("/storages/" + "f" * 32 + "/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="error-page"' in html and "Back to the storage list" in html
    assert "Raised by" not in html and "DEBUG = True" not in html
