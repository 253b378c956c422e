"""Committee sessions: plan one (a meeting or a written consultation), read it, record
votes and declarations of interest, close it; name the members' substitutes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from cases import committee, committee_declarations
from cases.models import CommitteeSubstitute
from cases.permissions import require

from . import views
from .serializers import committee as ser
from .serializers.transitions import TransitionInputSerializer
from .views import ApiView, paginated, responses, transition_from_request


class CommitteeSessionListView(ApiView):
    @extend_schema(
        responses=responses(
            {200: paginated(ser.CommitteeSessionSerializer, "PaginatedCommitteeSessions")}
        ),
        operation_id="v1_committee_sessions_list",
    )
    def get(self, request):
        return self.paginate(views.sessions_for(request.user), ser.CommitteeSessionSerializer)

    @extend_schema(
        request=ser.CommitteeSessionInputSerializer,
        responses=responses({201: ser.CommitteeSessionSerializer}),
        summary="Planifier une séance ; l'ordre du jour reprend les demandes en attente",
    )
    def post(self, request):
        require(request.user, "session_create")
        data = self.valid(ser.CommitteeSessionInputSerializer)
        session = committee.session_create(
            actor=request.user,
            date=data["date"],
            members=data.get("members"),
            scheme=data["scheme"],
            kind=data.get("kind"),
            closes_on=data.get("closes_on"),
        )
        session = views.get_session(request.user, session.pk)
        return Response(
            ser.CommitteeSessionSerializer(session, context=self.ctx()).data,
            status=status.HTTP_201_CREATED,
        )


class CommitteeSessionDetailView(ApiView):
    @extend_schema(responses=responses({200: ser.CommitteeSessionSerializer}))
    def get(self, request, pk: int):
        session = views.get_session(request.user, pk)
        return Response(ser.CommitteeSessionSerializer(session, context=self.ctx()).data)


class CommitteeVoteView(ApiView):
    @extend_schema(
        request=ser.VoteInputSerializer,
        responses=responses({201: ser.VoteSerializer}),
        summary="Enregistrer un vote et ses notes sur la grille",
    )
    def post(self, request, pk: int):
        session = views.get_session(request.user, pk)
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


class CommitteeDeclarationView(ApiView):
    @extend_schema(
        request=ser.DeclarationInputSerializer,
        responses=responses({201: ser.DeclarationSerializer}),
        summary="Déclarer un conflit d'intérêts sur un point : le membre n'y prend pas part",
    )
    def post(self, request, pk: int):
        session = views.get_session(request.user, pk)
        require(request.user, "vote_record")
        data = self.valid(ser.DeclarationInputSerializer)
        declaration = committee_declarations.conflict_declare(
            actor=request.user,
            session=session,
            funding_request_id=data["funding_request"],
            member_id=data.get("member"),
            reason=data.get("reason") or "",
        )
        return Response(ser.DeclarationSerializer(declaration).data, status=status.HTTP_201_CREATED)


class CommitteeSubstituteListView(ApiView):
    @extend_schema(
        responses=responses({200: ser.SubstituteSerializer(many=True)}),
        operation_id="v1_committee_substitutes_list",
    )
    def get(self, request):
        views.sessions_for(request.user)  # the committee's readers only
        territory = request.user.territory_id
        links = CommitteeSubstitute.objects.select_related("titular", "substitute")
        if territory and not request.user.is_superuser:
            links = links.filter(titular__territory_id=territory)
        return Response(ser.SubstituteSerializer(links.order_by("id"), many=True).data)

    @extend_schema(
        request=ser.SubstituteInputSerializer,
        responses=responses({201: ser.SubstituteSerializer}),
        summary="Désigner le suppléant d'un membre titulaire (même collège)",
    )
    def post(self, request):
        require(request.user, "session_create")
        data = self.valid(ser.SubstituteInputSerializer)
        link = committee_declarations.substitute_name(
            actor=request.user, titular_id=data["titular"], substitute_id=data["substitute"]
        )
        return Response(ser.SubstituteSerializer(link).data, status=status.HTTP_201_CREATED)


class CommitteeSessionTransitionView(ApiView):
    @extend_schema(
        request=TransitionInputSerializer,
        responses=responses({200: ser.CommitteeSessionSerializer}),
        summary="Clore la séance (quorum et règle des 49 % vérifiés)",
    )
    def post(self, request, pk: int, name: str):
        session = views.get_session(request.user, pk)
        transition_from_request(request, session, name)
        session = views.get_session(request.user, pk)
        return Response(ser.CommitteeSessionSerializer(session, context=self.ctx()).data)
