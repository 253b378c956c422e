"""Private servers for fault tests: a PostgreSQL cluster we may restart, Redis, SMTP, Celery
workers as real subprocesses. Nothing here touches the shared PostgreSQL or Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.notifications.celery_support import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
# Debian's server binaries, newest installed version (15 on bookworm, 17 on trixie)
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)


def _as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary as the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class PrivatePostgres:
    """initdb in a temporary directory, on a free port; restartable at will."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="guichet-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.log = self.dir / "server.log"

    def url(self, name: str = "guichet") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _ctl(self, *args: str, timeout: int = 60):
        return _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off",
                "-w",
                "-t",
                str(timeout),
                *args,
            ]
        )

    def start(self):
        self.sock.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        )
        self._ctl("start")
        _as_postgres(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "guichet",
            ]
        )

    def clone_from(self, settings_dict: dict, name: str = "guichet") -> None:
        """Copy a migrated database (schema and reference data loaded by the data
        migrations) from the shared server: what ``migrate`` gives, in seconds, not minutes.
        A read-only pg_dump: the shared server is not disturbed."""
        dump = subprocess.run(
            [
                str(PG_BIN / "pg_dump"),
                "--no-owner",
                "--no-privileges",
                "-h",
                settings_dict["HOST"] or "127.0.0.1",
                "-p",
                str(settings_dict["PORT"] or 5432),
                "-U",
                settings_dict["USER"] or "postgres",
                settings_dict["NAME"],
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                name,
            ],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )

    def restart(self):
        self._ctl("restart", "-m", "fast")

    def stop(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def project_env(**extra: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guichet.settings",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "ERROR",
    }
    env.update(extra)
    return env


def manage(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def celery_worker(env: dict, *, name: str) -> subprocess.Popen:
    """A real ``celery worker`` process (solo pool: a SIGKILL kills the task with it)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "guichet",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class CountingSMTP:
    """An SMTP handler that keeps every accepted message; optionally stalls on message
    number ``stall_on`` (1-based) until released, then refuses it (the sender is dead)."""

    def __init__(self, stall_on: int | None = None):
        self.delivered: list = []
        self.stall_on = stall_on
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self.lock:
            self.calls += 1
            number = self.calls
        if number == self.stall_on:
            self.entered.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 4.3.0 Interrompu"
        with self.lock:
            self.delivered.append(envelope)
        return "250 OK"

    def message_ids(self) -> list[str]:
        ids = []
        for envelope in self.delivered:
            for line in envelope.original_content.decode("utf-8", "replace").splitlines():
                if line.lower().startswith("message-id:"):
                    ids.append(line.split(":", 1)[1].strip())
        return ids


__all__ = ["free_port", "wait_for"]
