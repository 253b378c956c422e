"""``field_corrections|corrections_for:name``: the open correction requests of one field."""

from django import template

register = template.Library()


@register.filter
def corrections_for(by_field, name):
    return (by_field or {}).get(name, ())
