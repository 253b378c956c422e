"""The delivery half of ``bench/reminders_sweep.py``: a local SMTP server
(``bench/smtp_sink.py``) and two Celery worker processes on the bench's scratch database
and Redis database; the pending reminders are enqueued as the sweep enqueues them, and the
time until every one is delivered (its e-mail received by the SMTP server, its in-app
notification written, the reminder marked sent) is measured. Each process's peak RSS is
read from ``/proc/<pid>/status`` (VmHWM) just before it is stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a live process, in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Fleet:
    """The SMTP sink and the workers, started as subprocesses and stopped by their pid."""

    def __init__(self, database_url: str, redis_url: str):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
        self.count_file = self.tmp / "smtp-count"
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "DEBUG": "0",
            "LOG_LEVEL": "ERROR",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        }
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        sink = [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(self.port)]
        self.procs["smtp"] = subprocess.Popen(
            [*sink, str(self.count_file)], cwd=ROOT, stdout=subprocess.DEVNULL
        )
        for i in range(1, WORKERS + 1):
            log = open(self.tmp / f"worker{i}.log", "w")  # noqa: SIM115 - closed with the process
            self.procs[f"worker{i}"] = subprocess.Popen(
                [str(VENV_BIN / "celery"), "-A", "guichet", "worker", "-P", "solo"]
                + ["-n", f"bench{i}@%h", "-l", "info", "--without-gossip"]
                + ["--without-mingle", "--without-heartbeat"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            logs = [(self.tmp / f"worker{i}.log").read_text() for i in range(1, WORKERS + 1)]
            if all(" ready." in text for text in logs) and self.count_file.exists():
                return
            time.sleep(0.2)
        raise RuntimeError(f"workers not ready: see {self.tmp}")

    def smtp_count(self) -> int:
        text = self.count_file.read_text().strip()
        return int(text or 0)

    def stop(self) -> dict[str, float]:
        """Every process's peak RSS (MB), read before it is stopped."""
        peaks = {name: vm_hwm_mb(p.pid) for name, p in self.procs.items()}
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return peaks


def keep_pending(n: int) -> int:
    """Keep the first ``n`` pending reminders (by id) of the sweep's; delete the rest."""
    from notifications.models import Notification, Reminder

    Notification.objects.all().delete()
    pending = Reminder.objects.filter(state=Reminder.State.PENDING).order_by("id")
    last = pending.values_list("id", flat=True)[n - 1 : n].first()
    if last is None:
        return pending.count()
    Reminder.objects.filter(id__gt=last).delete()
    return pending.count()


def deliver(n: int, database_url: str, redis_url: str, timeout: float = 600) -> dict:
    """Enqueue ``n`` pending reminders (the sweep's chunks) to the workers and wait until
    all are delivered. Returns the figures."""
    from guichet.celery import app
    from notifications.models import Notification, Reminder
    from notifications.tasks import send_reminders
    from notifications.wiring import REMINDER_CHUNK

    n = keep_pending(n)
    ids = list(Reminder.objects.filter(state="pending").order_by("id").values_list("id", flat=True))
    fleet = Fleet(database_url, redis_url)
    try:
        fleet.start()
        app.control.purge()
        t = time.perf_counter()
        for start in range(0, len(ids), REMINDER_CHUNK):
            send_reminders.apply_async(args=[ids[start : start + REMINDER_CHUNK]])
        sent = mails = notes = 0
        while time.perf_counter() - t < timeout:
            sent = Reminder.objects.filter(state="sent").count()
            mails = fleet.smtp_count()
            notes = Notification.objects.count()
            if sent >= n and mails >= n and notes >= n:
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - t
    finally:
        peaks = fleet.stop()
    return {"n": n, "seconds": elapsed, "sent": sent, "mails": mails, "notes": notes, **peaks}
