"""The lookups of the scenario pages: a mapping's value by a key given as a number or a
string (the rows posted come back with string keys, the items with numbers)."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    if not mapping:
        return None
    for k in (key, str(key)):
        if k in mapping:
            return mapping[k]
    return None
