"""The load test's virtual users (threads on keep-alive HTTP connections) and its report:
porteurs read their dossiers, agents list, read and move dossiers (see ``load.py``)."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import threading
import time
from urllib.parse import urlencode

TARGET_P95_MS = 300


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
        r = self.rnd.random()
        if r < 0.30:
            self.case_list()
        elif r < 0.50:
            self.request("agent: web inbox /agent/", "GET", "/agent/", self.a["id"], web=True)
        elif r < 0.70:
            self.dossier()
        elif r < 0.93 or not self.oneshot:
            self.documents_cycle()
        else:
            self.declare_complete()

    def case_list(self):
        choices = [
            {"state": "instruction"},
            {"state": "submitted", "epci": self.a["siren"]},
            {"epci": self.a["siren"]},
            {"scheme": self.rnd.choice(["DETR", "LEADER", "DEPT_TARN"])},
            {"q": self.rnd.choice(["halle", "école", "GU-2024", "Association 01"])},
            {"page": self.rnd.randint(1, 100)},
        ]
        q = {**self.rnd.choice(choices), "page_size": 20}
        path = f"/api/v1/cases/?{urlencode(q)}"
        self.request("agent: API case list (filters)", "GET", path, self.a["id"])

    def dossier(self):
        uid, pk = self.a["id"], self.rnd.choice(self.pool)["case"]
        if self.rnd.random() < 0.5:
            self.request("agent: web dossier page", "GET", f"/dossiers/{pk}/", uid, web=True)
        else:
            self.request("agent: API case detail", "GET", f"/api/v1/cases/{pk}/", uid)

    def documents_cycle(self):
        """The agent asks for a document, the porteur provides it."""
        item = self.rnd.choice(self.pool)
        pk, porteur = item["case"], item["porteur"]
        today = dt.date.today().isoformat()
        ok = self.request(
            "transition (API)",
            "POST",
            f"/api/v1/cases/{pk}/transitions/request_documents/",
            self.a["id"],
            body={"documents": ["Plan de situation"], "date": today, "comment": "Pièce manquante"},
        )
        if ok is not None:
            self.request(
                "transition (API)",
                "POST",
                f"/api/v1/cases/{pk}/transitions/provide_documents/",
                porteur,
                body={"date": today},
            )

    def declare_complete(self):
        """One shot: a dossier declared complete, its first request in instruction."""
        pk = self.oneshot.pop()["case"]
        today = dt.date.today().isoformat()
        data = self.request(
            "transition (API)",
            "POST",
            f"/api/v1/cases/{pk}/transitions/declare_complete/",
            self.a["id"],
            body={"date": today},
        )
        for fr in json.loads(data)["funding_requests"][:1] if data else ():
            self.request(
                "transition (API)",
                "POST",
                f"/api/v1/funding-requests/{fr['id']}/transitions/start_instruction/",
                self.a["id"],
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


def report(rec: Recorder, elapsed: float) -> dict:
    """The figures printed; returned as ``{ok, rps, p50, p95, errors}``."""
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
    rps = total / elapsed if elapsed else 0.0
    return {"ok": ok, "rps": rps, "p50": pct(every, 50), "p95": p95, "errors": errors}
