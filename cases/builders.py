"""Builders: organisations, accounts and dossiers made as their users would make them.

One set, shared by the demo (``cases.demo``) and the tests (``tests/factories.py`` and the
test helpers). A dossier is created by its porteur through ``services.case_create``, its
documents uploaded through ``services.document_upload``, and every state change is the
engine's ``transition_apply`` with the event's date: no state is ever written by hand.

Plain functions with keyword arguments, no test library (factory-boy is a development
dependency; ``tests/factories.py`` wraps these functions).

The stages of a dossier's life, each a function that takes the dossier where the previous
one left it::

    case_build            idea / draft        (porteur)
    case_documents_add    required documents  (porteur)
    case_submit_on        submitted           (porteur, receipt date)
    case_complete_on      complete (agent), then requests_instruction_start
    request_grant_on      a request granted   (its funder's instructor)
    request_commit_on     its agreement signed
    claim_build / claim_file_on / claim_verify_on / claim_pay_on   a payment claim

and ``dossier(stage=…)`` chains them up to a given stage.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from engine.transitions import transition_apply
from schemes.models import Scheme

from . import services
from .models import Case, FundingRequest, Organisation, PaymentClaim, User

PDF = b"%PDF-1.4\n%guichet\n"

STAGES = ("idea", "draft", "submitted", "instruction", "granted", "committed")


# ---------------------------------------------------------------- reading back


def fresh(obj):
    """The row as the database has it now (a new instance of the same model)."""
    return type(obj)._default_manager.get(pk=obj.pk)


def transition(obj, name: str, *, actor, comment: str = "", **data):
    """``transition_apply`` on a fresh copy of ``obj`` (the engine refuses to act on a
    state read before another change), then ``obj`` read again: the caller's object shows
    the new state, as if the transition had been applied to it. Dates in ``data`` may be
    ``date`` objects."""
    data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
    transition_apply(instance=fresh(obj), name=name, actor=actor, comment=comment, data=data)
    obj.refresh_from_db()
    return obj


def _on(day) -> dict:
    return {} if day is None else {"date": day}


# ---------------------------------------------------------------- people


def organisation_build(
    *,
    name: str,
    kind: str = Organisation.Kind.COMMUNE,
    siren=None,
    commune=None,
    epci=None,
    **fields,
) -> Organisation:
    """An organisation; ``Organisation.save`` fills its EPCI and territory."""
    return Organisation.objects.create(
        name=name, kind=kind, siren=siren, commune=commune, epci=epci, **fields
    )


def user_build(
    *,
    username: str,
    role: str,
    password: str | None = None,
    password_hash: str | None = None,
    email: str | None = None,
    **fields,
) -> User:
    """An account of ``role``: a raw ``password`` is hashed, a ``password_hash`` stored
    as is (the demo hashes its one password once). ``User.save`` fills the territory."""
    user = User(username=username, role=role, email=email or "", **fields)
    if password_hash is not None:
        user.password = password_hash
    elif password is not None:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


# ---------------------------------------------------------------- plans and documents


def plan(total, *lines, expense_label: str = "Travaux", own_label: str | None = None) -> dict:
    """A financing plan: one expense line of ``total``, a resource line per
    ``(scheme code, amount)`` and the porteur's own funds for the rest."""
    total = Decimal(total)
    resources = [
        {"kind": "scheme", "scheme": code, "amount": f"{Decimal(amount):.2f}"}
        for code, amount in lines
    ]
    own = {"kind": "self", "amount": f"{total - sum(Decimal(a) for _, a in lines):.2f}"}
    if own_label is not None:
        own["label"] = own_label
    return {
        "expenses": [{"label": expense_label, "amount": f"{total:.2f}"}],
        "resources": [*resources, own],
    }


DETR_PLAN = plan(100000, ("DETR", 40000))


def pdf_file(name: str, content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def required_codes(*scheme_codes: str) -> list[str]:
    """The documents the schemes require, in the schemes' order, each once."""
    schemes = {s.code: s for s in Scheme.objects.filter(code__in=scheme_codes)}
    codes: list[str] = []
    for code in scheme_codes:
        for doc in schemes[code].required_document_codes():
            if doc not in codes:
                codes.append(doc)
    return codes


def case_required_codes(case: Case) -> list[str]:
    """The documents the schemes of a dossier's plan require, sorted."""
    codes = set()
    for res in case.resources.filter(kind="scheme").select_related("scheme"):
        codes.update(res.scheme.required_document_codes())
    return sorted(codes)


def document_add(*, actor, case: Case, kind: str, content: bytes = PDF, label: str = ""):
    return services.document_upload(
        actor=actor, case=case, kind=kind, label=label, upload=pdf_file(f"{kind}.pdf", content)
    )


def case_documents_add(*, actor, case: Case, codes=None, content: bytes = PDF) -> Case:
    """Uploads ``codes`` (default: every document the dossier's schemes require)."""
    for code in case_required_codes(case) if codes is None else codes:
        document_add(actor=actor, case=case, kind=code, content=content)
    return case


# ---------------------------------------------------------------- a dossier's stages


def case_build(*, porteur, title: str, plan: dict | None = None, state: str = "idea", **data):
    """A dossier created by its porteur, in ``idea`` or ``draft``, with its plan lines
    and funding requests; ``data`` adds ``description``, ``theme``, ``communes``…"""
    data = {"title": title, "state": state, **data}
    if plan is not None:
        data["financing_plan"] = plan
    return services.case_create(actor=porteur, data=data)


def case_submit_on(case: Case, *, porteur, receipt=None, comment: str = "") -> Case:
    return transition(case, "submit", actor=porteur, comment=comment, **_on(receipt))


def request_acknowledge_on(fr: FundingRequest, *, instructor, received=None) -> FundingRequest:
    """The funder's receipt of its request (revised rule 1), on ``received`` if given."""
    return transition(fr, "acknowledge", actor=instructor, **_on(received))


def requests_instruction_start(case: Case, *, instructor, started=None, received=None) -> Case:
    """Each funding request of the dossier put in instruction by ``instructor`` (a user,
    or a function of the request giving one), on ``started`` if given (default: the
    dossier's completeness). A funder's request not yet received is first acknowledged,
    on ``received`` if given (default: the dossier's receipt, the funder receiving it the
    day the desk does)."""
    for fr in case.funding_requests.select_related("scheme").order_by("id"):
        actor = instructor(fr) if callable(instructor) else instructor
        if fr.received_on is None:
            request_acknowledge_on(fr, instructor=actor, received=received or case.receipt_date)
        transition(fr, "start_instruction", actor=actor, **_on(started or case.complete_on))
    case.refresh_from_db()
    return case


def case_complete_on(case: Case, *, agent, complete=None, instructor=None) -> Case:
    """Declared complete by ``agent``; each request put in instruction by ``instructor``
    (default: the agent)."""
    transition(case, "declare_complete", actor=agent, **_on(complete))
    return requests_instruction_start(case, instructor=instructor or agent)


def request_grant_on(fr: FundingRequest, *, instructor, amount=None, granted=None, comment=""):
    amount = fr.amount_requested if amount is None else amount
    return transition(
        fr, "grant", actor=instructor, comment=comment, amount_granted=str(amount), **_on(granted)
    )


def request_commit_on(fr: FundingRequest, *, instructor, committed=None, comment: str = ""):
    return transition(fr, "commit", actor=instructor, comment=comment, **_on(committed))


def dossier(
    *,
    porteur,
    stage: str = "draft",
    plan: dict | None = None,
    title: str = "Rénovation de l'école",
    agent=None,
    instructor=None,
    receipt=None,
    complete=None,
    granted=None,
    committed=None,
    amount=None,
    content: bytes = PDF,
) -> Case:
    """A new dossier (default plan: 100,000 € of works, 40,000 € of DETR) brought to
    ``stage`` (one of ``STAGES``) through every stage before it. From ``draft`` on it has
    its required documents; from ``instruction`` on ``agent`` declares it complete and
    starts each request's instruction; ``granted`` and ``committed`` apply to every
    request, by ``instructor``."""
    index = STAGES.index(stage)
    plan = DETR_PLAN if plan is None else plan
    case = case_build(porteur=porteur, title=title, plan=plan, state=STAGES[min(index, 1)])
    if index >= 1:
        case_documents_add(actor=porteur, case=case, content=content)
    if index >= 2:
        case = case_submit_on(case, porteur=porteur, receipt=receipt)
    if index >= 3:
        case = case_complete_on(case, agent=agent, complete=complete)
    for fr in case.funding_requests.order_by("id") if index >= 4 else ():
        fr = request_grant_on(fr, instructor=instructor, amount=amount, granted=granted)
        if index >= 5:
            request_commit_on(fr, instructor=instructor, committed=committed)
    return fresh(case)


# ---------------------------------------------------------------- payment claims


def claim_build(*, porteur, funding_request, kind: str, amount, filed=None) -> PaymentClaim:
    data = {"kind": kind, "amount": str(amount)}
    if filed is not None:
        data["filed_on"] = filed.isoformat() if isinstance(filed, dt.date) else filed
    return services.claim_create(actor=porteur, funding_request=fresh(funding_request), data=data)


def claim_file_on(claim: PaymentClaim, *, porteur, filed=None) -> PaymentClaim:
    return transition(claim, "file", actor=porteur, **_on(filed))


def claim_verify_on(claim: PaymentClaim, *, instructor, verified=None, comment="") -> PaymentClaim:
    return transition(claim, "verify", actor=instructor, comment=comment, **_on(verified))


def claim_pay_on(claim: PaymentClaim, *, instructor, amount, paid=None, comment="") -> PaymentClaim:
    return transition(
        claim, "pay", actor=instructor, comment=comment, amount=str(amount), **_on(paid)
    )
