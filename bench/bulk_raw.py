"""The floor of ``bench/bulk.py``: the rows a bulk ``grant`` writes, as one raw-SQL batch.

One transaction, one statement per table for the whole batch (arrays ``unnest``ed by
PostgreSQL): the requests granted, the dossiers decided, the history rows of both (dated
like the engine dates them), the deadlines the grant meets closed and the ones it opens
inserted, one outbox event per transition. What to write per grant comes from the
engine's own first grant (``shape``): same kinds, same due dates, same payloads.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

DECIDED_COMMENT = "Automatique : toutes les demandes sont décidées."


def _content_types(cur) -> tuple[int, int]:
    cur.execute(
        "SELECT model, id FROM django_content_type WHERE app_label = 'cases' "
        "AND model IN ('case', 'fundingrequest')"
    )
    types = dict(cur.fetchall())
    return types["case"], types["fundingrequest"]


def raw_grant_batch(url, ids, instructor_id, shape, amount: str, day: dt.date):
    """Returns (seconds, statements), BEGIN and COMMIT included."""
    import psycopg

    with psycopg.connect(url) as conn:
        case_ct, fr_ct = _content_types(conn.cursor())
        case_ids = [
            r[0]
            for r in conn.execute(
                "SELECT case_id FROM cases_fundingrequest WHERE id = ANY(%s) ORDER BY id", (ids,)
            )
        ]
        conn.commit()
        ctx = Batch(ids, case_ids, case_ct, fr_ct, instructor_id, amount, day)
        statements = [*_states(ctx), *_history(ctx), *_deadlines(ctx, shape), _outbox(ctx)]
        start = time.perf_counter()
        with conn.transaction():
            for sql, params, expected in statements:
                cur = conn.execute(sql, params)
                assert cur.rowcount == expected, (sql[:60], cur.rowcount, expected)
        seconds = time.perf_counter() - start
    return seconds, len(statements) + 2


@dataclass
class Batch:
    ids: list[int]
    case_ids: list[int]
    case_ct: int
    fr_ct: int
    instructor_id: int
    amount: str
    day: dt.date

    @property
    def at(self) -> dt.datetime:
        """The history's date of an event recorded after the fact (noon, local time)."""
        return dt.datetime.combine(self.day, dt.time(12, 0)).astimezone()


def _states(b: Batch) -> list[tuple]:
    return [
        (
            "UPDATE cases_fundingrequest SET state = 'granted', amount_granted = %s, "
            "granted_on = %s WHERE id = ANY(%s) AND state = 'instructing'",
            (b.amount, b.day, b.ids),
            len(b.ids),
        ),
        (
            "UPDATE cases_case SET state = 'decided', updated_at = now() "
            "WHERE id = ANY(%s) AND state = 'instruction'",
            (b.case_ids,),
            len(b.case_ids),
        ),
    ]


def _history(b: Batch) -> list[tuple]:
    return [
        (
            "INSERT INTO django_fsm_log_statelog (timestamp, by_id, source_state, state, "
            "transition, content_type_id, object_id, description) "
            "SELECT %s, %s, 'instructing', 'granted', 'grant', %s, x, NULL "
            "FROM unnest(%s::bigint[]) AS x "
            "UNION ALL SELECT %s, NULL, 'instruction', 'decided', 'record_decisions', %s, "
            "y, %s FROM unnest(%s::bigint[]) AS y",
            (b.at, b.instructor_id, b.fr_ct, b.ids, b.at, b.case_ct, DECIDED_COMMENT, b.case_ids),
            2 * len(b.ids),
        )
    ]


def _deadlines(b: Batch, shape: dict) -> list[tuple]:
    """The deadlines the grant meets, closed; the ones it opens, inserted (as the engine's
    first grant did: same kinds, due dates, parties)."""
    out = [
        (
            "UPDATE engine_deadline SET state = 'met', closed_at = now() "
            "WHERE subject_type_id = %s AND subject_id = ANY(%s) AND kind = ANY(%s) "
            "AND state IN ('open', 'suspended')",
            (b.fr_ct, b.ids, shape["met_deadlines"]),
            len(b.ids) * len(shape["met_deadlines"]),
        )
    ]
    for _id, kind, type_id, _subject, due, party, state, expiry in shape["new_deadlines"]:
        subjects = b.case_ids if type_id == b.case_ct else b.ids
        out.append(
            (
                "INSERT INTO engine_deadline (kind, subject_type_id, subject_id, "
                "aggregate_id, due_on, party, state, expiry_transition, opened_at, note) "
                "SELECT %s, %s, s, a, %s, %s, %s, %s, now(), '' "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS t(s, a)",
                (kind, type_id, due, party, state, expiry, subjects, b.case_ids),
                len(b.ids),
            )
        )
    return out


def _payload(b: Batch, *, fr: bool) -> str:
    if fr:
        data = {"date": b.day.isoformat(), "amount_granted": b.amount}
        return json.dumps(
            {"data": data, "source": "instructing", "target": "granted", "comment": ""}
            | {"automatic": False}
        )
    data = {"date": b.day.isoformat(), "target": "decided"}
    return json.dumps(
        {"data": data, "source": "instruction", "target": "decided"}
        | {"comment": DECIDED_COMMENT, "automatic": True}
    )


def _outbox(b: Batch) -> tuple:
    return (
        "INSERT INTO engine_outboxevent (topic, subject_type_id, subject_id, "
        "aggregate_id, actor_id, payload, created_at, attempts) "
        "SELECT 'case.record_decisions', %s, c, c, NULL, %s::jsonb, now(), 0 "
        "FROM unnest(%s::bigint[]) AS c UNION ALL "
        "SELECT 'fundingrequest.grant', %s, f, c, %s, %s::jsonb, now(), 0 "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS t(f, c)",
        (
            b.case_ct,
            _payload(b, fr=False),
            b.case_ids,
            b.fr_ct,
            b.instructor_id,
            _payload(b, fr=True),
            b.ids,
            b.case_ids,
        ),
        2 * len(b.ids),
    )


def raw_undo(url, ids, marks, met_kinds) -> None:
    """Undo the raw batch (untimed): delete the rows it inserted, put the states back."""
    import psycopg

    with psycopg.connect(url) as conn, conn.transaction():
        _case_ct, fr_ct = _content_types(conn.cursor())
        for table in ("django_fsm_log_statelog", "engine_outboxevent", "engine_deadline"):
            conn.execute(f"DELETE FROM {table} WHERE id > %s", (marks[table][1],))  # noqa: S608
        conn.execute(
            "UPDATE cases_case SET state = 'instruction' WHERE id IN "
            "(SELECT case_id FROM cases_fundingrequest WHERE id = ANY(%s))",
            (ids,),
        )
        conn.execute(
            "UPDATE cases_fundingrequest SET state = 'instructing', amount_granted = NULL, "
            "granted_on = NULL WHERE id = ANY(%s)",
            (ids,),
        )
        conn.execute(
            "UPDATE engine_deadline SET state = 'open', closed_at = NULL "
            "WHERE subject_type_id = %s AND subject_id = ANY(%s) AND state = 'met' "
            "AND kind = ANY(%s)",
            (fr_ct, ids, met_kinds),
        )
