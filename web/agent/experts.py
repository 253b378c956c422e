"""Outside experts on the agent's dossier page: the invitations with their answers, the
form that invites one (the e-mail with the one-time link goes through
``notifications.experts``), and their lines in the dossier's history."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import expert_selectors
from cases.models import Case
from cases.permissions import allowed
from cases.services.experts import link_refusal
from notifications.experts import expert_invite_and_mail


class ExpertInviteForm(forms.Form):
    name = forms.CharField(label="Nom de l'expert", max_length=200)
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="Le lien personnel, utilisable une fois pendant 30 jours, y est envoyé.",
        error_messages={"invalid": "Adresse électronique invalide (ex. prenom.nom@exemple.fr)."},
    )
    question = forms.CharField(
        label="Question posée à l'expert",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )


def _status(invitation, now) -> str:
    if invitation.answered_at:
        return "answered"
    return "expired" if link_refusal(invitation, now) else "pending"


def experts_context(user, case: Case, submitted: dict) -> dict:
    """The page's block: every invitation of the dossier, and the form for who may invite."""
    from .case_page import simple_form  # the page imports this module

    now = timezone.now()
    invitations = [
        {"invitation": i, "status": _status(i, now)}
        for i in expert_selectors.case_invitations(case)
    ]
    form = None
    if allowed(user, "expert_invite") and not case.is_terminal:
        form = simple_form(ExpertInviteForm, "expert", submitted)
    return {"expert_invitations": invitations, "expert_form": form}


def expert_history(case: Case) -> list[dict]:
    """The dossier's history lines of its experts: invited, and answered."""
    rows = []
    for i in expert_selectors.case_invitations(case):
        who = i.invited_by.get_full_name() or i.invited_by.username
        rows.append(
            {
                "at": i.invited_at,
                "comment": i.question,
                "subject": "Dossier",
                "label": f"Avis demandé à un expert extérieur ({i.name})",
                "by": who,
            }
        )
        if i.answered_at:
            value = f" : {i.get_answer_value_display().lower()}" if i.answer_value else ""
            rows.append(
                {
                    "at": i.answered_at,
                    "comment": i.answer,
                    "subject": "Dossier",
                    "label": f"Avis de l'expert extérieur reçu{value}",
                    "by": f"{i.name} (expert extérieur)",
                }
            )
    return rows


def merged_history(rows: list[dict], extra: list[dict]) -> list[dict]:
    """``rows`` in their recorded order, each of ``extra`` (sorted by time) placed before
    the first row that happened after it."""
    out, extra = [], sorted(extra, key=lambda r: r["at"])
    for row in rows:
        while extra and row.get("at") and extra[0]["at"] < row["at"]:
            out.append(extra.pop(0))
        out.append(row)
    return out + extra


@login_required
@require_POST
def case_expert_invite(request, pk: int):
    from .actions import _simple_post  # the page's way of showing a refusal

    def action(case, d):
        invitation = expert_invite_and_mail(
            actor=request.user,
            case=case,
            name=d["name"],
            email=d["email"],
            question=d["question"],
        )
        return (
            f"Invitation envoyée à {invitation.name} ({invitation.email}) : le lien vaut "
            f"jusqu'au {timezone.localtime(invitation.expires_at):%d/%m/%Y}, pour un seul avis."
        )

    return _simple_post(request, pk, "expert", ExpertInviteForm, action)
