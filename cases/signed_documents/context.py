"""The figures of a granted request, as plain French strings (the same context fills the
DOCX and the HTML of the PDF), and the short signed token printed in the QR code."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import signing
from django.utils import timezone

from engine.errors import DomainError

from .. import rules
from ..models import REQUEST_GRANTED, FundingRequest
from ..services.plan import plan_summary

#: code → (French title, letter in the token, file name stem)
KINDS: dict[str, str] = {
    "convention": "Convention attributive",
    "notification": "Lettre de notification",
}
_LETTER = {"convention": "c", "notification": "n"}
_SALT = "guichet.signed-documents"
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "data" / "templates"


def template_path(kind: str, ext: str) -> Path:
    """The template of ``kind`` (``convention`` / ``notification``) with extension ``ext``
    (``docx`` / ``html``): the PETR's own in ``GUICHET_DOCUMENT_TEMPLATES_DIR`` when it
    holds one, else the default committed under ``cases/data/templates``."""
    own = getattr(settings, "GUICHET_DOCUMENT_TEMPLATES_DIR", "") or ""
    if own:
        path = Path(own) / f"{kind}.{ext}"
        if path.is_file():
            return path
    return DEFAULT_TEMPLATES / f"{kind}.{ext}"


def token_make(fr: FundingRequest, kind: str) -> str:
    """A short signed token naming the dossier, the request and the document: what the
    QR code carries (signed with ``SECRET_KEY``; no expiry, a copy may come back late)."""
    return signing.dumps([fr.case_id, fr.pk, _LETTER[kind]], salt=_SALT, compress=False)


def token_read(token: str) -> tuple[int, int, str]:
    """(case id, request id, kind) of a token, or a DomainError in French."""
    bad = DomainError(
        "Le code QR de ce document n'est pas un code du guichet (ou il a été altéré).",
        errors={"file": ["Code QR non reconnu."]},
    )
    try:
        case_id, request_id, letter = signing.loads(str(token)[:400], salt=_SALT)
        kind = {v: k for k, v in _LETTER.items()}[letter]
        return int(case_id), int(request_id), kind
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise bad from None


def grant_request(*, case, request_pk) -> FundingRequest:
    """The granted request ``request_pk`` of ``case`` (granted, committed, paying or paid),
    or a DomainError « not found »."""
    try:
        pk = int(request_pk)
    except (TypeError, ValueError):
        pk = 0
    fr = (
        FundingRequest.objects.select_related(
            "scheme__funder", "case__organisation", "case__territory"
        )
        .filter(case=case, pk=pk, state__in=REQUEST_GRANTED, amount_granted__isnull=False)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if fr is None:
        raise DomainError("Aucune aide accordée sur cette demande.", code="not_found")
    return fr


def _date(value) -> str:
    return f"{value:%d/%m/%Y}" if value else "—"


def grant_context(fr: FundingRequest, kind: str, *, signed: bool = False) -> dict:
    """Everything a template may print, as strings and lists of strings."""
    case = fr.case
    organisation = case.organisation
    summary = plan_summary(case)
    granted = fr.amount_granted or rules.ZERO
    rate = (
        rules.percent(rules.rate_of(granted, summary.total_eligible))
        if summary.total_eligible
        else "—"
    )
    return {
        "kind": kind,
        "kind_label": KINDS[kind],
        "reference": case.reference or str(case.pk),
        "title": case.title,
        "territory": case.territory.name if case.territory_id else "",
        "organisation": organisation.name,
        "organisation_siren": organisation.siren or "",
        "funder": fr.scheme.funder.name,
        "funder_siret": fr.scheme.funder.siret,
        "scheme": fr.scheme.name,
        "amount_requested": rules.euros(fr.amount_requested),
        "amount_granted": rules.euros(granted),
        "total_eligible": rules.euros(summary.total_eligible),
        "rate": rate,
        "granted_on": _date(fr.granted_on),
        "works_start": _date(case.planned_works_start or case.works_start_date),
        "works_end": _date(case.planned_works_end or case.works_end_date),
        "issued_on": _date(timezone.localdate()),
        "expenses": [
            {"label": e.label, "amount": rules.euros(e.amount), "tax": e.tax}
            for e in case.expenses.all()
        ],
        "resources": [
            {
                "label": r.label or (r.scheme.name if r.scheme_id else r.get_kind_display()),
                "amount": rules.euros(r.amount),
            }
            for r in case.resources.select_related("scheme")
        ],
        "token": token_make(fr, kind),
        "signature_note": (
            "Document signé électroniquement par le PETR (signature PAdES), vérifiable avec "
            "un lecteur PDF."
            if signed
            else "Document non signé électroniquement : aucun certificat de signature n'est "
            "configuré au guichet."
        ),
    }
