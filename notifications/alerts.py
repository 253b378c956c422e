"""Payment delays and treasury risk: projections, receivables and the alerts they raise.

``alerts_evaluate`` is one idempotent pass (the sweep and Celery beat run it through
``notifications.wiring``): it streams the unpaid claims and the live grants once, opens or
updates at most one live alert per (subject, kind), raises a severity that got worse
(an acknowledged alert whose severity rises is open again) and resolves the alerts whose
cause is gone. Messages are in French and say what is late, since when, how much, the
projected payment date and what the porteur can do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Case as SqlCase
from django.db.models import Exists, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.lifecycle.payment_claim import lagging_cofinancers
from cases.models import (
    CLAIM_UNPAID,
    CaseState,
    ClaimState,
    FundingRequest,
    Organisation,
    PaymentClaim,
    RequestState,
    User,
)
from cases.payments import DelayBook, Projection, project_claim
from cases.permissions import roles_for
from cases.rules import ClaimRoom, claim_room, euros, money, percent
from engine.errors import DomainError
from engine.outbox import event_emit

from .models import Alert

K = Alert.Kind
S = Alert.Severity
LIVE = [Alert.State.OPEN, Alert.State.ACKNOWLEDGED]
KINDS = list(K.values)

GRACE_DAYS = 15  # payment_overdue opens after the expected delay + 15 days
FEADER_WAIT_DAYS = 30
DEFAULT_EUR_PER_INHABITANT = 150
CHUNK = 500

ZERO = Decimal("0.00")
# Claims that count as "claimed" (a draft is not claimed yet; rejected/withdrawn no more).
CLAIMED = [ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED, ClaimState.PAID]
LIVE_GRANTS = [RequestState.GRANTED, RequestState.COMMITTED, RequestState.PAYING]


def _fr(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# ---------------------------------------------------------------- receivables


@dataclass(frozen=True)
class ClaimReceivable:
    claim_id: int
    funding_request_id: int
    case_id: int
    reference: str
    scheme: str
    funder: str
    kind: str
    label: str  # « Acompte LEADER »
    amount: Decimal
    state: str
    projection: Projection

    def as_data(self) -> dict:
        return {
            "claim_id": self.claim_id,
            "case_id": self.case_id,
            "reference": self.reference,
            "scheme": self.scheme,
            "kind": self.kind,
            "amount": str(self.amount),
            "filed_on": self.projection.filed_on.isoformat(),
            "expected_delay": self.projection.expected_delay,
            "projected_date": self.projection.projected_on.isoformat(),
        }


@dataclass(frozen=True)
class BalanceReceivable:
    funding_request_id: int
    case_id: int
    reference: str
    scheme: str
    amount: Decimal
    expected_delay: int

    def as_data(self) -> dict:
        return {
            "funding_request_id": self.funding_request_id,
            "case_id": self.case_id,
            "reference": self.reference,
            "scheme": self.scheme,
            "amount": str(self.amount),
            "expected_delay": self.expected_delay,
        }


@dataclass
class Receivables:
    """What an organisation waits for: claims filed and unpaid, balances of completed works
    not yet claimed. ``advance_possible`` / ``installment_possible``: a live grant still
    allows an advance / an installment (for the options shown to the porteur)."""

    claims: list[ClaimReceivable] = field(default_factory=list)
    balances: list[BalanceReceivable] = field(default_factory=list)
    advance_possible: bool = False
    installment_possible: bool = False

    @property
    def claimed(self) -> Decimal:
        return sum((c.amount for c in self.claims), ZERO)

    @property
    def balances_due(self) -> Decimal:
        return sum((b.amount for b in self.balances), ZERO)

    @property
    def total(self) -> Decimal:
        return self.claimed + self.balances_due

    @property
    def last_projected(self) -> dt.date | None:
        return max((c.projection.projected_on for c in self.claims), default=None)


def _unpaid_claims() -> models.QuerySet[PaymentClaim]:
    return (
        PaymentClaim.objects.filter(state__in=CLAIM_UNPAID)
        .select_related(
            "funding_request__scheme__funder",
            "funding_request__case__organisation",
        )
        .order_by("pk")
    )


def _paid_or_claimed(kinds: list[str]):
    """Sum of a request's claims of these kinds: paid amount once paid, else the amount."""
    return Coalesce(
        Sum(
            SqlCase(
                When(claims__state=ClaimState.PAID, then="claims__paid_amount"),
                default="claims__amount",
            ),
            filter=Q(claims__kind__in=kinds, claims__state__in=CLAIMED),
        ),
        Value(ZERO),
    )


def _live_requests() -> models.QuerySet[FundingRequest]:
    """Live grants with the figures the alerts need, one row per request."""
    balance_claim = PaymentClaim.objects.filter(
        funding_request=OuterRef("pk"), kind=PaymentClaim.Kind.BALANCE, state__in=CLAIMED
    )
    return (
        FundingRequest.objects.filter(state__in=LIVE_GRANTS, amount_granted__gt=0)
        .select_related("scheme__funder", "case__organisation")
        .annotate(
            under_claim=Coalesce(
                Sum("claims__amount", filter=Q(claims__state__in=CLAIM_UNPAID)), Value(ZERO)
            ),
            advances=_paid_or_claimed([PaymentClaim.Kind.ADVANCE]),
            before_balance=_paid_or_claimed(
                [PaymentClaim.Kind.ADVANCE, PaymentClaim.Kind.INSTALLMENT]
            ),
            has_balance=Exists(balance_claim),
        )
        .order_by("pk")
    )


def _claim_receivable(claim: PaymentClaim, projection: Projection) -> ClaimReceivable:
    fr = claim.funding_request
    return ClaimReceivable(
        claim_id=claim.pk,
        funding_request_id=fr.pk,
        case_id=fr.case_id,
        reference=fr.case.reference or str(fr.case_id),
        scheme=fr.scheme.code,
        funder=fr.scheme.funder.name,
        kind=claim.kind,
        label=f"{claim.get_kind_display()} {fr.scheme.code}",
        amount=claim.amount,
        state=claim.state,
        projection=projection,
    )


@dataclass(frozen=True)
class _GrantFigures:
    room: ClaimRoom
    balance_due: Decimal  # completed works only, else 0


def _grant_figures(fr: FundingRequest) -> _GrantFigures:
    """What is left to claim on a live grant (``rules.claim_room``, the filing guard's
    rule), from the sums annotated by ``_live_requests``."""
    granted = fr.amount_granted or ZERO
    room = claim_room(
        granted=granted,
        advance_max_rate=None if fr.has_balance else fr.scheme.advance_max_rate,
        installments_max_rate=fr.scheme.installments_max_rate,
        claimed=fr.amount_paid + fr.under_claim,
        advances=fr.advances,
        before_balance=fr.before_balance,
    )
    balance_due = ZERO
    if fr.case.state == CaseState.COMPLETED:
        balance_due = max(granted - fr.amount_paid - fr.under_claim, ZERO)
    return _GrantFigures(room=room, balance_due=balance_due)


def _add_grant(rec: Receivables, fr: FundingRequest, figures: _GrantFigures, delays) -> None:
    if figures.balance_due > 0:
        rec.balances.append(
            BalanceReceivable(
                funding_request_id=fr.pk,
                case_id=fr.case_id,
                reference=fr.case.reference or str(fr.case_id),
                scheme=fr.scheme.code,
                amount=figures.balance_due,
                expected_delay=delays(fr.scheme),
            )
        )
    if fr.has_balance:
        return
    if figures.room.advance > 0:
        rec.advance_possible = True
    if figures.room.installments > 0:
        rec.installment_possible = True


def receivables(organisation: Organisation, *, today: dt.date | None = None) -> Receivables:
    """An organisation's receivables: granted amounts claimed and unpaid, plus the balances
    due on completed works (granted − paid − amounts under claim)."""
    today = _today(today)
    delays = DelayBook(today)
    rec = Receivables()
    claims = _unpaid_claims().filter(funding_request__case__organisation_id=organisation.pk)
    for claim in claims.iterator(chunk_size=CHUNK):
        rec.claims.append(
            _claim_receivable(
                claim, project_claim(claim, today, delays(claim.funding_request.scheme))
            )
        )
    requests = _live_requests().filter(case__organisation_id=organisation.pk)
    for fr in requests.iterator(chunk_size=CHUNK):
        _add_grant(rec, fr, _grant_figures(fr), delays)
    return rec


# ---------------------------------------------------------------- options (« pistes »)


def _options(
    *,
    funder: str | None = None,
    relaunch: str | None = None,
    advance: bool = False,
    installment: bool = False,
    balance: bool = False,
    bridging: bool = True,
) -> str:
    items = []
    if funder:
        items.append(f"relancer le financeur — {funder} — sur ce paiement")
    if relaunch:
        items.append(relaunch)
    if advance:
        items.append("demander une avance sur les aides accordées")
    if installment:
        items.append("déposer un acompte sur les dépenses déjà payées")
    if balance:
        items.append("déposer la demande de solde dès l'achèvement déclaré")
    if bridging:
        items.append("ouvrir une ligne de trésorerie ou un prêt relais en attendant le versement")
    return "Pistes : " + " ; ".join(items) + "."


# ---------------------------------------------------------------- severities


def overdue_severity(days: int, expected: int) -> int | None:
    """None while the claim is within its expected delay + 15 days."""
    if days <= expected + GRACE_DAYS:
        return None
    if days >= 2 * expected:
        return S.CRITICAL
    if 2 * days >= 3 * expected:
        return S.WARNING
    return S.INFO


def ratio_severity(ratio: Decimal) -> int:
    if ratio >= 2:
        return S.CRITICAL
    if ratio >= Decimal("1.5"):
        return S.WARNING
    return S.INFO


def _days_severity(days: int, *, warning: int, critical: int) -> int:
    if days >= critical:
        return S.CRITICAL
    if days >= warning:
        return S.WARNING
    return S.INFO


# ---------------------------------------------------------------- the alert book


@dataclass(frozen=True)
class _Finding:
    kind: str
    subject: models.Model
    organisation_id: int
    case_id: int | None
    severity: int
    message: str
    data: dict


class _AlertBook:
    """Upserts live alerts (one per subject and kind), then resolves those not found again."""

    def __init__(self):
        self.now = timezone.now()
        self.changed = 0
        self._ct: dict[type, ContentType] = {}
        self._live: dict[tuple[str, int, int], Alert] = {}
        self._seen: set[tuple[str, int, int]] = set()
        for alert in Alert.objects.filter(state__in=LIVE, kind__in=KINDS).iterator(
            chunk_size=CHUNK
        ):
            self._live[(alert.kind, alert.subject_type_id, alert.subject_id)] = alert

    def _content_type(self, model: type) -> ContentType:
        if model not in self._ct:
            self._ct[model] = ContentType.objects.get_for_model(model)
        return self._ct[model]

    def record(self, finding: _Finding) -> None:
        ct = self._content_type(type(finding.subject))
        key = (finding.kind, ct.pk, finding.subject.pk)
        self._seen.add(key)
        alert = self._live.get(key)
        if alert is None:
            alert = self._create(finding, ct)
            if alert is None:  # opened by a concurrent pass: update that one
                alert = Alert.objects.filter(
                    kind=finding.kind,
                    subject_type=ct,
                    subject_id=finding.subject.pk,
                    state__in=LIVE,
                ).first()
                if alert is None:
                    return
            else:
                self._live[key] = alert
                self.changed += 1
                return
        self._update(alert, finding)

    def _create(self, finding: _Finding, ct: ContentType) -> Alert | None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    kind=finding.kind,
                    severity=finding.severity,
                    state=Alert.State.OPEN,
                    subject_type=ct,
                    subject_id=finding.subject.pk,
                    organisation_id=finding.organisation_id,
                    case_id=finding.case_id,
                    message=finding.message,
                    data=finding.data,
                    created_at=self.now,
                    updated_at=self.now,
                )
                _emit("alert.opened", alert)
        except IntegrityError:
            return None
        return alert

    def _update(self, alert: Alert, finding: _Finding) -> None:
        raised = finding.severity > alert.severity
        fields = {}
        if raised:
            fields["severity"] = finding.severity
            if alert.state == Alert.State.ACKNOWLEDGED:
                fields.update(state=Alert.State.OPEN, acknowledged_by=None, acknowledged_at=None)
        if alert.message != finding.message:
            fields["message"] = finding.message
        if alert.data != finding.data:
            fields["data"] = finding.data
        if alert.case_id != finding.case_id:
            fields["case_id"] = finding.case_id
        if not fields:
            return
        fields["updated_at"] = self.now
        with transaction.atomic():
            done = Alert.objects.filter(pk=alert.pk, state__in=LIVE).update(**fields)
            if done:
                for name, value in fields.items():
                    setattr(alert, name, value)
                if raised:
                    _emit("alert.raised", alert)
        self.changed += done

    def resolve_the_rest(self) -> None:
        for key, alert in self._live.items():
            if key in self._seen:
                continue
            with transaction.atomic():
                done = Alert.objects.filter(pk=alert.pk, state__in=LIVE).update(
                    state=Alert.State.RESOLVED, resolved_at=self.now, updated_at=self.now
                )
                if done:
                    alert.state, alert.resolved_at = Alert.State.RESOLVED, self.now
                    _emit("alert.resolved", alert)
            self.changed += done


def _emit(topic: str, alert: Alert) -> None:
    event_emit(
        topic=topic,
        subject=alert,
        aggregate_id=alert.case_id,
        payload={"kind": alert.kind, "severity": alert.severity, "state": alert.state},
    )


# ---------------------------------------------------------------- findings


def _payment_overdue(
    item: ClaimReceivable, claim: PaymentClaim, today: dt.date, room
) -> _Finding | None:
    p = item.projection
    severity = overdue_severity(p.days_waiting, p.expected_delay)
    if severity is None:
        return None
    waiting = ""
    if claim.state == ClaimState.AWAITING_COFINANCERS:
        waiting = " La demande attend le versement des cofinanceurs nationaux."
    message = (
        f"{item.label} de {euros(item.amount)} (dossier {item.reference}) déposé le "
        f"{_fr(p.filed_on)}, impayé depuis {p.days_waiting} jours (délai attendu : "
        f"{p.expected_delay} jours, échéance du {_fr(p.expected_on)}).{waiting} "
        f"{p.sentence()} " + _options(funder=item.funder, advance=room[0], installment=room[1])
    )
    data = item.as_data() | {
        "days": p.days_waiting,
        "expected_on": p.expected_on.isoformat(),
        "overdue_since": (p.expected_on + dt.timedelta(days=GRACE_DAYS)).isoformat(),
        "expected_passed": p.expected_passed,
    }
    return _Finding(K.PAYMENT_OVERDUE, claim, _org_id(claim), item.case_id, severity, message, data)


def _feader_blocked(item: ClaimReceivable, claim: PaymentClaim, today: dt.date) -> _Finding | None:
    fr = claim.funding_request
    if not fr.scheme.is_feader or claim.state != ClaimState.AWAITING_COFINANCERS:
        return None
    since = claim.awaiting_since or claim.verified_on or item.projection.filed_on
    days = (today - since).days
    if days <= FEADER_WAIT_DAYS:
        return None
    lagging = _lagging_cofinancers(claim)
    who = ", ".join(f"{code} ({name})" for code, name in lagging) or "les cofinanceurs nationaux"
    funders = sorted({name for _code, name in lagging})
    message = (
        f"Part FEADER bloquée : {item.label.lower()} de {euros(item.amount)} (dossier "
        f"{item.reference}) contrôlé et en attente depuis le {_fr(since)}, soit {days} jours, "
        f"du versement de {who}. Le FEADER ne peut être payé qu'après la même part de "
        f"chaque cofinancement national. {item.projection.sentence()} "
        + _options(
            relaunch="relancer "
            + (", ".join(funders) if funders else "les cofinanceurs nationaux")
            + " pour le versement de sa part",
        )
    )
    data = item.as_data() | {
        "days": days,
        "awaiting_since": since.isoformat(),
        "cofinancers": [code for code, _name in lagging],
    }
    severity = _days_severity(days, warning=2 * FEADER_WAIT_DAYS, critical=3 * FEADER_WAIT_DAYS)
    return _Finding(K.FEADER_BLOCKED, claim, _org_id(claim), item.case_id, severity, message, data)


def _lagging_cofinancers(claim: PaymentClaim) -> list[tuple[str, str]]:
    """(scheme code, funder) of the co-financers FEADER waits for (the guard's rule)."""
    return [
        (other.scheme.code, other.scheme.funder.name)
        for other in lagging_cofinancers(claim, claim.amount)
    ]


def _late_forecast(
    item: ClaimReceivable, claim: PaymentClaim, organisation, room
) -> _Finding | None:
    needed_by = organisation.money_needed_by
    if needed_by is None or item.projection.projected_on <= needed_by:
        return None
    p = item.projection
    late = (p.projected_on - needed_by).days
    message = (
        f"{item.label} de {euros(item.amount)} (dossier {item.reference}) déposé le "
        f"{_fr(p.filed_on)} : paiement projeté le {_fr(p.projected_on)}, {late} jours après "
        f"la date à laquelle {organisation.name} a besoin des fonds ({_fr(needed_by)}) "
        f"(délai attendu : {p.expected_delay} jours). "
        + _options(funder=item.funder, advance=room[0], installment=room[1])
    )
    data = item.as_data() | {
        "days": p.days_waiting,
        "money_needed_by": needed_by.isoformat(),
        "days_late": late,
    }
    severity = _days_severity(late, warning=30, critical=90)
    return _Finding(K.LATE_FORECAST, claim, organisation.pk, item.case_id, severity, message, data)


def _installment_ceiling(fr: FundingRequest, figures: _GrantFigures) -> _Finding | None:
    if fr.has_balance or fr.state not in (RequestState.COMMITTED, RequestState.PAYING):
        return None
    if (
        figures.room.before_balance_cap <= 0
        or figures.room.before_balance < figures.room.before_balance_cap
    ):
        return None
    granted = fr.amount_granted
    rest = max(granted - figures.room.before_balance, ZERO)
    completed = fr.case.state == CaseState.COMPLETED
    reference = fr.case.reference or str(fr.case_id)
    message = (
        f"Plafond des acomptes atteint sur l'aide {fr.scheme.code} du dossier {reference} : "
        f"avance et acomptes demandés {euros(figures.room.before_balance)}, soit "
        f"{percent(fr.scheme.installments_max_rate)} de l'aide accordée de {euros(granted)}. "
        f"Le reste ({euros(rest)}) ne sera versé qu'au solde, après l'achèvement de "
        f"l'opération{' (déclaré)' if completed else ''}. " + _options(balance=True)
    )
    data = {
        "funding_request_id": fr.pk,
        "case_id": fr.case_id,
        "reference": reference,
        "scheme": fr.scheme.code,
        "amount": str(figures.room.before_balance),
        "granted": str(granted),
        "ceiling": str(figures.room.before_balance_cap),
        "rate": str(fr.scheme.installments_max_rate),
        "remaining": str(rest),
    }
    severity = S.WARNING if completed else S.INFO
    return _Finding(
        K.INSTALLMENT_CEILING,
        fr,
        fr.case.organisation_id,
        fr.case_id,
        severity,
        message,
        data,
    )


def _treasury_risk(organisation: Organisation, rec: Receivables) -> _Finding | None:
    total = rec.total
    if total <= 0:
        return None
    per_inhabitant = Decimal(
        str(getattr(settings, "GUICHET_TREASURY_EUR_PER_INHABITANT", DEFAULT_EUR_PER_INHABITANT))
    )
    thresholds = []  # (ratio, French sentence)
    population = None
    if organisation.kind == Organisation.Kind.COMMUNE and organisation.commune_id:
        population = organisation.commune.population
        if population:
            limit = money(per_inhabitant * population)
            if limit > 0:
                thresholds.append(
                    (
                        total / limit,
                        f"{euros(total / population)} par habitant ({population} habitants), "
                        f"au-delà du seuil de {euros(per_inhabitant)} par habitant "
                        f"({euros(limit)})",
                    )
                )
    if organisation.cash_limit is not None and organisation.cash_limit > 0:
        thresholds.append(
            (
                total / organisation.cash_limit,
                f"au-delà du seuil de trésorerie déclaré de {euros(organisation.cash_limit)}",
            )
        )
    exceeded = [(r, text) for r, text in thresholds if r > 1]
    if not exceeded:
        return None
    funders = ", ".join(sorted({c.funder for c in rec.claims}))
    parts = ", ".join(
        text
        for amount, text in (
            (rec.claimed, f"{euros(rec.claimed)} demandés et impayés"),
            (rec.balances_due, f"{euros(rec.balances_due)} de soldes dus sur travaux achevés"),
        )
        if amount > 0
    )
    ratio = max(r for r, _t in exceeded)
    lines = [
        f"{c.label} de {euros(c.amount)} déposé le {_fr(c.projection.filed_on)} "
        f"(dossier {c.reference}), paiement projeté le {_fr(c.projection.projected_on)}"
        + (" (date attendue dépassée)" if c.projection.expected_passed else "")
        for c in sorted(rec.claims, key=lambda c: (c.projection.projected_on, c.claim_id))
    ]
    lines += [
        f"solde {b.scheme} de {euros(b.amount)} à demander (dossier {b.reference}, travaux "
        f"achevés, versement environ {b.expected_delay} jours après la demande)"
        for b in rec.balances
    ]
    message = (
        f"Risque de trésorerie pour {organisation.name} : {euros(total)} de subventions "
        f"attendues ({parts}), " + " ; ".join(text for _r, text in exceeded) + ". "
        "Détail : "
        + " ; ".join(lines)
        + ". "
        + _options(
            relaunch=(
                f"relancer les financeurs — {funders} — sur les paiements attendus"
                if rec.claims
                else None
            ),
            advance=rec.advance_possible,
            installment=rec.installment_possible,
            balance=bool(rec.balances),
        )
    )
    last = rec.last_projected
    first_filed = min((c.projection.filed_on for c in rec.claims), default=None)
    data = {
        "amount": str(money(total)),
        "claimed": str(money(rec.claimed)),
        "balances_due": str(money(rec.balances_due)),
        "population": population,
        "eur_per_inhabitant": str(per_inhabitant),
        "cash_limit": None if organisation.cash_limit is None else str(organisation.cash_limit),
        "ratio": str(ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "filed_on": first_filed.isoformat() if first_filed else None,
        "projected_date": last.isoformat() if last else None,
        "claims": [c.as_data() for c in rec.claims],
        "balances": [b.as_data() for b in rec.balances],
    }
    return _Finding(
        K.TREASURY_RISK, organisation, organisation.pk, None, ratio_severity(ratio), message, data
    )


def _org_id(claim: PaymentClaim) -> int:
    return claim.funding_request.case.organisation_id


# ---------------------------------------------------------------- the pass


def alerts_evaluate(*, today: dt.date | None = None) -> int:
    """One idempotent pass over payment delays and treasury risk.

    Returns the number of alerts opened, updated or resolved (0 when nothing changed)."""
    today = _today(today)
    delays = DelayBook(today)
    book = _AlertBook()
    by_org: dict[int, Receivables] = defaultdict(Receivables)
    room: dict[int, tuple[bool, bool]] = {}  # funding request → (advance, installment) possible

    for fr in _live_requests().iterator(chunk_size=CHUNK):
        figures = _grant_figures(fr)
        _add_grant(by_org[fr.case.organisation_id], fr, figures, delays)
        room[fr.pk] = (
            not fr.has_balance and figures.room.advance > 0,
            not fr.has_balance and figures.room.installments > 0,
        )
        finding = _installment_ceiling(fr, figures)
        if finding:
            book.record(finding)

    organisations: dict[int, Organisation] = {}
    for claim in _unpaid_claims().iterator(chunk_size=CHUNK):
        fr = claim.funding_request
        organisation = fr.case.organisation
        organisations.setdefault(organisation.pk, organisation)
        item = _claim_receivable(claim, project_claim(claim, today, delays(fr.scheme)))
        by_org[organisation.pk].claims.append(item)
        claim_room = room.get(fr.pk, (False, False))
        for finding in (
            _payment_overdue(item, claim, today, claim_room),
            _feader_blocked(item, claim, today),
            _late_forecast(item, claim, organisation, claim_room),
        ):
            if finding:
                book.record(finding)

    ids = [pk for pk, rec in by_org.items() if rec.total > 0]
    for start in range(0, len(ids), CHUNK):
        chunk = Organisation.objects.filter(pk__in=ids[start : start + CHUNK]).select_related(
            "commune"
        )
        for organisation in chunk:
            finding = _treasury_risk(organisation, by_org[organisation.pk])
            if finding:
                book.record(finding)

    book.resolve_the_rest()
    return book.changed


# ---------------------------------------------------------------- acknowledgement

ACKNOWLEDGING_ROLES = roles_for("alert_acknowledge")


def alert_acknowledge(*, actor, alert: Alert) -> Alert:
    """The actor has seen the alert: it stays live (and reopens if it gets worse)."""
    from .alert_selectors import alert_list

    role = actor.effective_role
    if not alert_list(user=actor).filter(pk=alert.pk).exists():
        raise DomainError("Alerte introuvable.", code="not_found")
    allowed = role in ACKNOWLEDGING_ROLES or (
        role == User.Role.PORTEUR
        and actor.organisation_id is not None
        and actor.organisation_id == alert.organisation_id
    )
    if not allowed:
        raise DomainError(
            "Votre rôle ne permet pas de prendre en compte cette alerte.", code="forbidden"
        )
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state == Alert.State.RESOLVED:
            raise DomainError("Cette alerte est déjà résolue.", code="unavailable")
        if locked.state == Alert.State.OPEN:
            now = timezone.now()
            locked.state = Alert.State.ACKNOWLEDGED
            locked.acknowledged_by = actor
            locked.acknowledged_at = now
            locked.updated_at = now
            locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "updated_at"])
            event_emit(
                topic="alert.acknowledged",
                subject=locked,
                aggregate_id=locked.case_id,
                actor_id=actor.pk,
                payload={"kind": locked.kind, "severity": locked.severity},
            )
    return locked
