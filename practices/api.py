"""The practice library for machine clients that keep a copy, and for people who write and moderate.

A client mirrors the library by walking the list in (updated_at, id) order with a cursor,
then keeps its copy current with `updated_after` and the tombstone feed `deleted/?since=`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, cast

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, HttpResponseNotModified, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_vary_headers
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, pagination, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.authentication import APIKeyReadOnly
from accounts.models import User
from practices import exports, permissions, services
from practices.filters import PracticeFilter
from practices.models import Practice, PracticeAttachment, PracticeTombstone
from practices.serializers import (
    ROW_COLUMNS,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DeletedFeedSerializer,
    PracticeDetailSerializer,
    PracticeMoveSerializer,
    PracticeRowSerializer,
    PracticeSerializer,
    PracticeTranslationSerializer,
    PracticeWriteSerializer,
    TombstoneSerializer,
    in_reader_language,
    with_relations,
)
from sco_portal import uploads
from sco_portal.content_languages import ReaderLanguageView
from sco_portal.move_actions import move_action

ETAG_ACTIONS = frozenset({"list", "retrieve", "deleted"})


class PracticeFilterBackend(DjangoFilterBackend):
    """The practice filter, skipped when a request names none of its fields: building the FilterSet
    and its form costs more than the page's queries on the hot, unfiltered list."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        if not PracticeFilter.base_filters.keys() & request.query_params.keys():
            return queryset
        return super().filter_queryset(request, queryset, view)


class PracticeCursorPagination(pagination.CursorPagination):
    """Pages in (updated_at, id) order: a record changed while a client walks moves to the end,
    where the same walk meets it again; nothing is skipped."""

    ordering = ("updated_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class TombstoneCursorPagination(pagination.CursorPagination):
    ordering = ("at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def _person(request: Request) -> User:
    # Writes need IsAuthenticated (get_permissions), and keys are read-only: here the user is a person.
    return cast(User, request.user)


def _matches(header: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


@extend_schema(tags=["practices"])
class PracticeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ReaderLanguageView,
    viewsets.GenericViewSet,
):
    """Practices: published ones for everyone (API keys included); a person also sees the drafts they may see.

    draft → submitted → published | returned (→ submitted again); published → archived.
    The city's officers write and submit; coordinators publish or return. A move the status
    does not allow answers 409; a move the person may not make, 403; a practice out of sight, 404.
    Lists and details carry an `ETag`; send it back in `If-None-Match` for a 304.
    """

    filterset_class = PracticeFilter
    filter_backends = [PracticeFilterBackend]
    pagination_class = PracticeCursorPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The exports set "export": they count against the tighter export rate (sco_portal/throttling.py).
    throttle_scope: str | None = None
    # Actions whose answer may be 409: the practice's status does not allow them (read by the
    # schema, sco_portal/schema.py).
    conflict_actions = {
        "partial_update",
        "destroy",
        "attachments",
        "attachment",
        *map(str, permissions.MOVE_PERMISSIONS),
    }

    def get_permissions(self) -> list[Any]:
        if self.request.method in SAFE_METHODS:
            return [APIKeyReadOnly()]
        return [APIKeyReadOnly(), IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Practice]:
        if self.action in ("list", "attachments", "attachment"):
            # The list reads values() rows (list() below); the files' actions only the practice.
            return Practice.objects.visible_to(self.request.user)
        queryset = (
            Practice.objects.visible_to(self.request.user)
            .select_related("city__country")
            .prefetch_related("topics", "sdgs", "indicators", "translations")
        )
        if self.action not in ("list", "export_csv", "export_json"):
            queryset = queryset.prefetch_related("attachments", "transitions__actor")
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action in ("create", "partial_update"):
            return PracticeWriteSerializer
        if self.action in ("list", "export_csv", "export_json"):
            return PracticeSerializer
        return PracticeDetailSerializer

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Any:
        """A strong ETag over the rendered body of lists and details; a matching If-None-Match answers 304.

        The body is rendered here, once, and hashed: the tag is what this person gets in this format,
        so people who see different things get different tags.
        """
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and getattr(self, "action", None) in ETAG_ACTIONS
            and isinstance(response, Response)
            and response.status_code == status.HTTP_200_OK
        ):
            response.render()
            etag = f'"{hashlib.sha256(response.content).hexdigest()[:40]}"'
            answer: HttpResponseBase = response
            if _matches(request.headers.get("If-None-Match", ""), etag):
                answer = HttpResponseNotModified()
            answer["ETag"] = etag
            patch_vary_headers(answer, ["Accept", "Authorization", "Cookie"])
            return answer
        return response

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The hot path: values() rows and their relations as tuples, written out by PracticeRowSerializer,
        the same records as PracticeSerializer's without a model instance per row."""
        queryset = in_reader_language(self.filter_queryset(self.get_queryset()))
        rows = self.paginate_queryset(queryset.values(*ROW_COLUMNS, "shown_title", "shown_summary"))
        assert rows is not None  # the list always pages
        records = PracticeRowSerializer(with_relations(rows), many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(records)

    def _detail(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        practice = self.get_queryset().get(pk=pk)
        return Response(
            PracticeDetailSerializer(practice, context=self.get_serializer_context()).data, status=status_code
        )

    @extend_schema(request=PracticeWriteSerializer, responses={201: PracticeDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PracticeWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        practice = services.create_practice(by=_person(request), **serializer.validated_data)
        return self._detail(practice.pk, status.HTTP_201_CREATED)

    @extend_schema(request=PracticeWriteSerializer, responses=PracticeDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        practice = self.get_object()
        serializer = PracticeWriteSerializer(practice, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("city", None)
        services.update_practice(practice=practice, by=_person(request), **data)
        return self._detail(practice.pk)

    @extend_schema(request=PracticeTranslationSerializer, responses=PracticeDetailSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def translations(self, request: Request, pk: str | None = None) -> Response:
        """The city's officers add or change the title and summary in another of the portal's languages
        (`en`, `ru`, `zh-hans`); an empty title removes that translation."""
        practice = self.get_object()
        serializer = PracticeTranslationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.save_practice_translation(practice=practice, by=_person(request), **serializer.validated_data)
        return self._detail(practice.pk)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.delete_practice(practice=self.get_object(), by=_person(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[DeletedFeedSerializer],
        responses=TombstoneSerializer(many=True),
        filters=False,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=TombstoneCursorPagination)
    def deleted(self, request: Request) -> Response:
        """Practices that left the public set (archived or deleted) after `since`: what a mirror must drop."""
        feed = DeletedFeedSerializer(data=request.query_params)
        feed.is_valid(raise_exception=True)
        tombstones = PracticeTombstone.objects.all()
        if since := feed.validated_data.get("since"):
            tombstones = tombstones.filter(at__gt=since)
        page = self.paginate_queryset(tombstones)
        return self.get_paginated_response(TombstoneSerializer(page, many=True).data)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A download answers its file whatever the client accepts (`Accept: image/png` included);
        # only its errors go through a renderer, the JSON one.
        download = self.action == "attachment" and request.method in SAFE_METHODS
        return super().perform_content_negotiation(request, force=force or download)

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """Attach a file (multipart, field `file`): the city's officers, while the practice is a draft or returned."""
        practice = self.get_object()
        upload = AttachmentUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        attachment = services.add_attachment(
            practice=practice, by=_person(request), upload=upload.validated_data["file"]
        )
        return Response(
            AttachmentSerializer(attachment, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["GET"],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            404: OpenApiResponse(description="No such file, or the practice is out of sight."),
        },
    )
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(
        detail=True, methods=["get", "delete"], url_path=r"attachments/(?P<attachment_pk>[0-9]+)", filter_backends=[]
    )
    def attachment(self, request: Request, pk: str | None = None, attachment_pk: str | None = None) -> Any:
        """GET: the file as a download, for whoever sees the practice. DELETE: remove it (as attaching)."""
        practice = self.get_object()
        attachment = get_object_or_404(PracticeAttachment, pk=attachment_pk, practice=practice)
        if request.method == "DELETE":
            services.remove_attachment(attachment=attachment, by=_person(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        response: FileResponse = uploads.download(attachment.file, filename=attachment.download_stem)
        return response

    def _records(self) -> Iterator[dict[str, Any]]:
        return exports.records(self.filter_queryset(self.get_queryset()), self.get_serializer_context())

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=False, methods=["get"], url_path="export/csv", pagination_class=None, throttle_scope="export")
    def export_csv(self, request: Request) -> StreamingHttpResponse:
        """Every practice of the current filter as CSV, streamed (indicators as a JSON list in one column)."""
        response = StreamingHttpResponse(exports.csv_lines(self._records()), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="practices.csv"'
        return response

    @extend_schema(responses={(200, "application/json"): PracticeSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="export/json", pagination_class=None, throttle_scope="export")
    def export_json(self, request: Request) -> StreamingHttpResponse:
        """Every practice of the current filter as one JSON array, streamed."""
        response = StreamingHttpResponse(exports.json_chunks(self._records()), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="practices.json"'
        return response


def _make_move(practice: Any, move: str, by: Any, data: dict[str, Any]) -> services.MoveResult:
    return services.make_move(practice=practice, move=move, by=by, **data)


# One POST endpoint per move a person makes, named after the move: /practices/{id}/<move>/.
for _move in permissions.MOVE_PERMISSIONS:
    setattr(
        PracticeViewSet,
        str(_move),
        move_action(
            str(_move),
            noun="practice",
            request_serializer=PracticeMoveSerializer,
            detail_serializer=PracticeDetailSerializer,
            make_move=_make_move,
        ),
    )
