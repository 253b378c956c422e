"""Builds the default DOCX templates of the documents users sign (issue 15 point 3):
``convention.docx`` (convention attributive) and ``notification.docx`` (lettre de
notification), filled by ``docxtpl`` with the context of ``cases.signed_documents``.

Run once after a change here, and commit the .docx files it writes beside itself:

    .venv/bin/python cases/data/templates/build_default_templates.py

The PETR replaces them by dropping its own ``convention.docx`` / ``notification.docx``
(same ``{{ … }}`` fields) in ``GUICHET_DOCUMENT_TEMPLATES_DIR`` (README)."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.shared import Pt

HERE = Path(__file__).resolve().parent


def _head(doc, title: str) -> None:
    doc.add_paragraph("{{ territory }} — PETR, guichet unique des aides publiques")
    doc.add_paragraph("Édité le {{ issued_on }}")
    doc.add_heading(title, level=1)
    doc.add_paragraph("Dossier {{ reference }} — {{ title }}")


def _parties(doc) -> None:
    doc.add_heading("Entre", level=2)
    doc.add_paragraph(
        "{{ funder }}{% if funder_siret %} (SIRET {{ funder_siret }}){% endif %}, ci-après « le financeur »,"
    )
    doc.add_heading("Et", level=2)
    doc.add_paragraph(
        "{{ organisation }}{% if organisation_siren %} (SIREN {{ organisation_siren }}){% endif %}, ci-après « le bénéficiaire »."
    )


def _table(doc, caption: str, loop: str, cells: list[str], head: list[str]) -> None:
    doc.add_paragraph(caption)
    table = doc.add_table(rows=4, cols=len(cells))
    table.style = "Table Grid"
    for i, text in enumerate(head):
        table.rows[0].cells[i].text = text
    table.rows[1].cells[0].text = "{%tr for line in " + loop + " %}"
    for i, text in enumerate(cells):
        table.rows[2].cells[i].text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"


def convention() -> Document:
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    _head(doc, "Convention attributive de subvention")
    _parties(doc)
    doc.add_heading("Article 1 — Objet", level=2)
    doc.add_paragraph(
        "Le financeur attribue au bénéficiaire, au titre du dispositif {{ scheme }}, une "
        "subvention pour le projet « {{ title }} »."
    )
    doc.add_heading("Article 2 — Montant", level=2)
    doc.add_paragraph(
        "Montant accordé : {{ amount_granted }}, pour un montant demandé de "
        "{{ amount_requested }} et une dépense éligible de {{ total_eligible }} "
        "(taux : {{ rate }}). Décision du {{ granted_on }}."
    )
    _table(
        doc,
        "Dépenses du plan de financement",
        "expenses",
        ["{{ line.label }}", "{{ line.amount }}", "{{ line.tax }}"],
        ["Dépense", "Montant", "HT/TTC"],
    )
    _table(
        doc,
        "Ressources du plan de financement",
        "resources",
        ["{{ line.label }}", "{{ line.amount }}"],
        ["Ressource", "Montant"],
    )
    doc.add_heading("Article 3 — Durée", level=2)
    doc.add_paragraph(
        "Travaux prévus du {{ works_start }} au {{ works_end }}. Les paiements sont "
        "versés sur justificatifs, dans les délais du dispositif."
    )
    doc.add_heading("Signatures", level=2)
    doc.add_paragraph(
        "Pour le financeur : {{ funder }}\t\tPour le bénéficiaire : {{ organisation }}"
    )
    doc.add_paragraph("Référence de rattachement : {{ token }}")
    return doc


def notification() -> Document:
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    _head(doc, "Lettre de notification de subvention")
    doc.add_paragraph("À l'attention de {{ organisation }}")
    doc.add_paragraph(
        "Nous avons le plaisir de vous notifier l'attribution par {{ funder }}, au titre du "
        "dispositif {{ scheme }}, d'une subvention de {{ amount_granted }} pour votre projet "
        "« {{ title }} » (dossier {{ reference }}), décidée le {{ granted_on }}."
    )
    doc.add_paragraph(
        "Montant demandé : {{ amount_requested }} ; dépense éligible retenue : "
        "{{ total_eligible }} ; taux : {{ rate }}."
    )
    doc.add_paragraph(
        "Cette décision peut faire l'objet, dans un délai de deux mois à compter de sa "
        "notification, d'un recours gracieux auprès du financeur ou d'un recours contentieux "
        "devant le tribunal administratif."
    )
    doc.add_paragraph("Référence de rattachement : {{ token }}")
    return doc


if __name__ == "__main__":
    convention().save(HERE / "convention.docx")
    notification().save(HERE / "notification.docx")
    print("convention.docx, notification.docx écrits dans", HERE)
