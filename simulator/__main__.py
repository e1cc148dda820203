"""``python -m simulator --port 8080``: serve the ZStack API simulator until interrupted."""

from __future__ import annotations

import argparse
import sys

from simulator.server import SimulatorServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="ZStack REST API simulator (ImageStore backup storage)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080; 0 = any free)")
    parser.add_argument("--storages", type=int, default=12, help="number of demo storages (default 12)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo data (default 1)")
    parser.add_argument(
        "--job-polls", type=int, default=1, help="202 answers a job gives before it completes (default 1)"
    )
    parser.add_argument(
        "--session-timeout", type=float, default=7200.0, help="sliding session lifetime in seconds (default 7200)"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every /zstack request")
    parser.add_argument(
        "--foreign-location", default=None, help="base URL advertised in job locations, e.g. http://127.0.0.2:9"
    )
    parser.add_argument("--jobs-never-finish", action="store_true", help="jobs stay at 202 forever")
    parser.add_argument(
        "--reconnect-result",
        choices=("Connected", "Disconnected"),
        default="Connected",
        help="status a reconnect ends with (Disconnected = the job fails)",
    )
    parser.add_argument(
        "--update-tags",
        choices=("store", "ignore"),
        default="ignore",
        help="tags given on an update: ignore them as ZStack's core does (default) or store them as tag records",
    )
    parser.add_argument(
        "--job-seconds", type=float, default=0.0, help="seconds every async job runs before it completes (default 0)"
    )
    parser.add_argument("--account", default="admin", help="account name (default admin)")
    parser.add_argument("--password", default="password", help="account password (default password)")
    parser.add_argument(
        "--time-zone",
        default="Asia/Shanghai",
        help="the management node's zone, used for dates (default Asia/Shanghai)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="serve the /_sim/ control endpoints (fault injection, request log; test use: "
        "they expose stored SSH passwords)",
    )
    parser.add_argument(
        "--capacity-growth",
        action="store_true",
        help="storages fill over time by seeded per-storage trends (simulator/growth.py)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log one line per request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    simulator = SimulatorServer(
        args.host,
        args.port,
        log_requests=not args.quiet,
        control_endpoints=args.control,
        storages=args.storages,
        seed=args.seed,
        job_polls=args.job_polls,
        session_timeout=args.session_timeout,
        latency_ms=args.latency_ms,
        foreign_location=args.foreign_location,
        jobs_never_finish=args.jobs_never_finish,
        reconnect_result=args.reconnect_result,
        update_tags=args.update_tags,
        job_seconds=args.job_seconds,
        account=args.account,
        capacity_growth=args.capacity_growth,
        password=args.password,
        time_zone=args.time_zone,
    )
    control = f"control endpoints under {simulator.url}/_sim/" if args.control else "no control endpoints"
    print(
        f"ZStack simulator: {simulator.url}/zstack/v1 ({args.storages} storages, account {args.account}); {control}",
        file=sys.stderr,
    )
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
