"""The dossier's territory and liveness copied onto each of its funding requests (issue 14):
``FundingRequest.case_territory`` and ``FundingRequest.case_live``, so that the maquette
(its year choices, totals and pages), the scenarios and the envelopes' figures read one
territory's requests by index instead of joining every dossier of the table.

This module is the one place that writes them:

- a new request takes them from its dossier (``copy_on_save``, from ``FundingRequest.save``:
  no query when its dossier is loaded, as in the submission's effect that creates them);
  an existing request's ``save`` never writes them (an instance read before the dossier
  changed would write them back stale);
- a dossier's transition that changes its liveness updates its requests (``copy_hook``, a
  hook of the engine: one ``UPDATE … WHERE case_id = …``, none when the liveness stays);
- a dossier saved with another territory updates its requests (``_case_saved``: the
  territory is set once, on the dossier's creation, before it has requests; this keeps
  the copy true if it is ever changed);
- ``copies_fill`` copies them from the dossiers in one ``UPDATE`` (the migration, the
  bench's data set written with ``COPY``, and whatever writes a dossier's state by a raw
  ``UPDATE`` outside the engine: ``cases_copy_refresh``).

``case_live`` is the rule of a live dossier, for the maquette and for the copy.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.signals import post_init, post_save

from engine.transitions import TransitionContext, register_hook

from .models import CASE_TERMINAL, Case, FundingRequest

#: The copied fields (written on a request's creation, then only by this module).
COPY_FIELDS = frozenset({"case_territory", "case_live"})
_UNKNOWN = object()  # a dossier read without its territory


def case_live(state: str) -> bool:
    """The rule: a dossier is live — its live requests in the maquette and the scenarios —
    unless it is in a final state (closed, rejected, abandoned, lapsed)."""
    return state not in CASE_TERMINAL


def _dead_states(case_model) -> list[str]:
    return [s for s, _label in case_model._meta.get_field("state").choices if not case_live(s)]


# ---------------------------------------------------------------- a request's save

_saved_fields: list[str] | None = None


def copy_on_save(fr, kwargs: dict) -> dict:
    """Before ``FundingRequest.save``: a new request takes its dossier's territory and
    liveness; an existing one is saved without them (the other loaded fields, as Django
    saves them) unless the caller names them in ``update_fields``. Returns ``kwargs``."""
    global _saved_fields
    if fr._state.adding or fr.pk is None:
        if "case" in fr._state.fields_cache:
            territory, state = fr.case.territory_id, fr.case.state
        else:
            row = Case.objects.filter(pk=fr.case_id).values_list("territory_id", "state")
            territory, state = row.first() or (None, "")
        fr.case_territory_id = territory
        fr.case_live = case_live(state)
        return kwargs
    if kwargs.get("update_fields") is None:
        if _saved_fields is None:
            _saved_fields = [
                f.name
                for f in FundingRequest._meta.concrete_fields
                if not f.primary_key and f.name not in COPY_FIELDS
            ]
        deferred = fr.get_deferred_fields()
        kwargs["update_fields"] = [n for n in _saved_fields if n not in deferred]
    return kwargs


# ---------------------------------------------------------------- a dossier's transitions


def copy_hook(ctx: TransitionContext) -> None:
    """After every transition (the engine's hook): a dossier's transition that makes it
    live or final updates its requests' copy (no query otherwise)."""
    copy_hook_batch([ctx])


def copy_hook_batch(ctxs: list[TransitionContext]) -> None:
    """``copy_hook`` for the items of a wave: one ``UPDATE`` per liveness reached."""
    reached: dict[bool, list[int]] = {}
    for ctx in ctxs:
        if isinstance(ctx.instance, Case) and case_live(ctx.source) != case_live(ctx.target):
            reached.setdefault(case_live(ctx.target), []).append(ctx.instance.pk)
    for live, ids in reached.items():
        where = {"case_id": ids[0]} if len(ids) == 1 else {"case_id__in": ids}
        FundingRequest.objects.filter(**where).update(case_live=live)


# ---------------------------------------------------------------- a dossier's territory


def _case_loaded(sender, instance, **kwargs) -> None:
    instance._copied_territory = instance.__dict__.get("territory_id", _UNKNOWN)


def _case_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """A dossier saved with another territory than it was read with: its requests follow
    (no query otherwise; a dossier read without its territory: only the rows that differ)."""
    territory = instance.__dict__.get("territory_id", _UNKNOWN)
    before = getattr(instance, "_copied_territory", _UNKNOWN)
    instance._copied_territory = territory
    if created or raw or territory is _UNKNOWN or territory == before:
        return
    qs = FundingRequest.objects.filter(case_id=instance.pk)
    if before is _UNKNOWN:
        qs = qs.exclude(case_territory_id=territory)
    qs.update(case_territory_id=territory)


# ---------------------------------------------------------------- filling


def copies_fill(request_model, case_model, qs=None) -> int:
    """Copy each dossier's territory and liveness onto its requests (of ``qs``), in one
    ``UPDATE`` (the migration; the bench's data set written with ``COPY``)."""
    qs = request_model.objects.all() if qs is None else qs
    case = case_model.objects.filter(pk=OuterRef("case_id"))
    dead = case.filter(state__in=_dead_states(case_model))
    return qs.update(
        case_territory_id=Subquery(case.values("territory_id")[:1]), case_live=~Exists(dead)
    )


def cases_copy_refresh(case_ids) -> int:
    """The copy of these dossiers' requests, read again from the dossiers (after a raw
    ``UPDATE`` of a dossier's state or territory, outside the engine)."""
    qs = FundingRequest.objects.filter(case_id__in=list(case_ids))
    return copies_fill(FundingRequest, Case, qs)


def connect() -> None:
    register_hook(copy_hook, batch=copy_hook_batch)
    post_init.connect(_case_loaded, sender=Case, dispatch_uid="cases.request_copy.loaded")
    post_save.connect(_case_saved, sender=Case, dispatch_uid="cases.request_copy.saved")
