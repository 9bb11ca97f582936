"""Shared fixtures for the end-to-end tests: the real `llamaserve` binary on a loopback port.

`make test` builds the binary first (`swift build --build-tests`); set LLAMASERVE_BIN to test another build
(e.g. `.build/release/llamaserve`) and LLAMASERVE_TEST_MODEL to serve another model.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from readiness import is_ready

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LLAMASERVE_BIN", ROOT / ".build" / "debug" / "llamaserve"))
MODEL = Path(os.environ.get("LLAMASERVE_TEST_MODEL", ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
SHARED = ROOT.parent / "shared"


class Server:
    """A running `llamaserve serve` process. `log` holds everything it wrote to stderr so far."""

    def __init__(self, args, env=None, wait_ready=True, timeout=120):
        self.args = [str(BIN), "serve", "--port", "0"] + list(args)
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, text=True, bufsize=1)
        self.lines = []
        self.port = None
        ready = threading.Event()

        def pump():
            for line in self.process.stdout:
                self.lines.append(line)
                match = re.search(r"listening on http://\S+:(\d+)", line)
                if match and self.port is None:
                    self.port = int(match.group(1))
                    ready.set()
            ready.set()

        self.thread = threading.Thread(target=pump, daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or self.port is None:
            self.stop()
            raise RuntimeError("llamaserve did not start:\n" + self.log)
        self.url = f"http://127.0.0.1:{self.port}"
        if wait_ready:
            self.wait_until_ready(timeout)

    @property
    def log(self):
        return "".join(self.lines)

    def wait_until_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if is_ready(self.url):
                return
            if self.process.poll() is not None:
                raise RuntimeError("llamaserve exited:\n" + self.log)
            time.sleep(0.1)
        raise RuntimeError("llamaserve never became ready:\n" + self.log)

    def request(self, method, path, body=None, headers=None, timeout=120):
        """Sends a request; returns (status, headers, body bytes) without raising on HTTP errors."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None and "Content-Type" not in (headers or {}):
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.thread.join(5)
        return self.process.returncode


def require_model():
    if not MODEL.exists():
        pytest.skip(f"default model not fetched ({MODEL}); run make model")
    if not BIN.exists():
        pytest.skip(f"llamaserve not built ({BIN}); run swift build")


@pytest.fixture(scope="session")
def server():
    """One server with the default model for the whole session (tests must not depend on each other's state)."""
    require_model()
    s = Server(["--model", str(MODEL), "--ctx-size", "2048", "--parallel", "4", "--max-queue", "64"])
    yield s
    s.stop()


@pytest.fixture
def start_server():
    """Starts servers with custom arguments; stops them after the test."""
    require_model()
    started = []

    def start(args=(), env=None, wait_ready=True, model=True):
        full = (["--model", str(MODEL)] if model else []) + list(args)
        s = Server(full, env=env, wait_ready=wait_ready)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
