"""Import the dossiers of a DS démarche into Guichet (issue 15 point 2).

One ``DsImport`` row per DS dossier number: a dossier is created once, updated while it is
still editable here, skipped when DS has not changed it, and a failure (a file DS does not
serve, a champ the mapping does not find) is recorded with its reason and tried again on
the next run. Each dossier is written in its own transaction.

Resumable: the démarche's dossiers are read a page at a time (cursor pagination); the
cursor after each page fully handled is stored on the démarche, so a run that stops (DS
down, worker killed) resumes after the last page done. A pass that ends with no failure
moves ``synced_at`` to its start: the next pass asks DS only for the dossiers modified
since (``updatedSince``)."""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from engine.errors import DomainError

from .. import selectors
from ..models import CASE_EDITABLE, Case, DsDemarche, DsImport, Organisation
from ..services.accounts import organisation_create
from ..services.case import case_create, case_update
from ..services.documents import checked_upload, document_upload
from ..siren import siren_valid
from . import client
from .mapping import DsFile, Mapped, dossier_map

log = logging.getLogger(__name__)
S = DsImport.Status
#: DS states of a dossier already decided there: nothing to instruct here.
DS_DONE = {"accepte", "refuse", "sans_suite"}
DS_STATE_LABELS = {
    "en_construction": "en construction",
    "en_instruction": "en instruction",
    "accepte": "accepté",
    "refuse": "refusé",
    "sans_suite": "classé sans suite",
}


@dataclass
class Report:
    """What a run did, dossier by dossier (``lines``: number, status, reason)."""

    demarche: int
    group: int | None = None
    lines: list[dict] = field(default_factory=list)
    error: str = ""
    complete: bool = False

    def add(self, number: int, status: str, reason: str = "", case: str = "") -> None:
        self.lines.append({"number": number, "status": status, "reason": reason, "case": case})

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line["status"] == status)

    def as_dict(self) -> dict:
        return {
            "demarche": self.demarche,
            "created": self.count(S.CREATED),
            "updated": self.count(S.UPDATED),
            "skipped": self.count(S.SKIPPED),
            "failed": self.count(S.FAILED),
            "complete": self.complete,
            "error": self.error,
            "lines": self.lines,
        }

    def summary(self) -> str:
        d = self.as_dict()
        group = f" (groupe instructeur {self.group})" if self.group else ""
        said = (
            f"Démarche DS n° {self.demarche}{group} : {d['created']} créé(s), {d['updated']} mis à "
            f"jour, {d['skipped']} ignoré(s), {d['failed']} en échec."
        )
        if self.error:
            said += f" Import interrompu : {self.error} Il reprendra à la page suivante."
        return said


# ---------------------------------------------------------------- documents


def _fetched(files: list[DsFile]) -> tuple[list[tuple[DsFile, bytes]], list[str]]:
    """The files downloaded and checked: the size DS announces, the bytes received against
    DS's checksum (a mismatch is a transfer error: ``DsError``, retried), then the checks
    of every upload (``checked_upload``: size, real format). A file refused by those is a
    warning, not a failure: the dossier is imported without it."""
    limit = settings.GUICHET_MAX_UPLOAD_BYTES
    kept, warnings = [], []
    for f in files:
        if f.size > limit:
            warnings.append(
                f"« {f.filename} » ({f.champ_label}) non repris : {f.size // 1024} Ko, "
                f"{limit // (1024 * 1024)} Mo au plus."
            )
            continue
        data = client.download(f.url, limit=limit)
        digest = base64.b64encode(hashlib.md5(data).digest()).decode()  # DS publishes MD5
        if f.checksum and digest != f.checksum:
            raise client.DsError(f"« {f.filename} » reçu incomplet ou altéré (somme de contrôle).")
        try:
            checked_upload(SimpleUploadedFile(f.filename, data), name=f.filename[:80])
        except DomainError as exc:
            warnings.append(f"{exc.message} ({f.champ_label}) : pièce non reprise.")
            continue
        kept.append((f, data))
    return kept, warnings


def _attach(agent, case: Case, files: list[tuple[DsFile, bytes]]) -> int:
    """The files a dossier does not hold yet (by content), through the document service."""
    held = set(case.documents.values_list("sha256", flat=True))
    added = 0
    for f, data in files:
        if hashlib.sha256(data).hexdigest() in held:
            continue
        upload = SimpleUploadedFile(f.filename, data, content_type=f.content_type)
        document_upload(actor=agent, case=case, kind=f.kind, upload=upload, label=f.label)
        added += 1
    return added


# ---------------------------------------------------------------- one dossier


def _organisation(agent, mapped: Mapped) -> Organisation:
    """The applicant's organisation: found by SIREN, else created on the agent's territory."""
    siren = mapped.siren if mapped.siren and siren_valid(mapped.siren) else None
    if siren:
        found = Organisation.objects.filter(siren=siren).first()
        if found is not None:
            return found
    commune = mapped.commune_insee
    if commune and not selectors.commune_list(user=agent).filter(insee=commune).exists():
        commune = ""
    data = {"kind": mapped.organisation_kind, "siren": siren, "name": mapped.organisation_name}
    return organisation_create(actor=agent, data={**data, "commune": commune or None})


def _create(demarche: DsDemarche, mapped: Mapped, files) -> Case:
    agent = demarche.agent
    organisation = _organisation(agent, mapped)
    data = {**mapped.case_data, "organisation": organisation.pk, "state": "draft"}
    case = case_create(actor=agent, data=data)
    _attach(agent, case, files)
    return case


def _update(demarche: DsDemarche, case: Case, mapped: Mapped, files) -> tuple[str, str]:
    if case.state not in CASE_EDITABLE:
        return S.SKIPPED, (
            f"Le dossier {case.reference} est « {case.get_state_display()} » dans Guichet : "
            "les modifications faites sur DS ne sont plus reprises."
        )
    case_update(actor=demarche.agent, case=case, data=mapped.case_data)
    _attach(demarche.agent, case, files)
    return S.UPDATED, ""


def _record(demarche, node, *, status, reason="", case=None, warnings=(), tried=False):
    """The import row of a DS dossier, written with its outcome."""
    row, _ = DsImport.objects.get_or_create(demarche=demarche, ds_number=node["number"])
    row.ds_id = str(node.get("id") or "")[:200]
    row.ds_state = str(node.get("state") or "")[:30]
    if status != S.FAILED:
        row.ds_modified_at = str(node.get("dateDerniereModification") or "")[:40]
    if case is not None:
        row.case = case
    if row.case_id is None or status != S.SKIPPED:
        row.status = status
    row.reason = reason
    row.warnings = list(warnings)
    row.attempts += 1 if tried else 0
    row.save()
    return row


def _unchanged(row: DsImport | None, node: dict) -> bool:
    return (
        row is not None
        and row.status != S.FAILED
        and row.ds_modified_at == str(node.get("dateDerniereModification") or "")
    )


def _imported_elsewhere(demarche: DsDemarche, number: int) -> DsImport | None:
    """The import of the same DS dossier by another instructor group of the démarche."""
    if not demarche.groupe_instructeur:
        return None
    return (
        DsImport.objects.filter(demarche__number=demarche.number, ds_number=number)
        .exclude(demarche=demarche)
        .exclude(case=None)
        .select_related("demarche")
        .first()
    )


def _failed(demarche: DsDemarche, node: dict, report: Report, reason: str) -> None:
    _record(demarche, node, status=S.FAILED, reason=reason, tried=True)
    report.add(node["number"], S.FAILED, reason)


def dossier_import(demarche: DsDemarche, node: dict, report: Report) -> None:
    """Import (or update, or skip) one DS dossier; its outcome goes to ``report``."""
    number = node["number"]
    row = DsImport.objects.filter(demarche=demarche, ds_number=number).first()
    if _unchanged(row, node):
        report.add(number, S.SKIPPED, "Inchangé sur DS depuis le dernier import.")
        return
    other = _imported_elsewhere(demarche, number) if row is None else None
    if other is not None:
        reason = f"Déjà importé par « {other.demarche} » (dossier passé d'un groupe à l'autre)."
        _record(demarche, node, status=S.SKIPPED, reason=reason)
        report.add(number, S.SKIPPED, reason)
        return
    state = node.get("state") or ""
    if state in DS_DONE and (row is None or row.case_id is None):
        reason = f"Déjà {DS_STATE_LABELS.get(state, state)} sur DS : rien à instruire ici."
        _record(demarche, node, status=S.SKIPPED, reason=reason)
        report.add(number, S.SKIPPED, reason)
        return
    scheme_code = demarche.scheme.code if demarche.scheme_id else None
    try:
        mapped = dossier_map(node, mapping=demarche.mapping or {}, scheme_code=scheme_code)
        files, warnings = _fetched(mapped.files)
        with transaction.atomic():
            if row is not None and row.case_id is not None:
                case = row.case
                status, reason = _update(demarche, case, mapped, files)
            else:
                case, status, reason = _create(demarche, mapped, files), S.CREATED, ""
            _record(demarche, node, status=status, reason=reason, case=case, warnings=warnings)
    except (DomainError, client.DsError) as exc:
        _failed(demarche, node, report, exc.message)
        return
    except Exception:  # one dossier's bug never stops the others: logged, retried next run
        log.exception("DS dossier %s of démarche %s", number, demarche.number)
        _failed(demarche, node, report, "Erreur inattendue (voir les journaux du serveur).")
        return
    report.add(number, status, "; ".join([reason, *warnings]).strip("; "), case.reference or "")


# ---------------------------------------------------------------- the démarche


def _page(demarche: DsDemarche, after: str | None) -> dict:
    """A page of the démarche's dossiers, or of its instructor group's when it names one."""
    variables = {
        "first": int(client.setting("GUICHET_DS_PAGE_SIZE")),
        "after": after,
        "updatedSince": demarche.pass_since.isoformat() if demarche.pass_since else None,
    }
    if demarche.groupe_instructeur:
        variables["groupeInstructeurNumber"] = demarche.groupe_instructeur
        query, root = "groupe_instructeur_dossiers", "groupeInstructeur"
    else:
        variables["demarcheNumber"] = demarche.number
        query, root = "demarche_dossiers", "demarche"
    data = client.graphql(token_env=demarche.token_env, query=query, variables=variables)
    return data[root]["dossiers"]


def _pass_start(demarche: DsDemarche) -> None:
    if demarche.cursor:
        return  # resuming the pass in progress, with its filter
    demarche.pass_since = demarche.synced_at
    demarche.pass_started_at = timezone.now()
    demarche.save(update_fields=["pass_since", "pass_started_at"])


def _pass_end(demarche: DsDemarche) -> None:
    if not demarche.imports.filter(status=S.FAILED).exists():
        demarche.synced_at = demarche.pass_started_at
    demarche.cursor = ""
    demarche.pass_since = None
    demarche.save(update_fields=["synced_at", "cursor", "pass_since"])


def demarche_import(*, demarche: DsDemarche, max_pages: int | None = None) -> Report:
    """One run over the démarche's dossiers, from where the last run stopped. DS errors on
    a page stop the run (kept in the report); the next run resumes at that page."""
    report = Report(demarche=demarche.number, group=demarche.groupe_instructeur)
    _pass_start(demarche)
    pages = 0
    try:
        while max_pages is None or pages < max_pages:
            connection = _page(demarche, demarche.cursor or None)
            pages += 1
            for node in connection.get("nodes") or []:
                if node:
                    dossier_import(demarche, node, report)
            info = connection.get("pageInfo") or {}
            if not (info.get("hasNextPage") and info.get("endCursor")):
                _pass_end(demarche)
                report.complete = True
                break
            demarche.cursor = str(info["endCursor"])[:500]
            demarche.save(update_fields=["cursor"])
    except client.DsError as exc:
        report.error = exc.message
        log.warning("DS import of démarche %s stopped: %s", demarche.number, exc.message)
    demarche.last_run_at = timezone.now()
    demarche.last_report = report.as_dict()
    demarche.save(update_fields=["last_run_at", "last_report"])
    return report
