"""From a DS dossier (as ``queries/demarche_dossiers.graphql`` reads it) to what Guichet
creates: the organisation, the dossier with its financing plan, the documents to fetch.

The correspondence is data, one per démarche (``DsDemarche.mapping``), each champ named
by its descriptor id (``champDescriptorId``, stable across dossiers) or by its label::

    {
      "title": "Intitulé du projet",
      "description": "Q2hhbXAtMTA=",
      "organisation_kind": "commune",
      "tax_basis": "HT",
      "expenses": [{"label": "Travaux", "amount": "Montant des travaux HT"}],
      "resources": [
        {"kind": "scheme", "amount": "Montant sollicité"},
        {"kind": "other_public", "label": "Région", "amount": "Aide de la Région"},
        {"kind": "self", "amount": "Autofinancement"}
      ],
      "documents": [{"champ": "Devis", "kind": "other", "label": "Devis"}]
    }

A resource of kind « scheme » is the démarche's scheme. A mapped champ left empty on DS
gives no line (an optional aid); a mapped champ absent from the dossier is an error (the
démarche changed: fix the mapping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from engine.errors import DomainError
from engine.inputs import read_decimal

from ..models import Organisation

SIREN_LENGTH = 9


@dataclass(frozen=True)
class DsFile:
    champ_label: str
    kind: str
    label: str
    filename: str
    content_type: str
    size: int
    checksum: str
    url: str


@dataclass
class Mapped:
    """What one DS dossier becomes in Guichet."""

    siren: str | None
    organisation_name: str
    organisation_kind: str
    commune_insee: str
    case_data: dict
    files: list[DsFile] = field(default_factory=list)


def _refused(message: str) -> DomainError:
    return DomainError(message, code="invalid")


class Champs:
    """The champs of a dossier, found by descriptor id or by label."""

    def __init__(self, champs: list[dict]):
        self.by_key: dict[str, dict] = {}
        for champ in champs or []:
            for key in (champ.get("champDescriptorId"), champ.get("label")):
                if key and key not in self.by_key:
                    self.by_key[key] = champ

    def get(self, key: str) -> dict:
        champ = self.by_key.get(str(key or ""))
        if champ is None:
            raise _refused(
                f"Le champ DS « {str(key)[:80]} » de la correspondance est absent du dossier "
                "(la démarche a changé ? corrigez la correspondance)."
            )
        return champ

    def text(self, key: str | None) -> str:
        if not key:
            return ""
        return (self.get(key).get("stringValue") or "").strip()

    def amount(self, key: str) -> Decimal | None:
        champ = self.get(key)
        for name in ("decimalNumber", "integerNumber"):
            if champ.get(name) is not None:
                return read_decimal(champ[name])
        text = (champ.get("stringValue") or "").strip()
        if not text:
            return None
        found = read_decimal(text, french=True)
        if found is None:
            raise _refused(f"Le champ DS « {champ.get('label')} » n'est pas un montant : {text}.")
        return found


def _lines(rows, champs: Champs, scheme_code: str | None, what: str) -> list[dict]:
    lines = []
    for row in rows or []:
        amount = champs.amount(row.get("amount"))
        if amount is None or amount == 0:
            continue
        line = {k: v for k, v in row.items() if k not in ("amount",)}
        line["amount"] = str(amount)
        if what == "resources" and line.get("kind") == "scheme":
            if not scheme_code:
                raise _refused(
                    "La correspondance a une ligne « dispositif » mais la démarche n'a pas de "
                    "dispositif : choisissez-le dans l'administration."
                )
            line["scheme"] = scheme_code
        lines.append(line)
    return lines


def _files(specs, champs: Champs) -> list[DsFile]:
    found = []
    for spec in specs or []:
        champ = champs.get(spec.get("champ"))
        for f in champ.get("files") or []:
            found.append(
                DsFile(
                    champ_label=champ.get("label") or "",
                    kind=spec.get("kind") or "other",
                    label=(spec.get("label") or champ.get("label") or "")[:200],
                    filename=f.get("filename") or "document",
                    content_type=f.get("contentType") or "",
                    size=int(f.get("byteSizeBigInt") or 0),
                    checksum=f.get("checksum") or "",
                    url=f.get("url") or "",
                )
            )
    return found


def _demandeur(dossier: dict) -> tuple[str | None, str, str]:
    """(SIREN, name, INSEE code of the commune) of the applicant, a legal person."""
    who = dossier.get("demandeur") or {}
    if who.get("__typename") == "PersonnePhysique":
        raise _refused(
            "Le demandeur est une personne physique : Guichet instruit les dossiers "
            "d'organisations (SIRET attendu)."
        )
    siret = str(who.get("siret") or "").replace(" ", "")
    siren = siret[:SIREN_LENGTH] if len(siret) == 14 and siret.isascii() else None
    company = who.get("entreprise") or {}
    address = who.get("address") or {}
    name = (company.get("raisonSociale") or "").strip() or f"SIRET {siret}"
    return siren, name[:200], str(address.get("cityCode") or "")


def dossier_map(dossier: dict, *, mapping: dict, scheme_code: str | None) -> Mapped:
    """What the dossier becomes, or a ``DomainError`` saying in French why it cannot."""
    champs = Champs(dossier.get("champs") or [])
    siren, name, insee = _demandeur(dossier)
    kind = mapping.get("organisation_kind") or Organisation.Kind.COMMUNE
    if kind not in Organisation.Kind.values:
        raise _refused(f"« organisation_kind » inconnu dans la correspondance : {kind}.")
    title = champs.text(mapping.get("title")) or f"Dossier DS n° {dossier.get('number')}"
    plan = {
        "expenses": _lines(mapping.get("expenses"), champs, scheme_code, "expenses"),
        "resources": _lines(mapping.get("resources"), champs, scheme_code, "resources"),
    }
    if mapping.get("tax_basis"):
        plan["tax_basis"] = mapping["tax_basis"]
    description = champs.text(mapping.get("description"))
    origin = f"Importé de Démarches Simplifiées (dossier n° {dossier.get('number')})."
    case_data = {
        "title": title[:300],
        "description": f"{description}\n\n{origin}" if description else origin,
        "financing_plan": plan,
    }
    return Mapped(
        siren=siren,
        organisation_name=name,
        organisation_kind=kind,
        commune_insee=insee,
        case_data=case_data,
        files=_files(mapping.get("documents"), champs),
    )
