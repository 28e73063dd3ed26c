"""Starts `weir sim` and `weir serve` on free loopback ports for the live SDK tests.

Both listen on 127.0.0.1 port 0 and the tests read the bound port from the
line each prints at start-up. The gateway gets a fresh data folder, a known
superadmin key (WEIR_ADMIN_KEY) and one model, "sim", served by the simulator.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import List

ADMIN_KEY = "wr-" + "S" * 40
MODEL = "sim"


@dataclass
class LiveGateway:
    base_url: str
    admin_key: str
    model: str
    processes: List[subprocess.Popen] = field(default_factory=list)
    data_dir: str = ""

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _start(command, env, pattern, log_path):
    """Start `command` and return (process, port) once its output matches `pattern`."""
    log = open(log_path, "w")
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    found = {}

    def read_output():
        for line in process.stdout:
            log.write(line)
            log.flush()
            match = re.search(pattern, line)
            if match and "port" not in found:
                found["port"] = int(match.group(1))

    threading.Thread(target=read_output, daemon=True).start()
    deadline = time.monotonic() + 30
    while "port" not in found:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{' '.join(command)} did not start; see {log_path}")
        time.sleep(0.05)
    return process, found["port"]


def start_gateway(binary, sim_args=("--tokens-per-second", "40", "--completion-tokens", "12")):
    data_dir = tempfile.mkdtemp(prefix="weir-live-")
    env = dict(os.environ)
    sim, sim_port = _start([binary, "sim", "--listen", "127.0.0.1:0", *sim_args], env,
                           r"serving on port (\d+)", os.path.join(data_dir, "sim.log"))
    env.update({
        "WEIR_ADMIN_KEY": ADMIN_KEY,
        "WEIR_MODELS": f'[{{name: {MODEL}, upstreams: [{{url: "http://127.0.0.1:{sim_port}/v1"}}]}}]',
        "WEIR_AUDIT_CONTENT": "summary",
        "WEIR_AUDIT_FLUSH_INTERVAL_MS": "50",
    })
    try:
        serve, port = _start([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(data_dir, "data")],
                             env, r"serving on http://127\.0\.0\.1:(\d+)", os.path.join(data_dir, "serve.log"))
    except RuntimeError:
        sim.terminate()
        raise
    return LiveGateway(f"http://127.0.0.1:{port}", ADMIN_KEY, MODEL, [serve, sim], data_dir)
