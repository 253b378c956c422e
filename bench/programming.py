"""Benchmark: the programming pages of issue 14 — the maquette (``GET /programmation/``)
and the envelopes' figures — at two sizes of the load test's data set (N and 10 × N
dossiers, by default 10,000 and 100,000), to see whether their time and their SQL
statements follow the number of dossiers.

1. Builds one scratch PostgreSQL database per size (migrations, then
   ``bench/load_data.py``: dossiers across the whole lifecycle with their organisations,
   plans, funding requests, claims and payments; agent tasks skipped; ``VACUUM
   (ANALYZE)``), in a child process so that the rows it holds before ``COPY`` do not count
   in the peak RSS measured. The data set has no envelope: the build then adds one per
   scheme and programming year of the territory (LEADER per action sheet when the scheme
   has some), amounts proportional to the requests, so that the maquette shows its
   envelope rows and ``envelope_figures`` has something to compute. ``--reuse`` skips it
   (a kept database is brought to the code's migrations, in a child process: the
   migrations written since it was built fill their columns; the table vacuumed).
2. For each size, in a child process of its own (its own peak RSS), as the first agent of
   the territory: ``GET /programmation/`` through the Django test client (the current
   year, the default; every year; one funder), then its selectors one by one
   (``cases.maquette``: year choices, funder columns, operation count, a page of
   operations), ``envelope_figures`` over every envelope of the territory, and the XLSX
   export of the current year (streamed; its time follows the rows, its statements
   should not) — median of ``--runs`` warm runs, SQL statements of one (a connection
   ``execute_wrapper``), the peak RSS.
3. The aims — each page and each recomputation under 300 ms, the same statements at both
   sizes — and whether each is met.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/programming.py

Options: ``--sizes`` (``10000,100000``), ``--runs`` (7), ``--keep`` / ``--reuse`` (keep the
scratch databases, reuse them), ``--no-export``. Scratch databases: ``BENCH_DB`` (default
``guichet_bench_programming``) suffixed by the size; dropped at the end unless ``--keep``
or ``BENCH_KEEP=1``. The Celery broker is the in-memory transport; ``REDIS_URL`` defaults
to database 12.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.common import (  # noqa: E402
    build_data_set,
    built_in_child,
    child_result,
    loadavg,
    median_of_warm_runs,
    setup_measured,
)
from bench.transitions import admin_exec, db_url, peak_rss_mb  # noqa: E402

BASE = os.environ.get("BENCH_DB", "guichet_bench_programming")
AIM_MS = 300.0


def db_name(n: int) -> str:
    return f"{BASE}_{n}"


# ---------------------------------------------------------------- build (child process)


def build(n: int) -> None:
    def envelopes() -> None:
        print(f"  programming years stored: {fill_years():,} requests")
        print(f"  dossiers' territory and liveness copied: {fill_copies():,} requests")
        print(f"  envelopes added: {add_envelopes()}")

    build_data_set(db_name(n), n, then=envelopes)


def fill_years() -> int:
    """The data set is written with ``COPY``, around ``FundingRequest.save``: its requests'
    programming years are stored as the migration stores them."""
    from cases.models import Case, FundingRequest
    from cases.programming_year import years_fill

    return years_fill(FundingRequest, Case)


def fill_copies() -> int:
    """The requests' copy of their dossier's territory and liveness, stored as the
    migration stores it (the data set's ``COPY`` goes around ``FundingRequest.save``)."""
    from cases.models import Case, FundingRequest
    from cases.request_copy import copies_fill

    return copies_fill(FundingRequest, Case)


def migrate_kept(n: int) -> None:
    """A kept database (``--reuse``) brought to the code's migrations; the tables an
    applied migration rewrote are vacuumed and analysed (as the build leaves them)."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    setup_measured(db_name(n))
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return
    print(f"  {db_name(n)}: applying {', '.join(m.name for m, _back in plan)}")
    call_command("migrate", verbosity=0)
    connection.close()
    with psycopg.connect(db_url(db_name(n)), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) cases_fundingrequest")


def add_envelopes() -> int:
    """One envelope per scheme and programming year of each territory (per action sheet for
    a scheme that has some), 1.2 × what its requests ask, rounded: the data set has none."""
    from decimal import Decimal

    from django.db.models import Sum

    from cases.envelopes import programming_year
    from cases.models import FundingRequest
    from schemes.models import ActionSheet, Envelope

    sheets: dict[int, list[int]] = {}
    for pk, scheme_id in ActionSheet.objects.values_list("pk", "scheme_id"):
        sheets.setdefault(scheme_id, []).append(pk)
    rows = (
        FundingRequest.objects.annotate(year=programming_year())
        .values("scheme_id", "case__territory_id", "year")
        .annotate(asked=Sum("amount_requested"))
        .order_by()
    )
    envelopes = []
    for row in rows:
        asked = row["asked"] or Decimal(0)
        amount = (asked * Decimal("1.2")).quantize(Decimal("1000"))
        for sheet in sheets.get(row["scheme_id"], [None]):
            share = len(sheets.get(row["scheme_id"], [None]))
            envelopes.append(
                Envelope(
                    scheme_id=row["scheme_id"],
                    territory_id=row["case__territory_id"],
                    year=row["year"],
                    action_sheet_id=sheet,
                    amount=(amount / share).quantize(Decimal("0.01")),
                )
            )
    Envelope.objects.bulk_create(envelopes)
    return len(envelopes)


# ---------------------------------------------------------------- measures (child process)


def summary(agent) -> dict:
    from django.db.models import Count

    from cases import maquette
    from cases.maquette import Filters
    from cases.models import Case
    from schemes.models import Envelope

    live = maquette.requests(user=agent, filters=Filters())
    by_year = dict(live.values_list("year").annotate(n=Count("id")).order_by())
    return {
        "dossiers": Case.objects.count(),
        "live requests": sum(by_year.values()),
        "by year": {str(k): v for k, v in sorted(by_year.items(), key=lambda kv: kv[0] or 0)},
        "envelopes": Envelope.objects.filter(territory_id=agent.territory_id).count(),
    }


def _size(response) -> str:
    return f"{len(response.content) / 1024:.0f} KB"


def _page_rows(row, client, year: int) -> None:
    """The page through the test client: the year, every year, one funder, page 5."""

    def page(query):
        def get():
            response = client.get("/programmation/" + query)
            assert response.status_code == 200, response.status_code
            return response

        return get

    row(f"GET /programmation/ ({year}, the default)", page(""), _size)
    row("GET /programmation/?annee= (every year)", page("?annee="), _size)
    row(f"GET /programmation/?annee={year}&financeur=ETAT", page(f"?annee={year}&financeur=ETAT"))
    row(f"  …page 5 ({year})", page(f"?annee={year}&page=5"))


def _selector_rows(row, agent, year: int) -> None:
    """The selectors the page calls, then ``envelope_figures`` over the territory."""
    from cases import maquette
    from cases.envelopes import envelope_figures
    from cases.maquette import Filters
    from schemes.models import Envelope

    filters = Filters(year=year)
    row(
        "  maquette.year_choices",
        lambda: maquette.year_choices(user=agent, current=year),
        lambda r: f"{len(r)} years",
    )
    row(
        f"  maquette.funder_columns ({year})",
        lambda: maquette.funder_columns(user=agent, filters=filters),
        lambda r: f"{len(r)} funders",
    )
    row(
        f"  maquette.operation_count ({year})",
        lambda: maquette.operation_count(user=agent, filters=filters),
        lambda r: f"{r:,} operations",
    )
    row(
        f"  maquette.operations_page ({year}, 100)",
        lambda: maquette.operations_page(user=agent, filters=filters, offset=0, limit=100),
    )
    envelopes = Envelope.objects.filter(territory_id=agent.territory_id).select_related("scheme")
    row(
        "envelope_figures, every envelope of the territory",
        lambda: envelope_figures(envelopes),
        lambda r: f"{len(r)} envelopes",
    )


def measures(n: int, runs: int, export: bool) -> dict:
    """Every measure of one size, as the first agent of the territory."""
    from django.test import Client
    from django.utils import timezone

    from cases.models import User

    agent = User.objects.filter(role="agent", is_active=True).order_by("pk").first()
    year = timezone.localdate().year
    client = Client()
    client.force_login(agent)
    out: dict = {"n": n, "summary": summary(agent), "rows": []}

    def row(label, fn, check=None):
        ms, q, result = median_of_warm_runs(fn, runs)
        extra = check(result) if check else ""
        out["rows"].append({"label": label, "ms": ms, "q": q, "extra": extra})

    _page_rows(row, client, year)
    _selector_rows(row, agent, year)
    if export:
        ms, q, response = median_of_warm_runs(
            lambda: client.get(f"/programmation/maquette.xlsx?annee={year}"), 1
        )
        out["rows"].append(
            {"label": f"XLSX export ({year})", "ms": ms, "q": q, "extra": _size(response)}
        )
    from programming_scenario import scenario_rows

    scenario_rows(row, out, client, agent, year)
    out["peak"] = peak_rss_mb()
    return out


def child(args) -> int:
    setup_measured(db_name(args.child))
    print("RESULT " + json.dumps(measures(args.child, args.runs, not args.no_export)))
    return 0


def in_child(args, n: int) -> dict | None:
    command = [__file__, "--child", str(n), "--runs", str(args.runs)]
    if args.no_export:
        command.append("--no-export")
    return child_result(command)


# ---------------------------------------------------------------- report


def report(results: list[dict]) -> None:
    sizes = [r["n"] for r in results]
    for r in results:
        s = r["summary"]
        print(
            f"\n{r['n']:,} dossiers: {s['dossiers']:,} in the database, {s['live requests']:,} "
            f"live requests in the maquette (by programming year: "
            + ", ".join(f"{k} {v:,}" for k, v in s["by year"].items())
            + f"), {s['envelopes']} envelopes"
        )
    head = "".join(f"{n:>12,} dossiers" for n in sizes)
    print(f"\n{'median of warm runs; SQL statements of one':58}{head}")
    for i, first in enumerate(results[0]["rows"]):
        cells = []
        for r in results:
            cell = r["rows"][i]
            cells.append(f"{cell['ms']:>9.1f} ms {cell['q']:>3}q")
        extras = " / ".join(r["rows"][i]["extra"] for r in results if r["rows"][i]["extra"])
        print(f"  {first['label'][:56]:56}" + "".join(f"{c:>21}" for c in cells) + f"  {extras}")
    print("  peak RSS" + " " * 50 + "".join(f"{r['peak']:>18.0f} MB" for r in results))


def aims(results: list[dict]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("\nAims:")
    big = results[-1]
    for cell in big["rows"]:
        if cell["label"].startswith(("XLSX", "  ")) or cell.get("no_aim"):
            continue
        print(
            f"  {cell['label']} under {AIM_MS:.0f} ms at {big['n']:,}: {cell['ms']:.1f} ms: "
            f"{verdict(cell['ms'] < AIM_MS)}"
        )
    for i, cell in enumerate(results[0]["rows"]):
        if cell.get("no_aim"):  # a sum of rows above, or the État's application: its
            continue  # statements grow with the items it applies (printed per item)
        counts = [r["rows"][i]["q"] for r in results]
        print(
            f"  same statements at every size, {cell['label'].strip()}: {counts}: "
            f"{verdict(len(set(counts)) == 1)}"
        )
    print(f"  load average: {loadavg()} (1, 5, 15 min; {os.cpu_count()} CPUs)")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "10000,100000"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--reuse", action="store_true", help="reuse the scratch databases")
    ap.add_argument("--keep", action="store_true", help="keep the scratch databases")
    ap.add_argument("--no-export", action="store_true", help="skip the XLSX export")
    ap.add_argument("--build-only", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--migrate-only", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.keep = args.keep or os.environ.get("BENCH_KEEP") == "1"
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return args


def main() -> int:
    args = parse_args()
    if args.build_only:
        build(args.build_only)
        return 0
    if args.migrate_only:
        migrate_kept(args.migrate_only)
        return 0
    if args.child:
        return child(args)
    print(f"Programming (maquette, envelopes) — sizes {args.sizes}, {os.cpu_count()} CPUs")
    print(f"load average before: {loadavg()} (shared machine: other engineers' tests may run)")
    results = []
    try:
        for n in args.sizes:
            built_in_child(db_name(n), args.reuse, [__file__, "--build-only", str(n)])
            if args.reuse:  # a kept database: the migrations written since it was built
                subprocess.run([sys.executable, __file__, "--migrate-only", str(n)], check=True)
            result = in_child(args, n)
            if result:
                results.append(result)
        if results:
            report(results)
            aims(results)
    finally:
        for n in args.sizes:
            if args.keep:
                print(f"kept {db_name(n)} (reuse with --reuse)")
            else:
                admin_exec(f'DROP DATABASE IF EXISTS "{db_name(n)}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
