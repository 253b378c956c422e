"""What the page benches (``bench/programming.py``, ``bench/treasury.py``) share: a scratch
PostgreSQL database holding the load test's data set (``bench/load_data.py``), built in a
child process, then measured in others — Django set up as served, statements counted, the
median of warm runs, a child's « RESULT {json} » line read back."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.transitions import admin_exec, db_url, peak_rss_mb  # noqa: E402


def setup_measured(db: str) -> None:
    """Django on the scratch database ``db`` as served (no debug, quiet logs; the Celery
    broker in memory, Redis database 12 unless told)."""
    os.environ.update(
        DATABASE_URL=db_url(db),
        CELERY_BROKER_URL="memory://",
        CELERY_TASK_ALWAYS_EAGER="0",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="guichet.settings",
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class StatementCounter:
    """A connection ``execute_wrapper`` that counts the statements (and keeps nothing)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def counted(fn):
    """``fn()``'s result and the SQL statements it ran."""
    from django.db import connection

    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        out = fn()
    return out, counter.n


def median_of_warm_runs(fn, runs: int) -> tuple[float, int, object]:
    """Median ms of ``runs`` warm calls, the statements of one (the first, warming), the
    last result."""
    out, statements = counted(fn)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), statements, out


def build_data_set(db: str, n: int, then=None) -> None:
    """A child process's build: the scratch database, migrations, the load test's data
    set of ``n`` dossiers (``bench/load_data.py``, agent tasks skipped), ``then()`` if
    given, ``VACUUM (ANALYZE)``."""
    admin_exec(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin_exec(f'CREATE DATABASE "{db}"')
    setup_measured(db)
    import load_data
    import psycopg
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrations: {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    load_data.build(n, tasks_sample=0)
    print(f"  data set: {time.perf_counter() - t0:.0f} s")
    if then is not None:
        then()
    t0 = time.perf_counter()
    with psycopg.connect(db_url(db), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    print(f"  vacuum analyze: {time.perf_counter() - t0:.0f} s")
    print(f"  peak RSS of the build (not counted below): {peak_rss_mb():.0f} MB")


def database_exists(db: str) -> bool:
    import psycopg

    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone())


def built_in_child(db: str, reuse: bool, command: list[str]) -> None:
    """Reuse ``db`` when asked and there, else build it by ``command`` (a child process:
    the rows it holds before ``COPY`` do not count in the peak RSS measured)."""
    if reuse and database_exists(db):
        print(f"reusing {db}")
        return
    print(f"building {db} (child process):")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *command], check=True)
    print(f"  build: {time.perf_counter() - t0:.0f} s")


def child_result(command: list[str]) -> dict | None:
    """Run a measure in a child process of its own (its own peak RSS): its output printed,
    the figures of its « RESULT {json} » line returned."""
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True)
    result = None
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(line)
    if done.returncode or result is None:
        print(f"  (child failed: {done.stderr.strip().splitlines()[-3:]})")
    return result
