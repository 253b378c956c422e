"""Correction requests change state only through the engine (issue 12): ``correct`` and
``close`` are transitions of ``cases.lifecycle.correction`` — audited (django-fsm-log),
announced (outbox), under the dossier's lock — and « one open request per target » holds
under parallel requests."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_fsm_log.models import StateLog

from cases import builders, services
from cases.models import CorrectionRequest, CorrectionState
from engine.errors import DomainError
from engine.models import OutboxEvent
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def draft(porteur):
    return services.case_create(actor=porteur, data={"title": "Salle des fêtes", "state": "draft"})


def history(correction) -> list[tuple[str, int | None]]:
    return [
        (log.transition, log.by_id)
        for log in StateLog.objects.for_(correction).order_by("timestamp", "pk")
    ]


def topics(correction) -> list[str]:
    return list(
        OutboxEvent.objects.filter(subject_id=correction.pk, topic__startswith="correction")
        .order_by("pk")
        .values_list("topic", flat=True)
    )


@pytest.mark.django_db
def test_correct_and_close_are_audited_transitions():
    porteur, agent = f.porteur(), f.agent()
    case = draft(porteur)
    title = services.correction_request(
        actor=agent, case=case, kind="field", target="title", body="Une faute."
    )
    theme = services.correction_request(
        actor=agent, case=case, kind="field", target="theme", body="Précisez."
    )
    services.correction_apply(actor=porteur, correction=title, value="Salle des fêtes (2)")
    title.refresh_from_db()
    assert title.state == CorrectionState.CORRECTED and title.closed_by == porteur
    assert history(title) == [("correct", porteur.pk)]
    assert topics(title) == ["correction.requested", "correctionrequest.correct"]

    services.correction_close(actor=agent, correction=theme)
    theme.refresh_from_db()
    assert theme.state == CorrectionState.CLOSED and theme.closed_at is not None
    assert history(theme) == [("close", agent.pk)]
    assert topics(theme) == ["correction.requested", "correctionrequest.close"]
    with pytest.raises(DomainError) as again:
        services.correction_close(actor=agent, correction=theme)
    assert again.value.code == "conflict"
    assert history(theme) == [("close", agent.pk)]


@pytest.mark.django_db
def test_the_state_is_written_by_the_engine_only():
    porteur, agent = f.porteur(), f.agent()
    correction = services.correction_request(
        actor=agent, case=draft(porteur), kind="field", target="title", body="Une faute."
    )
    with pytest.raises(AttributeError):  # django-fsm's protected field
        correction.state = CorrectionState.CLOSED


@pytest.mark.django_db
def test_an_instructor_closes_its_own_requests_only_and_a_porteur_none():
    porteur = f.porteur()
    case = builders.dossier(porteur=porteur, stage="submitted", receipt="2026-01-15", content=PDF)
    etat, other = f.funder_instructor("ETAT"), f.funder_instructor("ETAT")
    agent = f.agent()
    mine = services.correction_request(
        actor=etat, case=case, kind="document", target="other", body="Le devis signé."
    )
    theirs = services.correction_request(
        actor=agent, case=case, kind="document", target="note_explicative", body="Illisible."
    )
    for actor, correction in ((other, mine), (etat, theirs), (porteur, mine)):
        with pytest.raises(DomainError) as refused:
            services.correction_close(actor=actor, correction=correction)
        assert refused.value.code == "forbidden", (actor, correction)
    services.correction_close(actor=etat, correction=mine)
    mine.refresh_from_db()
    assert mine.state == CorrectionState.CLOSED and history(mine) == [("close", etat.pk)]


def run_together(calls):
    """Each call in its own thread and database connection, released together; the
    results (a value, or the exception raised) in the same order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - compared by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_open_request_per_target_under_parallel_requests():
    porteur = f.porteur()
    agents = [f.agent() for _ in range(4)]
    case = draft(porteur)

    def ask(agent):
        return lambda: services.correction_request(
            actor=agent, case=case, kind="field", target="title", body="Une faute."
        )

    results = run_together([ask(a) for a in agents])
    made = [r for r in results if isinstance(r, CorrectionRequest)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(made) == 1 and len(refused) == 3, results
    assert all(r.code == "conflict" for r in refused)
    assert CorrectionRequest.objects.filter(case=case, state=CorrectionState.OPEN).count() == 1

    correction = made[0]

    def close(agent):  # each thread reads the request itself: all see it open
        return lambda: services.correction_close(
            actor=agent, correction=CorrectionRequest.objects.get(pk=correction.pk)
        )

    results = run_together([close(a) for a in agents])
    closed = [r for r in results if isinstance(r, CorrectionRequest)]
    assert len(closed) == 1, results
    assert all(isinstance(r, DomainError) for r in results if r not in closed)
    assert len(history(correction)) == 1
    assert topics(correction) == ["correction.requested", "correctionrequest.close"]
