"""Dossiers: list, create, read, edit, transitions, the own-share exception; deadlines."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from cases import selectors, services
from cases.filters import CaseFilter, case_filter_errors
from cases.models import CaseState
from cases.permissions import require
from cases.search import list_ordering
from engine.audit import access_record
from engine.errors import DomainError
from engine.models import Deadline

from . import views
from .serializers import cases as ser
from .serializers.transitions import TransitionInputSerializer
from .views import ApiView, paginated, parse_date_param, responses, transition_from_request


class CaseListView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=CaseState.values),
            OpenApiParameter("scheme", str, description="Code d'un dispositif sollicité"),
            OpenApiParameter("epci", str, description="SIREN de l'EPCI"),
            OpenApiParameter(
                "q",
                str,
                description="Titre, référence ou porteur. Une référence ou son début "
                "(GU-2024, GU-ALB-2026-00042, 2024-0001) : dossiers triés par référence "
                "décroissante (« ordering » : « -reference ») ; sinon du plus récent au "
                "plus ancien (« -created_at »)",
            ),
            OpenApiParameter(
                "after",
                str,
                description="Curseur (pages par clé) : vide pour la première page, puis "
                "celui du lien « next »",
            ),
        ],
        responses=responses(
            {
                200: paginated(
                    ser.CaseListSerializer,
                    "PaginatedCases",
                    ordering=s.ChoiceField(choices=["-created_at", "-reference"]),
                )
            }
        ),
        operation_id="v1_cases_list",
        summary="Dossiers visibles par l'utilisateur",
    )
    def get(self, request):
        qs = selectors.case_detail_queryset(user=request.user)
        for name in CaseFilter.base_filters:
            self.param(name)  # bounded, no NUL byte
        filterset = CaseFilter(request.query_params, queryset=qs)
        if not filterset.is_valid():
            errors = case_filter_errors(filterset)
            raise DomainError(
                "Filtre invalide : "
                + " ".join(f"« {k} » : {' '.join(v)}" for k, v in errors.items()),
                errors=errors,
            )
        qs = filterset.qs
        ordering = list_ordering(filterset.form.cleaned_data.get("q") or "")
        if "after" in request.query_params:
            response = self.paginate_after(qs, ser.CaseListSerializer, ordering)
        else:
            response = self.paginate(qs, ser.CaseListSerializer)
        response.data["ordering"] = ordering  # the order of the results, stated
        return response

    @extend_schema(
        request=ser.CaseInputSerializer,
        responses=responses({201: ser.CaseSerializer}),
        summary="Créer un dossier (idée ou demande)",
    )
    def post(self, request):
        require(request.user, "case_create")
        case = services.case_create(actor=request.user, data=self.valid(ser.CaseInputSerializer))
        case = views.get_case(request.user, case.pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data, status=201)


class CaseDetailView(ApiView):
    @extend_schema(responses=responses({200: ser.CaseSerializer}))
    def get(self, request, pk: int):
        case = views.get_case(request.user, pk, detail=True)
        access_record(
            user=request.user, action="read", subject=case, aggregate_id=case.pk, request=request
        )
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)

    @extend_schema(
        request=ser.CaseUpdateSerializer,
        responses=responses({200: ser.CaseSerializer}),
        summary="Modifier un dossier (idée, accompagnement, préparation, incomplet)",
    )
    def patch(self, request, pk: int):
        case = views.get_case(request.user, pk)
        require(request.user, "case_update")
        data = self.valid(ser.CaseUpdateSerializer, partial=True)
        services.case_update(actor=request.user, case=case, data=data)
        case = views.get_case(request.user, pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)


class CaseTransitionView(ApiView):
    @extend_schema(
        request=TransitionInputSerializer,
        responses=responses({200: ser.CaseSerializer}),
        summary="Appliquer une transition au dossier",
    )
    def post(self, request, pk: int, name: str):
        case = views.get_case(request.user, pk)
        transition_from_request(request, case, name)
        case = views.get_case(request.user, pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)


class CaseShareExceptionView(ApiView):
    @extend_schema(
        request=ser.ShareExceptionInputSerializer,
        responses=responses({200: ser.CaseSerializer}),
        summary="Enregistrer la dérogation à l'autofinancement de 20 % (agent)",
    )
    def post(self, request, pk: int):
        case = views.get_case(request.user, pk)
        require(request.user, "share_exception")
        data = self.valid(ser.ShareExceptionInputSerializer)
        services.case_record_share_exception(
            actor=request.user,
            case=case,
            reason=data["reason"],
            legal_case=data.get("legal_case"),
        )
        case = views.get_case(request.user, pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)


# ---------------------------------------------------------------- deadlines


class DeadlineListView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "due_before", dt.date, description="Échéances dues au plus tard ce jour"
            ),
            OpenApiParameter("state", str, enum=Deadline.State.values),
            OpenApiParameter("kind", str),
            OpenApiParameter("case", int, description="Identifiant du dossier"),
        ],
        responses=responses({200: paginated(ser.DeadlineSerializer, "PaginatedDeadlines")}),
    )
    def get(self, request):
        qs = selectors.deadline_list(user=request.user).order_by("due_on", "id")
        due_before = parse_date_param(self, "due_before")
        if due_before:
            qs = qs.filter(due_on__lte=due_before)
        state = self.param("state", 20)
        if state:
            if state not in Deadline.State.values:
                raise DomainError(f"État inconnu : « {state} ».", errors={"state": ["Inconnu."]})
            qs = qs.filter(state=state)
        kind = self.param("kind", 40)
        if kind:
            qs = qs.filter(kind=kind)
        case = self.id_param("case")
        if case:
            qs = qs.filter(aggregate_id=case)
        return self.paginate(qs, ser.DeadlineSerializer)
