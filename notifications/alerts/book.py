"""The alert book: one live alert per (subject, kind), opened, updated or resolved."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.outbox import event_emit

from ..models import Alert
from .common import CHUNK, Finding, K

LIVE = [Alert.State.OPEN, Alert.State.ACKNOWLEDGED]
KINDS = list(K.values)


class AlertBook:
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

    def record(self, finding: Finding) -> None:
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

    def _create(self, finding: Finding, ct: ContentType) -> Alert | None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    kind=finding.kind,
                    severity=finding.severity,
                    state=Alert.State.OPEN,
                    subject_type=ct,
                    subject_id=finding.subject.pk,
                    organisation_id=finding.organisation_id,
                    territory_id=finding.territory_id,
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

    def _update(self, alert: Alert, finding: Finding) -> None:
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
        if alert.organisation_id != finding.organisation_id:
            fields["organisation_id"] = finding.organisation_id
        if alert.territory_id != finding.territory_id:
            fields["territory_id"] = finding.territory_id
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
            self.changed += alert_resolve(alert, self.now)


def alert_resolve(alert: Alert, now) -> int:
    """Resolve a live alert whose cause is gone (1), or nothing if it is no longer live."""
    with transaction.atomic():
        done = Alert.objects.filter(pk=alert.pk, state__in=LIVE).update(
            state=Alert.State.RESOLVED, resolved_at=now, updated_at=now
        )
        if done:
            alert.state, alert.resolved_at = Alert.State.RESOLVED, now
            _emit("alert.resolved", alert)
    return done


def _emit(topic: str, alert: Alert) -> None:
    event_emit(
        topic=topic,
        subject=alert,
        aggregate_id=alert.case_id,
        payload={"kind": alert.kind, "severity": alert.severity, "state": alert.state},
    )
