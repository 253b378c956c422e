"""``{% dossier_pdf_links case as pdfs %}``: the whole dossier's PDF and the decision
documents a page offers (``web.dossier_pdf.dossier_pdf_links``), for the include
``web/_dossier_pdfs.html``."""

from django import template

register = template.Library()


@register.simple_tag
def dossier_pdf_links(case) -> dict:
    from web.dossier_pdf import dossier_pdf_links as links

    return links(case)
