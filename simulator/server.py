"""HTTP front end of the simulator and its in-process Python API for tests.

    sim = SimulatorServer(host="127.0.0.1", port=0, job_polls=1).start()
    sim.url            # "http://127.0.0.1:<port>"; ZStack lives under sim.url + "/zstack/v1"
    sim.set_faults(fail_next=[{"status": 503, "code": "SYS.1006"}])
    sim.stop()

Keep-alive HTTP/1.1 with Nagle disabled: without it every reused-connection call stalls ~40 ms on
delayed ACKs and all timings lie (docs/architecture.md §3).
"""

from __future__ import annotations

import copy
import re
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from simulator import control
from simulator.api import ZStackApi
from simulator.query import IMAGE, IMAGE_STORE, SYSTEM_TAG, USER_TAG, ZONE, to_inventory
from simulator.state import Options, State
from simulator.wire import Request, Response, text_response

_SESSION_IN_PATH = re.compile(r"(/accounts/sessions/)[^/]+")


class SimulatorServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = True,
        control_endpoints: bool = True,
        **options: Any,
    ) -> None:
        self.options = Options(**options)  # unknown keywords fail loudly here
        self.state = State(self.options)
        self.log_requests = log_requests
        self.api = ZStackApi(self.state, lambda: self.url)
        self.control = control.Control(self)
        # /_sim/ can read stored SSH passwords and rewrite state: on for in-process tests, opt-in on the CLI.
        self.control_endpoints = control_endpoints
        self._httpd = _HttpServer((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        """Serve in a daemon thread; returns self so ``sim = SimulatorServer().start()`` reads well."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="zstack-simulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_open_connections()  # idle keep-alive clients must not keep a stopped server
        self._httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling -------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sim/") and self.control_endpoints:
            return self.control.handle(request)
        if request.path == "/zstack" or request.path.startswith("/zstack/"):
            return self._handle_zstack(request)
        return text_response(404, f"no api mapping to {request.path}")

    def _handle_zstack(self, request: Request) -> Response:
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": dict(request.headers.items()),
            "body": request.logged_body(),
            # When it arrived and when its answer was ready (monotonic seconds): tests see which calls were in
            # flight at the same time without timing anything themselves.
            "started": time.monotonic(),
            "ended": None,
        }
        self.state.advance_capacity()
        with self.state.lock:
            self.state.log_request(entry)
            latency_ms = self.state.faults.latency_ms
            fault = self.state.faults.take_request_fault(f"{request.method} {request.path}")
        if latency_ms:
            time.sleep(latency_ms / 1000)
        response = fault if fault is not None else self.api.handle(request)
        with self.state.lock:
            entry["ended"] = time.monotonic()
        return response

    def log(self, method: str, path: str, status: int | str, millis: float) -> None:
        """One line per request: never bodies, query strings or session ids (docs/architecture.md §3)."""
        if self.log_requests:
            path = _SESSION_IN_PATH.sub(r"\1<session>", path)
            sys.stderr.write(f"simulator: {method} {path} {status} {millis:.1f}ms\n")

    # -- the control API in Python (mirrors /_sim/, see control.py) ---------------------------

    def reset(self, storages: int | None = None, seed: int | None = None) -> None:
        """Fresh demo data (start-up size and seed unless given); faults back to the start-up
        options; no sessions, jobs, audits or logged requests."""
        self.state.reset(storages, seed)

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        with self.state.lock:
            self.state.faults.merge(changes)
            return copy.deepcopy(self.state.faults.to_json())

    def faults(self) -> dict[str, Any]:
        with self.state.lock:
            return copy.deepcopy(self.state.faults.to_json())

    def expire_sessions(self) -> None:
        with self.state.lock:
            self.state.expire_sessions()

    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(self.state.requests)

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    def patch_storage(self, uuid: str, /, **fields: Any) -> dict[str, Any]:
        with self.state.lock:
            return self._storage_json(control.patch_storage(self.state, uuid, fields))

    def storages(self) -> list[dict[str, Any]]:
        """Every storage as its inventory, plus the stored SSH password under ``_password``."""
        with self.state.lock:
            return [self._storage_json(storage) for storage in self.state.storages]

    def zones(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [to_inventory(ZONE, zone, self.state.tz) for zone in self.state.zones]

    def tags(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [
                to_inventory(SYSTEM_TAG if tag["type"] == "System" else USER_TAG, tag, self.state.tz)
                for tag in self.state.tags
            ]

    def images(self) -> list[dict[str, Any]]:
        """Every image as QueryImage returns it (with its backupStorageRefs)."""
        with self.state.lock:
            return [to_inventory(IMAGE, image, self.state.tz) for image in self.state.images]

    def reclaimable(self, uuid: str) -> int:
        """The bytes the storage's next reclaimSpaceFromImageStore frees (its seeded garbage)."""
        with self.state.lock:
            return int(self.state.storage_by_uuid[uuid].get("_reclaimable", 0))

    def set_reclaimable(self, uuid: str, freed: int) -> None:
        with self.state.lock:
            self.state.storage_by_uuid[uuid]["_reclaimable"] = int(freed)

    def audits(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(self.state.audits)

    def _storage_json(self, storage: dict[str, Any]) -> dict[str, Any]:
        return {**to_inventory(IMAGE_STORE, storage, self.state.tz), "_password": storage["_password"]}


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_open_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real management node
    disable_nagle_algorithm = True
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def do_GET(self) -> None:
        started = time.perf_counter()
        raw_path, _, query = self.path.partition("?")
        request = Request(
            method=self.command,
            path=unquote(raw_path),
            query=query,
            headers=self.headers,
            body=self._read_body(),
            client_ip=self.client_address[0],
        )
        try:
            response = self.server.simulator.handle(request)
        except Exception as exc:  # like ZStack's REST layer: an unhandled exception is a text 500
            traceback.print_exc()
            response = text_response(500, str(exc))
        # Logged before answering, so the line is written before the client can move on.
        self.server.simulator.log(
            request.method,
            request.path,
            "dropped" if response.drop else response.status,
            (time.perf_counter() - started) * 1000,
        )
        self._send(response)

    do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length and length.strip().isdigit() else b""

    def _send(self, response: Response) -> None:
        if response.drop:  # fault injection: hang up without a word
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        if response.omit_content_length:  # the body then ends when the connection does
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # SimulatorServer.log writes one line per request instead

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.simulator.log_requests:
            sys.stderr.write(f"simulator: {format % args}\n")
