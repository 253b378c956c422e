"""Benchmark: transitions per second through ``transition_apply`` next to raw SQL.

Builds a scratch PostgreSQL database (migrations included), creates BENCH_CASES dossiers
through the real services and submits them, then times BENCH_ROUNDS rounds of the
documents cycle on every dossier — ``request_documents`` (submitted → incomplete: guard,
completeness clock suspended, documents deadline opened) and ``provide_documents``
(incomplete → submitted: guard, clock resumed, deadline met) — each transition in its own
transaction, as an API request does. Five figures:

- ``engine``: ``transition_apply`` with every hook the project registers (deadlines,
  agent tasks, outbox relay kick);
- ``engine core``: the same with the layers' hooks removed (role, guard, FSM, row lock,
  optimistic lock, StateLog, outbox only); the dossiers are loaded once, the engine
  re-reads each row under its lock;
- ``core + load per request``: the same, loading the dossier before each transition as
  an API request does;
- ``django-fsm way``: what other Django grant tools do (issue 16): per transition one
  ``transaction.atomic``, the dossier loaded, the django-fsm-2 method, ``save()``,
  django-fsm-log's ``StateLog`` row written by its signal receiver;
- ``raw SQL``: psycopg on the same database and rows, one transaction per transition with
  one ``UPDATE cases_case`` and one ``INSERT`` into the StateLog table.

It prints transitions/s, ms per transition, SQL statements per transition, this process's
CPU time per transition (the Python side, which the machine's load moves less), the ratios
engine / django-fsm way (the aim: ≤ 2× with every hook) and engine / raw, and the peak
RSS. With ``--profile`` it also prints where the engine's time
goes (cProfile, top functions by cumulative and own time).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/transitions.py

Environment: BENCH_CASES (default 100), BENCH_ROUNDS (3), BENCH_DB (scratch database, default
guichet_bench_transitions; dropped at the end unless BENCH_KEEP=1). The Celery broker is
the in-memory transport (the relay kick costs no network round trip here).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = int(os.environ.get("BENCH_CASES", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DB = os.environ.get("BENCH_DB", "guichet_bench_transitions")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
TARGET_RATIO = 3.0
FSM_TARGET = 2.0  # issue 16: the engine with every hook within 2× of the django-fsm way


def db_url(name: str) -> str:
    return urlunparse(urlparse(BASE_URL)._replace(path=f"/{name}"))


def admin_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def setup_django(db: str = DB) -> None:
    os.environ["DATABASE_URL"] = db_url(db)
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- data


def submitted_dossiers(n: int, *, uploaded_at=None, then=None) -> dict:
    """Migrate the scratch database, then ``n`` submitted DETR dossiers (received on
    2026-03-02) made with the shared builders (``cases.builders``), but for the documents,
    written as rows (no file on disk). ``then(case, people)``, if given, takes each dossier
    further. Returns the people (``porteur``, ``agent``) and the dossiers' ``ids``; shared
    by ``bench/bulk.py``."""
    from django.core.management import call_command

    from cases import builders
    from cases.models import Document
    from schemes.models import Commune, Scheme

    call_command("migrate", verbosity=0)
    commune = Commune.objects.order_by("insee").first()
    org = builders.organisation_build(name="Commune du banc d'essai", commune=commune)
    people = {
        "porteur": builders.user_build(username="bench-porteur", role="porteur", organisation=org),
        "agent": builders.user_build(username="bench-agent", role="agent"),
    }
    codes = Scheme.objects.get(code="DETR").required_document_codes()
    plan = builders.plan(100000, ("DETR", 40000))
    extra = {"uploaded_at": uploaded_at} if uploaded_at else {}
    ids = []
    for i in range(n):
        case = builders.case_build(
            porteur=people["porteur"], title=f"Dossier {i}", plan=plan, state="draft"
        )
        Document.objects.bulk_create(
            Document(
                case=case,
                kind=code,
                file=f"bench/{code}.pdf",
                filename=f"{code}.pdf",
                size=10,
                content_type="application/pdf",
                sha256="0" * 64,
                **extra,
            )
            for code in codes
        )
        case = builders.case_submit_on(case, porteur=people["porteur"], receipt="2026-03-02")
        if then is not None:
            then(case, people)
        ids.append(case.pk)
    return {**people, "ids": ids}


def load(n: int) -> tuple[list[int], int, int]:
    """``n`` submitted DETR dossiers; returns their ids, an agent id and a porteur id.

    Their documents are dated in the future so that ``provide_documents`` always sees a
    fresh piece."""
    from cases.models import Case

    made = submitted_dossiers(n, uploaded_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    ids = made["ids"]
    assert Case.objects.filter(pk__in=ids, state="submitted").count() == n
    return ids, made["agent"].pk, made["porteur"].pk


# ---------------------------------------------------------------- runs


def engine_cycle(ids, agent_id, porteur_id, rounds, reload=False) -> int:
    """The documents cycle through ``transition_apply``, one transaction per transition.

    The dossiers are loaded once (one query for all): the engine re-reads each row under
    its lock anyway. ``reload=True`` loads the dossier before each transition, as an API
    request does.
    """
    from cases.models import Case, User
    from engine.transitions import transition_apply

    agent = User.objects.get(pk=agent_id)
    porteur = User.objects.get(pk=porteur_id)
    cases = Case.objects.in_bulk(ids)
    done = 0
    for r in range(rounds):
        day = (dt.date(2026, 3, 10) + dt.timedelta(days=2 * r)).isoformat()
        for pk in ids:
            case = Case.objects.get(pk=pk) if reload else cases[pk]
            transition_apply(
                instance=case,
                name="request_documents",
                actor=agent,
                data={"documents": ["Plan de situation"], "date": day},
            )
            case = Case.objects.get(pk=pk) if reload else case
            transition_apply(
                instance=case, name="provide_documents", actor=porteur, data={"date": day}
            )
            done += 2
    return done


def fsm_cycle(ids, agent_id, porteur_id, rounds, reload=True) -> int:
    """The way other Django grant tools change a state: per transition, one
    ``transaction.atomic``, the dossier loaded (as a request does), the django-fsm-2
    ``@transition`` method called, ``save()`` (django-fsm-2's optimistic lock,
    ``ConcurrentTransitionMixin``), django-fsm-log's ``StateLog`` row written by its
    ``post_transition`` receiver. No role or object right, no guard, no row lock, no
    deadline, no task, no outbox event."""
    from django.db import transaction

    from cases.models import Case, User

    agent = User.objects.get(pk=agent_id)
    porteur = User.objects.get(pk=porteur_id)
    done = 0
    for _ in range(rounds):
        for pk in ids:
            for name, actor in (("request_documents", agent), ("provide_documents", porteur)):
                with transaction.atomic():
                    case = Case.objects.get(pk=pk)
                    getattr(case, name)(by=actor)
                    case.save()
                done += 1
    return done


def queries_per_transition(ids, agent_id, porteur_id, reload=False, cycle=None) -> float:
    """SQL statements per transition, BEGIN and COMMIT included (as in the raw baseline)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cycle = cycle or engine_cycle
    cycle(ids[:1], agent_id, porteur_id, 1, reload)  # fill the ORM caches
    with CaptureQueriesContext(connection) as ctx:
        n = cycle(ids[:10], agent_id, porteur_id, 1, reload)
    # the two users (and the engine's bulk load) happen once per run, not per transition
    once = 2 if cycle is fsm_cycle else 3
    return (len(ctx.captured_queries) - once) / n


def show_sql(ids, agent_id, porteur_id) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        engine_cycle(ids[:1], agent_id, porteur_id, 1)
    for q in ctx.captured_queries:
        print(f"  {q['sql'][:150]}")


def raw_cycle(ids, rounds) -> int:
    """The floor: one UPDATE and one INSERT per transaction, same tables, same rows."""
    import psycopg
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Case

    ct = ContentType.objects.get_for_model(Case).pk
    done = 0
    with psycopg.connect(db_url(DB)) as conn:
        for _ in range(rounds):
            for source, target, name in (
                ("submitted", "incomplete", "request_documents"),
                ("incomplete", "submitted", "provide_documents"),
            ):
                for pk in ids:
                    with conn.transaction():
                        cur = conn.execute(
                            "UPDATE cases_case SET state = %s, updated_at = now() "
                            "WHERE id = %s AND state = %s",
                            (target, pk, source),
                        )
                        assert cur.rowcount == 1
                        conn.execute(
                            "INSERT INTO django_fsm_log_statelog (timestamp, by_id, source_state, "
                            "state, transition, content_type_id, object_id, description) "
                            "VALUES (now(), NULL, %s, %s, %s, %s, %s, NULL)",
                            (source, target, name, ct, pk),
                        )
                    done += 1
    return done


def timed(fn, *args):
    """(count, wall seconds, CPU seconds of this process): the CPU time is the Python side
    (the ORM, viewflow, the driver), which the load of the machine moves less than the
    round trips."""
    start, cpu = time.perf_counter(), time.process_time()
    count = fn(*args)
    return count, time.perf_counter() - start, time.process_time() - cpu


def without_hooks():
    from engine import transitions

    saved = list(transitions._hooks)
    transitions._hooks.clear()
    return saved


def restore_hooks(saved):
    from engine import transitions

    transitions._hooks[:] = saved


def hook_costs(ids, agent_id, porteur_id) -> list[tuple[str, float, float]]:
    """Time and SQL statements spent in each registered hook, per transition."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engine import transitions

    saved = list(transitions._hooks)
    spent = {h: [0.0, 0] for h in saved}

    def timed_hook(hook):
        def run(ctx):
            with CaptureQueriesContext(connection) as q:
                start = time.perf_counter()
                hook(ctx)
                spent[hook][0] += time.perf_counter() - start
            spent[hook][1] += len(q.captured_queries)

        return run

    transitions._hooks[:] = [timed_hook(h) for h in saved]
    try:
        n = engine_cycle(ids, agent_id, porteur_id, 1)
    finally:
        transitions._hooks[:] = saved
    return [(f"{h.__module__}.{h.__name__}", 1000 * t / n, q / n) for h, (t, q) in spent.items()]


def profile(ids, agent_id, porteur_id) -> str:
    prof = cProfile.Profile()
    prof.enable()
    engine_cycle(ids, agent_id, porteur_id, 1)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def measure(ids, agent_id, porteur_id) -> list[tuple[str, int, float, float, float]]:
    """(label, transitions, seconds, SQL per transition, CPU seconds) of each of the five
    figures."""
    q_full = queries_per_transition(ids, agent_id, porteur_id)
    full = timed(engine_cycle, ids, agent_id, porteur_id, ROUNDS)
    saved = without_hooks()
    try:
        q_core = queries_per_transition(ids, agent_id, porteur_id)
        core = timed(engine_cycle, ids, agent_id, porteur_id, ROUNDS)
        q_load = queries_per_transition(ids, agent_id, porteur_id, True)
        load_ = timed(engine_cycle, ids, agent_id, porteur_id, ROUNDS, True)
    finally:
        restore_hooks(saved)
    q_fsm = queries_per_transition(ids, agent_id, porteur_id, cycle=fsm_cycle)
    fsm = timed(fsm_cycle, ids, agent_id, porteur_id, ROUNDS)
    raw = timed(raw_cycle, ids, ROUNDS)
    return [
        ("engine, all hooks", full[0], full[1], q_full, full[2]),
        ("engine core (no hooks)", core[0], core[1], q_core, core[2]),
        ("core + load per request", load_[0], load_[1], q_load, load_[2]),
        ("django-fsm way", fsm[0], fsm[1], q_fsm, fsm[2]),
        ("raw SQL (psycopg)", raw[0], raw[1], 4.0, raw[2]),
    ]


def print_figures(rows) -> None:
    """The table, the ratios to the django-fsm way and to raw SQL, the verdicts, the peak
    RSS, the load average."""
    print(f"\n{CASES} dossiers × {ROUNDS} rounds × 2 transitions, one transaction each")
    print(
        f"{'':26}{'transitions':>12}{'seconds':>10}{'per s':>10}{'ms each':>10}"
        f"{'SQL each':>10}{'CPU ms':>8}"
    )
    for label, n, secs, q, cpu in rows:
        print(
            f"{label:26}{n:>12}{secs:>10.2f}{n / secs:>10.0f}{1000 * secs / n:>10.2f}"
            f"{q:>10.1f}{1000 * cpu / n:>8.2f}"
        )
    full, core, load_, fsm, raw = ((secs / n) for _, n, secs, _, _ in rows)
    cpu_full, cpu_fsm = rows[0][4] / rows[0][1], rows[3][4] / rows[3][1]
    print(
        f"\nratio to the django-fsm way: {full / fsm:.2f}× (engine, all hooks), "
        f"{core / fsm:.2f}× (core), {load_ / fsm:.2f}× (core + load); "
        f"CPU: {cpu_full / cpu_fsm:.2f}× (engine, all hooks)"
    )
    print(
        f"ratio to raw SQL: {full / raw:.1f}× (all hooks), {core / raw:.1f}× (core), "
        f"{fsm / raw:.1f}× (django-fsm way)"
    )
    print("(SQL each: the statements Django sends, savepoints included; raw: BEGIN, UPDATE,")
    print(" INSERT, COMMIT. CPU ms: this process's CPU time per transition, the database's not")
    print(" included)")
    verdict = "met" if full / fsm <= FSM_TARGET else "NOT met"
    print(f"aim: engine with every hook ≤ {FSM_TARGET:.0f}× the django-fsm way: {verdict}")
    verdict = "met" if full / raw <= TARGET_RATIO else "NOT met"
    print(f"target ≤ {TARGET_RATIO:.0f}× raw, engine with every hook: {verdict}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB; load average: {os.getloadavg()}")


def print_details(args, ids, agent_id, porteur_id) -> None:
    """The cost of each hook; with ``--sql`` / ``--profile``, the statements / profile."""
    print("\ncost of each hook, per transition (one round):")
    for name, ms, q in hook_costs(ids, agent_id, porteur_id):
        print(f"  {name:45}{ms:>8.2f} ms{q:>6.1f} SQL")
    if args.sql:
        print("\n--- SQL of one documents cycle (2 transitions), all hooks ---")
        show_sql(ids, agent_id, porteur_id)
        saved = without_hooks()
        print("\n--- SQL of one documents cycle (2 transitions), engine core ---")
        show_sql(ids, agent_id, porteur_id)
        restore_hooks(saved)
    if args.profile:
        print("\n--- cProfile, engine with all hooks, one round ---")
        print(profile(ids, agent_id, porteur_id))
        saved = without_hooks()
        print("\n--- cProfile, engine core, one round ---")
        print(profile(ids, agent_id, porteur_id))
        restore_hooks(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the engine")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one cycle")
    args = parser.parse_args()

    admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')
    admin_exec(f'CREATE DATABASE "{DB}"')
    try:
        setup_django(DB)
        t0 = time.perf_counter()
        ids, agent_id, porteur_id = load(CASES)
        print(f"setup: {CASES} submitted dossiers in {time.perf_counter() - t0:.1f} s")
        engine_cycle(ids[:20], agent_id, porteur_id, 1)  # warm-up (caches, imports)
        fsm_cycle(ids[:20], agent_id, porteur_id, 1)
        raw_cycle(ids[:20], 1)
        print_figures(measure(ids, agent_id, porteur_id))
        print_details(args, ids, agent_id, porteur_id)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            admin_exec(f'DROP DATABASE IF EXISTS "{DB}"')


if __name__ == "__main__":
    main()
