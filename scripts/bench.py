"""Benchmark: what the console adds on top of ZStack. Prints figures; asserts nothing.

    make bench            # or: .venv/bin/python scripts/bench.py --rounds 40

For each page it times, in one run and on one machine, (a) the upstream ZStack calls the page makes,
issued directly through our client, and (b) the whole page through Django (middleware, auth, session,
selectors, client, template rendering), then prints the ratio page / upstream. The simulator answers
in its own process, over real HTTP on loopback; --storages sets how many storages it holds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, rounds: int) -> list[float]:
    fn()  # warm-up: connections, sessions, template caches
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return f"median {statistics.median(samples):7.2f} ms  p95 {p95:7.2f} ms"


@contextlib.contextmanager
def simulator_process(storages: int):
    """The simulator in its own process, as ZStack would be: its CPU time is not ours, nor its GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", str(port), "--storages", str(storages), "--quiet"],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storages", type=int, nargs="+", default=[12, 10_000])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="isc-bench-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        AUDIT_SIGNING_KEY=secrets.token_urlsafe(48),
        DJANGO_DEBUG="0",  # production-like: cached templates, no debug bookkeeping
        ZSTACK_PASSWORD="password",  # the simulator's account
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_COOKIES="0",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        DJANGO_LOG_LEVEL="WARNING",
    )
    import django
    from django.conf import settings

    (ROOT / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    django.setup()
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from dashboard.accounts.roles import Role, assign_role
    from dashboard.storages.zstack_client import get_client, reset_client

    call_command("migrate", verbosity=0)
    admin = get_user_model().objects.create_user("bench-admin")
    assign_role(admin, Role.ADMIN)
    browser = Client()
    browser.force_login(admin)

    print(f"rounds per figure: {args.rounds}; Python {sys.version.split()[0]}; {os.cpu_count()} cores")
    for count in args.storages:
        with simulator_process(count) as url:
            settings.ZSTACK_URL = url
            reset_client()
            client = get_client()
            uuid = client.query_image_stores(limit=1).items[0].uuid
            print(f"\n== {count} storages ==")

            def list_upstream():
                client.query_image_stores(
                    conditions=["state=Enabled"], limit=25, start=0, sort="+name", with_count=True
                )
                client.query_zones()

            def list_page():
                response = browser.get("/storages/", {"state": "Enabled"})
                assert response.status_code == 200, response.status_code

            def card_upstream():
                storage = client.get_image_store(uuid)
                client.zones_by_uuid(list(storage.attached_zone_uuids))
                client.get_tags(uuid)

            def card_page():
                response = browser.get(f"/storages/{uuid}/card/", headers={"HX-Request": "true"})
                assert response.status_code == 200, response.status_code

            def keep_alive_call():
                # One reused connection (the client's session): with Nagle's algorithm on in the simulator each
                # call would wait ~40 ms for a delayed ACK (tests/test_simulator.py checks the socket option).
                client.query_zones()

            print(f"one keep-alive ZStack call: {summary(timed(keep_alive_call, args.rounds))}")
            for label, upstream, page in (
                ("list page  /storages/", list_upstream, list_page),
                ("card       /storages/<uuid>/card/", card_upstream, card_page),
            ):
                up = timed(upstream, args.rounds)
                whole = timed(page, args.rounds)
                ratio = statistics.median(whole) / statistics.median(up)
                print(
                    f"{label}\n  upstream calls only: {summary(up)}\n"
                    f"  whole page:          {summary(whole)}\n  page / upstream:     {ratio:.2f}x"
                )


if __name__ == "__main__":
    main()
