"""Applies the scheme definitions after each transition: deadlines opened, closed,
suspended and resumed. Registered with the engine; runs inside its transaction."""

from __future__ import annotations

import datetime as dt

from cases.models import Case, FundingRequest, PaymentClaim
from engine.calendar import period_end
from engine.deadlines import deadline_open, deadlines_close, deadlines_resume, deadlines_suspend
from engine.transitions import TransitionContext, register_hook, register_lock_related

from .definitions import COMMON, DEFINITIONS, Open, definition_for
from .flows import case_requests
from .legal_track import implicit_date_store, legal_track_after, live_deadline

UNDECIDED = {"requested", "instructing", "awaiting_committee", "selected", "adjourned"}
GRANTED = {"granted", "committed", "paying"}


def _event_date(ctx: TransitionContext) -> dt.date:
    value = ctx.data.get("date")
    return value if isinstance(value, dt.date) else ctx.today


def _case_and_requests(instance):
    if isinstance(instance, Case):
        return instance, None
    if isinstance(instance, FundingRequest):
        return instance.case, instance
    if isinstance(instance, PaymentClaim):
        return instance.funding_request.case, instance.funding_request
    return None, None


def _due(rule: Open, scheme, start: dt.date | None) -> dt.date | None:
    if rule.when and getattr(scheme, rule.when[0]) != rule.when[1]:
        return None
    if any(getattr(scheme, name) != value for name, value in rule.only) or start is None:
        return None
    if rule.until:
        return getattr(scheme, rule.until)
    if rule.months:
        months = getattr(scheme, rule.months)
        return None if months is None else period_end(start, months=months)
    days = getattr(scheme, rule.days)
    return None if days is None else period_end(start, days=days)


def _concerned(fr, kind: str, request) -> bool:
    if request is not None and fr.pk != request.pk:
        return False
    if kind == "completeness":
        return fr.state == "requested"
    return fr.state in (UNDECIDED if kind == "implicit_decision" else GRANTED)


def _rule_keys() -> frozenset[str]:
    """Every transition key some definition acts on: any other transition has nothing to
    plan (most of them)."""
    keys = {c.on for c in COMMON.clocks} | {c.on for c in COMMON.closes}
    for definition in (COMMON, *DEFINITIONS.values()):
        keys |= {rule.on for rule in definition.opens}
    return frozenset(keys)


RULE_KEYS = _rule_keys()
# keys of the scheme definitions' own rules: only those need each request's kind of flow
SCHEME_RULE_KEYS = frozenset(rule.on for d in DEFINITIONS.values() for rule in d.opens)


def _move_clocks(
    ctx: TransitionContext, key: str, case, start: dt.date, closes: list
) -> tuple[set[str], list]:
    """Stop or restart the clocks the transition names; the kinds restarted, and those of
    ``closes`` (the dossier's deadlines the transition meets) met by a restart's own
    statement (``deadlines_resume(meet=…)``)."""
    resumed: set[str] = set()
    met: list = []
    for clock in COMMON.clocks:
        if clock.on != key:
            continue
        subject = ctx.instance if clock.per == "self" else None
        if clock.stop:
            deadlines_suspend(aggregate_id=case.pk, kinds=clock.kinds, on=start, subject=subject)
            continue
        close = next((c for c in closes if c not in met), None)
        deadlines_resume(
            aggregate_id=case.pk,
            kinds=clock.kinds,
            on=start,
            subject=subject,
            resumed=resumed,
            meet=None if close is None else (case, close.kinds),
        )
        if close is not None:
            met.append(close)
    return resumed, met


def plan_deadlines(ctx: TransitionContext) -> None:
    key = f"{ctx.instance._meta.model_name}.{ctx.name}"
    if key not in RULE_KEYS:
        return
    case, request = _case_and_requests(ctx.instance)
    if case is None:
        return
    start = _event_date(ctx)

    def requests() -> list:
        """The dossier's funding requests with their schemes, read when needed (once per
        transition: the agent tasks' hook shares them)."""
        return case_requests(case, ctx)

    case_closes = [c for c in COMMON.closes if c.on == key and c.per == "case"]
    resumed, met = _move_clocks(ctx, key, case, start, case_closes)

    for close in COMMON.closes:
        if close.on != key or close in met:
            continue
        if close.per == "case":
            deadlines_close(subject=case, kinds=close.kinds)
        elif close.per == "self" and request is not None and ctx.instance is request:
            deadlines_close(subject=request, kinds=close.kinds)
        else:
            targets = [request] if request is not None else requests()
            for fr in targets:
                deadlines_close(subject=fr, kinds=close.kinds)

    for rule in COMMON.opens:
        if rule.on != key:
            continue
        if rule.per == "case":
            dues = [d for d in (_due(rule, fr.scheme, start) for fr in requests()) if d]
            if dues:
                deadline_open(
                    subject=case,
                    aggregate_id=case.pk,
                    kind=rule.kind,
                    due_on=min(dues),
                    party=rule.party,
                    expiry_transition=rule.expiry,
                )
        else:
            for fr in requests():
                if _concerned(fr, rule.kind, request):
                    _open_on_request(rule, fr, case, start, ctx.instance)
    legal_track_after(ctx, key, case, request, start, resumed)
    if key not in SCHEME_RULE_KEYS:
        return
    for fr in requests():
        for rule in definition_for(fr.scheme.flow_kind).opens:
            if rule.on == key and _concerned(fr, rule.kind, request):
                _open_on_request(rule, fr, case, start)
    if key in WORKS_DECISIONS and case.works_start_date:
        _works_already_started(request, case)


def _open_on_request(rule: Open, fr, case, start: dt.date, instance=None) -> None:
    if rule.start:
        start = getattr(fr, rule.start)
    due = _due(rule, fr.scheme, start)
    if not due or (rule.once and live_deadline(fr, rule.kind)):
        return
    deadline_open(
        subject=fr,
        aggregate_id=case.pk,
        kind=rule.kind,
        due_on=due,
        party=rule.party,
        expiry_transition=rule.expiry,
    )
    if rule.kind == "implicit_decision":  # stored on the request too (revised rule 3)
        implicit_date_store(fr, due, instance)


WORKS_DECISIONS = ("fundingrequest.grant", "fundingrequest.commit")


def _works_already_started(fr, case) -> None:
    """A request granted after the works started (revised rule 4): its start-of-works
    deadline is met at once, its completion counts from the declared start."""
    deadlines_close(subject=fr, kinds=("works_start",))
    for rule in definition_for(fr.scheme.flow_kind).opens:
        if rule.on == "case.start_works" and _concerned(fr, rule.kind, fr):
            if not live_deadline(fr, rule.kind):
                _open_on_request(rule, fr, case, case.works_start_date)


register_hook(plan_deadlines)
# A funding request's scheme (its periods, its kind of flow; its transitions' conditions
# read it too): read with the request's row when the engine locks it.
register_lock_related(FundingRequest, "scheme")
