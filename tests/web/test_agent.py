"""The agent workspace through the browser's eyes: inbox, queue, dossier list, dossier page
(actions == available transitions, notes, opinions), as each role would use them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import builders, services
from cases.models import Case, CaseState, Message, Opinion, User
from cases.services.experts import expert_invite
from engine.transitions import available_transitions, transition_apply
from schemes.models import Commune
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%guichet test\n"
TODAY = timezone.localdate()


def day(offset: int) -> str:
    return (TODAY - dt.timedelta(days=offset)).isoformat()


def commune_of_epci(index: int = 0) -> Commune:
    """A commune of the index-th EPCI of the territory (EPCI ordered by name)."""
    from schemes.models import EPCI

    epci = EPCI.objects.order_by("name")[index]
    return Commune.objects.filter(epci=epci).order_by("insee").first()


def org(index: int = 0, **kw):
    return f.OrganisationFactory(commune=commune_of_epci(index), **kw)


PLANS = {
    ("DETR",): [{"kind": "scheme", "scheme": "DETR", "amount": "40000.00"}],
    ("DETR", "REGION_OCC"): [
        {"kind": "scheme", "scheme": "DETR", "amount": "30000.00"},
        {"kind": "scheme", "scheme": "REGION_OCC", "amount": "20000.00"},
    ],
}


def make_case(
    porteur,
    *,
    schemes=("DETR",),
    state="draft",
    title="Rénovation de l'école primaire",
    theme="Éducation",
    agent=None,
):
    """A dossier of the porteur's organisation, brought to ``state`` with past dates."""
    resources = PLANS[tuple(schemes)]
    public = sum(float(r["amount"]) for r in resources)
    plan = {
        "expenses": [{"label": "Travaux", "amount": "100000.00"}],
        "resources": [*resources, {"kind": "self", "amount": f"{100000 - public:.2f}"}],
    }
    case = builders.case_build(
        porteur=porteur,
        title=title,
        theme=theme,
        plan=plan,
        state="idea" if state in ("idea", "scoping") else "draft",
    )
    if state == "scoping":
        builders.transition(case, "start_scoping", actor=agent or f.agent())
    if state in ("idea", "scoping", "draft"):
        return case
    codes = builders.required_codes(*schemes)
    builders.case_documents_add(actor=porteur, case=case, codes=codes, content=PDF)
    builders.case_submit_on(case, porteur=porteur, receipt=day(60))
    if state == "submitted":
        return case
    builders.transition(case, "declare_complete", actor=agent or f.agent(), date=day(50))
    return case


def actions_in(html: str) -> dict[str, set[str]]:
    """The action buttons of a page: {subject: {transition, …}}."""
    found: dict[str, set[str]] = {}
    for name, subject in re.findall(
        r'<summary[^>]*data-transition="([^"]+)" data-subject="([^"]+)"', html
    ):
        found.setdefault(subject, set()).add(name)
    return found


def expected_actions(case, user) -> dict[str, set[str]]:
    out = {}
    names = set(available_transitions(case, user))
    if names:
        out[f"case-{case.pk}"] = names
    for fr in case.funding_requests.all():
        names = set(available_transitions(fr, user))
        if names:
            out[f"fundingrequest-{fr.pk}"] = names
        for claim in fr.claims.all():
            names = set(available_transitions(claim, user))
            if names:
                out[f"paymentclaim-{claim.pk}"] = names
    return out


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    return response, response.content.decode()


# ---------------------------------------------------------------- action buttons


def test_action_buttons_are_exactly_the_available_transitions(client):
    agent = f.agent(epci=commune_of_epci(0).epci)
    owner = org(0)
    porteur = f.porteur(owner)
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=owner.epci)
    director = f.UserFactory(role=User.Role.DIRECTOR)
    etat = f.funder_instructor("ETAT")
    region = f.funder_instructor("REGION_OCC")
    cases = {
        "idea": make_case(porteur, state="idea", agent=agent),
        "scoping": make_case(porteur, state="scoping", agent=agent),
        "draft": make_case(porteur, state="draft"),
        "submitted": make_case(porteur, state="submitted"),
        "instruction": make_case(
            porteur, schemes=("DETR", "REGION_OCC"), state="instruction", agent=agent
        ),
    }
    fr = cases["instruction"].funding_requests.get(scheme__code="DETR")
    transition_apply(instance=fr, name="start_instruction", actor=etat)
    seen_any = set()
    for state, case in cases.items():
        for user in (agent, partner, director, etat, region):
            response, html = page(client, user, f"/dossiers/{case.pk}/")
            if user.role == User.Role.FUNDER_INSTRUCTOR and not (
                case.funding_requests.filter(scheme__funder=user.funder).exists()
            ):
                assert response.status_code == 404  # no request of theirs
                continue
            assert response.status_code == 200, (state, user.role)
            case.refresh_from_db()
            expected = expected_actions(case, user)
            assert actions_in(html) == expected, (state, user.role)
            seen_any |= {n for names in expected.values() for n in names}
    # the walk covered the interesting buttons
    assert {"start_scoping", "open_application", "declare_complete", "request_documents"} <= (
        seen_any
    )
    assert {"grant", "refuse", "start_instruction", "withdraw"} <= seen_any
    # nobody but the agent sees a case action; the EPCI partner and the director none at all
    _, html = page(client, partner, f"/dossiers/{cases['submitted'].pk}/")
    assert actions_in(html) == {}
    _, html = page(client, director, f"/dossiers/{cases['submitted'].pk}/")
    assert actions_in(html) == {}
    _, html = page(client, agent, f"/dossiers/{cases['submitted'].pk}/")
    # revised rule 4 (ADR 009): the works may start from the deposit, at the porteur's risk
    assert actions_in(html)[f"case-{cases['submitted'].pk}"] == {
        "declare_complete",
        "request_documents",
        "start_works",
        "withdraw",
    }
    # the fields each action needs are there
    assert 'name="documents_other"' in html and 'type="date"' in html


# ---------------------------------------------------------------- performing actions


def test_declaring_complete_from_the_page_moves_the_dossier_and_closes_its_task(client):
    agent = f.agent(epci=commune_of_epci(0).epci)
    case = make_case(f.porteur(org(0)), state="submitted")
    assert case.referent_agent == agent
    task = Task.objects.get(flow_task_type="HUMAN", status__in=["NEW", "ASSIGNED"], owner=agent)
    client.force_login(agent)
    response = client.post(
        f"/dossiers/{case.pk}/transitions/declare_complete/",
        {"date": day(40), "comment": "Pièces vérifiées."},
    )
    assert response.status_code == 302 and response["Location"] == f"/dossiers/{case.pk}/"
    case.refresh_from_db()
    assert case.state == CaseState.INSTRUCTION
    assert case.complete_on == TODAY - dt.timedelta(days=40)
    task.refresh_from_db()
    assert task.status == STATUS.DONE  # completed through the task, not cancelled
    assert task.data["transition"] == "declare_complete"
    follow = client.get(response["Location"])
    assert "« Déclarer complet » : c&#x27;est enregistré." in follow.content.decode()


def test_refused_input_shows_the_french_message_keeps_the_input_and_changes_nothing(client):
    agent = f.agent(epci=commune_of_epci(0).epci)
    case = make_case(f.porteur(org(0)), state="submitted")
    client.force_login(agent)
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    response = client.post(
        f"/dossiers/{case.pk}/transitions/declare_complete/",
        {"date": future, "comment": "Mon commentaire tapé"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "La date de complétude ne peut pas être dans le futur." in html
    assert 'id="resume-erreurs"' in html and 'role="alert"' in html
    field_id = f"case-{case.pk}-declare_complete-date"
    assert f'href="#{field_id}"' in html  # the summary links to the field
    field = re.search(rf'<input type="date" id="{field_id}"[^>]*>', html).group(0)
    assert f'value="{future}"' in field and 'aria-invalid="true"' in field
    assert f"{field_id}-error" in field  # aria-describedby names the error
    assert "Mon commentaire tapé" in html
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and case.complete_on is None

    response = client.post(f"/dossiers/{case.pk}/transitions/request_documents/", {"date": ""})
    assert response.status_code == 400
    assert "Listez les pièces manquantes." in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED

    # a transition that is not available: a 409 with its French message, nothing changes
    # (start_works is available from the deposit since revised rule 4, ADR 009)
    response = client.post(f"/dossiers/{case.pk}/transitions/complete_works/", {"date": day(1)})
    assert response.status_code == 409
    assert "n&#x27;est pas possible depuis l&#x27;état « Déposé »" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED

    # the request for documents, with checked pieces and a free line, goes through
    response = client.post(
        f"/dossiers/{case.pk}/transitions/request_documents/",
        {"documents": ["Devis détaillé"], "documents_other": "Plan de masse\n", "date": day(30)},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.INCOMPLETE
    assert case.missing_documents == ["Devis détaillé", "Plan de masse"]


def test_withdraw_requires_a_reason_and_no_porteur_may_use_the_agent_pages(client):
    agent = f.agent()
    porteur = f.porteur(org(0))
    case = make_case(porteur, state="draft")
    client.force_login(agent)
    response = client.post(f"/dossiers/{case.pk}/transitions/withdraw/", {"reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif de l&#x27;abandon." in response.content.decode()
    client.force_login(porteur)
    assert (
        client.post(f"/dossiers/{case.pk}/transitions/withdraw/", {"reason": "x"}).status_code
        == 404
    )
    case.refresh_from_db()
    assert case.state == CaseState.DRAFT


# ---------------------------------------------------------------- notes, messages, opinions


def test_internal_notes_never_reach_the_porteur(client):
    agent = f.agent()
    porteur = f.porteur(org(0))
    case = make_case(porteur, state="submitted")
    client.force_login(agent)
    secret = "Note confidentielle : le maire hésite encore"
    assert client.post(f"/dossiers/{case.pk}/notes/", {"body": secret}).status_code == 302
    assert (
        client.post(f"/dossiers/{case.pk}/messages/", {"body": "Bonjour, merci."}).status_code
        == 302
    )
    assert Message.objects.get(case=case, internal=True).body == secret
    _, html = page(client, agent, f"/dossiers/{case.pk}/")
    assert secret in html and "Bonjour, merci." in html
    # an empty note: the French error, nothing stored
    response = client.post(f"/dossiers/{case.pk}/notes/", {"body": "  "})
    assert response.status_code == 400 and "obligatoire" in response.content.decode()
    assert Message.objects.filter(case=case).count() == 2

    client.force_login(porteur)
    assert client.get(f"/dossiers/{case.pk}/").status_code == 302  # to the porteur's own page
    for url in (
        "/mes-dossiers/",
        f"/mes-dossiers/{case.pk}/",
        f"/api/v1/cases/{case.pk}/",
        "/api/v1/cases/",
        "/api/v1/notifications/",
    ):
        response = client.get(url, follow=True)
        assert secret not in response.content.decode(), url
    # a porteur cannot post an internal note through the agent page either
    assert client.post(f"/dossiers/{case.pk}/notes/", {"body": "x"}).status_code == 404


def test_epci_partner_gives_an_opinion_but_has_no_action(client):
    owner = org(0)
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=owner.epci)
    case = make_case(f.porteur(owner), state="submitted")
    response, html = page(client, partner, f"/dossiers/{case.pk}/")
    assert response.status_code == 200
    assert actions_in(html) == {}
    assert f'action="/dossiers/{case.pk}/avis/"' in html
    assert '<option value="epci">' in html and 'value="transition"' not in html
    response = client.post(
        f"/dossiers/{case.pk}/avis/", {"kind": "epci", "value": "favourable", "text": "Utile."}
    )
    assert response.status_code == 302
    opinion = Opinion.objects.get(case=case)
    assert (opinion.kind, opinion.value, opinion.author) == ("epci", "favourable", partner)
    # trying a transition anyway: the engine's 403, in French, and nothing changes
    response = client.post(f"/dossiers/{case.pk}/transitions/declare_complete/", {})
    assert response.status_code == 403
    assert "Votre rôle ne permet pas la transition" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    # a partner of another EPCI does not see the dossier at all
    other = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=commune_of_epci(1).epci)
    response, _ = page(client, other, f"/dossiers/{case.pk}/")
    assert response.status_code == 404


def test_agent_gives_the_transition_opinion_and_records_the_share_exception(client):
    agent = f.agent()
    case = make_case(f.porteur(org(0)), state="idea", agent=agent)
    _, html = page(client, agent, f"/dossiers/{case.pk}/")
    assert 'value="opportunity"' in html and 'value="transition"' in html
    response = client.post(
        f"/dossiers/{case.pk}/avis/", {"kind": "opportunity", "value": "adjourned", "text": ""}
    )
    assert response.status_code == 302
    response = client.post(f"/dossiers/{case.pk}/avis/", {"kind": "opportunity", "value": "bof"})
    assert (
        response.status_code == 400 and "Sélectionnez un choix valide" in response.content.decode()
    )
    assert Opinion.objects.filter(case=case).count() == 1
    # revised rule 8: the exception names its legal case (issue 11)
    response = client.post(f"/dossiers/{case.pk}/derogation/", {"reason": "Monument classé."})
    assert response.status_code == 400
    response = client.post(
        f"/dossiers/{case.pk}/derogation/",
        {"reason": "Monument classé.", "legal_case": "patrimoine_protege"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.own_share_exception and case.own_share_exception_reason == "Monument classé."
    assert case.own_share_case.code == "patrimoine_protege"


# ---------------------------------------------------------------- visibility


def test_porteur_gets_404_on_another_organisation_and_is_redirected_on_its_own(client):
    mine = f.porteur(org(0))
    theirs = make_case(f.porteur(org(1)), state="submitted")
    own = make_case(mine, state="draft")
    client.force_login(mine)
    assert client.get(f"/dossiers/{theirs.pk}/").status_code == 404
    assert client.get("/dossiers/999999/").status_code == 404
    response = client.get(f"/dossiers/{own.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/mes-dossiers/{own.pk}/"
    for url in (
        f"/dossiers/{theirs.pk}/notes/",
        f"/dossiers/{theirs.pk}/messages/",
        f"/dossiers/{theirs.pk}/avis/",
        f"/dossiers/{theirs.pk}/transitions/withdraw/",
    ):
        assert client.post(url, {"body": "x", "reason": "x"}).status_code == 404
    assert client.get("/agent/").status_code == 302


# ---------------------------------------------------------------- inbox, queue and list


def test_inbox_queue_and_taking_a_task(client):
    owner = org(0)
    porteur = f.porteur(owner)
    idea = make_case(porteur, state="idea", title="Jardin partagé")  # no agent yet: queued
    assert idea.referent_agent is None
    agent = f.agent(epci=owner.epci)
    elsewhere = f.agent(epci=commune_of_epci(1).epci)
    response, html = page(client, agent, "/agent/")
    assert response.status_code == 200
    assert "File de mon EPCI" in html and "Étudier l&#x27;idée" in html
    task = Task.objects.get(owner__isnull=True, flow_task_type="HUMAN", status="NEW")
    assert f"/agent/taches/{task.pk}/prendre/" in html
    # an agent of another EPCI does not see it and cannot take it
    _, other_html = page(client, elsewhere, "/agent/")
    assert f"/agent/taches/{task.pk}/prendre/" not in other_html
    response = client.post(f"/agent/taches/{task.pk}/prendre/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.owner is None
    assert "dans la file d&#x27;un autre EPCI" in client.get("/agent/").content.decode()
    # the EPCI's agent takes it: it moves to « Mes tâches »
    client.force_login(agent)
    assert client.post(f"/agent/taches/{task.pk}/prendre/").status_code == 302
    task.refresh_from_db()
    assert task.owner == agent
    html = client.get("/agent/").content.decode()
    inbox = html[html.index("Mes tâches") : html.index("File de mon EPCI")]
    assert idea.title in inbox
    # and doing the dossier's action from its page completes the task
    response = client.post(f"/dossiers/{idea.pk}/transitions/start_scoping/", {})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == STATUS.DONE


def test_dossier_list_filters_and_read_only_roles(client):
    agent = f.agent()
    a, b = org(0), org(1)
    detr = make_case(f.porteur(a), state="submitted", title="Voirie du bourg", theme="Mobilité")
    region = make_case(
        f.porteur(b), schemes=("DETR", "REGION_OCC"), state="draft", title="Salle des fêtes"
    )
    Case.objects.filter(pk=region.pk).update(theme="Culture")
    late = make_case(f.porteur(a), state="submitted", title="Cantine scolaire")
    from engine.models import Deadline

    Deadline.objects.filter(aggregate_id=late.pk, state="open").update(
        due_on=TODAY - dt.timedelta(days=2)
    )
    client.force_login(agent)

    def listed(query=""):
        html = client.get("/agent/" + query).content.decode()
        html = html[html.index('id="h-dossiers"') :]
        return {c.title for c in (detr, region, late) if c.title in html}

    assert listed() == {detr.title, region.title, late.title}
    assert listed(f"?epci={a.epci.siren}") == {detr.title, late.title}
    assert listed("?scheme=REGION_OCC") == {region.title}
    assert listed("?theme=Mobilit%C3%A9") == {detr.title}
    assert listed("?state=draft") == {region.title}
    assert listed("?overdue=on") == {late.title}
    assert "En retard" in client.get("/agent/?overdue=on").content.decode()
    # bad filter values: a French message, never a 500
    response = client.get("/agent/?epci=abc&state=nope")
    assert (
        response.status_code == 200 and "Sélectionnez un choix valide" in response.content.decode()
    )
    # the EPCI partner sees its EPCI's dossiers, read only, and no task lists
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=a.epci)
    response, html = page(client, partner, "/agent/")
    assert response.status_code == 200 and "Mes tâches" not in html and "lecture" in html
    assert detr.title in html and region.title not in html
    director = f.UserFactory(role=User.Role.DIRECTOR)
    _, html = page(client, director, "/agent/")
    assert region.title in html and "prendre/" not in html


def test_pagination(client):
    agent = f.agent()
    porteur = f.porteur(org(0))
    for i in range(27):
        services.case_create(actor=porteur, data={"title": f"Projet numéro {i}"})
    client.force_login(agent)
    html = client.get("/agent/").content.decode()
    assert "page 1 sur 2" in html and "page=2" in html
    html = client.get("/agent/?page=2").content.decode()
    html = html[html.index('id="h-dossiers"') :]
    assert "Projet numéro 0<" in html and "Projet numéro 26<" not in html
    assert client.get("/agent/?page=zzz").status_code == 200


# ---------------------------------------------------------------- bounded queries


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _busy_dossier(porteur, agent, etat, region, n_messages):
    case = make_case(porteur, schemes=("DETR", "REGION_OCC"), state="instruction", agent=agent)
    for fr in case.funding_requests.select_related("scheme"):
        actor = etat if fr.scheme.code == "DETR" else region
        transition_apply(instance=fr, name="start_instruction", actor=actor)
    for i in range(n_messages):
        internal = i % 2 == 0
        files = () if internal else (builders.pdf_file(f"annexe-{i}.pdf", PDF),)
        services.message_post(
            actor=agent, case=case, body=f"note {i}", internal=internal, attachments=files
        )
        services.opinion_create(actor=agent, case=case, kind="transition", value="favourable")
        builders.document_add(actor=porteur, case=case, kind="other", label=f"Annexe {i}")
        expert_invite(
            actor=agent, case=case, name=f"Expert {i}", email=f"e{i}@example.org", question="?"
        )
    # one open correction per piece (at most one each): as many as the messages, up to all
    codes = [*builders.required_codes("DETR", "REGION_OCC"), "other"]
    for code in codes[:n_messages]:
        services.correction_request(
            actor=agent, case=case, kind="document", target=code, body=f"Corriger : {code}"
        )
    return case


def test_bounded_queries_on_inbox_and_dossier_page(client, django_assert_max_num_queries):
    agent = f.agent(epci=commune_of_epci(0).epci)
    etat, region = f.funder_instructor("ETAT"), f.funder_instructor("REGION_OCC")
    porteur = f.porteur(org(0))
    small = _busy_dossier(porteur, agent, etat, region, 1)
    client.force_login(agent)
    inbox_small = _count(client, "/agent/")
    page_small = _count(client, f"/dossiers/{small.pk}/")
    big = _busy_dossier(porteur, agent, etat, region, 12)
    for _ in range(3):
        _busy_dossier(porteur, agent, etat, region, 0)
    for i in range(7):
        make_case(porteur, state="submitted", title=f"Rénovation de l'école {i}")
    client.force_login(agent)
    assert _count(client, "/agent/") <= inbox_small + 2  # + the task lists once non-empty
    assert _count(client, f"/dossiers/{big.pk}/") <= page_small + 2
    # 28 on PostgreSQL: session, user, the dossier and its prefetches (communes, plan
    # lines, requests), the access log (3), then one read per block (claims, extensions,
    # recovery orders, pieces, corrections, opinions, experts, messages, attachments,
    # legal cases, deadlines, history, alerts, similar dossiers (3), tasks, unread count)
    with django_assert_max_num_queries(32):
        client.get(f"/dossiers/{big.pk}/")
    with django_assert_max_num_queries(25):
        client.get("/agent/")
    html = client.get(f"/dossiers/{big.pk}/").content.decode()
    assert "Dossiers proches" in html  # the similarly titled dossiers of the same theme
