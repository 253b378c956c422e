"""Committee sessions: plan one, read it, record votes, close it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from cases import committee
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
            actor=request.user, date=data["date"], members=data["members"], scheme=data["scheme"]
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
