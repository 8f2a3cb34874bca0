from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.authentication import APIKeyReadOnly
from accounts.models import User
from partnerships import permissions, services
from partnerships.filters import AgreementFilter
from partnerships.models import Agreement
from partnerships.serializers import (
    MOVE_SERIALIZERS,
    ActivitySerializer,
    AgreementDetailSerializer,
    AgreementSerializer,
    AgreementWriteSerializer,
    MoveSerializer,
    TranslationSerializer,
)
from sco_portal import uploads
from sco_portal.content_languages import READER_LANGUAGE, ReaderLanguageView
from sco_portal.move_actions import move_action


def _person(request: Request) -> User:
    # Writes need IsAuthenticated (get_permissions), and keys are read-only: here the user is a person.
    return cast(User, request.user)


@extend_schema_view(
    list=extend_schema(parameters=[READER_LANGUAGE]), retrieve=extend_schema(parameters=[READER_LANGUAGE])
)
class AgreementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ReaderLanguageView,
    viewsets.GenericViewSet,
):
    """Sister-city and friendship-city agreements, scoped to what the person may see.

    Active, expired and terminated agreements are public; the others are seen by
    the two cities' officers and the coordinators concerned. A move the status
    does not allow answers 409; a move the person may not make, 403.
    """

    filterset_class = AgreementFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Actions whose answer may be 409: the agreement's status (or an open agreement of the same
    # pair) does not allow it. Read by the schema (sco_portal/schema.py).
    conflict_actions = {"create", "partial_update", "activities", *map(str, permissions.MOVE_PERMISSIONS)}

    def get_permissions(self) -> list[Any]:
        if self.request.method in SAFE_METHODS:
            return [APIKeyReadOnly()]
        return [APIKeyReadOnly(), IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Agreement]:
        if self.action == "memorandum":
            return Agreement.objects.visible_to(self.request.user)
        queryset = (
            Agreement.objects.visible_to(self.request.user)
            .with_health()
            .select_related("initiator__country", "partner__country")
            .prefetch_related("topics", "translations")
        )
        if self.action != "list":
            queryset = queryset.prefetch_related("transitions__actor", "activities__author")
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action in ("create", "partial_update"):
            return AgreementWriteSerializer
        if self.action == "list":
            return AgreementSerializer
        return AgreementDetailSerializer

    def _detail(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        agreement = self.get_queryset().get(pk=pk)
        return Response(
            AgreementDetailSerializer(agreement, context=self.get_serializer_context()).data, status=status_code
        )

    @extend_schema(request=AgreementWriteSerializer, responses={201: AgreementDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AgreementWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreement = services.create_draft(by=_person(request), **serializer.validated_data)
        return self._detail(agreement.pk, status.HTTP_201_CREATED)

    @extend_schema(request=AgreementWriteSerializer, responses=AgreementDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        agreement = self.get_object()
        serializer = AgreementWriteSerializer(agreement, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_draft(agreement=agreement, by=_person(request), **serializer.validated_data)
        return self._detail(agreement.pk)

    @extend_schema(methods=["post"], request=ActivitySerializer, responses={201: ActivitySerializer})
    @extend_schema(methods=["get"], responses=ActivitySerializer(many=True))
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def activities(self, request: Request, pk: str | None = None) -> Response:
        """The activity log: visits, exchanges, joint projects. Officers of the two cities add to it."""
        agreement = self.get_object()
        if request.method == "GET":
            return Response(ActivitySerializer(agreement.activities.select_related("author"), many=True).data)
        serializer = ActivitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = services.log_activity(agreement=agreement, by=_person(request), **serializer.validated_data)
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TranslationSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["post"])
    def translations(self, request: Request, pk: str | None = None) -> Response:
        """Officers of the two cities add or change the title and summary in another language."""
        agreement = self.get_object()
        serializer = TranslationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.save_agreement_translation(agreement=agreement, by=_person(request), **serializer.validated_data)
        return self._detail(agreement.pk)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A download answers its file whatever the client accepts (`Accept: application/pdf`
        # included); only its errors go through a renderer, the JSON one.
        return super().perform_content_negotiation(request, force=force or self.action == "memorandum")

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The signed memorandum."),
            404: OpenApiResponse(description="No memorandum, or the agreement is out of sight."),
        }
    )
    @action(detail=True, methods=["get"])
    def memorandum(self, request: Request, pk: str | None = None) -> FileResponse:
        """The signed memorandum, a PDF, as a download (`Content-Disposition: attachment`).

        Whoever sees the agreement may download it: anyone once it is active, only
        the parties and their coordinators before.
        """
        agreement = self.get_object()
        return uploads.download(agreement.memorandum, filename=f"agreement-{agreement.pk}-memorandum")


def _make_move(agreement: Any, move: str, by: Any, data: dict[str, Any]) -> services.MoveResult:
    return services.make_move(agreement=agreement, move=move, by=by, **data)


# One POST endpoint per move a person makes, named after the move: /agreements/{id}/<move>/.
for _move in permissions.MOVE_PERMISSIONS:
    setattr(
        AgreementViewSet,
        str(_move),
        move_action(
            str(_move),
            noun="agreement",
            request_serializer=MOVE_SERIALIZERS.get(str(_move), MoveSerializer),
            detail_serializer=AgreementDetailSerializer,
            make_move=_make_move,
            # Signing is an upload: documented as a multipart form only, with the memorandum a binary file.
            multipart=_move == "sign",
        ),
    )
