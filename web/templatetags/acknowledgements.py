"""``{% acknowledgement_links case as links %}``: the receipts a page offers for a dossier
(``web.porteur.acknowledgement.acknowledgement_links``), for the include
``web/porteur/_acknowledgements.html``."""

from django import template

register = template.Library()


@register.simple_tag
def acknowledgement_links(case) -> dict:
    from web.porteur.acknowledgement import acknowledgement_links as links

    return links(case)
