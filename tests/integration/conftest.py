"""Fixtures that start real `weir sim` and `weir serve` processes on loopback.

Every server binds 127.0.0.1 on a free port, writes into a pytest temporary
directory and is stopped (SIGTERM, then SIGKILL) when its fixture ends.
"""

import os
import secrets
import signal
import socket
import string
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

WEIR_BIN = os.environ.get("WEIR_BIN", str(Path(__file__).resolve().parents[2] / "build" / "weir"))
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def new_key() -> str:
    return "wr-" + "".join(secrets.choice(BASE62) for _ in range(40))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


class Process:
    """A child process with its log file, stopped by stop()."""

    def __init__(self, args, log_path: Path, env=None):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")


class Sim:
    def __init__(self, tmp_path: Path, name: str, *flags: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc = Process([WEIR_BIN, "sim", "--listen", f"127.0.0.1:{self.port}", *flags],
                            tmp_path / f"{name}.log")
        wait_for_port(self.port, self.proc.process)

    def configure(self, **options) -> None:
        requests.post(f"http://127.0.0.1:{self.port}/sim/config", json=options, timeout=5).raise_for_status()

    def requests_seen(self) -> int:
        return requests.get(f"http://127.0.0.1:{self.port}/sim/stats", timeout=5).json()["requests"]


class Weir:
    """A running `weir serve` with a known superadmin key."""

    def __init__(self, tmp_path: Path, config: dict, extra_env=None):
        self.port = free_port()
        self.data_dir = tmp_path / "data"
        self.config_path = tmp_path / "weir.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.admin_key = new_key()
        env = dict(os.environ)
        env["WEIR_ADMIN_KEY"] = self.admin_key
        env.update(extra_env or {})
        self.proc = Process([WEIR_BIN, "serve", "--config", str(self.config_path),
                             "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)],
                            tmp_path / "weir.log", env=env)
        wait_for_port(self.port, self.proc.process)
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def request(self, method: str, path: str, key: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return requests.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.request(method, path, key=self.admin_key, **kwargs)

    def create_user(self, name: str, role: str, **fields) -> dict:
        response = self.admin("POST", "/admin/v1/users", json={"name": name, "role": role, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def create_key(self, user_id: int, **fields) -> str:
        response = self.admin("POST", "/admin/v1/keys", json={"user_id": user_id, **fields})
        assert response.status_code == 201, response.text
        return response.json()["key"]

    def user_with_key(self, name: str, role: str, **user_fields) -> tuple[dict, str]:
        user = self.create_user(name, role, **user_fields)
        return user, self.create_key(user["id"])

    def audit(self, **params) -> list[dict]:
        """Returns audit records once the batch writer has written them."""
        deadline = time.monotonic() + 5
        while True:
            response = self.admin("GET", "/admin/v1/audit", params=params)
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            if data or time.monotonic() > deadline:
                return data
            time.sleep(0.1)

    def stop(self) -> int:
        return self.proc.stop()


@pytest.fixture
def sim(tmp_path):
    server = Sim(tmp_path, "sim")
    yield server
    server.proc.stop()


@pytest.fixture
def weir_factory(tmp_path):
    started = []

    def start(models, **config):
        config = {"models": models, **config}
        server = Weir(tmp_path, config)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def weir(sim, weir_factory):
    """Weir in front of one simulator, as model "demo"."""
    return weir_factory([{"name": "demo", "upstreams": [{"url": sim.url, "weight": 1}]}])
