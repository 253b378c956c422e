"""Who may act on an item of a committee session, under the session's lock: the session
still open (a meeting from its day, a written consultation until its closing date), the
member present or consulted, the item on the agenda, and the seat a vote counts for (a
substitute for their absent titular; nobody who declared an interest). Used by the votes
(``cases.committee``) and the declarations (``cases.committee_declarations``)."""

from __future__ import annotations

from django.utils import timezone

from engine.errors import DomainError

from .models import CommitteeSession, CommitteeSubstitute, FundingRequest, SessionState, User


def session_locked(session_id) -> CommitteeSession:
    """The session, locked (the aggregate of its votes, declarations and agenda), still
    receiving votes and declarations, else a French 409."""
    session = CommitteeSession.objects.select_for_update().get(pk=session_id)
    if session.state != SessionState.PLANNED:
        raise DomainError("La séance est close.", code="unavailable")
    return session


def replies_open(session: CommitteeSession) -> None:
    """A meeting takes votes from its day on; a written consultation from its launch to
    its closing date included."""
    today = timezone.localdate()
    if today < session.date:
        raise DomainError(
            f"La séance du {session.date:%d/%m/%Y} n'a pas encore eu lieu : les votes "
            "s'enregistrent à partir de ce jour.",
            code="unavailable",
        )
    consultation_still_open(session, today)


def consultation_still_open(session: CommitteeSession, today=None) -> None:
    """After a written consultation's closing date nothing its outcome rests on changes:
    neither a reply nor a declaration of interest (which would withdraw replies)."""
    today = today or timezone.localdate()
    if session.written and today > session.closes_on:
        raise DomainError(
            f"La consultation écrite est close depuis le {session.closes_on:%d/%m/%Y} : "
            "les réponses ne sont plus reçues.",
            code="unavailable",
        )


def session_member(session, member_id):
    member = session.members.filter(pk=member_id).first() if member_id else None
    if member is None:
        what = "consulté" if session.written else "inscrit comme présent à la séance"
        raise DomainError(
            f"Ce membre n'est pas {what}.", errors={"member": ["Absent de la séance."]}
        )
    return member


def agenda_item(session, funding_request_id) -> FundingRequest:
    fr = session.agenda.filter(pk=funding_request_id).first() if funding_request_id else None
    if fr is None:
        raise DomainError(
            "Cette demande n'est pas à l'ordre du jour de la séance.",
            errors={"funding_request": ["Hors ordre du jour."]},
        )
    return fr


def seat_for_vote(session, member, fr) -> User | None:
    """The absent titular a substitute votes for (None: the member's own seat); refused
    when the member declared an interest, when the titular sits (meeting) or replied
    (written), or when the titular declared an interest in the item."""
    declared = set(
        session.declarations.filter(funding_request=fr).values_list("member_id", flat=True)
    )
    if member.pk in declared:
        raise DomainError(
            f"Un conflit d'intérêts est déclaré sur « {fr.case.title} » : ce membre ne prend "
            "pas part à ce point.",
            code="guard",
            errors={"member": ["Conflit d'intérêts déclaré."]},
        )
    link = CommitteeSubstitute.objects.filter(substitute=member).select_related("titular").first()
    if link is None:
        return None
    titular, name = link.titular, link.titular.get_full_name() or link.titular.username
    if titular.pk in declared:
        reason = f"{name}, titulaire, a déclaré un conflit d'intérêts sur ce point"
    elif not session.written and session.members.filter(pk=titular.pk).exists():
        reason = f"{name}, titulaire, siège à cette séance"
    elif session.written and session.votes.filter(funding_request=fr, member=titular).exists():
        reason = f"{name}, titulaire, a déjà répondu sur ce point"
    else:
        return titular
    raise DomainError(
        f"{reason} : son suppléant ne vote pas à sa place.",
        code="guard",
        errors={"member": ["Le titulaire siège."]},
    )
