"""State changes of imported dossiers sent back to Démarches Simplifiées.

A hook of the engine (``register_hook``: it runs in the transaction of every transition)
(``cases.ds.wiring``) writes a ``DsPush`` row when a dossier that came from DS enters instruction here
(``dossierPasserEnInstruction``) or when a funder's decision is recorded on its request
(``grant`` → ``dossierAccepter``, ``refuse`` → ``dossierRefuser`` with the refusal's
motivation). The row commits with the decision (nothing is sent for a decision rolled
back); once committed, a task sends it. A row is sent once (unique per dossier and action);
a failure is retried by the periodic pass until ``MAX_ATTEMPTS``, then kept as failed with
its reason for the administrator."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from engine.transitions import TransitionContext

from .. import rules
from ..models import Case, CaseState, DsImport, DsPush, FundingRequest
from . import client

log = logging.getLogger(__name__)
A = DsPush.Action
MAX_ATTEMPTS = 8
MUTATIONS = {
    A.INSTRUCTION: ("dossier_passer_en_instruction", "dossierPasserEnInstruction"),
    A.ACCEPT: ("dossier_accepter", "dossierAccepter"),
    A.REFUSE: ("dossier_refuser", "dossierRefuser"),
}
DECISIONS = (A.ACCEPT, A.REFUSE)


def _wanted(ctx: TransitionContext) -> tuple[int, str, str, int | None] | None:
    """(dossier id, action, motivation, scheme id) of a transition DS must hear of."""
    item = ctx.instance
    if isinstance(item, Case):
        if ctx.target == CaseState.INSTRUCTION and ctx.source != CaseState.INSTRUCTION:
            return item.pk, A.INSTRUCTION, "", None
        return None
    if not isinstance(item, FundingRequest) or ctx.name not in ("grant", "refuse"):
        return None
    if ctx.name == "refuse":
        return item.case_id, A.REFUSE, item.motivation, item.scheme_id
    said = (
        f"Aide de {rules.euros(item.amount_granted)} accordée au titre du dispositif "
        f"{item.scheme.code}"
    )
    if item.granted_on:
        said += f" (décision notifiée le {item.granted_on:%d/%m/%Y})"
    return item.case_id, A.ACCEPT, said + ".", item.scheme_id


def ds_transition_hook(ctx: TransitionContext) -> None:
    ds_transitions_hook([ctx])


def ds_transitions_hook(contexts: list[TransitionContext]) -> None:
    """The hook for the items of a wave (``engine.batch``): one query for all of them, and
    none when no transition of the wave is one DS must hear of."""
    wanted = [w for w in map(_wanted, contexts) if w is not None]
    if not wanted:
        return
    rows: dict[int, list[DsImport]] = {}
    found = DsImport.objects.filter(
        case_id__in={w[0] for w in wanted}, demarche__push_back=True
    ).select_related("demarche")
    for row in found:
        rows.setdefault(row.case_id, []).append(row)
    for case_id, action, motivation, scheme_id in wanted:
        for row in rows.get(case_id, []):
            _push_add(row, action, motivation, scheme_id)


def _push_add(row: DsImport, action: str, motivation: str, scheme_id: int | None) -> None:
    wanted_scheme = row.demarche.scheme_id
    if scheme_id is not None and wanted_scheme is not None and scheme_id != wanted_scheme:
        return
    push, created = DsPush.objects.get_or_create(
        ds_import=row, action=action, defaults={"motivation": motivation[:5000]}
    )
    if created:
        transaction.on_commit(lambda pk=push.pk: _send_later(pk), robust=True)


def _send_later(push_id: int) -> None:
    from ..tasks import ds_push_enqueue

    ds_push_enqueue(push_id)


# ---------------------------------------------------------------- sending


def _input(push: DsPush) -> dict:
    row = push.ds_import
    data = {"dossierId": row.ds_id, "instructeurId": row.demarche.instructeur_id}
    if push.action in DECISIONS:
        data["motivation"] = push.motivation or "Décision enregistrée dans Guichet."
    return data


def _mutate(push: DsPush) -> dict:
    query, field = MUTATIONS[push.action]
    data = client.graphql(
        token_env=push.ds_import.demarche.token_env, query=query, variables={"input": _input(push)}
    )
    payload = data.get(field) or {}
    errors = [str(e.get("message", ""))[:300] for e in payload.get("errors") or []]
    if errors:
        raise client.DsError("DS refuse : " + " ; ".join(errors), transient=False)
    return payload.get("dossier") or {}


def _skip_reason(push: DsPush) -> str:
    """Why a push has nothing to do on DS, or ''."""
    row = push.ds_import
    if push.action == A.INSTRUCTION and row.ds_state != "en_construction":
        return f"Dossier déjà « {row.ds_state} » sur DS."
    if push.action in DECISIONS:
        other = row.pushes.filter(action__in=DECISIONS, status=DsPush.Status.DONE)
        if other.exclude(pk=push.pk).exists():
            return "DS a déjà reçu la décision de ce dossier (une seule décision par dossier)."
    return ""


def _instruction_first(push: DsPush) -> None:
    """DS decides only a dossier in instruction: send that first if it was not."""
    if push.action not in DECISIONS or push.ds_import.ds_state != "en_construction":
        return
    first, _ = DsPush.objects.get_or_create(ds_import=push.ds_import, action=A.INSTRUCTION)
    if first.status != DsPush.Status.DONE:
        push_send(push_id=first.pk)
        first.refresh_from_db()
        if first.status != DsPush.Status.DONE:
            raise client.DsError(f"Passage en instruction sur DS non fait : {first.error}")


def push_send(*, push_id: int) -> DsPush:
    """Send one push (idempotent: a push done or skipped is not sent again)."""
    with transaction.atomic():
        push = (
            DsPush.objects.select_for_update().select_related("ds_import__demarche").get(pk=push_id)
        )
        if push.status in (DsPush.Status.DONE, DsPush.Status.SKIPPED):
            return push
        reason = _skip_reason(push)
        if reason:
            push.status, push.error = DsPush.Status.SKIPPED, reason
            push.save(update_fields=["status", "error"])
            return push
    push.attempts += 1
    try:
        _instruction_first(push)
        dossier = _mutate(push)
    except client.DsError as exc:
        push.error = exc.message
        gave_up = not exc.transient or push.attempts >= MAX_ATTEMPTS
        push.status = DsPush.Status.FAILED if gave_up else DsPush.Status.PENDING
        log.warning("DS push %s failed: %s", push.pk, exc.message)
    else:
        push.status, push.error, push.sent_at = DsPush.Status.DONE, "", timezone.now()
        if dossier.get("state"):
            DsImport.objects.filter(pk=push.ds_import_id).update(ds_state=dossier["state"])
    push.save(update_fields=["status", "error", "attempts", "sent_at"])
    return push


def pushes_retry() -> int:
    """The periodic pass: every push still pending (its task lost, or DS down) is sent."""
    ids = list(
        DsPush.objects.filter(status=DsPush.Status.PENDING).values_list("pk", flat=True)[:500]
    )
    for push_id in ids:
        push_send(push_id=push_id)
    return len(ids)
