"""The API endpoint of a workflow move, shared by the agreements and practices APIs.

`POST /<objects>/{id}/<move>/` validates its body, calls the app's `make_move`
service and answers the object, with a `Move-Outcome` header that tells a fresh
move (`done`) from a repeated request that found it made (`already-done`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

MOVE_OUTCOME_HEADER = "Move-Outcome"
MOVE_OUTCOME = OpenApiParameter(
    MOVE_OUTCOME_HEADER,
    location=OpenApiParameter.HEADER,
    response=True,
    enum=["done", "already-done"],
    description="`done`: this request made the move; `already-done`: it was made before and nothing changed.",
)

# (the object, the move, the person, the validated body) → the service's result, which has `.repeated`.
MakeMove = Callable[[Any, str, Any, dict[str, Any]], Any]


def move_action(
    move: str,
    *,
    noun: str,
    request_serializer: type[Serializer[Any]],
    detail_serializer: type[Serializer[Any]],
    make_move: MakeMove,
    multipart: bool = False,
) -> Callable[..., Response]:
    """The viewset method for `move`; the viewset provides `get_object()` and `_detail(pk)`.

    `multipart`: the body is documented as a multipart form only (a move that uploads a file).
    """

    def handler(self: Any, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        serializer = request_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Writes need IsAuthenticated and API keys are read-only: here the user is a person.
        result = make_move(obj, move, request.user, dict(serializer.validated_data))
        response = cast(Response, self._detail(obj.pk))
        response[MOVE_OUTCOME_HEADER] = "already-done" if result.repeated else "done"
        return response

    # The router maps POST to the method by this name, so it is set before @action reads it.
    handler.__name__ = handler.__qualname__ = move
    handler.__doc__ = f"{move.capitalize()} the {noun} (see the lifecycle above)."
    with_action = action(detail=True, methods=["post"], url_path=move, url_name=move)(handler)
    request_schema: Any = {"multipart/form-data": request_serializer} if multipart else request_serializer
    return extend_schema(request=request_schema, responses=detail_serializer, parameters=[MOVE_OUTCOME])(with_action)
