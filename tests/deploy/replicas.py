"""Several real app processes (``accord serve``) on the test database, as a load balancer would see them."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.db.server import DatabaseUrls
from server.settings import PROJECT_ROOT

STARTUP_SECONDS = 90


@dataclass
class Replica:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_lines(self) -> list[dict[str, object]]:
        """The JSON log lines written so far (ACCORD_LOG_FORMAT=json)."""
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def replica_environment(urls: DatabaseUrls, data_dir: Path, **settings: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ACCORD_")}
    environment.update(
        ACCORD_ENVIRONMENT="test", ACCORD_DATA_DIR=str(data_dir), ACCORD_DATABASE_URL=urls.owner,
        ACCORD_LOG_FORMAT="json", ACCORD_MIGRATE_ON_START="false",
    )
    if not urls.assume_app_role:
        environment["ACCORD_APP_DATABASE_URL"] = urls.app
    environment.update({f"ACCORD_{key.upper()}": value for key, value in settings.items()})
    return environment


@contextmanager
def running_replicas(names: list[str], environment: dict[str, str], directory: Path) -> Iterator[list[Replica]]:
    replicas: list[Replica] = []
    try:
        for name in names:
            port = free_port()
            log_path = directory / f"{name}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            replicas.append(Replica(name, f"http://127.0.0.1:{port}", process, log_path))
        for replica in replicas:
            _wait_until_ready(replica)
        yield replicas
    finally:
        for replica in replicas:
            replica.process.terminate()
        for replica in replicas:
            try:
                replica.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()


def _wait_until_ready(replica: Replica) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"replica {replica.name} exited ({replica.process.returncode}):\n{replica.log_path.read_text()[-4000:]}")
        try:
            answer = httpx.get(f"{replica.url}/readyz", timeout=2)
            if answer.status_code == 200:
                return
            last = answer.text
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.2)
    raise AssertionError(f"replica {replica.name} not ready after {STARTUP_SECONDS} s ({last}):\n{replica.log_path.read_text()[-4000:]}")
