"""PostgreSQL restarted (pg_ctl restart -m fast) in the middle of a run of transitions.

A private cluster (initdb in a temporary directory, run as ``postgres``, on a free port) is
migrated for the project; a child process applies submit → declare_complete →
start_instruction → grant (→ automatic record_decisions) on many dossiers through
``transition_apply`` with ``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS``; the test restarts
the cluster mid-run; the child retries on OperationalError/InterfaceError and finishes.
Then every dossier must be consistent: each state change exactly one history row and one
outbox event, nothing half applied (a submitted dossier always has its funding request
and its completeness deadline)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import psycopg
import pytest

from .support import PG_BIN, ROOT, PrivatePostgres, manage, project_env, wait_for

pytestmark = [
    pytest.mark.postgres,  # restarts a private PostgreSQL cluster cloned from the test one
    pytest.mark.skipif(
        not (PG_BIN / "initdb").exists() or not shutil.which("runuser"),
        reason="needs PostgreSQL's server binaries and runuser",
    ),
]
COUNT = 24
CASE_PATH = ["open_application", "submit", "declare_complete", "record_decisions"]
REQUEST_PATH = ["start_instruction", "grant"]


@pytest.fixture
def cluster():
    pg = PrivatePostgres()
    pg.start()
    yield pg
    pg.stop()


def _rows(url: str, sql: str, *args):
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(sql, args).fetchall()


def test_transitions_survive_a_database_restart(cluster, tmp_path, django_db_setup, db):
    from django.db import connection

    # The project's migrated database (this session's test database, as ``migrate`` left
    # it: the data migrations' reference data included), copied into the private cluster.
    cluster.clone_from(connection.settings_dict)
    env = project_env(
        DATABASE_URL=cluster.url(),
        CONN_MAX_AGE="60",
        CELERY_TASK_ALWAYS_EAGER="1",
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    manage("migrate", "--check", env=env)  # the copy is fully migrated
    progress = tmp_path / "progress"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.pg_child", str(COUNT), str(progress)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(
            lambda: (
                progress.exists()
                and progress.read_text().strip().isdigit()
                and int(progress.read_text()) >= COUNT // 4
            ),
            timeout=120,
        ), "the child never started its transitions"
        cluster.restart()
        time.sleep(0.3)
        cluster.restart()  # twice: a second loss while the child is recovering
        out, err = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err[-3000:]
    stats = json.loads(out.strip().splitlines()[-1])
    assert int(progress.read_text()) == COUNT
    assert stats["retries"] >= 1, "the restart did not hit the run: nothing was proven"
    assert stats["applied"] + stats["already"] == COUNT * 4
    url = cluster.url()

    # Every dossier reached its end state.
    states = _rows(url, "SELECT state, count(*) FROM cases_case GROUP BY state")
    assert states == [("decided", COUNT)], states

    def history(model: str) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for object_id, transition in _rows(
            url,
            "SELECT l.object_id, l.transition FROM django_fsm_log_statelog l "
            "JOIN django_content_type t ON t.id = l.content_type_id "
            "WHERE t.model = %s ORDER BY l.id",
            model,
        ):
            out.setdefault(int(object_id), []).append(transition)
        return out

    def events(model: str) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for subject_id, topic in _rows(
            url,
            "SELECT e.subject_id, e.topic FROM engine_outboxevent e "
            "JOIN django_content_type t ON t.id = e.subject_type_id "
            "WHERE t.model = %s AND e.topic NOT IN ('case.created', 'document.uploaded') "
            "ORDER BY e.id",
            model,
        ):
            out.setdefault(int(subject_id), []).append(topic.split(".", 1)[1])
        return out

    case_history, case_events = history("case"), events("case")
    assert len(case_history) == COUNT
    for case_id, names in case_history.items():
        assert names == CASE_PATH, (case_id, names)  # one row per change, none twice
        assert case_events[case_id] == CASE_PATH, (case_id, case_events[case_id])
    fr_history, fr_events = history("fundingrequest"), events("fundingrequest")
    assert len(fr_history) == COUNT
    for fr_id, names in fr_history.items():
        assert names == REQUEST_PATH and fr_events[fr_id] == REQUEST_PATH, (fr_id, names)

    # Nothing half applied: one request per dossier, granted, with its receipt date and
    # exactly one completeness deadline (met), and the deadlines opened by the grant.
    rows = _rows(
        url,
        "SELECT c.id, c.receipt_date IS NOT NULL, c.complete_on IS NOT NULL, "
        "(SELECT count(*) FROM cases_fundingrequest f WHERE f.case_id = c.id "
        "  AND f.state = 'granted' AND f.amount_granted = 40000), "
        "(SELECT count(*) FROM engine_deadline d WHERE d.aggregate_id = c.id "
        "  AND d.kind = 'completeness'), "
        "(SELECT count(*) FROM engine_deadline d WHERE d.aggregate_id = c.id "
        "  AND d.kind = 'completeness' AND d.state = 'met') "
        "FROM cases_case c",
    )
    for case_id, receipt, complete, granted, completeness, met in rows:
        assert (receipt, complete, granted, completeness, met) == (True, True, 1, 1, 1), case_id
    # The same deadlines on every dossier (no kind opened twice by a replayed transition).
    kinds = _rows(
        url,
        "SELECT aggregate_id, kind, count(*) FROM engine_deadline GROUP BY aggregate_id, kind "
        "HAVING count(*) > 1",
    )
    assert kinds == []
