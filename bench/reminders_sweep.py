"""Benchmark: the reminder sweep depends on what is due, not on what exists.

Builds a scratch PostgreSQL database, loads 1,000,000 open deadlines of which 10,000 have
a reminder due today, times one planning pass (select the due deadlines, insert their
reminders, enqueue the sending tasks on Redis), then keeps only 100,000 deadlines (the same
10,000 due) and times it again. Prints both times, their ratio and the peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reminders_sweep.py

Environment: BENCH_TOTAL (default 1000000), BENCH_DUE (10000), BENCH_DB (scratch database
name, default guichet_bench_reminders; dropped at the end unless BENCH_KEEP=1),
REDIS_URL (default redis://127.0.0.1:6379/8; the bench queue is purged afterwards).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOTAL = int(os.environ.get("BENCH_TOTAL", "1000000"))
DUE = int(os.environ.get("BENCH_DUE", "10000"))
SMALL = int(os.environ.get("BENCH_SMALL", "100000"))
DB = os.environ.get("BENCH_DB", "guichet_bench_reminders")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def admin_exec(sql: str) -> None:
    import psycopg

    url = urlparse(BASE_URL)
    with psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)


def setup_django() -> None:
    url = urlparse(BASE_URL)
    os.environ["DATABASE_URL"] = urlunparse(url._replace(path=f"/{DB}"))
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    import django

    django.setup()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(today: dt.date) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    from cases.models import Case, Organisation, User

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="Commune de banc d'essai", kind="commune")
    User.objects.create(
        username="bench-porteur", role="porteur", organisation=org, email="porteur@example.org"
    )
    cases = Case.objects.bulk_create(
        Case(title=f"Dossier {i}", organisation=org, territory_id=org.territory_id)
        for i in range(1000)
    )
    case_type = ContentType.objects.get_for_model(Case).pk
    case_ids = [c.pk for c in cases]
    due_day = today + dt.timedelta(days=7)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor().copy(
            "COPY engine_deadline (kind, subject_type_id, subject_id, aggregate_id, due_on, "
            "party, state, expiry_transition, opened_at, note) FROM STDIN"
        ) as copy:
            buf = io.StringIO()
            for i in range(TOTAL):
                case_id = case_ids[i % len(case_ids)]
                if i < DUE:
                    due = due_day
                else:  # far from every reminder window: 60 days to ~8 years ahead
                    due = today + dt.timedelta(days=60 + (i % 2900))
                buf.write(
                    f"documents\t{case_type}\t{case_id}\t{case_id}\t{due}\tporteur\topen"
                    f"\t\t2026-01-01 00:00:00+00\t\n"
                )
                if i % 50000 == 49999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        cursor.execute("ANALYZE engine_deadline")
    print(f"loaded {TOTAL:,} deadlines ({DUE:,} due) in {time.perf_counter() - t:.1f} s")


def one_pass(today: dt.date) -> tuple[float, int]:
    from notifications.models import Reminder
    from notifications.wiring import reminders_job

    Reminder.objects.all().delete()
    t = time.perf_counter()
    enqueued = reminders_job(today=today, inline=False)
    return time.perf_counter() - t, enqueued


def shrink(today: dt.date) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM engine_deadline WHERE id IN (SELECT id FROM engine_deadline "
            "WHERE due_on <> %s ORDER BY id OFFSET %s)",
            [today + dt.timedelta(days=7), SMALL - DUE],
        )
        cursor.execute("ANALYZE engine_deadline")


def main() -> None:
    admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')
    admin_exec(f'CREATE DATABASE "{DB}"')
    try:
        setup_django()
        from guichet.celery import app

        today = dt.date(2026, 11, 25)
        load(today)
        app.control.purge()
        one_pass(today)  # warm-up (caches, connections)
        big, n_big = one_pass(today)
        shrink(today)
        one_pass(today)
        small, n_small = one_pass(today)
        app.control.purge()
        print(f"sweep over {TOTAL:,} deadlines: {big:.3f} s, {n_big:,} reminders enqueued")
        print(f"sweep over {SMALL:,} deadlines: {small:.3f} s, {n_small:,} reminders enqueued")
        print(f"ratio {TOTAL // 1000}k / {SMALL // 1000}k: {big / small:.2f} (aim ≤ 1.5)")
        print(f"aim: {TOTAL:,} sweep under 3 s: {'yes' if big < 3 else 'NO'}")
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')


if __name__ == "__main__":
    main()
