"""What hangs on a dossier besides its plan: documents, opinions, messages and notes."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from engine.errors import DomainError
from engine.outbox import event_emit
from schemes.models import Scheme

from .. import rules
from ..models import Case, CorrectionTarget, Document, Message, MessageAttachment, Opinion
from ..permissions import require
from ..uploads import safe_filename, sniff
from .common import R, clean_text
from .corrections import corrections_resolve

MAX_ATTACHMENTS = 5  # files per message; each within GUICHET_MAX_UPLOAD_BYTES


def checked_upload(upload, *, field: str = "file", name: str = "") -> tuple[bytes, str, str]:
    """(bytes, content type, safe file name) of an uploaded file, after the checks every
    upload goes through: present, not empty, within the size limit, a format accepted
    from its real content (``cases.uploads``). ``name`` prefixes the messages (which file)."""
    which = f"« {name} » : " if name else ""

    def refused(text: str, short: str) -> DomainError:
        said = f"{which}{text}"
        said = said[:1].upper() + said[1:]
        return DomainError(said, errors={field: [said if name else short]})

    if upload is None:
        raise DomainError("Joignez un fichier.", errors={field: ["Fichier manquant."]})
    limit = settings.GUICHET_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise refused(
            f"fichier trop volumineux ({upload.size // 1024} Ko) : "
            f"{limit // (1024 * 1024)} Mo au plus.",
            "Fichier trop volumineux.",
        )
    if upload.size == 0:
        raise refused("le fichier est vide.", "Fichier vide.")
    data = upload.read(limit + 1)
    found = sniff(data[:16], data)
    if found is None:
        raise refused(
            "format refusé : seuls les PDF, images (PNG, JPEG) et documents bureautiques "
            "(Word, Excel, OpenDocument) sont acceptés, d'après leur contenu réel.",
            "Format non accepté.",
        )
    ctype, ext = found
    return data, ctype, safe_filename(getattr(upload, "name", "") or "document", ext)


def _require_open(case: Case) -> None:
    if case.is_terminal:
        raise DomainError("Le dossier est clos.", code="unavailable")


def document_store(
    *,
    actor,
    case: Case,
    kind: str,
    checked: tuple[bytes, str, str],
    label: str = "",
    payload: dict | None = None,
) -> Document:
    """The file ``checked`` (``checked_upload``'s bytes, content type and file name)
    stored as a document ``kind`` of ``case``, answering the porteur's open correction
    requests for that kind, and announced (``document.uploaded``, with ``payload`` besides
    its kind). A dossier in a terminal state takes no new document."""
    _require_open(case)
    data, ctype, filename = checked
    doc = Document(
        case=case,
        kind=kind,
        filename=filename,
        size=len(data),
        content_type=ctype,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
        label=label,
    )
    with transaction.atomic():
        doc.file.save(filename, ContentFile(data), save=False)
        doc.save()
        corrections_resolve(actor=actor, case=case, kind=CorrectionTarget.DOCUMENT, targets=[kind])
        event_emit(
            topic="document.uploaded",
            subject=doc,
            aggregate_id=case.pk,
            actor_id=actor.pk,
            payload={"kind": kind, **(payload or {})},
        )
    return doc


def document_upload(*, actor, case: Case, kind: str, upload, label: str = "") -> Document:
    require(actor, "document_upload")
    _require_open(case)
    kind = clean_text(kind, field="kind", label="le type de pièce", max_length=40, required=True)
    known = {"other"}
    for scheme in Scheme.objects.all():
        known.update(scheme.required_document_codes())
    if kind not in known:
        raise DomainError(f"Type de pièce inconnu : « {kind} ».", errors={"kind": ["Inconnu."]})
    checked = checked_upload(upload)
    label = clean_text(label, field="label", label="le libellé", max_length=200)
    return document_store(actor=actor, case=case, kind=kind, checked=checked, label=label)


def opinion_create(*, actor, case: Case, kind: str, value: str, text: str = "") -> Opinion:
    require(actor, "opinion_create")
    if kind not in Opinion.Kind.values or value not in Opinion.Value.values:
        raise DomainError("Type ou valeur d'avis inconnu.", errors={"kind": ["Inconnu."]})
    allowed_kinds = rules.opinion_kinds(actor.effective_role, case.state)
    if kind not in allowed_kinds:
        labels = ", ".join(str(Opinion.Kind(k).label) for k in allowed_kinds) or "aucun"
        raise DomainError(
            f"Votre rôle ne permet pas de donner l'avis « {Opinion.Kind(kind).label} » sur ce "
            f"dossier (avis possibles : {labels}).",
            code="forbidden",
            errors={"kind": ["Type d'avis non permis."]},
        )
    opinion = Opinion.objects.create(
        case=case,
        kind=kind,
        value=value,
        author=actor,
        text=clean_text(text, field="text", label="l'avis", max_length=10000),
    )
    event_emit(
        topic="opinion.created",
        subject=opinion,
        aggregate_id=case.pk,
        actor_id=actor.pk,
        payload={"kind": kind, "value": value},
    )
    return opinion


def _checked_attachments(uploads) -> list[tuple[bytes, str, str]]:
    """Every file checked before anything is written: one refused, none is kept."""
    uploads = [u for u in uploads or () if u is not None]
    if len(uploads) > MAX_ATTACHMENTS:
        too_many = (
            f"Trop de pièces jointes ({len(uploads)}) : {MAX_ATTACHMENTS} au plus par message."
        )
        raise DomainError(too_many, errors={"attachments": [too_many]})
    return [
        checked_upload(u, field="attachments", name=str(getattr(u, "name", ""))[:80])
        for u in uploads
    ]


def message_post(*, actor, case: Case, body: str, internal: bool = False, attachments=()):
    """A message on a dossier, with at most ``MAX_ATTACHMENTS`` files checked as documents
    are. Porteurs write to the PETR; agents (and EPCI partners, for their opinions) may
    write internal notes that porteurs never see."""
    role = actor.effective_role
    require(actor, "message_post")
    if role == R.PORTEUR and internal:
        raise DomainError("Un porteur n'écrit pas de note interne.", code="forbidden")
    if role == R.EPCI_PARTNER and not internal:
        raise DomainError("Les partenaires EPCI écrivent des notes internes.", code="forbidden")
    body = clean_text(body, field="body", label="le message", max_length=10000, required=True)
    files = _checked_attachments(attachments)
    with transaction.atomic():
        message = Message.objects.create(case=case, author=actor, body=body, internal=internal)
        for data, ctype, filename in files:
            attachment = MessageAttachment(
                message=message,
                filename=filename,
                size=len(data),
                content_type=ctype,
                sha256=hashlib.sha256(data).hexdigest(),
            )
            attachment.file.save(filename, ContentFile(data), save=False)
            attachment.save()
        event_emit(
            topic="message.internal" if internal else "message.posted",
            subject=message,
            aggregate_id=case.pk,
            actor_id=actor.pk,
            payload={"internal": internal, "attachments": len(files)},
        )
    return message
