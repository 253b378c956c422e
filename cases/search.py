"""Text search over dossiers (« titre, référence ou porteur »), shaped for the indexes.

``title ILIKE %q% OR reference ILIKE %q% OR organisation.name ILIKE %q%`` across a join
cannot use the trigram indexes (migration 0005): PostgreSQL scans every dossier and
evaluates three ``UPPER … LIKE`` per row (100-150 ms on 100,000 dossiers, bench/load.py).
Reading the matching organisations first and filtering the dossiers on their ids keeps
the three conditions on one table, which PostgreSQL answers with a ``BitmapOr`` of three
index scans (7-17 ms).
"""

from __future__ import annotations

from django.db.models import Q

from .models import Organisation

MAX_ORGANISATION_IDS = 5_000  # beyond, the organisations stay a sub-query (same result)


def case_text_filter(q: str) -> Q:
    """Dossiers whose title, reference or organisation name contains ``q`` (any case)."""
    orgs = Organisation.objects.filter(name__icontains=q).values_list("pk", flat=True)
    ids = list(orgs[: MAX_ORGANISATION_IDS + 1])
    by_org = (
        Q(organisation_id__in=orgs)
        if len(ids) > MAX_ORGANISATION_IDS
        else Q(organisation_id__in=ids)
    )
    return Q(title__icontains=q) | Q(reference__icontains=q) | by_org
