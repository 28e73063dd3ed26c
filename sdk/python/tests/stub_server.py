"""A scripted HTTP server on 127.0.0.1 for testing the client without a gateway.

Each test queues the responses it wants; the server sends them back in request order and
records what it received.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional


@dataclass
class StubResponse:
    status: int = 200
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)
    # Server-sent events: each string is sent as one `data:` event.
    events: Optional[List[str]] = None


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: Dict[str, str]
    body: Any
    time: float


class StubServer:
    def __init__(self) -> None:
        self.responses: List[StubResponse] = []
        self.requests: List[ReceivedRequest] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with stub._lock:
                    stub.requests.append(ReceivedRequest(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()))
                    response = stub.responses.pop(0) if stub.responses else StubResponse(
                        500, {"error": {"message": "stub server has no queued response", "type": "server_error"}})
                if response.events is not None:
                    self._send_events(response)
                else:
                    self._send_json(response)

            def _send_json(self, response: StubResponse) -> None:
                payload = json.dumps(response.body).encode()
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def _send_events(self, response: StubResponse) -> None:
                self.send_response(response.status)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b": heartbeat\n\n")
                for event in response.events or []:
                    self.wfile.write(f"data: {event}\n\n".encode())
                    self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *responses: StubResponse) -> None:
        with self._lock:
            self.responses.extend(responses)

    def start(self) -> "StubServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
