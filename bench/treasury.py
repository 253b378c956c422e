"""Benchmark: the treasury forecast (issue 13) of one porteur, then of every porteur, on
the 100,000-dossier data set of the load test.

1. Builds a scratch PostgreSQL database (migrations, then ``bench/load_data.py``: 100,000
   dossiers across the whole lifecycle with their organisations, plans, funding requests,
   claims and payments; ``VACUUM (ANALYZE)`` as in ``bench/load.py``; the agent tasks are
   skipped: the forecast does not read them). The build runs in a child process, so that
   the rows it holds in memory before ``COPY`` do not count in the peak RSS measured here.
   ``--reuse`` skips it (a database kept by ``--keep``).
2. One porteur: ``cases.treasury.treasury_forecast`` for the organisation with the most
   live dossiers (decided, in works, completed), a typical one (the median count) and one
   with a single live dossier — median wall time of ``--runs`` warm runs and the SQL
   statements of one (counted by a connection ``execute_wrapper``) — then the same through
   ``GET /api/v1/organisations/{id}/treasury/`` (Django test client, the porteur's token).
3. Every porteur: the forecast of each organisation that has a live dossier, streamed
   (``Organisation.objects … .iterator(chunk_size=--chunk)``: a server-side cursor, one
   forecast at a time, nothing kept but counters), printing the total time, organisations
   per second, the SQL statements, the peak RSS, and what the forecasts saw (operations,
   outflows, inflows by kind, troughs below zero, bridging loans). When ``cases.treasury``
   has ``treasury_forecasts`` (a list of organisations in a constant number of queries),
   the stream is run a second time through it, ``--batch-chunk`` organisations per call.
4. The aims — one porteur under 100 ms with the same number of statements whatever its
   dossiers, every porteur streamed under 300 MB of peak RSS — and whether each is met.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/treasury.py

Options: ``--cases`` (100000), ``--runs`` (9), ``--chunk`` (200), ``--batch-chunk`` (20;
0 skips the second stream), ``--limit`` (stream only the first N organisations),
``--no-stream`` (one porteur only), ``--keep`` (keep the scratch database), ``--reuse``
(skip the build), ``--sql`` (the statements of the busiest porteur's forecast, with their
times), ``--profile`` (a cProfile of the busiest porteur's forecast). Scratch database:
``BENCH_DB`` (default ``guichet_bench_treasury``; dropped at the end unless ``--keep`` or
``BENCH_KEEP=1``). The Celery broker is the in-memory transport; ``REDIS_URL`` defaults
to database 12.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import common  # noqa: E402
from bench.transitions import admin_exec, peak_rss_mb  # noqa: E402

DB = os.environ.get("BENCH_DB", "guichet_bench_treasury")
ONE_MS = 100.0  # aim: one porteur's forecast
STREAM_MB = 300.0  # aim: peak RSS while every porteur is forecast


def setup_django() -> None:
    common.setup_measured(DB)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- build (child process)


def build(n: int) -> None:
    """Scratch database, migrations, the load test's data set, vacuum (a child process)."""
    common.build_data_set(DB, n)


# ---------------------------------------------------------------- what the data set holds


def data_summary() -> None:
    """What the forecast reads, counted in the database (no data is added or changed)."""
    from django.db.models import Count, Q

    from cases.models import LIVE_GRANTS, Case, FundingRequest, Organisation, PaymentClaim
    from cases.models.payments import CLAIM_UNPAID
    from cases.treasury import FORECAST_STATES

    live = Case.objects.filter(state__in=FORECAST_STATES)
    by_state = dict(live.values_list("state").annotate(n=Count("id")).order_by())
    dates = live.aggregate(
        works_start=Count("id", filter=Q(works_start_date__isnull=False)),
        works_end=Count("id", filter=Q(works_end_date__isnull=False)),
        planned_start=Count("id", filter=Q(planned_works_start__isnull=False)),
        planned_end=Count("id", filter=Q(planned_works_end__isnull=False)),
        invoices=Count("planned_invoices", distinct=True),
    )
    grants = FundingRequest.objects.filter(case__in=live, state__in=LIVE_GRANTS)
    by_grant = dict(grants.values_list("state").annotate(n=Count("id")).order_by())
    unpaid = PaymentClaim.objects.filter(funding_request__in=grants, state__in=CLAIM_UNPAID)
    orgs = Organisation.objects.aggregate(
        n=Count("id"),
        cash=Count("id", filter=Q(cash_at_hand__isnull=False)),
    )
    print("\nWhat the forecast reads in this data set:")
    print(
        f"  live dossiers: {sum(by_state.values()):,} ("
        + ", ".join(f"{s} {by_state.get(s, 0):,}" for s in FORECAST_STATES)
        + ")"
    )
    print(
        f"  works dates: start {dates['works_start']:,}, end {dates['works_end']:,}; planned "
        f"start {dates['planned_start']:,}, planned end {dates['planned_end']:,}; planned "
        f"invoices {dates['invoices']:,}"
    )
    print(
        f"  live grants: {sum(by_grant.values()):,} ("
        + ", ".join(f"{k} {v:,}" for k, v in sorted(by_grant.items()))
        + f"); unpaid claims filed {unpaid.count():,}"
    )
    print(f"  organisations: {orgs['n']:,}, with a declared cash at hand {orgs['cash']:,}")


# ---------------------------------------------------------------- one porteur


def porteurs_to_time() -> list[tuple[str, object, int]]:
    """(label, organisation, live dossiers): the busiest, the median, one with a single
    live dossier."""
    from django.db.models import Count

    from cases.models import Case, Organisation
    from cases.treasury import FORECAST_STATES

    counts = list(
        Case.objects.filter(state__in=FORECAST_STATES)
        .values_list("organisation_id")
        .annotate(n=Count("id"))
        .order_by("-n", "organisation_id")
    )
    picks = [("busiest", *counts[0]), ("typical (median)", *counts[len(counts) // 2])]
    single = next((c for c in reversed(counts) if c[1] == 1), None)
    if single:
        picks.append(("one live dossier", *single))
    orgs = Organisation.objects.in_bulk([pk for _, pk, _ in picks])
    print(f"\n{len(counts):,} organisations have live dossiers")
    return [(label, orgs[pk], n) for label, pk, n in picks]


def time_one(org, runs: int) -> tuple[float, int, object]:
    """Median ms of ``runs`` warm forecasts, the statements of one, the forecast."""
    from cases.treasury import treasury_forecast

    return common.median_of_warm_runs(lambda: treasury_forecast(org), runs)


def time_api(org, runs: int) -> tuple[float, int, int]:
    """Median ms and statements of ``GET /api/v1/organisations/{id}/treasury/`` as the
    organisation's porteur (token auth); the last status."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from cases.models import User

    user = User.objects.filter(organisation=org, role="porteur").order_by("pk").first()
    token = Token.objects.get_or_create(user=user)[0].key
    client = Client()
    url = f"/api/v1/organisations/{org.pk}/treasury/"
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    ms, queries, response = common.median_of_warm_runs(lambda: client.get(url, **headers), runs)
    return ms, queries, response.status_code


def one_porteur(runs: int) -> list[dict]:
    print(f"\nOne porteur (median of {runs} warm runs; SQL statements of one run):")
    print(
        f"  {'':18}{'live':>6}{'flows':>7}{'forecast':>10}{'SQL':>5}{'API':>10}{'SQL':>5}"
        "  status  p80 trough"
    )
    rows = []
    for label, org, live in porteurs_to_time():
        ms, queries, forecast = time_one(org, runs)
        api_ms, api_queries, status = time_api(org, runs)
        flows = len(forecast.outflows) + len(forecast.inflows)
        trough = forecast.trough_p80
        low = f"{trough.balance:,.0f} € ({trough.month:%Y-%m})" if trough else "—"
        print(
            f"  {label:18}{live:>6}{flows:>7}{ms:>8.1f}ms{queries:>5}{api_ms:>8.1f}ms"
            f"{api_queries:>5}  {status:>6}  {low}"
        )
        rows.append({"label": label, "org": org, "ms": ms, "q": queries, "api_ms": api_ms})
        rows[-1]["api_q"] = api_queries
    return rows


def show_sql(org) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.treasury import treasury_forecast

    with CaptureQueriesContext(connection) as ctx:
        treasury_forecast(org)
    print(f"\n--- SQL of {org.name}'s forecast ---")
    for q in ctx.captured_queries:
        print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:160]}")


def profile(org) -> None:
    from cases.treasury import treasury_forecast

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        treasury_forecast(org)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    print(f"\n--- cProfile, 5 forecasts of {org.name} ---\n{out.getvalue()}")


# ---------------------------------------------------------------- every porteur


def forecasts_streamed(orgs, chunk: int, batch: bool):
    """Each organisation's forecast, one at a time (``treasury_forecast``), or one chunk at
    a time (``treasury_forecasts``, when ``cases.treasury`` has it)."""
    from cases import treasury

    if not batch:
        for org in orgs.iterator(chunk_size=chunk):
            yield treasury.treasury_forecast(org)
        return
    group = []
    for org in orgs.iterator(chunk_size=chunk):
        group.append(org)
        if len(group) == chunk:
            yield from treasury.treasury_forecasts(group).values()
            group = []
    if group:
        yield from treasury.treasury_forecasts(group).values()


def stream_all(chunk: int, limit: int | None, batch: bool = False) -> dict:
    """The forecast of each organisation with a live dossier, nothing kept but counters."""
    from django.db import connection
    from django.db.models import Exists, OuterRef

    from cases.models import Case, Organisation
    from cases.treasury import FORECAST_STATES

    live = Case.objects.filter(organisation=OuterRef("pk"), state__in=FORECAST_STATES)
    orgs = Organisation.objects.filter(Exists(live)).order_by("pk")
    if limit:
        orgs = orgs[:limit]
    seen = Counter()
    inflows = Counter()
    rss_start, rss_max = rss_mb(), rss_mb()
    counter = common.StatementCounter()
    t0 = time.perf_counter()
    with connection.execute_wrapper(counter):
        for f in forecasts_streamed(orgs, chunk, batch):
            seen["organisations"] += 1
            ops = {o.case_id for o in f.outflows} | {i.case_id for i in f.inflows}
            seen["operations"] += len(ops)
            seen["with outflows"] += bool(f.outflows)
            seen["with inflows"] += bool(f.inflows)
            seen["outflows"] += len(f.outflows)
            seen["p80 trough below zero"] += bool(f.trough_p80 and f.trough_p80.balance < 0)
            seen["bridging loans"] += f.loan is not None
            inflows.update(i.kind for i in f.inflows)
            if seen["organisations"] % 25 == 0:
                rss_max = max(rss_max, rss_mb())
    elapsed = time.perf_counter() - t0
    rss_max = max(rss_max, rss_mb())
    n = seen["organisations"]
    how = "treasury_forecasts per chunk" if batch else "treasury_forecast per organisation"
    print(f"\nEvery porteur, streamed (iterator, chunk_size={chunk}; {how}):")
    print(
        f"  {n:,} organisations in {elapsed:.1f} s: {n / elapsed:.1f} per second, "
        f"{1000 * elapsed / n:.1f} ms each"
    )
    print(f"  SQL statements: {counter.n:,} ({counter.n / n:.2f} per organisation)")
    print(
        f"  RSS: {rss_start:.0f} MB at the start, at most {rss_max:.0f} MB sampled, "
        f"{rss_mb():.0f} MB at the end; peak RSS of the process {peak_rss_mb():.0f} MB"
    )
    print(
        "  the forecasts saw: "
        + ", ".join(f"{k} {v:,}" for k, v in seen.items() if k != "organisations")
    )
    print("  inflows by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(inflows.items())))
    peak = max(peak_rss_mb(), rss_max)
    return {"n": n, "elapsed": elapsed, "queries": counter.n, "peak": peak, "chunk": chunk}


def ranking() -> dict:
    """``treasury_ranking`` over every organisation (what the territory's page computes for
    a whole-territory user): time, statements, peak RSS."""
    from django.db import connection

    from cases.models import Organisation
    from cases.treasury_ranking import treasury_ranking

    counter = common.StatementCounter()
    t0 = time.perf_counter()
    with connection.execute_wrapper(counter):
        rows = treasury_ranking(Organisation.objects.all())
    elapsed = time.perf_counter() - t0
    print("\ntreasury_ranking over every organisation (the territory's page, /tresorerie/):")
    print(
        f"  {len(rows):,} organisations ranked in {elapsed:.1f} s, {counter.n:,} SQL statements, "
        f"every forecast kept until the sort; peak RSS of the process {peak_rss_mb():.0f} MB"
    )
    return {"elapsed": elapsed, "queries": counter.n, "peak": peak_rss_mb()}


def in_child(args, *flags: str) -> dict | None:
    """Run one measure in a child process of its own (its own peak RSS); its figures."""
    command = [__file__, "--reuse", "--keep", *flags]
    if args.limit:
        command += ["--limit", str(args.limit)]
    return common.child_result(command)


def child(args) -> int:
    setup_django()
    if args.child_batch:
        out = stream_all(args.child_batch, args.limit, batch=True)
        label = f"treasury_forecasts per chunk of {args.child_batch}"
    else:
        out = ranking()
        label = "treasury_ranking, every organisation"
    print("RESULT " + json.dumps({"label": label, "peak": out["peak"], "elapsed": out["elapsed"]}))
    return 0


# ---------------------------------------------------------------- main


def aims(rows: list[dict], streamed: dict | None, others: list[dict] = ()) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("\nAims:")
    for r in rows:
        worst = max(r["ms"], r["api_ms"])
        print(
            f"  one porteur under {ONE_MS:.0f} ms, {r['label']}: {r['ms']:.1f} ms "
            f"(API {r['api_ms']:.1f} ms): {verdict(worst < ONE_MS)}"
        )
    sql = {r["q"] for r in rows}
    api_sql = {r["api_q"] for r in rows}
    print(
        f"  constant number of statements: forecast {sorted(sql)}, API {sorted(api_sql)}: "
        f"{verdict(len(sql) == 1 and len(api_sql) == 1)}"
    )
    if streamed is not None:
        peak = streamed["peak"]
        print(
            f"  every porteur streamed under {STREAM_MB:.0f} MB: peak RSS {peak:.0f} MB: "
            f"{verdict(peak < STREAM_MB)}"
        )
    for other in others:
        print(
            f"  ({other['label']}, its own process: peak RSS {other['peak']:.0f} MB, "
            f"{other['elapsed']:.1f} s: {verdict(other['peak'] < STREAM_MB)})"
        )
    print(f"  load average: {common.loadavg()} (1, 5, 15 min; {os.cpu_count()} CPUs)")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "100000")))
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--chunk", type=int, default=200)
    ap.add_argument(
        "--batch-chunks",
        default="20,200,500",
        help="organisations per treasury_forecasts call, one stream each ('': none)",
    )
    ap.add_argument("--no-ranking", action="store_true", help="skip treasury_ranking")
    ap.add_argument("--child-batch", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--child-ranking", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, default=None, help="stream only N organisations")
    ap.add_argument("--reuse", action="store_true", help="reuse the scratch database")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--sql", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-stream", action="store_true", help="one porteur only")
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.keep = args.keep or os.environ.get("BENCH_KEEP") == "1"
    return args


def main() -> int:
    args = parse_args()
    if args.build_only:
        build(args.cases)
        return 0
    if args.child_batch or args.child_ranking:
        return child(args)
    print(f"Treasury forecast — {args.cases:,} dossiers, {os.cpu_count()} CPUs")
    print(
        f"load average before: {common.loadavg()} (shared machine: other engineers' tests may run)"
    )
    common.built_in_child(DB, args.reuse, [__file__, "--build-only", "--cases", str(args.cases)])
    try:
        setup_django()
        from cases import treasury

        data_summary()
        rows = one_porteur(args.runs)
        if args.sql:
            show_sql(rows[0]["org"])
        if args.profile:
            profile(rows[0]["org"])
        streamed, others = None, []
        if not args.no_stream:
            streamed = stream_all(args.chunk, args.limit)
            if hasattr(treasury, "treasury_forecasts"):
                for size in filter(None, args.batch_chunks.split(",")):
                    others.append(in_child(args, "--child-batch", size))
            if hasattr(treasury, "treasury_ranking") and not args.no_ranking:
                others.append(in_child(args, "--child-ranking"))
        aims(rows, streamed, [o for o in others if o])
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.keep:
            print(f"kept {DB} (reuse with --reuse)")
        else:
            admin_exec(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
