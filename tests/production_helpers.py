"""The console as operators run it (README "Production"), for end-to-end tests: gunicorn with
gunicorn.conf.py and the background worker as separate processes, configured only through the environment,
reached over real HTTP. Used by tests/test_production_writes.py and tests/test_several_instances.py."""

from __future__ import annotations

import csv
import html
import io
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("ada", "E2e-Admin-Pass-1")
AUDITOR = ("otto", "E2e-Audit-Pass-1")
HTMX = {"HX-Request": "true"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def new_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own: a new one on the PostgreSQL server of DATABASE_URL (dropped afterwards), else a
    SQLite file in ``tmp_path``."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'console.sqlite3'}"
        return
    import psycopg

    name = f"console_e2e_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def production_env(*, database_url: str, zstack_url: str, **more: str) -> dict[str, str]:
    """The README's production settings (DEBUG off, a secret key and an audit key of their own) and nothing
    inherited from the test run's own DJANGO_/ZSTACK_/DATABASE_/REDIS_/AUDIT_/CONSOLE_ variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "ZSTACK_", "DATABASE_", "REDIS_", "AUDIT_", "CONSOLE_", "GUNICORN_"))
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "ZSTACK_URL": zstack_url,
        "ZSTACK_PASSWORD": "password",
        "WEB_CONCURRENCY": "2",
        **more,
    }


class Console:
    """One console instance: its gunicorn and, where it runs one, its worker, each a process of its own (in a
    process group of its own, so killing one takes gunicorn's workers down with their master)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        port = free_port()
        self.env, self.url, self.logs = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, f"http://127.0.0.1:{port}", logs
        logs.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def prepare(self) -> None:
        """What runs once per deployment, whatever the number of instances: migrations, static files, users."""
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.manage("adduser", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1] + "\n")
        self.manage("adduser", AUDITOR[0], "--role", "auditor", "--password-stdin", stdin=AUDITOR[1] + "\n")

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
        )

    def start_web(self) -> None:
        self.start(
            "gunicorn", [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "dashboard.wsgi"]
        )
        started = time.monotonic()
        while time.monotonic() - started < 90:  # a loaded 2-core CI machine can take a while to boot workers
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # refused while binding, or a read timeout while booting
                pass
            time.sleep(0.3)
        raise AssertionError("gunicorn did not start: " + (self.logs / "gunicorn.log").read_text()[-2000:])

    def start_worker(self) -> None:
        self.start("worker", [sys.executable, "manage.py", "run_worker", "--sweep-seconds", "2"])

    def running(self, name: str) -> bool:
        return name in self.processes and self.processes[name].poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group: no chance to clean up, as a crash, an OOM kill or a lost host."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


class Browser:
    """A user's session over plain HTTP. The console's cookies are Secure outside DEBUG (as behind a TLS
    proxy), which requests would not send back over http: they are kept by hand."""

    def __init__(self, base: str) -> None:
        self.base, self.http, self.statuses = base, requests.Session(), []

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.http.request(method, self.base + path, allow_redirects=False, timeout=60, **kwargs)
        self.statuses.append((method, path, response.status_code))
        for cookie in response.cookies:
            self.http.cookies.set(cookie.name, cookie.value)
        return response

    def cookies(self) -> dict[str, str]:
        """The cookies this browser sends (those kept by hand: no domain)."""
        return {cookie.name: cookie.value for cookie in self.http.cookies if not cookie.domain}

    def hidden_inputs(self, html: str) -> dict[str, str]:
        return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))

    def login(self, username: str, password: str) -> None:
        page = self.request("GET", "/accounts/login/").text
        response = self.request(
            "POST", "/accounts/login/", data={**self.hidden_inputs(page), "username": username, "password": password}
        )
        assert response.status_code == 302, response.text[:500]

    def edit_form(self, uuid: str, **values: str) -> tuple[dict[str, str], dict[str, str]]:
        """The storage's edit form as loaded (its hidden inputs and current values) with ``values`` typed in;
        returns the form and the CSRF header an htmx post sends."""
        page = self.request("GET", f"/storages/{uuid}/edit/").text
        hidden = self.hidden_inputs(page)
        csrf = {"X-CSRFToken": hidden.pop("csrfmiddlewaretoken")}
        current = {
            name: html.unescape(value)
            for name, value in re.findall(r'<input[^>]*name="([A-Za-z]+)"[^>]*value="([^"]*)"', page)
            if name not in hidden
        }
        textareas = {
            name: html.unescape(value)
            for name, value in re.findall(r'<textarea[^>]*name="([A-Za-z]+)"[^>]*>\n?(.*?)</textarea>', page, re.S)
        }
        return {**current, **textareas, "password": "", **hidden, **values}, csrf


def audit_rows(base: str, prefix: str = "storage.") -> list[dict]:
    """The audit log as an auditor exports it (CSV), oldest first: the events whose action starts with ``prefix``."""
    auditor = Browser(base)
    auditor.login(*AUDITOR)
    text = auditor.request("GET", "/audit/export.csv").content.decode("utf-8-sig")
    rows = [row for row in csv.DictReader(io.StringIO(text)) if row["action"].startswith(prefix)]
    return sorted(rows, key=lambda row: int(row["sequence"]))
