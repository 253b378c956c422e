"""``{% signed_document_links user case as grants %}``: the convention and notification
letter of each granted request of the dossier (``web.signed_documents.grant_links``), for
the include ``web/_signed_documents.html``."""

from django import template

register = template.Library()


@register.simple_tag
def signed_document_links(user, case) -> list[dict]:
    from web.signed_documents import grant_links

    return grant_links(user, case)
