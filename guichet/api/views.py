"""What every view of the API v1 shares: the base view (French, strict JSON, typed
query parameters), pagination, the documented error responses, the 404 handler, and the
scoped lookups.

The views live by area (``users``, ``reference``, ``cases``, ``documents``, ``payments``,
``committee``, ``account``, ``notifications``): parse → call a service or
``transition_apply`` → serialize. Every object is looked up through ``cases.selectors``
(here: ``get_case``, ``get_request``, ``get_claim``, ``get_session``): what the caller may
not see is a 404 (never a 403). The area modules call them through this module
(``views.get_case``), the one place to read them. Errors are ``DomainError``s rendered by
``guichet.api.exceptions``.
"""

from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.utils import translation
from django.views.defaults import page_not_found
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers as s
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import paging, selectors
from engine import inputs
from engine.errors import DomainError
from engine.transitions import transition_apply

from .parsers import StrictJSONParser
from .serializers.fields import ErrorSerializer

# ---------------------------------------------------------------- plumbing


class Pagination(PageNumberPagination):
    """Page numbers; the count is exact up to ``paging.COUNT_CAP`` rows, beyond which
    ``count_capped`` is true and ``count`` means « at least » (``cases.paging``)."""

    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = paging.CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response


def paginated(serializer_class, name: str, **extra):
    return inline_serializer(
        name=name,
        fields={
            "count": s.IntegerField(),
            "next": s.URLField(allow_null=True),
            "previous": s.URLField(allow_null=True),
            "results": serializer_class(many=True),
            "count_capped": s.BooleanField(),
            **extra,
        },
    )


ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


def responses(ok: dict) -> dict:
    return {**ok, **ERRORS}


class ApiView(APIView):
    """Every API view answers in French and parses JSON strictly."""

    parser_classes = [StrictJSONParser, FormParser, MultiPartParser]

    def dispatch(self, request, *args, **kwargs):
        with translation.override("fr"):
            return super().dispatch(request, *args, **kwargs)

    def ctx(self) -> dict:
        return {"request": self.request, "user": self.request.user}

    def valid(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def param(self, name: str, max_length: int = 200) -> str:
        value = (self.request.query_params.get(name) or "").strip()
        if "\x00" in value or len(value) > max_length:
            raise DomainError(
                f"Paramètre « {name} » invalide.", errors={name: ["Valeur invalide."]}
            )
        return value

    def id_param(self, name: str) -> int | None:
        """An id in the query string (ASCII digits within a bigint), or None when absent."""
        raw = self.param(name, 40)
        if not raw:
            return None
        return inputs.parse_id(raw, field=name, label=f"« {name} »")

    def paginate(self, queryset, serializer_class) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context=self.ctx()).data
        return paginator.get_paginated_response(data)

    def paginate_after(self, queryset, serializer_class, order: str = "-created_at") -> Response:
        """The keyset page (``after=<curseur>``, empty for the first) of a list ordered
        ``-created_at, -id`` (or ``-reference``, ``order``): ``next`` carries the cursor of
        the next page, no ``previous``; ``count`` as in the numbered pages."""
        from rest_framework.utils.urls import remove_query_param, replace_query_param

        size = Pagination().get_page_size(self.request)
        cursor = paging.read_cursor(self.param("after", 80), order)
        rows, next_cursor = paging.keyset_page(queryset, cursor, size, order)
        counter = paging.CappedPaginator(queryset, size)
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        data = {
            "count": counter.count,
            "next": replace_query_param(url, "after", next_cursor) if next_cursor else None,
            "previous": None,
            "results": serializer_class(rows, many=True, context=self.ctx()).data,
            "count_capped": counter.capped,
        }
        return Response(data)


def body_dict(request) -> dict:
    data = request.data
    if hasattr(data, "getlist"):  # form data
        return {k: (v[0] if len(v) == 1 else v) for k, v in data.lists()}
    if not isinstance(data, dict):
        raise DomainError(
            "Le corps de la requête doit être un objet JSON.",
            errors={"non_field_errors": ["Objet JSON attendu."]},
        )
    return data


def transition_from_request(request, instance, name: str):
    body = dict(body_dict(request))
    comment = body.pop("comment", "")  # read by the engine (engine.inputs)
    return transition_apply(
        instance=instance, name=name, actor=request.user, comment=comment, data=body
    )


def not_found(what: str) -> DomainError:
    return DomainError(f"{what} introuvable.", code="not_found")


def get_case(user, pk: int, *, detail: bool = False):
    qs = selectors.case_detail_queryset(user=user) if detail else selectors.case_list(user=user)
    case = qs.filter(pk=pk).first()
    if case is None:
        raise not_found("Dossier")
    return case


def get_request(user, pk: int):
    fr = (
        selectors.funding_request_list(user=user)
        .select_related("scheme__funder")
        .prefetch_related("claims")
        .filter(pk=pk)
        .first()
    )
    if fr is None:
        raise not_found("Demande de financement")
    return fr


def get_claim(user, pk: int):
    claim = (
        selectors.claim_list(user=user)
        .select_related("funding_request__case__organisation")
        .filter(pk=pk)
        .first()
    )
    if claim is None:
        raise not_found("Demande de paiement")
    return claim


def sessions_for(user):
    if not selectors.session_readable(user):
        raise DomainError("Votre rôle ne donne pas accès aux séances du comité.", code="forbidden")
    return selectors.session_detail_list(user=user)


def get_session(user, pk: int):
    session = sessions_for(user).filter(pk=pk).first()
    if session is None:
        raise not_found("Séance")
    return session


def parse_date_param(view: ApiView, name: str) -> dt.date | None:
    return inputs.parse_date(view.param(name, 40), field=name, label=f"date « {name} »")


def not_found_view(request, exception=None):
    """``handler404``: a JSON body in French under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Introuvable."}, status=404)
    return page_not_found(request, exception)
