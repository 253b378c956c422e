"""The e-mail of an outside expert's invitation: the one-time link goes out once, by mail,
after the invitation is committed; it is kept nowhere else."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from cases.services.experts import expert_invite

from .channels import send_email


def expert_invite_and_mail(*, actor, case, name, email, question):
    """Invite the expert (``cases.services.experts.expert_invite``) and mail the link when
    the transaction commits. Returns the invitation."""
    with transaction.atomic():
        invitation, token = expert_invite(
            actor=actor, case=case, name=name, email=email, question=question
        )
        context = {
            "invitation": invitation,
            "case": case,
            "path": reverse("web:expert-opinion", args=[token]),
            "agent": actor.get_full_name() or actor.username,
        }
        transaction.on_commit(
            lambda: send_email(
                to=[invitation.email],
                subject=f"Avis demandé sur le dossier {case.reference or case.title}",
                template="expert_invitation",
                context=context,
                message_id=f"expert-{invitation.pk}",
            )
        )
    return invitation
