"""Bulk work through the API (api.md « Additions »): ``POST /funding-requests/bulk/{name}/``.

Each item is applied or refused on its own, with the status and the French detail the
single route answers, and an applied item leaves exactly the trace a single grant leaves:
its history rows (and the dossier's follow-up), its deadlines, its outbox events, its
dossier's agent tasks. Parallel bulk calls on the same requests grant each one once."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django_fsm_log.models import StateLog
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from cases import builders
from cases.models import Case, FundingRequest
from cases.services.bulk import MAX_ITEMS
from engine.models import Deadline, OutboxEvent
from tests import factories as f

from .helpers import V1

BULK = f"{V1}/funding-requests/bulk"
NOT_FOUND = "Demande de financement introuvable."


def instructing(n: int, *, plan=None) -> list[Case]:
    """``n`` DETR dossiers whose requests are in instruction, all on the same dates."""
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    return [
        builders.dossier(
            porteur=porteur,
            stage="instruction",
            agent=agent,
            plan=plan,
            title=f"Projet {i}",
            receipt="2026-03-02",
            complete="2026-03-10",
        )
        for i in range(n)
    ]


def detr(case: Case) -> FundingRequest:
    return case.funding_requests.get(scheme__code="DETR")


def grant_body(fr_id: int, amount: str = "30000.00") -> dict:
    return {"id": fr_id, "amount_granted": amount, "date": "2026-04-15"}


def trace(fr: FundingRequest) -> dict:
    """What one grant leaves, without the ids that differ from one dossier to another."""
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    case_ct = ContentType.objects.get_for_model(Case)
    fields = ("transition", "source_state", "state", "by_id", "timestamp", "description")
    today = timezone.localdate()

    def history(content_type, pk) -> list[tuple]:
        """The entries, an entry written « now » (not re-dated to its event) as « now »."""
        rows = StateLog.objects.filter(content_type=content_type, object_id=pk).order_by("id")
        return [
            (*row[:-2], row[-2] if timezone.localdate(row[-2]) < today else "now", row[-1])
            for row in rows.values_list(*fields)
        ]

    logs = {"request": history(fr_ct, fr.pk), "case": history(case_ct, fr.case_id)}
    deadlines = sorted(
        Deadline.objects.filter(aggregate_id=fr.case_id).values_list(
            "kind", "subject_type_id", "due_on", "party", "state", "expiry_transition"
        )
    )
    events = [
        (e.topic, e.actor_id, e.payload)
        for e in OutboxEvent.objects.filter(aggregate_id=fr.case_id).order_by("id")
    ]
    tasks = sorted(
        (str(task.flow_task.name), task.status)
        for task in Task.objects.filter(
            process__artifact_content_type=case_ct, process__artifact_object_id=fr.case_id
        )
    )
    fr = FundingRequest.objects.get(pk=fr.pk)
    state = (fr.state, fr.amount_granted, fr.granted_on, Case.objects.get(pk=fr.case_id).state)
    return {"logs": logs, "deadlines": deadlines, "events": events, "tasks": tasks, "state": state}


@pytest.mark.django_db
def test_a_refused_item_in_the_middle_leaves_the_others_applied_as_one_by_one(api):
    instructor = f.funder_instructor("ETAT")
    client = api(instructor)
    cases = instructing(6)
    requests = [detr(c) for c in cases]
    single, bulk = requests[0], requests[1:]
    # the yardstick: one grant through the single route
    response = client.post(
        f"{V1}/funding-requests/{single.pk}/transitions/grant/",
        {k: v for k, v in grant_body(single.pk).items() if k != "id"},
        format="json",
    )
    assert response.status_code == 200, response.data
    items = [grant_body(fr.pk) for fr in bulk]
    items[2]["amount_granted"] = "45000.00"  # over the 40,000 € requested
    response = client.post(f"{BULK}/grant/", {"items": items}, format="json")
    assert response.status_code == 200, response.data
    over = bulk[2].pk
    assert response.data["applied"] == [fr.pk for fr in bulk if fr.pk != over]
    [refused] = response.data["refused"]
    # the same answer as the single route gives for the same body
    alone = client.post(
        f"{V1}/funding-requests/{over}/transitions/grant/",
        {"amount_granted": "45000.00", "date": "2026-04-15"},
        format="json",
    )
    assert alone.status_code == 400
    assert refused == {"id": over, "status": 400, "detail": alone.data["detail"]}
    assert "dépasse le montant demandé" in refused["detail"]
    assert FundingRequest.objects.get(pk=over).state == "instructing"
    # every applied item left exactly what the single grant left
    expected = trace(single)
    assert expected["state"] == ("granted", Decimal("30000.00"), expected["state"][2], "decided")
    assert [e[0] for e in expected["events"]][-2:] == [
        "case.record_decisions",  # the dossier's follow-up, inside the grant's transaction
        "fundingrequest.grant",
    ]
    for fr in bulk:
        if fr.pk != over:
            assert trace(fr) == expected, fr.pk


@pytest.mark.django_db
def test_requests_the_caller_may_not_see_are_refused_404_and_untouched(api):
    """Another funder's request (the Région's) is not seen by the préfecture: 404, as one
    by one, and never applied; an id that exists nowhere reads the same."""
    instructor = f.funder_instructor("ETAT")
    plan = builders.plan(100000, ("DETR", 40000), ("REGION_OCC", 20000))
    [case] = instructing(1, plan=plan)
    region = case.funding_requests.get(scheme__code="REGION_OCC")
    items = [grant_body(detr(case).pk), grant_body(region.pk, "10000.00"), grant_body(999999)]
    response = api(instructor).post(f"{BULK}/grant/", {"items": items}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["applied"] == [detr(case).pk]
    assert response.data["refused"] == [
        {"id": region.pk, "status": 404, "detail": NOT_FOUND},
        {"id": 999999, "status": 404, "detail": NOT_FOUND},
    ]
    alone = api(instructor).post(
        f"{V1}/funding-requests/{region.pk}/transitions/grant/",
        {"amount_granted": "10000.00"},
        format="json",
    )
    assert (alone.status_code, alone.data["detail"]) == (404, NOT_FOUND)
    assert FundingRequest.objects.get(pk=region.pk).state == "instructing"


@pytest.mark.django_db
def test_wrong_state_and_bad_input_are_refused_per_item_like_one_by_one(api):
    instructor = f.funder_instructor("ETAT")
    client = api(instructor)
    first, second, third = (detr(c) for c in instructing(3))
    response = client.post(
        f"{BULK}/grant/",
        {
            "items": [
                grant_body(first.pk),
                {"id": second.pk, "amount_granted": "8" * 1_000_000},  # a megabyte
                {"id": third.pk, "amount_granted": "1000.00", "date": "2999-01-01"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["applied"] == [first.pk]
    refused = {r["id"]: r for r in response.data["refused"]}
    assert {r["status"] for r in refused.values()} == {400}
    for fr, body in (
        (second, {"amount_granted": "8" * 1_000_000}),
        (third, {"amount_granted": "1000.00", "date": "2999-01-01"}),
    ):
        alone = client.post(
            f"{V1}/funding-requests/{fr.pk}/transitions/grant/", body, format="json"
        )
        assert (alone.status_code, alone.data["detail"]) == (400, refused[fr.pk]["detail"])
    # the first is granted now: granting it again is a 409, as one by one
    again = client.post(f"{BULK}/grant/", {"items": [grant_body(first.pk)]}, format="json")
    alone = client.post(
        f"{V1}/funding-requests/{first.pk}/transitions/grant/",
        {"amount_granted": "30000.00"},
        format="json",
    )
    assert alone.status_code == 409
    assert again.data == {
        "applied": [],
        "refused": [{"id": first.pk, "status": 409, "detail": alone.data["detail"]}],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, words",
    [
        ({"items": [{"id": i} for i in range(1, MAX_ITEMS + 2)]}, "1\u202f000 au plus"),
        ({"items": [{"id": 5}, {"id": 5}]}, "figure deux fois"),
        ({"items": [{"id": 5}, "6"]}, "doit être un objet"),
        ({"items": [{"id": "cinq"}]}, "invalide"),
        ({"items": [{"id": 5, "state": "granted"}]}, "Champ inconnu « state »"),
        ({"items": [{"id": 5, "x" * 1_000_000: 1}]}, "Champ inconnu"),
        ({"items": []}, "Indiquez « items »"),
        ({"items": {"id": 5}}, "Indiquez « items »"),
        ({"items": [{"id": 5}], "force": True}, "Champ inconnu : « force »"),
        ([{"id": 5}], "objet JSON"),
    ],
)
def test_malformed_bodies_are_a_french_400_in_bounded_time(api, body, words):
    instructor = f.funder_instructor("ETAT")
    start = time.perf_counter()
    response = api(instructor).post(f"{BULK}/grant/", body, format="json")
    assert time.perf_counter() - start < 2
    assert response.status_code == 400, response.data
    assert words in response.data["detail"], response.data


@pytest.mark.django_db
def test_a_name_that_is_no_request_transition_or_a_refused_role(api):
    instructor = f.funder_instructor("ETAT")
    body = {"items": [{"id": 1}]}
    response = api(instructor).post(f"{BULK}/nimportequoi/", body, format="json")
    assert response.status_code == 404
    assert response.data["detail"] == "Transition inconnue : « nimportequoi »."
    # a dossier transition is not a request transition
    response = api(instructor).post(f"{BULK}/submit/", body, format="json")
    assert response.status_code == 404
    # a role that may never grant: 403 as a whole, before any request is read
    response = api(f.agent()).post(f"{BULK}/grant/", body, format="json")
    assert response.status_code == 403
    assert "ne permet pas" in response.data["detail"]
    # an automatic transition
    response = api(f.agent()).post(f"{BULK}/select/", body, format="json")
    assert response.status_code == 403
    assert api().post(f"{BULK}/grant/", body, format="json").status_code == 401


# ---------------------------------------------------------------- in parallel


def _client(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _in_parallel(calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, client, body):
        try:
            barrier.wait(timeout=30)
            response = client.post(f"{BULK}/grant/", body, format="json")
            results[i] = (response.status_code, getattr(response, "data", None))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = (500, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_bulk_calls_on_overlapping_requests_grant_each_once():
    instructor = f.funder_instructor("ETAT")
    requests = [detr(c) for c in instructing(6)]
    ids = [fr.pk for fr in requests]
    # three callers, overlapping sets, in different orders, different amounts
    calls = [
        (_client(instructor), {"items": [grant_body(pk, "30000.00") for pk in ids[:4]]}),
        (_client(instructor), {"items": [grant_body(pk, "35000.00") for pk in reversed(ids)]}),
        (_client(instructor), {"items": [grant_body(pk, "40000.00") for pk in ids[2:]]}),
    ]
    results = _in_parallel(calls)
    assert all(status == 200 for status, _ in results), results
    applied = [pk for _, body in results for pk in body["applied"]]
    assert sorted(applied) == sorted(ids), results  # each request granted exactly once
    for _, body in results:
        for refusal in body["refused"]:
            assert refusal["status"] == 409, refusal
            assert refusal["detail"]
    fr_ct = ContentType.objects.get_for_model(FundingRequest)
    case_ct = ContentType.objects.get_for_model(Case)
    for (_, body), (_, sent) in zip(results, calls, strict=True):
        amounts = {item["id"]: Decimal(item["amount_granted"]) for item in sent["items"]}
        for pk in body["applied"]:
            fr = FundingRequest.objects.get(pk=pk)
            assert (fr.state, fr.amount_granted) == ("granted", amounts[pk])
            assert fr.amount_granted <= fr.amount_requested  # the ceiling held
            grants = StateLog.objects.filter(content_type=fr_ct, object_id=pk, transition="grant")
            assert grants.count() == 1
            events = OutboxEvent.objects.filter(subject_id=pk, topic="fundingrequest.grant")
            assert events.count() == 1
            decisions = StateLog.objects.filter(
                content_type=case_ct, object_id=fr.case_id, transition="record_decisions"
            )
            assert decisions.count() == 1


@pytest.mark.django_db
def test_the_bulk_route_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    post = schema["paths"]["/api/v1/funding-requests/bulk/{name}/"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json"}
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BulkReport"
    }
    item = schema["components"]["schemas"]["BulkItem"]
    assert "id" in item["required"] and {"amount_granted", "date"} <= set(item["properties"])
    items = schema["components"]["schemas"]["BulkInput"]["properties"]["items"]
    assert "1000 au plus" in items["description"]
