"""Benchmark: what the console adds on top of ZStack. Prints figures; asserts nothing (docs/performance.md).

    make bench            # or: .venv/bin/python scripts/bench.py --rounds 40 --seconds 20

1. Against a fast simulator, for each page, in one run and on one machine: (a) the upstream ZStack calls the
   page makes, issued directly through our client one after another, and (b) the whole page through Django
   (middleware, auth, session, selectors, client, template rendering); then the ratio page / upstream.
2. The console's own cost: the detail page's reads one after another and at once (wall and CPU time), then
   the card and the detail page with every ZStack read answered from memory.
3. Production mode: gunicorn (--workers, DEBUG off) with --clients concurrent keep-alive clients for
   --seconds per page: requests per second and p50 / p95 / p99.
4. With the simulator at --latency-ms per call: each page against the slowest single call it needs (its
   independent reads run at once, so a page should cost about its slowest read, not their sum).
The simulator answers in its own process, over real HTTP on loopback; --storages sets how many it holds.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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


def timed_together(first, second, rounds: int) -> tuple[list[float], list[float]]:
    """Both timed in turns (first, second, first, ...): a burst of other work on this shared machine slows
    both alike instead of one of them, so their ratio holds steadier than two runs one after the other."""
    first(), second()  # warm-up
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for fn, samples in ((first, a), (second, b)):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    return a, b


def wall_and_cpu(fn, rounds: int) -> str:
    """Median wall time, and this process's CPU time per call (every thread's: the read pool's too)."""
    fn()
    cpu_started = time.process_time()
    walls = timed(fn, rounds)
    cpu = (time.process_time() - cpu_started) * 1000 / (rounds + 1)
    return f"wall median {statistics.median(walls):6.2f} ms  CPU {cpu:6.2f} ms a call"


def card_reads_of(client, uuid: str) -> tuple:
    """The card's ZStack reads (selectors.storage_detail_soon), for an administrator."""
    return (
        lambda: client.get_image_store(uuid),
        client.query_zones,
        lambda: client.get_system_tags(uuid),
        lambda: client.get_user_tags(uuid),
    )


def image_reads_of(client, uuid: str) -> tuple:
    """The detail page's first page of images and their sum (selectors.storage_images_soon)."""
    return (
        lambda: client.images_on_backup_storage(uuid, limit=10, start=0, sort="-actualSize"),
        lambda: client.actual_size_on_backup_storage(uuid),
    )


@contextlib.contextmanager
def reads_from_memory(client):
    """The client's reads answered from memory after their first call: what is left of a page is its own."""
    names = ("get_image_store", "query_zones", "get_system_tags", "get_user_tags")
    names += ("images_on_backup_storage", "actual_size_on_backup_storage")

    def remembering(read):
        answers: dict = {}

        def remembered(*args, **kwargs):
            key = (args, tuple(sorted(kwargs.items())))
            if key not in answers:
                answers[key] = read(*args, **kwargs)
            return answers[key]

        return remembered

    for name in names:
        setattr(client, name, remembering(getattr(client, name)))  # shadows the method on this one client
    try:
        yield
    finally:
        for name in names:
            delattr(client, name)


def summary(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return f"median {statistics.median(samples):7.2f} ms  p95 {p95:7.2f} ms"


@contextlib.contextmanager
def simulator_process(storages: int, latency_ms: int = 0):
    """The simulator in its own process, as ZStack would be: its CPU time is not ours, nor its GIL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", str(port), "--storages", str(storages), "--quiet"]
        + ["--latency-ms", str(latency_ms)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    yield from serving(process, port, stop_timeout=10)


def serving(process: subprocess.Popen, port: int, *, stop_timeout: float):
    """Yield the started process's address once it listens; stop it afterwards."""
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=stop_timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * p / 100) - 1))]


def load_test(url: str, cookie: dict[str, str], clients: int, seconds: float) -> str:
    """``clients`` threads, each a keep-alive HTTP client, asking for ``url`` for ``seconds``."""
    import requests

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        session = requests.Session()
        session.cookies.update(cookie)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = session.get(url, allow_redirects=False)
            took = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(took)
                errors += response.status_code != 200
                if response.status_code != 200 and errors == 1:
                    print(f"  first failure: {response.status_code} {response.headers.get('Location', '')}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return (
        f"{len(latencies) / elapsed:7.1f} requests/s  p50 {percentile(latencies, 50):7.1f} ms  "
        f"p95 {percentile(latencies, 95):7.1f} ms  p99 {percentile(latencies, 99):7.1f} ms  "
        f"({len(latencies)} requests, {errors} not 200)"
    )


@contextlib.contextmanager
def gunicorn(zstack_url: str, workers: int):
    """The console as in production: gunicorn, DEBUG off, the bench's database and keys."""
    port = free_port()
    env = {**os.environ, "ZSTACK_URL": zstack_url, "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    # DEBUG off serves hashed static files from the manifest: build it as a deployment would (README "Production").
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "dashboard.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    yield from serving(process, port, stop_timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
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
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}",
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
    from dashboard.storages.zstack_client import get_client, read_soon, reset_client

    call_command("migrate", verbosity=0)
    admin, _ = get_user_model().objects.get_or_create(username="bench-admin")
    assign_role(admin, Role.ADMIN)
    browser = Client()
    browser.force_login(admin)
    cookie = {name: morsel.value for name, morsel in browser.cookies.items()}

    print(
        f"rounds per figure: {args.rounds}; Python {sys.version.split()[0]}; {os.cpu_count()} cores; "
        f"{args.storages} storages; database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
    )
    with simulator_process(args.storages) as url:
        settings.ZSTACK_URL = url
        reset_client()
        client = get_client()
        uuid = client.query_image_stores(limit=1).items[0].uuid

        def upstream_list(size: int):
            def run():
                client.query_image_stores(
                    conditions=["state=Enabled"], limit=size, start=0, sort="+name", with_count=True
                )
                client.query_zones()

            return run

        def upstream_card():
            for read in card_reads_of(client, uuid):
                read()

        def upstream_detail():
            for read in (*card_reads_of(client, uuid), *image_reads_of(client, uuid)):
                read()

        def page(path: str, **headers: str):
            def run():
                response = browser.get(path, headers=headers)
                assert response.status_code == 200, (path, response.status_code)

            return run

        figures = {}
        print("\n== fast simulator (in process: Django test client; upstream = the page's calls one after another) ==")
        print(f"one keep-alive ZStack call: {summary(timed(lambda: client.query_zones(), args.rounds))}")
        for label, upstream, whole in (
            ("list page, 25 rows", upstream_list(25), page("/storages/?state=Enabled")),
            ("list page, 100 rows", upstream_list(100), page("/storages/?state=Enabled&page_size=100")),
            ("card fragment", upstream_card, page(f"/storages/{uuid}/card/", HX_Request="true")),
            ("detail page", upstream_detail, page(f"/storages/{uuid}/")),
        ):
            up, full = timed_together(upstream, whole, args.rounds)
            figures[label] = statistics.median(full)
            print(
                f"{label}\n  upstream calls only: {summary(up)}\n  whole page:          {summary(full)}\n"
                f"  page / upstream:     {statistics.median(full) / statistics.median(up):.2f}x"
            )
        print(f"100 rows / 25 rows: {figures['list page, 100 rows'] / figures['list page, 25 rows']:.2f}x")
        card_bytes = len(browser.get(f"/storages/{uuid}/card/", headers={"HX-Request": "true"}).content)
        print(f"card fragment size: {card_bytes} bytes")

        print("\n== the console's own cost (in process) ==")
        detail_reads = (*card_reads_of(client, uuid), *image_reads_of(client, uuid))
        for label, run in (
            ("the detail page's 6 reads alone, one after another: ", lambda: [read() for read in detail_reads]),
            ("the detail page's 6 reads alone, at once (read pool):", lambda: read_soon(*detail_reads)()),
        ):
            print(f"{label} {wall_and_cpu(run, args.rounds)}")
        print("the pages with every ZStack read answered from memory:")
        with reads_from_memory(client):
            for label, run in (
                ("card fragment", page(f"/storages/{uuid}/card/", HX_Request="true")),
                ("detail page", page(f"/storages/{uuid}/")),
            ):
                print(f"  {label:13} {summary(timed(run, args.rounds))}")

        print(
            f"\n== production: gunicorn, {args.workers} workers, DEBUG off, {args.clients} concurrent clients, "
            f"{args.seconds:.0f} s per page =="
        )
        with gunicorn(url, args.workers) as site:
            for label, path in (("list page", "/storages/?state=Enabled"), ("detail page", f"/storages/{uuid}/")):
                print(f"{label:12} {load_test(site + path, cookie, args.clients, args.seconds)}")

    with simulator_process(args.storages, args.latency_ms) as url:
        settings.ZSTACK_URL = url
        reset_client()
        client = get_client()
        print(f"\n== simulator at {args.latency_ms} ms per call (page / its slowest single call) ==")
        card_reads, image_reads = card_reads_of(client, uuid), image_reads_of(client, uuid)
        slowest = {
            "list page  /storages/": (
                lambda: client.query_image_stores(
                    conditions=["state=Enabled"], limit=25, start=0, sort="+name", with_count=True
                ),
                page("/storages/?state=Enabled"),
            ),
            "card       /storages/<uuid>/card/": (
                lambda: client.get_image_store(uuid),
                page(f"/storages/{uuid}/card/", HX_Request="true"),
            ),
            # its slowest read is the images' (the simulator filters every image for the storage's refs)
            "detail     /storages/<uuid>/": (
                lambda: client.images_on_backup_storage(uuid, limit=10, start=0, sort="-actualSize"),
                page(f"/storages/{uuid}/"),
            ),
        }
        # The floor under each ratio: the page's reads alone, at once through the console's read pool, no Django.
        # The simulator is one Python process on the same cores, so concurrent answers queue for its CPU.
        reads_at_once = {
            "list page  /storages/": lambda: read_soon(
                lambda: client.query_image_stores(
                    conditions=["state=Enabled"], limit=25, start=0, sort="+name", with_count=True
                ),
                client.query_zones,
            )(),
            "card       /storages/<uuid>/card/": lambda: read_soon(*card_reads)(),
            "detail     /storages/<uuid>/": lambda: read_soon(*card_reads, *image_reads)(),
        }
        rounds = max(5, args.rounds // 3)
        for label, (one_call, whole) in slowest.items():
            single, full = timed_together(one_call, whole, rounds)
            _, reads = timed_together(one_call, reads_at_once[label], rounds)
            print(
                f"{label}\n  slowest single call: {summary(single)}\n  its reads at once:   {summary(reads)}\n"
                f"  whole page:          {summary(full)}\n"
                f"  reads at once / slowest call: {statistics.median(reads) / statistics.median(single):.2f}x\n"
                f"  page / slowest call: {statistics.median(full) / statistics.median(single):.2f}x"
            )


if __name__ == "__main__":
    main()
