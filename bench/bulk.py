"""Benchmark: one bulk ``grant`` of BENCH_REQUESTS funding requests through the API, next
to the same writes done as one raw-SQL batch on the same database.

Builds a scratch PostgreSQL database (migrations included) and BENCH_REQUESTS DETR
dossiers whose request is in instruction, with ``bench/transitions.py``'s setup
(``submitted_dossiers``: the real services and the shared builders, documents written as
rows, no file on disk), each then declared complete. Then:

- ``raw SQL``: one transaction, one statement per table for the whole batch (psycopg on
  the same database): the requests granted, their history rows, the dossiers decided with
  theirs, the deadlines the grant meets closed and the ones it opens inserted, the outbox
  events, the agent tasks closed — the rows the engine writes for one grant (counted on
  a first grant, printed), times BENCH_REQUESTS. Its writes are then undone (untimed) so
  that the API starts from the same rows;
- ``bulk API``: ``POST /api/v1/funding-requests/bulk/grant/`` with the BENCH_REQUESTS
  items (the Django test client, the whole request: parsing, permissions, chunks of 100
  items through the engine's batch mode (ADR 010) with every hook, the report);

and prints both times, the ratio, SQL statements per item, the rows written per table by
each (they must agree), and the peak RSS. ``--profile``: a cProfile of a bulk call of
BENCH_PROFILE (100) other requests; ``--sql``: the statements of one grant in a bulk call.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bulk.py

Environment: BENCH_REQUESTS (default 1000), BENCH_DB (scratch database, default
guichet_bench_bulk; dropped at the end unless BENCH_KEEP=1). The Celery broker is the
in-memory transport.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transitions import (  # noqa: E402
    admin_exec,
    db_url,
    peak_rss_mb,
    setup_django,
    submitted_dossiers,
)

N = int(os.environ.get("BENCH_REQUESTS", "1000"))
PROFILE_N = int(os.environ.get("BENCH_PROFILE", "100"))
DB = os.environ.get("BENCH_DB", "guichet_bench_bulk")
TARGET_RATIO = 3.0
COMPLETE, GRANTED = dt.date(2026, 3, 10), dt.date(2026, 4, 15)
AMOUNT = "30000.00"
#: The tables a grant writes to, and how their rows are told apart (for the counts).
TABLES = (
    "cases_fundingrequest",
    "cases_case",
    "django_fsm_log_statelog",
    "engine_outboxevent",
    "engine_deadline",
    "viewflow_task",
)


# ---------------------------------------------------------------- data


def load(n: int) -> tuple[list[int], int]:
    """``n`` DETR dossiers whose request is in instruction (``bench.transitions``' setup,
    then declared complete); their request ids and the préfecture's instructor id."""
    from cases import builders
    from cases.models import FundingRequest, User
    from schemes.models import Funder

    instructor: list[User] = []

    def complete(case, people) -> None:
        if not instructor:
            instructor.append(
                builders.user_build(
                    username="bench-prefecture",
                    role="funder_instructor",
                    funder=Funder.objects.get(code="ETAT"),
                )
            )
        builders.case_complete_on(
            case, agent=people["agent"], complete=COMPLETE, instructor=instructor[0]
        )

    submitted_dossiers(n, then=complete)
    ids = list(
        FundingRequest.objects.filter(state="instructing")
        .order_by("id")
        .values_list("pk", flat=True)
    )
    assert len(ids) == n, (len(ids), n)
    return ids, instructor[0].pk


# ---------------------------------------------------------------- the bulk API


def bulk_call(ids: list[int], instructor_id: int) -> dict:
    from rest_framework.test import APIClient

    from cases.models import User

    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(User.objects.get(pk=instructor_id))
    items = [{"id": pk, "amount_granted": AMOUNT, "date": GRANTED.isoformat()} for pk in ids]
    response = client.post("/api/v1/funding-requests/bulk/grant/", {"items": items}, format="json")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert not body["refused"] and len(body["applied"]) == len(ids), body["refused"][:3]
    return body


class Counter:
    """SQL statements sent on the Django connection (an execute wrapper: no capture)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def timed_bulk(ids, instructor_id) -> tuple[float, int]:
    from django.db import connection

    counter = Counter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        bulk_call(ids, instructor_id)
        seconds = time.perf_counter() - start
    return seconds, counter.n


# ---------------------------------------------------------------- rows written


def row_marks() -> dict[str, tuple[int, int]]:
    """Per table: (row count, highest id)."""
    from django.db import connection

    marks = {}
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT count(*), coalesce(max(id), 0) FROM {table}")  # noqa: S608
            marks[table] = cur.fetchone()
    return marks


def one_grant_writes(fr_id: int, instructor_id: int) -> dict:
    """What the engine writes for one grant, read back from the database: the inserted
    rows per table and the rows changed (deadlines met, tasks closed)."""
    from django.db import connection

    from cases.models import FundingRequest

    fr = FundingRequest.objects.get(pk=fr_id)
    before = row_marks()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, kind, state FROM engine_deadline WHERE aggregate_id = %s", [fr.case_id]
        )
        deadlines_before = {row[0]: row[1:] for row in cur.fetchall()}
        cur.execute(
            "SELECT t.id, t.status FROM viewflow_task t JOIN viewflow_process p "
            "ON p.id = t.process_id WHERE p.artifact_object_id = %s",
            [fr.case_id],
        )
        tasks_before = dict(cur.fetchall())
    bulk_call([fr_id], instructor_id)
    after = row_marks()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, kind, subject_type_id, subject_id, due_on, party, state, "
            "expiry_transition FROM engine_deadline WHERE aggregate_id = %s ORDER BY id",
            [fr.case_id],
        )
        deadlines = cur.fetchall()
        cur.execute(
            "SELECT t.id, t.status FROM viewflow_task t JOIN viewflow_process p "
            "ON p.id = t.process_id WHERE p.artifact_object_id = %s",
            [fr.case_id],
        )
        tasks_after = dict(cur.fetchall())
    return {
        "inserted": {t: after[t][0] - before[t][0] for t in TABLES},
        "new_deadlines": [d for d in deadlines if d[0] not in deadlines_before],
        "met_deadlines": [
            deadlines_before[d[0]][0]
            for d in deadlines
            if d[0] in deadlines_before and d[6] != deadlines_before[d[0]][1]
        ],
        "closed_tasks": sum(1 for k, v in tasks_after.items() if tasks_before.get(k, v) != v),
        "new_tasks": sum(1 for k in tasks_after if k not in tasks_before),
        "case_id": fr.case_id,
    }


# ---------------------------------------------------------------- raw SQL


def raw_batch(ids: list[int], instructor_id: int, shape: dict) -> tuple[float, int]:
    """The same writes as ``shape`` (one grant's), for every request, one statement per
    table, one transaction; returns (seconds, statements)."""
    from bench.bulk_raw import raw_grant_batch

    return raw_grant_batch(db_url(DB), ids, instructor_id, shape, AMOUNT, GRANTED)


# ---------------------------------------------------------------- report


def profile(ids, instructor_id) -> str:
    prof = cProfile.Profile()
    prof.enable()
    bulk_call(ids, instructor_id)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


def show_sql(fr_id, instructor_id) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        bulk_call([fr_id], instructor_id)
    for q in ctx.captured_queries:
        print(f"  {q['sql'][:160]}")


def print_figures(raw, api, shape, written) -> None:
    (s_raw, q_raw), (s_api, q_api) = raw, api
    print(f"\none grant writes (read back from the engine's own first grant): {shape['inserted']}")
    print(
        f"  deadlines opened: {[d[1] for d in shape['new_deadlines']]}, met: {shape['met_deadlines']}"
    )
    print(f"  agent tasks closed: {shape['closed_tasks']}, opened: {shape['new_tasks']}")
    print(f"rows inserted, raw batch: {written['raw']}")
    print(f"rows inserted, bulk API:  {written['api']}")
    print(f"\nbulk grant of {N} requests, one call")
    print(f"{'':22}{'seconds':>10}{'ms / item':>12}{'SQL':>10}{'SQL / item':>12}")
    for label, secs, q in (("raw SQL (one batch)", s_raw, q_raw), ("bulk API", s_api, q_api)):
        print(f"{label:22}{secs:>10.3f}{1000 * secs / N:>12.2f}{q:>10}{q / N:>12.1f}")
    ratio = s_api / s_raw
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"\nratio bulk API / raw SQL: {ratio:.1f}× (target ≤ {TARGET_RATIO:.0f}×: {verdict})")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of a bulk call")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one grant")
    args = parser.parse_args()

    admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')
    admin_exec(f'CREATE DATABASE "{DB}"')
    try:
        setup_django(DB)
        extra = 2 + (PROFILE_N if args.profile else 0)
        t0 = time.perf_counter()
        ids, instructor_id = load(N + extra)
        print(f"setup: {N + extra} dossiers in instruction in {time.perf_counter() - t0:.1f} s")
        first, spare, rest = ids[0], ids[1], ids[extra:]
        shape = one_grant_writes(first, instructor_id)  # also warms the caches up
        if args.sql:
            print("\n--- SQL of one grant in a bulk call ---")
            show_sql(spare, instructor_id)
        marks = row_marks()
        raw = raw_batch(rest, instructor_id, shape)
        written = {"raw": {t: row_marks()[t][0] - marks[t][0] for t in TABLES}}
        from bench.bulk_raw import raw_undo

        raw_undo(db_url(DB), rest, marks, shape["met_deadlines"])
        assert row_marks() == marks, "the raw batch was not undone"
        api = timed_bulk(rest, instructor_id)
        written["api"] = {t: row_marks()[t][0] - marks[t][0] for t in TABLES}
        print_figures(raw, api, shape, written)
        if args.profile:
            print(f"\n--- cProfile, bulk call of {PROFILE_N} requests ---")
            print(profile(ids[2:extra], instructor_id))
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')


if __name__ == "__main__":
    main()
