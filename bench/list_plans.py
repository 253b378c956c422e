"""Every list, filter and search of the API and the pages, one request at a time, on a
kept load-test database (issue 16): time, SQL statements, and the plan
(``EXPLAIN (ANALYZE, BUFFERS)``) of each request's slowest statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/list_plans.py --db bench_1m [--runs 3] [--plans] [--tuned]

The database is one built by ``bench/load.py --keep`` (or ``bench/load_data.py``); it is
only read: the funder instructor the probe needs is created in a transaction rolled back
at the end. Each request runs once to warm, then ``--runs`` times (the median is
printed). ``--plans`` prints the plan of every request's slowest statement (``--lines``
lines each); ``--tuned`` first sets, for the session, what ``docs/deployment.md``
recommends that can be set per session (``SET work_mem`` …). The server's settings that
bear on plans are printed first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.common import loadavg, setup_measured  # noqa: E402

SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
)
# docs/deployment.md § 10, what a session can set (shared_buffers needs a restart)
TUNED = {"work_mem": "16MB", "random_page_cost": "1.1", "effective_cache_size": "12GB"}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="a kept database (bench_100k, bench_1m…)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--plans", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS)")
    ap.add_argument("--lines", type=int, default=30, help="plan lines printed")
    ap.add_argument("--tuned", action="store_true", help="session settings first")
    ap.add_argument("--only", default="", help="only the probes whose URL holds this")
    return ap.parse_args()


def probes(agent, porteur, funder, epci: str, deep_cursor: str) -> list[tuple]:
    """(who, URL): every filter combination the lists offer."""
    from cases.paging import reference_cursor

    api = "/api/v1/cases/?page_size=20"
    return [
        (porteur, api),
        (agent, api),
        (agent, f"{api}&state=instruction"),
        (agent, f"{api}&epci={epci}"),
        (agent, f"{api}&epci={epci}&state=submitted"),
        (agent, f"{api}&scheme=DETR"),
        (agent, f"{api}&scheme=LEADER&state=instruction"),
        (agent, f"{api}&q=halle"),
        (agent, f"{api}&q=halle&state=closed"),
        (agent, f"{api}&q=association%200042"),
        (agent, f"{api}&q=zzqxw"),  # nothing matches: the trigram indexes answer
        # reference-shaped: a year's range (a sixth of the dossiers), narrower ones, the
        # year first, the keyset of the reference order (cases/search.py)
        (agent, f"{api}&q=GU-2024"),
        (agent, f"{api}&q=GU-2024&page=20"),
        (agent, f"{api}&q=GU-2024&after="),
        (agent, f"{api}&q=GU-2024&after={reference_cursor('GU-2024-500000')}"),  # deep
        (agent, f"{api}&q=GU-2024-0001"),
        (agent, f"{api}&q=2024-00012"),
        (agent, f"{api}&q=GU-2024&state=instruction"),
        (agent, f"{api}&scheme=DEPT_TARN&state=lapsed"),  # a rare combination
        (agent, f"{api}&theme=Voirie"),
        (agent, f"{api}&overdue=true"),
        (agent, f"{api}&page=50"),
        (agent, f"{api}&page=500"),
        (agent, f"{api}&after="),
        (agent, f"{api}&after={deep_cursor}"),
        (agent, f"{api}&scheme=DETR&after={deep_cursor}"),
        (funder, api),
        (funder, f"{api}&state=instruction"),
        (agent, "/agent/"),
        (agent, "/agent/?state=instruction"),
        (agent, f"/agent/?epci={epci}&state=submitted"),
        (agent, "/agent/?scheme=DETR"),
        (agent, "/agent/?q=halle"),
        (agent, "/agent/?q=GU-2024"),
        (agent, "/agent/?page=30"),
    ]


def settings_line(cursor) -> str:
    parts = []
    for name in SETTINGS:
        cursor.execute(f"SHOW {name}")
        parts.append(f"{name}={cursor.fetchone()[0]}")
    return " ".join(parts)


def explain(cursor, sql: str, params, lines: int) -> str:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    rows = [r[0] for r in cursor.fetchall()]
    more = f"\n        … {len(rows) - lines} more lines" if len(rows) > lines else ""
    return "        " + "\n        ".join(rows[:lines]) + more


def measure(client, url: str, runs: int):
    """The median time of ``runs`` warm requests, the statements of the last one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
    return response, statistics.median(times), ctx.captured_queries


def slowest_statement(queries):
    """The slowest statement (as run, parameters bound) and its time in ms."""
    if not queries:
        return None, 0.0
    q = max(queries, key=lambda q: float(q["time"]))
    return q["sql"], float(q["time"]) * 1000


def first_users(funder_code: str = "DETR"):
    """An agent of the territory, the porteur with the most dossiers, a funder instructor
    (created here, rolled back)."""
    from django.db.models import Count

    from cases.models import Organisation, User
    from schemes.models import Scheme

    agent = User.objects.filter(role="agent", territory__isnull=False).order_by("pk").first()
    org = Organisation.objects.annotate(n=Count("cases")).order_by("-n", "pk").values("pk").first()
    porteur = User.objects.filter(role="porteur", organisation_id=org["pk"]).first()
    scheme = Scheme.objects.select_related("funder").get(code=funder_code)
    funder = User.objects.create(
        username="bench.list_plans.funder",
        role=User.Role.FUNDER_INSTRUCTOR,
        funder=scheme.funder,
    )
    return agent, porteur, funder


def deep_cursor(depth: int = 10_000) -> str:
    """The cursor of the dossier ``depth`` rows down the territory's list."""
    from cases.models import Case
    from cases.paging import cursor_of

    row = Case.objects.order_by("-created_at", "-id").values("created_at", "pk")[depth]
    return cursor_of(row["created_at"], row["pk"])


TITLED = "q=GU-2024"


def titled_reference(client, agent, args) -> list[tuple]:
    """``q=GU-2024`` again once one dossier's title holds it too (« suite du dossier
    GU-2024-… »): the title matches join the range, in the same order but not from the
    index (cases/search.py) — the plan bounded by the matches. Rolled back with the rest."""
    from django.db import connection

    from cases.models import Case

    case = Case.objects.filter(reference__startswith="GU-2025").order_by("pk").first()
    if case is None:
        return []
    Case.objects.filter(pk=case.pk).update(title=f"Suite du dossier {TITLED[2:]}-000042")
    url = f"/api/v1/cases/?page_size=20&{TITLED}"
    response, ms, queries = measure(client, url, args.runs)
    sql, slow_ms = slowest_statement(queries)
    in_sql = sum(float(q["time"]) for q in queries) * 1000
    print(
        f"{ms:8.1f} {len(queries):4d} {in_sql:7.1f} {slow_ms:8.1f}  {url} ({agent.role}), "
        f"one title holding it ({response.status_code})"
    )
    if args.plans and sql is not None:
        with connection.cursor() as cur:
            print(explain(cur, sql, None, args.lines))
    return [(url + " + title", agent.role, ms, len(queries))]


def run(args) -> None:
    from django.db import connection, transaction
    from django.test import Client

    from cases.models import Case

    with connection.cursor() as cur:
        if args.tuned:
            for name, value in TUNED.items():
                cur.execute(f"SET {name} = '{value}'")
        print(f"settings: {settings_line(cur)}")
    n = Case.objects.count()
    print(f"{args.db}: {n:,} dossiers, load average {loadavg()}")
    with transaction.atomic():
        agent, porteur, funder = first_users()
        epci = agent.epci.siren
        cursor = deep_cursor(min(10_000, n // 2))
        clients = {}
        for user in (agent, porteur, funder):
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        print(f"\n{'ms':>8} {'SQL':>4} {'in SQL':>7} {'slowest':>8}  request (who)")
        rows = []
        for user, url in probes(agent, porteur, funder, epci, cursor):
            if args.only and args.only not in url:
                continue
            response, ms, queries = measure(clients[user.pk], url, args.runs)
            sql, slow_ms = slowest_statement(queries)
            flag = "" if response.status_code == 200 else f" → {response.status_code}"
            in_sql = sum(float(q["time"]) for q in queries) * 1000
            print(
                f"{ms:8.1f} {len(queries):4d} {in_sql:7.1f} {slow_ms:8.1f}  {url} ({user.role}){flag}"
            )
            rows.append((url, user.role, ms, len(queries)))
            if args.plans and sql is not None:
                with connection.cursor() as cur:
                    print(explain(cur, sql, None, args.lines))
        if not args.only or args.only in TITLED:
            rows += titled_reference(clients[agent.pk], agent, args)
        over = [r for r in rows if r[2] >= 100]
        top = max(r[2] for r in rows) if rows else 0
        print(f"\n{len(rows)} requests, {len(over)} at 100 ms or more; max {top:.0f} ms")
        transaction.set_rollback(True)


def main() -> int:
    args = parse_args()
    setup_measured(args.db)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
