"""Benchmark: the reminder sweep depends on what is due, not on what exists; then the
delivery of the reminders through Celery workers.

Builds a scratch PostgreSQL database, loads 1,000,000 open deadlines of which 100,000 have
a reminder due today (streamed with ``COPY`` in batches of 50,000 rows), times one planning
pass (select the due deadlines, insert their reminders, enqueue the sending tasks on
Redis), then adds 9,000,000 open deadlines far from every reminder window (10,000,000, the
same 100,000 due) and times it again. Then it keeps 10,000 of the pending reminders, starts
a local SMTP server (``bench/smtp_sink.py``, aiosmtpd) and two Celery workers
(``-P solo``: one process each) and times their delivery: every e-mail received, every
in-app notification written (``bench/reminders_delivery.py``). Prints the times, the ratio,
the plan of the due deadlines' read, the load average and every process's peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reminders_sweep.py

Environment: BENCH_TOTAL (default 10000000), BENCH_SMALL (1000000), BENCH_DUE (100000),
BENCH_DELIVER (10000; 0 skips the delivery), BENCH_WORKERS (2), BENCH_DB (scratch database
name, default guichet_bench_reminders; dropped at the end unless BENCH_KEEP=1), REDIS_URL
(default redis://127.0.0.1:6379/8; the bench queue is purged afterwards).
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
sys.path.insert(0, str(ROOT / "bench"))

TOTAL = int(os.environ.get("BENCH_TOTAL", "10000000"))
SMALL = int(os.environ.get("BENCH_SMALL", "1000000"))
DUE = int(os.environ.get("BENCH_DUE", "100000"))
DELIVER = int(os.environ.get("BENCH_DELIVER", "10000"))
DB = os.environ.get("BENCH_DB", "guichet_bench_reminders")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
COPY_BATCH = 50000
TODAY = dt.date(2026, 11, 25)


def db_url(name: str) -> str:
    return urlunparse(urlparse(BASE_URL)._replace(path=f"/{name}"))


def admin_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = db_url(DB)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare() -> tuple[int, list[int]]:
    """Migrations, one organisation with its porteur, 1,000 dossiers: (content type, ids)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

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
    return ContentType.objects.get_for_model(Case).pk, [c.pk for c in cases]


def load(case_type: int, case_ids: list[int], start: int, stop: int) -> None:
    """Deadlines number ``start`` to ``stop`` (the first DUE of all are due for a reminder
    in 7 days), streamed with COPY in batches: memory does not grow with the rows."""
    from django.db import connection

    due_day = TODAY + dt.timedelta(days=7)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
            "COPY engine_deadline (kind, subject_type_id, subject_id, aggregate_id, due_on, "
            "party, state, expiry_transition, opened_at, note) FROM STDIN"
        ) as copy:
            buf = io.StringIO()
            for i in range(start, stop):
                case_id = case_ids[i % len(case_ids)]
                # the others far from every reminder window: 60 days to ~8 years ahead
                due = due_day if i < DUE else TODAY + dt.timedelta(days=60 + (i % 2900))
                buf.write(
                    f"documents\t{case_type}\t{case_id}\t{case_id}\t{due}\tporteur\topen"
                    f"\t\t2026-01-01 00:00:00+00\t\n"
                )
                if i % COPY_BATCH == COPY_BATCH - 1:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        cursor.execute("VACUUM ANALYZE engine_deadline")
    n, due = stop - start, max(0, min(stop, DUE) - start)
    print(f"loaded {n:,} deadlines ({due:,} due) in {time.perf_counter() - t:.1f} s", flush=True)


def one_pass() -> tuple[float, int]:
    from django.db import connection

    from notifications.wiring import reminders_job

    with connection.cursor() as cursor:  # no Python object per row, as .delete() would
        cursor.execute("TRUNCATE notifications_reminder CASCADE")
    t = time.perf_counter()
    enqueued = reminders_job(today=TODAY, inline=False)
    return time.perf_counter() - t, enqueued


def timed(label: str) -> tuple[float, int]:
    """A warm-up pass (caches, connections), then the best of two timed passes."""
    from guichet.celery import app

    one_pass()
    runs = [one_pass() for _ in range(2)]
    app.control.purge()
    best = min(runs)
    times = ", ".join(f"{t:.3f}" for t, _ in runs)
    print(
        f"sweep over {label} deadlines: {best[0]:.3f} s (runs {times} s), "
        f"{best[1]:,} reminders enqueued; load average {loadavg()}",
        flush=True,
    )
    return best


def explain() -> None:
    from notifications.reminders import DEFAULT_OFFSETS, due_deadlines

    plan = due_deadlines(TODAY, set(DEFAULT_OFFSETS)).explain(analyze=True, buffers=True)
    print("plan of the due deadlines' read:\n  " + plan.replace("\n", "\n  "))


def report(small: tuple, big: tuple, delivery: dict | None) -> None:
    ratio = big[0] / small[0]
    print(
        f"aim: {TOTAL:,} open / {big[1]:,} due planned in ≤ 3 s: "
        f"{big[0]:.3f} s {'yes' if big[0] <= 3 else 'NO'}"
    )
    print(
        f"aim: ratio {TOTAL // 1000:,}k / {SMALL // 1000:,}k ≤ 1.5: {ratio:.2f} "
        f"{'yes' if ratio <= 1.5 else 'NO'}"
    )
    peaks = {"bench (sweep)": peak_rss_mb()}
    if delivery:
        d = delivery
        print(
            f"delivered {d['sent']:,} reminders ({d['mails']:,} e-mails received, "
            f"{d['notes']:,} in-app notifications) in {d['seconds']:.1f} s with "
            f"{len([k for k in d if k.startswith('worker')])} workers"
        )
        print(
            f"aim: {d['n']:,} delivered in ≤ 60 s: "
            f"{'yes' if d['seconds'] <= 60 and d['sent'] >= d['n'] else 'NO'}"
        )
        peaks.update({k: v for k, v in d.items() if k.startswith(("worker", "smtp"))})
    print("peak RSS: " + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()))
    print(f"aim: every process < 300 MB: {'yes' if max(peaks.values()) < 300 else 'NO'}")
    print(f"load average {loadavg()} ({os.cpu_count()} cores, shared)")


def main() -> None:
    admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')
    admin_exec(f'CREATE DATABASE "{DB}"')
    try:
        setup_django()
        from guichet.celery import app

        app.control.purge()
        case_type, case_ids = prepare()
        load(case_type, case_ids, 0, SMALL)
        small = timed(f"{SMALL:,}")
        load(case_type, case_ids, SMALL, TOTAL)
        big = timed(f"{TOTAL:,}")
        explain()
        delivery = None
        if DELIVER:
            from reminders_delivery import deliver

            one_pass()  # the reminders to deliver, as the sweep leaves them
            app.control.purge()
            delivery = deliver(DELIVER, db_url(DB), os.environ["REDIS_URL"])
            app.control.purge()
        report(small, big, delivery)
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')


if __name__ == "__main__":
    main()
