"""The README's production mode, for real: gunicorn with gunicorn.conf.py, DEBUG off, the background worker
(manage.py run_worker) and a ZStack whose jobs take 45 s. Writes answer at once with the card in progress,
never a 5xx; the worker records the outcome even when it is killed mid-job and started again; a replayed
form writes nothing. On PostgreSQL when DATABASE_URL points at one (as .ci/run provides), else SQLite."""

from __future__ import annotations

import csv
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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from simulator.server import SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
JOB_SECONDS = 45
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A database of its own: a new one on the PostgreSQL server of DATABASE_URL, else a SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'console.sqlite3'}"
        return
    import psycopg

    name = f"console_e2e_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Console:
    """gunicorn and the worker as separate processes, configured only through the environment."""

    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.env, self.url, self.logs = env, f"http://127.0.0.1:{port}", logs
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(self, *args: str, stdin: str | None = None) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)

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

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)  # no chance to clean up: as a crash or an OOM kill
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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

    def hidden_inputs(self, html: str) -> dict[str, str]:
        return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))

    def login(self, username: str, password: str) -> None:
        page = self.request("GET", "/accounts/login/").text
        response = self.request(
            "POST", "/accounts/login/", data={**self.hidden_inputs(page), "username": username, "password": password}
        )
        assert response.status_code == 302, response.text[:500]


@pytest.fixture
def console(tmp_path, database_url) -> Iterator[tuple[Console, SimulatorServer]]:
    simulator = SimulatorServer(host="127.0.0.1", port=0, job_seconds=JOB_SECONDS, log_requests=False).start()
    port = free_port()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "ZSTACK_", "DATABASE_", "REDIS_", "AUDIT_", "CONSOLE_"))
    }
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "ZSTACK_URL": simulator.url,
        "ZSTACK_PASSWORD": "password",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    app = Console(env, port, tmp_path)
    app.manage("migrate", "--noinput")
    app.manage("collectstatic", "--noinput")
    app.manage("adduser", "ada", "--role", "admin", "--password-stdin", stdin="E2e-Admin-Pass-1\n")
    app.manage("adduser", "otto", "--role", "auditor", "--password-stdin", stdin="E2e-Audit-Pass-1\n")
    try:
        app.start_web()
        app.start_worker()
        yield app, simulator
    finally:
        app.stop_all()
        simulator.stop()


def audit_rows(app: Console) -> list[dict]:
    auditor = Browser(app.url)
    auditor.login("otto", "E2e-Audit-Pass-1")
    text = auditor.request("GET", "/audit/export.csv").content.decode("utf-8-sig")
    return [row for row in csv.DictReader(io.StringIO(text)) if row["action"].startswith("storage.")]


def test_long_jobs_answer_at_once_survive_a_killed_worker_and_are_recorded_once(console):
    app, simulator = console
    uuid = next(s["uuid"] for s in simulator.storages() if s["name"] == "bs-prod-bj-01")
    admin = Browser(app.url)
    admin.login("ada", "E2e-Admin-Pass-1")
    htmx = {"HX-Request": "true"}

    form_page = admin.request("GET", f"/storages/{uuid}/edit/").text
    form = {
        **admin.hidden_inputs(form_page),
        "name": "bs-renamed-slowly",
        "description": "kept while it runs",
        "hostname": "192.0.2.11",
        "username": "root",
        "password": "",
        "sshPort": "22",
        "systemTags": "priority::high",
        "userTags": "env::prod\nowner::storage-team",
    }
    form.pop("csrfmiddlewaretoken", None)
    csrf = {"X-CSRFToken": admin.hidden_inputs(form_page)["csrfmiddlewaretoken"]}
    edit = admin.request("POST", f"/storages/{uuid}/edit/", data=form, headers={**htmx, **csrf})
    assert edit.status_code == 200 and "Saving changes…" in edit.text

    card = admin.request("GET", f"/storages/{uuid}/card/").text
    reconnect = admin.request(
        "POST",
        f"/storages/{uuid}/reconnect/",
        headers={**htmx, **csrf},
        data={"submission": re.search(r'reconnect/".*?name="submission" value="([^"]+)"', card, re.S).group(1)},
    )
    assert reconnect.status_code == 200 and "Reconnecting…" in reconnect.text

    # The same edit form posted again (a double click that came late): nothing more reaches ZStack.
    replay = admin.request("POST", f"/storages/{uuid}/edit/", data=form, headers={**htmx, **csrf})
    assert replay.status_code == 200 and "already submitted" in replay.text

    rows = audit_rows(app)
    assert [r["outcome"] for r in rows] == ["attempted", "attempted"]  # outcomes are the worker's to record
    app.kill("worker")  # mid-job: it was following both
    app.start_worker()

    deadline = time.monotonic() + JOB_SECONDS + 60
    while time.monotonic() < deadline:
        rows = audit_rows(app)
        if len([r for r in rows if r["outcome"] != "attempted"]) == 2:
            break
        time.sleep(2)
    outcomes = sorted((r["action"], r["outcome"]) for r in rows if r["outcome"] != "attempted")
    assert outcomes == [("storage.reconnect", "succeeded"), ("storage.update", "succeeded")]
    puts = [r for r in simulator.requests() if r["method"] == "PUT" and r["path"].endswith("/actions")]
    assert len(puts) == 2  # one update, one reconnect: the replay and the restarted worker sent nothing again
    stored = next(s for s in simulator.storages() if s["uuid"] == uuid)
    assert stored["name"] == "bs-renamed-slowly" and stored["description"] == "kept while it runs"
    assert not [s for s in admin.statuses if s[2] >= 500]
