"""Time the dashboard's page query against a big simulator: ``python -m simulator.bench``.

Measured over real HTTP on a keep-alive connection, client side, so it includes parsing, the lock,
filtering, sorting and JSON encoding (issue 2 §3: "well under 50 ms" at 10,000 storages).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import statistics
import time
from urllib.parse import urlsplit

from simulator.server import SimulatorServer

# The dashboard's list page: a search and a state filter, or a zone filter sorted by name.
PAGE_QUERY = (
    "/zstack/v1/backup-storage/image-store?q=state=Enabled&q=name~=%25prod%25"
    "&limit=20&start=20&sort=-totalCapacity&replyWithCount=true"
)
ZONE_QUERY = (
    "/zstack/v1/backup-storage/image-store?q=attachedZoneUuids={zone}&limit=20&start=40&sort=name&replyWithCount=true"
)


def measure(storages: int, rounds: int, query: str = PAGE_QUERY) -> tuple[list[float], dict]:
    with SimulatorServer(port=0, storages=storages, log_requests=False) as simulator:
        address = urlsplit(simulator.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        login = {"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"password").hexdigest()}}
        connection.request("PUT", "/zstack/v1/accounts/login", body=json.dumps(login))
        session = json.loads(connection.getresponse().read())["inventory"]["uuid"]
        headers = {"Authorization": f"OAuth {session}"}
        path = query.format(zone=simulator.zones()[0]["uuid"])
        timings, body = [], {}
        for _ in range(rounds):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = json.loads(response.read())
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status == 200, body
        connection.close()
    return timings, body


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator.bench")
    parser.add_argument("--storages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    for label, query in (("search + state, sort -totalCapacity", PAGE_QUERY), ("zone, sort name", ZONE_QUERY)):
        timings, body = measure(args.storages, args.rounds, query)
        timings.sort()
        print(
            f"{args.storages} storages, page of {len(body['inventories'])} (limit 20, replyWithCount, "
            f"{label}; {body['total']} matched) x {args.rounds}: median "
            f"{statistics.median(timings):.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms, "
            f"max {timings[-1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
