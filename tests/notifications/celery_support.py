"""Real Celery for tests: a worker on a Redis database of its own, a private Redis server
that can be stopped and restarted, a local SMTP server."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time

from celery import Celery
from celery import current_app as celery_current_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def celery_app(broker_url: str):
    """A Celery app made current, so that the project's shared tasks go to ``broker_url``."""
    import notifications.tasks  # noqa: F401  (shared tasks attach to every app)

    previous = celery_current_app._get_current_object()
    app = Celery("guichet-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    app.conf.worker_hijack_root_logger = False
    app.set_current()
    app.set_default()
    try:
        yield app
    finally:
        previous.set_current()
        previous.set_default()


class RedisServer:
    """A private redis-server on a free port (so stopping it disturbs nobody)."""

    def __init__(self):
        self.port = free_port()
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def wait_for(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
