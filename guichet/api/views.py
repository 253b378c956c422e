"""API v1 views: parse → call a service or ``transition_apply`` → serialize.

Every object is looked up through ``cases.selectors``: what the caller may not see is a
404 (never a 403). Errors are ``DomainError``s rendered by ``guichet.api.exceptions``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db.models import Q
from django.http import JsonResponse
from django.utils import translation
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as s
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import committee, selectors, services
from cases.filters import CaseFilter, case_filter_errors
from cases.models import CaseState, Opinion, User
from cases.permissions import require
from engine import inputs
from engine.audit import access_record
from engine.errors import DomainError
from engine.models import Deadline
from engine.transitions import transition_apply
from schemes.models import Commune, Scheme

from . import serializers as ser
from .parsers import StrictJSONParser

R = User.Role


# ---------------------------------------------------------------- plumbing


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def paginated(serializer_class, name: str):
    return inline_serializer(
        name=name,
        fields={
            "count": s.IntegerField(),
            "next": s.URLField(allow_null=True),
            "previous": s.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


ERRORS = {
    400: ser.ErrorSerializer,
    401: ser.ErrorSerializer,
    403: ser.ErrorSerializer,
    404: ser.ErrorSerializer,
    409: ser.ErrorSerializer,
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


# ---------------------------------------------------------------- auth


class TokenView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=ser.TokenInputSerializer,
        responses=responses({200: ser.TokenSerializer}),
        auth=[],
        summary="Obtenir un jeton d'authentification",
    )
    def post(self, request):
        data = self.valid(ser.TokenInputSerializer)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise DomainError(
                "Identifiant ou mot de passe incorrect.",
                errors={"non_field_errors": ["Identifiants invalides."]},
            )
        # As django.contrib.auth.login does: last_login, and django-axes resets the failures.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(ApiView):
    @extend_schema(responses=responses({200: ser.MeSerializer}), summary="Mon compte")
    def get(self, request):
        return Response(ser.MeSerializer(request.user).data)


class UserCreateView(ApiView):
    @extend_schema(
        request=ser.UserInputSerializer,
        responses=responses({201: ser.UserSerializer}),
        summary="Créer un compte (administrateur)",
    )
    def post(self, request):
        if request.user.effective_role != R.ADMIN:
            raise DomainError("Seul un administrateur crée des comptes.", code="forbidden")
        user = services.user_create(actor=request.user, data=self.valid(ser.UserInputSerializer))
        return Response(ser.UserSerializer(user).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- reference data


class SchemeListView(ApiView):
    @extend_schema(responses=responses({200: ser.SchemeSerializer(many=True)}))
    def get(self, request):
        schemes = Scheme.objects.filter(active=True).select_related("funder")
        return Response(ser.SchemeSerializer(schemes, many=True).data)


class CommuneListView(ApiView):
    @extend_schema(
        parameters=[OpenApiParameter("epci", str, description="SIREN de l'EPCI")],
        responses=responses({200: ser.CommuneSerializer(many=True)}),
    )
    def get(self, request):
        communes = Commune.objects.select_related("epci")
        epci = self.param("epci", 9)
        if epci:
            communes = communes.filter(epci__siren=epci)
        return Response(ser.CommuneSerializer(communes, many=True).data)


class OrganisationListView(ApiView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Nom ou SIREN")],
        responses=responses({200: paginated(ser.OrganisationSerializer, "PaginatedOrganisations")}),
    )
    def get(self, request):
        qs = selectors.organisation_list(user=request.user)
        q = self.param("q")
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(siren=q))
        return self.paginate(qs, ser.OrganisationSerializer)

    @extend_schema(
        request=ser.OrganisationInputSerializer,
        responses=responses({201: ser.OrganisationSerializer}),
    )
    def post(self, request):
        require(request.user, "organisation_create")
        org = services.organisation_create(
            actor=request.user, data=self.valid(ser.OrganisationInputSerializer)
        )
        return Response(ser.OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- dossiers


class CaseListView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=CaseState.values),
            OpenApiParameter("scheme", str, description="Code d'un dispositif sollicité"),
            OpenApiParameter("epci", str, description="SIREN de l'EPCI"),
            OpenApiParameter("q", str, description="Titre, référence ou porteur"),
        ],
        responses=responses({200: paginated(ser.CaseListSerializer, "PaginatedCases")}),
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
        return self.paginate(qs, ser.CaseListSerializer)

    @extend_schema(
        request=ser.CaseInputSerializer,
        responses=responses({201: ser.CaseSerializer}),
        summary="Créer un dossier (idée ou demande)",
    )
    def post(self, request):
        require(request.user, "case_create")
        case = services.case_create(actor=request.user, data=self.valid(ser.CaseInputSerializer))
        case = get_case(request.user, case.pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data, status=201)


class CaseDetailView(ApiView):
    @extend_schema(responses=responses({200: ser.CaseSerializer}))
    def get(self, request, pk: int):
        case = get_case(request.user, pk, detail=True)
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
        case = get_case(request.user, pk)
        require(request.user, "case_update")
        data = self.valid(ser.CaseUpdateSerializer, partial=True)
        services.case_update(actor=request.user, case=case, data=data)
        case = get_case(request.user, pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)


class CaseTransitionView(ApiView):
    @extend_schema(
        request=ser.TransitionInputSerializer,
        responses=responses({200: ser.CaseSerializer}),
        summary="Appliquer une transition au dossier",
    )
    def post(self, request, pk: int, name: str):
        case = get_case(request.user, pk)
        transition_from_request(request, case, name)
        case = get_case(request.user, pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)


class CaseShareExceptionView(ApiView):
    @extend_schema(
        request=ser.ShareExceptionInputSerializer,
        responses=responses({200: ser.CaseSerializer}),
        summary="Enregistrer la dérogation à l'autofinancement de 20 % (agent)",
    )
    def post(self, request, pk: int):
        case = get_case(request.user, pk)
        require(request.user, "share_exception")
        data = self.valid(ser.ShareExceptionInputSerializer)
        services.case_record_share_exception(actor=request.user, case=case, reason=data["reason"])
        case = get_case(request.user, pk, detail=True)
        return Response(ser.CaseSerializer(case, context=self.ctx()).data)


class CaseDocumentsView(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=responses({200: ser.DocumentSerializer(many=True)}))
    def get(self, request, pk: int):
        case = get_case(request.user, pk)
        docs = selectors.document_list(user=request.user, case=case).select_related("uploaded_by")
        access_record(
            user=request.user, action="read", subject=case, aggregate_id=case.pk, request=request
        )
        return Response(ser.DocumentSerializer(docs, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ser.DocumentInputSerializer},
        responses=responses({201: ser.DocumentSerializer}),
        summary="Joindre une pièce (PDF, image, bureautique)",
    )
    def post(self, request, pk: int):
        case = get_case(request.user, pk)
        require(request.user, "document_upload")
        data = self.valid(ser.DocumentInputSerializer)
        doc = services.document_upload(
            actor=request.user,
            case=case,
            kind=data["kind"],
            upload=data["file"],
            label=data.get("label", ""),
        )
        return Response(ser.DocumentSerializer(doc).data, status=status.HTTP_201_CREATED)


class CaseOpinionsView(ApiView):
    @extend_schema(responses=responses({200: ser.OpinionSerializer(many=True)}))
    def get(self, request, pk: int):
        case = get_case(request.user, pk)
        opinions = Opinion.objects.filter(case=case).select_related("author").order_by("id")
        return Response(ser.OpinionSerializer(opinions, many=True).data)

    @extend_schema(
        request=ser.OpinionInputSerializer,
        responses=responses({201: ser.OpinionSerializer}),
        summary="Donner un avis (agent, partenaire EPCI)",
    )
    def post(self, request, pk: int):
        case = get_case(request.user, pk)
        require(request.user, "opinion_create")
        data = self.valid(ser.OpinionInputSerializer)
        opinion = services.opinion_create(
            actor=request.user,
            case=case,
            kind=data["kind"],
            value=data["value"],
            text=data.get("text", ""),
        )
        return Response(ser.OpinionSerializer(opinion).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- requests and claims


class FundingRequestDetailView(ApiView):
    @extend_schema(responses=responses({200: ser.FundingRequestSerializer}))
    def get(self, request, pk: int):
        fr = get_request(request.user, pk)
        access_record(
            user=request.user, action="read", subject=fr, aggregate_id=fr.case_id, request=request
        )
        return Response(ser.FundingRequestSerializer(fr, context=self.ctx()).data)


class FundingRequestTransitionView(ApiView):
    @extend_schema(
        request=ser.TransitionInputSerializer,
        responses=responses({200: ser.FundingRequestSerializer}),
        summary="Appliquer une transition à une demande de financement",
    )
    def post(self, request, pk: int, name: str):
        fr = get_request(request.user, pk)
        transition_from_request(request, fr, name)
        fr = get_request(request.user, pk)
        return Response(ser.FundingRequestSerializer(fr, context=self.ctx()).data)


class FundingRequestClaimsView(ApiView):
    @extend_schema(responses=responses({200: ser.PaymentClaimSerializer(many=True)}))
    def get(self, request, pk: int):
        fr = get_request(request.user, pk)
        claims = selectors.claim_list(user=request.user).filter(funding_request=fr)
        access_record(
            user=request.user, action="read", subject=fr, aggregate_id=fr.case_id, request=request
        )
        return Response(ser.PaymentClaimSerializer(claims, many=True, context=self.ctx()).data)

    @extend_schema(
        request=ser.PaymentClaimInputSerializer,
        responses=responses({201: ser.PaymentClaimSerializer}),
        summary="Créer une demande de paiement (brouillon ; la déposer par « file »)",
    )
    def post(self, request, pk: int):
        fr = get_request(request.user, pk)
        require(request.user, "claim_create")
        data = self.valid(ser.PaymentClaimInputSerializer)
        claim = services.claim_create(actor=request.user, funding_request=fr, data=data)
        claim = get_claim(request.user, claim.pk)
        return Response(
            ser.PaymentClaimSerializer(claim, context=self.ctx()).data,
            status=status.HTTP_201_CREATED,
        )


class PaymentClaimDetailView(ApiView):
    @extend_schema(responses=responses({200: ser.PaymentClaimSerializer}))
    def get(self, request, pk: int):
        claim = get_claim(request.user, pk)
        access_record(
            user=request.user,
            action="read",
            subject=claim,
            aggregate_id=claim.funding_request.case_id,
            request=request,
        )
        return Response(ser.PaymentClaimSerializer(claim, context=self.ctx()).data)


class PaymentClaimTransitionView(ApiView):
    @extend_schema(
        request=ser.TransitionInputSerializer,
        responses=responses({200: ser.PaymentClaimSerializer}),
        summary="Appliquer une transition à une demande de paiement",
    )
    def post(self, request, pk: int, name: str):
        claim = get_claim(request.user, pk)
        transition_from_request(request, claim, name)
        claim = get_claim(request.user, pk)
        return Response(ser.PaymentClaimSerializer(claim, context=self.ctx()).data)


# ---------------------------------------------------------------- committee


class CommitteeSessionListView(ApiView):
    @extend_schema(
        responses=responses(
            {200: paginated(ser.CommitteeSessionSerializer, "PaginatedCommitteeSessions")}
        ),
        operation_id="v1_committee_sessions_list",
    )
    def get(self, request):
        return self.paginate(sessions_for(request.user), ser.CommitteeSessionSerializer)

    @extend_schema(
        request=ser.CommitteeSessionInputSerializer,
        responses=responses({201: ser.CommitteeSessionSerializer}),
        summary="Planifier une séance ; l'ordre du jour reprend les demandes en attente",
    )
    def post(self, request):
        require(request.user, "session_create")
        data = self.valid(ser.CommitteeSessionInputSerializer)
        session = committee.session_create(
            actor=request.user, date=data["date"], members=data["members"], scheme=data["scheme"]
        )
        session = get_session(request.user, session.pk)
        return Response(
            ser.CommitteeSessionSerializer(session, context=self.ctx()).data,
            status=status.HTTP_201_CREATED,
        )


class CommitteeSessionDetailView(ApiView):
    @extend_schema(responses=responses({200: ser.CommitteeSessionSerializer}))
    def get(self, request, pk: int):
        session = get_session(request.user, pk)
        return Response(ser.CommitteeSessionSerializer(session, context=self.ctx()).data)


class CommitteeVoteView(ApiView):
    @extend_schema(
        request=ser.VoteInputSerializer,
        responses=responses({201: ser.VoteSerializer}),
        summary="Enregistrer un vote et ses notes sur la grille",
    )
    def post(self, request, pk: int):
        session = get_session(request.user, pk)
        require(request.user, "vote_record")
        data = self.valid(ser.VoteInputSerializer)
        vote = committee.vote_record(
            actor=request.user,
            session=session,
            funding_request_id=data["funding_request"],
            member_id=data.get("member"),
            vote=data["vote"],
            scores=data.get("scores") or {},
        )
        return Response(ser.VoteSerializer(vote).data, status=status.HTTP_201_CREATED)


class CommitteeSessionTransitionView(ApiView):
    @extend_schema(
        request=ser.TransitionInputSerializer,
        responses=responses({200: ser.CommitteeSessionSerializer}),
        summary="Clore la séance (quorum et règle des 49 % vérifiés)",
    )
    def post(self, request, pk: int, name: str):
        session = get_session(request.user, pk)
        transition_from_request(request, session, name)
        session = get_session(request.user, pk)
        return Response(ser.CommitteeSessionSerializer(session, context=self.ctx()).data)


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
