"""Load test: 100,000 dossiers, gunicorn, 20 concurrent users for 60 s.

1. Builds a scratch PostgreSQL database (migrations, then ``bench/load_data.py``: N
   dossiers across the whole lifecycle with their organisations, porteur and agent
   accounts, financing plans, funding requests, deadlines, history, documents metadata,
   claims and payments, agent tasks for a sample of live dossiers).
2. Counts the SQL statements and times each kind of request in-process (Django test
   client, the median of 3), so a slow endpoint can be told from a busy machine;
   ``--explain`` prints the plans of the case-list queries.
3. Starts gunicorn (``--workers``, default 3, sync workers) on a free port of 127.0.0.1.
4. Runs ``--users`` (20) virtual users for ``--duration`` (60) seconds, each on its own
   keep-alive HTTP connection (threads + ``http.client``: no dependency), with a think
   time drawn uniformly in ``--think`` (``0.2-1.0`` s; ``0`` = back-to-back requests):
   - porteurs (60 %): own dossiers through the API (``GET /api/v1/cases/?…`` with and
     without a state filter), one dossier (``GET /api/v1/cases/<id>/``), its web page
     (``/mes-dossiers/<id>/``);
   - agents (40 %): the API case list with filters (state, EPCI, scheme, text search),
     the web inbox (``/agent/``), the web dossier page (``/dossiers/<id>/``), and
     transitions through the API: the documents cycle (agent ``request_documents``, then
     the porteur's ``provide_documents``) on a pool of submitted dossiers, and
     ``declare_complete`` + ``start_instruction`` (one shot each) on others.
   API calls use token auth; web pages a session created for the account.
5. Prints requests per second, p50/p95/p99 per kind and overall, the errors (any status
   other than the expected one, or a network error) with a sample, the peak RSS of the
   gunicorn master and workers (sampled every 0.5 s from /proc), and the load average of
   the machine before and after (the figures depend on what else runs).

6. Does 2–5 twice (``--settings both``, the default): with the server's PostgreSQL
   settings, then with those ``docs/deployment.md`` recommends that can be set per
   session (``work_mem``, ``jit``, ``random_page_cost``, ``effective_cache_size``,
   ``statement_timeout``; given to every connection as libpq options, see
   ``bench/load_settings.py``, so that the server, and a database other benches share,
   are left as they are), printing the settings each pass ran with (``SHOW``) and both
   passes' figures side by side.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py

Options: ``--cases`` (100000), ``--users``, ``--duration``, ``--think``, ``--workers``,
``--db NAME`` (the scratch database, default ``BENCH_DB`` or ``guichet_bench_load``),
``--reuse`` (keep and reuse the scratch database built by a previous ``--keep`` run:
skips the load) or ``--reuse NAME`` (that kept database, never dropped; its manifest is
``/tmp/NAME.json``), ``--keep`` (do not drop it), ``--explain``, ``--settings
default|recommended|both``. The Celery broker is the in-memory transport (outbox relay
kicks cost nothing; events stay in the outbox table).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_users import report, run_users  # noqa: E402

DB = os.environ.get("BENCH_DB", "guichet_bench_load")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
MANIFEST = Path(os.environ.get("BENCH_MANIFEST", f"/tmp/{DB}.json"))


PROBE_RUNS = 3
# What a pass runs with: SHOWn before it.
SHOWN = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "random_page_cost",
    "jit",
    "max_connections",
    "statement_timeout",
    "autovacuum_vacuum_scale_factor",
)
# docs/deployment.md's settings that a session may set (the others need the server's
# configuration and a restart: shared_buffers, max_connections).
RECOMMENDED = {
    "work_mem": "16MB",
    "jit": "off",
    "random_page_cost": "1.1",
    "effective_cache_size": "12GB",
    "statement_timeout": "30s",
}


def set_database(name: str) -> None:
    global DB, MANIFEST
    DB = name
    MANIFEST = Path(os.environ.get("BENCH_MANIFEST", f"/tmp/{DB}.json"))


def db_url(name: str) -> str:
    return urlunparse(urlparse(BASE_URL)._replace(path=f"/{name}"))


def psycopg_connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def admin_exec(sql: str) -> None:
    with psycopg_connect(db_url("postgres")) as conn:
        conn.execute(sql)


def server_env() -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url(DB),
        CELERY_BROKER_URL="memory://",
        CELERY_TASK_ALWAYS_EAGER="0",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        CONN_MAX_AGE="60",
        LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="bench.load_settings",
    )
    return env


def setup_django() -> None:
    os.environ.update(server_env())
    import django

    django.setup()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- build


def build(n: int) -> dict:
    import load_data
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrations: {time.perf_counter() - t0:.0f} s")
    manifest = load_data.build(n)
    # What autovacuum does on a live database: the visibility map that lets PostgreSQL
    # count and list through the indexes alone (a bulk COPY leaves it empty, and a
    # COUNT(*) over 100,000 dossiers then reads the whole table: 10-18 ms instead of 4).
    t0 = time.perf_counter()
    with psycopg_connect(db_url(DB)) as conn:
        conn.execute("VACUUM (ANALYZE)")
    print(f"  vacuum analyze: {time.perf_counter() - t0:.0f} s")
    MANIFEST.write_text(json.dumps(manifest))
    return manifest


# ---------------------------------------------------------------- in-process probe


def probe(manifest: dict, explain: bool) -> dict:
    """One request of each kind through the Django test client: SQL statements and time,
    returned as ``{url: (status, statements, ms)}``."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    agent = manifest["agents"][0]
    porteur = manifest["porteurs"][0]
    case = porteur["cases"][0]
    tok = manifest["tokens"]
    urls = [
        ("porteur", porteur["id"], "/api/v1/cases/?page_size=20"),
        ("porteur", porteur["id"], f"/api/v1/cases/{case}/"),
        ("porteur", porteur["id"], f"/mes-dossiers/{case}/"),
        ("agent", agent["id"], "/api/v1/cases/?page_size=20"),
        ("agent", agent["id"], "/api/v1/cases/?state=instruction&page_size=20"),
        ("agent", agent["id"], f"/api/v1/cases/?epci={agent['siren']}&state=submitted"),
        ("agent", agent["id"], "/api/v1/cases/?scheme=DETR&page_size=20"),
        ("agent", agent["id"], "/api/v1/cases/?q=halle&page_size=20"),
        ("agent", agent["id"], "/api/v1/cases/?page=50&page_size=20"),
        ("agent", agent["id"], "/agent/"),
        ("agent", agent["id"], f"/dossiers/{case}/"),
    ]
    print(f"\nIn-process probe (warm, median of {PROBE_RUNS} requests each): SQL statements, ms")
    out = {}
    for who, uid, url in urls:
        client = Client()
        client.cookies["sessionid"] = manifest["sessions"][str(uid)]
        headers = {"HTTP_AUTHORIZATION": f"Token {tok[str(uid)]}"} if "/api/" in url else {}
        client.get(url, **headers)  # warm
        times = []
        for _ in range(PROBE_RUNS):  # the median: one request is at the mercy of the machine
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                r = client.get(url, **headers)
                times.append((time.perf_counter() - t) * 1000)
        ms = statistics.median(times)
        slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:1]
        top = f"  slowest {float(slow[0]['time']) * 1000:.0f} ms" if slow else ""
        print(f"  {r.status_code} {len(ctx.captured_queries):4d} q {ms:7.1f} ms  {url}{top}")
        out[f"{who}: {url}"] = (r.status_code, len(ctx.captured_queries), ms)
        if explain and slow and float(slow[0]["time"]) > 0.02:
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + slow[0]["sql"])
                print("      " + "\n      ".join(r[0] for r in cur.fetchall()[:25]))
    return out


# ---------------------------------------------------------------- settings


def use_settings(label: str) -> dict:
    """The session settings of a pass given to every connection (libpq ``options``: the
    in-process probe's, and gunicorn's through ``bench/load_settings.py``), the
    connections reopened, and what PostgreSQL then runs with printed and returned.
    ``default``: the server's settings (the project's ``-c jit=off`` left out)."""
    from django.db import connection, connections

    options = ""
    if label == "recommended":
        options = " ".join(f"-c {k}={v}" for k, v in RECOMMENDED.items())
    os.environ["BENCH_PG_OPTIONS"] = options
    connections.close_all()
    connection.settings_dict.setdefault("OPTIONS", {}).pop("options", None)
    if options:
        connection.settings_dict["OPTIONS"]["options"] = options
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, current_setting(name), source FROM pg_settings WHERE name = ANY(%s)",
            [list(SHOWN)],
        )
        shown = {name: (value, source) for name, value, source in cur.fetchall()}
    print(f"\n=== PostgreSQL settings of this pass: {label} ===")
    for name in SHOWN:
        value, source = shown.get(name, ("?", "?"))
        print(f"  {name:32s} {value:>10s}  ({source})")
    return {name: shown.get(name, ("?",))[0] for name in SHOWN}


def side_by_side(results: dict) -> None:
    """Both passes' settings, probe and load figures in columns."""
    labels = list(results)
    if len(labels) < 2:
        return
    print("\n=== Side by side: " + " | ".join(labels) + " ===")
    for name in SHOWN:
        print(f"  {name:32s} " + " ".join(f"{results[k]['settings'][name]:>12s}" for k in labels))
    print("  probe (ms, statements):")
    for url in results[labels[0]]["probe"]:
        cells = []
        for k in labels:
            status, q, ms = results[k]["probe"].get(url, (0, 0, 0.0))
            cells.append(f"{ms:8.1f} ({q:3d})")
        print("    " + " ".join(cells) + f"  {url}")
    for key, fmt in (("rps", "{:12.1f}"), ("p50", "{:12.0f}"), ("p95", "{:12.0f}")):
        vals = [results[k].get("load", {}).get(key) for k in labels]
        if all(v is not None for v in vals):
            print(f"  load {key:27s} " + " ".join(fmt.format(v) for v in vals))
    errs = [str(results[k].get("load", {}).get("errors", "-")) for k in labels]
    print(f"  load {'errors':27s} " + " ".join(f"{e:>12s}" for e in errs))


# ---------------------------------------------------------------- server


def start_server(workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [
        str(ROOT / ".venv/bin/gunicorn") if (ROOT / ".venv/bin/gunicorn").exists() else "gunicorn",
        "guichet.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env(), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/connexion/")
            conn.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master = master
        self.peak = {}
        self.peak_total = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            pids = [self.master, *_children(self.master)]
            total = 0
            for pid in pids:
                kb = _rss_kb(pid)
                total += kb
                self.peak[pid] = max(self.peak.get(pid, 0), kb)
            self.peak_total = max(self.peak_total, total)
            self.stop.wait(0.5)


# ---------------------------------------------------------------- main


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "100000")))
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--think", default="0.2-1.0", help="seconds, 'lo-hi' or '0'")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument(
        "--reuse",
        nargs="?",
        const=True,
        default=False,
        metavar="DBNAME",
        help="reuse the scratch database, or the kept database DBNAME (never dropped)",
    )
    ap.add_argument("--db", default=DB, help="the scratch database's name")
    ap.add_argument("--settings", choices=["default", "recommended", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--no-probe", action="store_true")
    ap.add_argument("--probe-only", action="store_true", help="build/reuse and probe, no run")
    ap.add_argument("--json", metavar="FILE", help="also write the figures there (bench/scale.py)")
    args = ap.parse_args()
    lo, _, hi = args.think.partition("-")
    args.think = (float(lo), float(hi or lo))
    args.keep = args.keep or os.environ.get("BENCH_KEEP") == "1"
    if isinstance(args.reuse, str):
        args.db, args.keep = args.reuse, True
    return args


def reuse_manifest() -> dict:
    """The manifest of a kept database."""
    manifest = json.loads(MANIFEST.read_text())
    setup_django()
    print(f"reusing {DB} ({manifest['n']:,} dossiers)")
    return manifest


def fresh_pool(manifest: dict) -> None:
    """The pool less the dossiers a run moved (declare_complete is one-shot)."""
    from cases.models import Case

    ids = [i["case"] for items in manifest["pool"].values() for i in items]
    fresh = set(Case.objects.filter(pk__in=ids, state="submitted").values_list("pk", flat=True))
    for key, items in manifest["pool"].items():
        manifest["pool"][key] = [i for i in items if i["case"] in fresh]


def new_manifest(n: int) -> dict:
    admin_exec(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin_exec(f'CREATE DATABASE "{DB}"')
    setup_django()
    print(f"building {DB}:")
    manifest = build(n)
    print(f"  total load: {manifest['load_seconds']:.0f} s")
    return manifest


def serve_and_run(args, manifest: dict) -> dict:
    """gunicorn started, the virtual users run against it, the figures printed."""
    from django.db import connections

    connections.close_all()
    proc, port = start_server(args.workers)
    sampler = RssSampler(proc.pid)
    sampler.start()
    try:
        before = loadavg()
        rec, elapsed = run_users(port, manifest, args.users, args.duration, args.think)
        after = loadavg()
    finally:
        sampler.stop.set()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    summary = report(rec, elapsed)
    peaks = sorted(sampler.peak.items())
    print(
        f"  peak RSS: master {sampler.peak.get(proc.pid, 0) / 1024:.0f} MB, workers "
        + ", ".join(f"{kb / 1024:.0f}" for pid, kb in peaks if pid != proc.pid)
        + f" MB; all together {sampler.peak_total / 1024:.0f} MB"
    )
    print(
        f"  load average: {before} at start, {after} at the end (1, 5, 15 min; {os.cpu_count()} CPUs)"
    )
    return summary


def main() -> int:
    args = parse_args()
    set_database(args.db)
    think = args.think
    print(
        f"Load test — {f'{DB} kept' if args.reuse else f'{args.cases:,} dossiers'}, "
        f"{args.users} users, {args.duration:.0f} s, "
        f"think {think[0]}–{think[1]} s, gunicorn {args.workers} workers, {os.cpu_count()} CPUs"
    )
    print(f"load average before: {loadavg()} (shared machine: other engineers' tests may run)")
    if args.reuse and MANIFEST.exists():
        manifest = reuse_manifest()
    elif isinstance(args.reuse, str):
        print(f"no manifest {MANIFEST} for {DB}: not rebuilt (it is kept for others)")
        return 2
    else:
        manifest = new_manifest(args.cases)
    labels = ["default", "recommended"] if args.settings == "both" else [args.settings]
    results, ok = {}, True
    for label in labels:
        results[label] = {"settings": use_settings(label), "probe": {}}
        if not args.no_probe or args.probe_only:
            results[label]["probe"] = probe(manifest, args.explain)
        if not args.probe_only:
            fresh_pool(manifest)
            results[label]["load"] = serve_and_run(args, manifest)
            ok = ok and results[label]["load"]["ok"]
    side_by_side(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    if not args.keep and not args.probe_only:
        from django.db import connections

        connections.close_all()
        admin_exec(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        MANIFEST.unlink(missing_ok=True)
    else:
        print(f"kept {DB} (reuse with --reuse {DB})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
