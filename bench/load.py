"""Load test: 100,000 dossiers, gunicorn, 20 concurrent users for 60 s.

1. Builds a scratch PostgreSQL database (migrations, then ``bench/load_data.py``: N
   dossiers across the whole lifecycle with their organisations, porteur and agent
   accounts, financing plans, funding requests, deadlines, history, documents metadata,
   claims and payments, agent tasks for a sample of live dossiers).
2. Counts the SQL statements and times one request of each kind in-process (Django test
   client), so a slow endpoint can be told from a busy machine; ``--explain`` prints the
   plans of the case-list queries.
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

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py

Options: ``--cases`` (100000), ``--users``, ``--duration``, ``--think``, ``--workers``,
``--reuse`` (keep and reuse the scratch database built by a previous ``--keep`` run:
skips the 2-minute load), ``--keep`` (do not drop it), ``--explain``. Scratch database:
``BENCH_DB`` (default ``guichet_bench_load``). The Celery broker is the in-memory
transport (outbox relay kicks cost nothing; events stay in the outbox table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DB = os.environ.get("BENCH_DB", "guichet_bench_load")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
TARGET_P95_MS = 300
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
        DJANGO_SETTINGS_MODULE="guichet.settings",
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


def probe(manifest: dict, explain: bool) -> None:
    """One request of each kind through the Django test client: SQL statements and time."""
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
    print("\nIn-process probe (one request each, warm): SQL statements, ms")
    for _who, uid, url in urls:
        client = Client()
        client.cookies["sessionid"] = manifest["sessions"][str(uid)]
        headers = {"HTTP_AUTHORIZATION": f"Token {tok[str(uid)]}"} if "/api/" in url else {}
        client.get(url, **headers)  # warm
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            r = client.get(url, **headers)
            ms = (time.perf_counter() - t) * 1000
        slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:1]
        top = f"  slowest {float(slow[0]['time']) * 1000:.0f} ms" if slow else ""
        print(f"  {r.status_code} {len(ctx.captured_queries):4d} q {ms:7.1f} ms  {url}{top}")
        if explain and slow and float(slow[0]["time"]) > 0.02:
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + slow[0]["sql"])
                print("      " + "\n      ".join(r[0] for r in cur.fetchall()[:25]))


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


# ---------------------------------------------------------------- virtual users


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_samples: list[str] = []

    def add(self, kind: str, ms: float, ok: bool, detail: str = ""):
        with self.lock:
            self.samples.setdefault(kind, []).append(ms)
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{kind}: {detail}")


class User(threading.Thread):
    def __init__(self, port, rec, stop_at, think, rnd, manifest):
        super().__init__(daemon=True)
        self.port, self.rec, self.stop_at, self.think, self.rnd = port, rec, stop_at, think, rnd
        self.m = manifest
        self.conn = None

    def request(self, kind, method, path, uid, body=None, expect=200, web=False):
        headers = {"Accept": "application/json" if not web else "text/html"}
        if web:
            headers["Cookie"] = f"sessionid={self.m['sessions'][str(uid)]}"
        else:
            headers["Authorization"] = f"Token {self.m['tokens'][str(uid)]}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            t = time.perf_counter()
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = None
                if attempt == 1 and isinstance(exc, http.client.RemoteDisconnected):
                    continue  # keep-alive closed by the server: reconnect, as a browser does
                self.rec.add(kind, (time.perf_counter() - t) * 1000, False, f"{path} {exc!r}")
                return None
            ms = (time.perf_counter() - t) * 1000
            ok = resp.status == expect
            self.rec.add(kind, ms, ok, f"{method} {path} → {resp.status} {data[:200]!r}")
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return data if ok else None
        return None

    def pause(self):
        lo, hi = self.think
        if hi > 0:
            time.sleep(self.rnd.uniform(lo, hi))

    def run(self):
        while time.monotonic() < self.stop_at:
            self.step()
            self.pause()


class Porteur(User):
    def __init__(self, *a, porteur):
        super().__init__(*a)
        self.p = porteur

    def step(self):
        uid, cases = self.p["id"], self.p["cases"]
        r = self.rnd.random()
        if r < 0.35:
            q = {"page_size": 20}
            if self.rnd.random() < 0.4:
                q["state"] = self.rnd.choice(["in_progress", "closed", "instruction", "draft"])
            self.request("porteur: API case list", "GET", f"/api/v1/cases/?{urlencode(q)}", uid)
        elif r < 0.75:
            pk = self.rnd.choice(cases)
            self.request("porteur: API case detail", "GET", f"/api/v1/cases/{pk}/", uid)
        else:
            pk = self.rnd.choice(cases)
            self.request("porteur: web dossier page", "GET", f"/mes-dossiers/{pk}/", uid, web=True)


class Agent(User):
    def __init__(self, *a, agent, pool, oneshot):
        super().__init__(*a)
        self.a, self.pool, self.oneshot = agent, pool, oneshot

    def step(self):
        uid = self.a["id"]
        r = self.rnd.random()
        if r < 0.30:
            choices = [
                {"state": "instruction"},
                {"state": "submitted", "epci": self.a["siren"]},
                {"epci": self.a["siren"]},
                {"scheme": self.rnd.choice(["DETR", "LEADER", "DEPT_TARN"])},
                {"q": self.rnd.choice(["halle", "école", "GU-2024", "Association 01"])},
                {"page": self.rnd.randint(1, 100)},
            ]
            q = {**self.rnd.choice(choices), "page_size": 20}
            self.request(
                "agent: API case list (filters)", "GET", f"/api/v1/cases/?{urlencode(q)}", uid
            )
        elif r < 0.50:
            self.request("agent: web inbox /agent/", "GET", "/agent/", uid, web=True)
        elif r < 0.70:
            pk = self.rnd.choice(self.pool)["case"]
            if self.rnd.random() < 0.5:
                self.request("agent: web dossier page", "GET", f"/dossiers/{pk}/", uid, web=True)
            else:
                self.request("agent: API case detail", "GET", f"/api/v1/cases/{pk}/", uid)
        elif r < 0.93 or not self.oneshot:
            # documents cycle: the agent asks, the porteur provides
            item = self.rnd.choice(self.pool)
            pk, porteur = item["case"], item["porteur"]
            today = dt.date.today().isoformat()
            ok = self.request(
                "transition (API)",
                "POST",
                f"/api/v1/cases/{pk}/transitions/request_documents/",
                uid,
                body={
                    "documents": ["Plan de situation"],
                    "date": today,
                    "comment": "Pièce manquante",
                },
            )
            if ok is not None:
                self.request(
                    "transition (API)",
                    "POST",
                    f"/api/v1/cases/{pk}/transitions/provide_documents/",
                    porteur,
                    body={"date": today},
                )
        else:
            item = self.oneshot.pop()
            pk = item["case"]
            today = dt.date.today().isoformat()
            data = self.request(
                "transition (API)",
                "POST",
                f"/api/v1/cases/{pk}/transitions/declare_complete/",
                uid,
                body={"date": today},
            )
            if data:
                frs = json.loads(data)["funding_requests"]
                for fr in frs[:1]:
                    self.request(
                        "transition (API)",
                        "POST",
                        f"/api/v1/funding-requests/{fr['id']}/transitions/start_instruction/",
                        uid,
                        body={"date": today},
                    )


def run_users(port, manifest, users, duration, think, seed=7) -> tuple[Recorder, float]:
    rec = Recorder()
    rnd = random.Random(seed)
    stop_at = time.monotonic() + duration
    threads = []
    n_agents = max(1, round(users * 0.4))
    agents = manifest["agents"]
    pools = manifest["pool"]
    for i in range(users):
        r = random.Random(seed + i)
        if i < n_agents:
            a = agents[i % len(agents)]
            pool = pools[str(a["epci"])]
            # each agent thread works on its own slice of the pool: no two threads
            # move the same dossier (a real conflict would be a 409, counted as an error)
            same = [j for j in range(n_agents) if agents[j % len(agents)]["epci"] == a["epci"]]
            k, of = same.index(i), len(same)
            mine = pool[k::of]
            cycle, oneshot = mine[: len(mine) // 2], mine[len(mine) // 2 :]
            threads.append(
                Agent(port, rec, stop_at, think, r, manifest, agent=a, pool=cycle, oneshot=oneshot)
            )
        else:
            p = manifest["porteurs"][(i - n_agents) % len(manifest["porteurs"])]
            threads.append(Porteur(port, rec, stop_at, think, r, manifest, porteur=p))
    rnd.shuffle(threads)
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec, time.monotonic() - t0


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def report(rec: Recorder, elapsed: float) -> bool:
    every = [v for vs in rec.samples.values() for v in vs]
    total = len(every)
    errors = sum(rec.errors.values())
    print(
        f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s, {errors} errors"
    )
    print(
        f"  {'kind':34s} {'n':>6s} {'err':>4s} {'p50':>7s} {'p95':>7s} {'p99':>7s} {'max':>7s}  (ms)"
    )
    rows = sorted(rec.samples.items()) + [("ALL", every)]
    for kind, vs in rows:
        err = errors if kind == "ALL" else rec.errors.get(kind, 0)
        print(
            f"  {kind:34s} {len(vs):6d} {err:4d} {pct(vs, 50):7.0f} {pct(vs, 95):7.0f} "
            f"{pct(vs, 99):7.0f} {max(vs or [0]):7.0f}"
        )
    for s in rec.error_samples:
        print(f"  error: {s}")
    p95 = pct(every, 95)
    ok = errors == 0 and p95 < TARGET_P95_MS
    print(
        f"  target: 0 errors and p95 < {TARGET_P95_MS} ms → {'met' if ok else 'NOT met'} (p95 {p95:.0f} ms)"
    )
    return ok


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "100000")))
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--think", default="0.2-1.0", help="seconds, 'lo-hi' or '0'")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--reuse", action="store_true", help="reuse the scratch database")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--no-probe", action="store_true")
    ap.add_argument("--probe-only", action="store_true", help="build/reuse and probe, no run")
    args = ap.parse_args()
    lo, _, hi = args.think.partition("-")
    think = (float(lo), float(hi or lo))
    keep = args.keep or os.environ.get("BENCH_KEEP") == "1"

    print(
        f"Load test — {args.cases:,} dossiers, {args.users} users, {args.duration:.0f} s, "
        f"think {think[0]}–{think[1]} s, gunicorn {args.workers} workers, {os.cpu_count()} CPUs"
    )
    print(f"load average before: {loadavg()} (shared machine: other engineers' tests may run)")
    if args.reuse and MANIFEST.exists():
        manifest = json.loads(MANIFEST.read_text())
        setup_django()
        print(f"reusing {DB} ({manifest['n']:,} dossiers)")
        # a previous run moved some of the pool (declare_complete is one-shot)
        from cases.models import Case

        ids = [i["case"] for items in manifest["pool"].values() for i in items]
        fresh = set(Case.objects.filter(pk__in=ids, state="submitted").values_list("pk", flat=True))
        for key, items in manifest["pool"].items():
            manifest["pool"][key] = [i for i in items if i["case"] in fresh]
    else:
        admin_exec(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin_exec(f'CREATE DATABASE "{DB}"')
        setup_django()
        print(f"building {DB}:")
        manifest = build(args.cases)
        print(f"  total load: {manifest['load_seconds']:.0f} s")
    if not args.no_probe or args.probe_only:
        probe(manifest, args.explain)
    if args.probe_only:
        return 0
    from django.db import connections

    connections.close_all()

    proc, port = start_server(args.workers)
    sampler = RssSampler(proc.pid)
    sampler.start()
    try:
        before = loadavg()
        rec, elapsed = run_users(port, manifest, args.users, args.duration, think)
        after = loadavg()
    finally:
        sampler.stop.set()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    ok = report(rec, elapsed)
    peaks = sorted(sampler.peak.items())
    print(
        f"  peak RSS: master {sampler.peak.get(proc.pid, 0) / 1024:.0f} MB, workers "
        + ", ".join(f"{kb / 1024:.0f}" for pid, kb in peaks if pid != proc.pid)
        + f" MB; all together {sampler.peak_total / 1024:.0f} MB"
    )
    print(
        f"  load average: {before} at start, {after} at the end (1, 5, 15 min; {os.cpu_count()} CPUs)"
    )
    if not keep:
        connections.close_all()
        admin_exec(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        MANIFEST.unlink(missing_ok=True)
    else:
        print(f"kept {DB} (reuse with --reuse)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
