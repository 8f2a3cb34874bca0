"""The OpenAPI schema tells every answer an operation can give, not only the happy one.

drf-spectacular documents what a view's serializer returns. This AutoSchema adds, to every
operation, the error answers the portal's shared machinery produces, each with its body:

- 400 for a body that fails validation (field errors) or a filter with a bad value;
- 401 for an unknown, revoked or expired API key, and for a write without a session;
- 403 for a write with an API key (read-only) or by a person who may not make it;
- 404 for an object out of sight (every operation with an id in its path);
- 409 for an action the object's status does not allow (the view's `conflict_actions`);
- 413 for a body over the size limit (sco_portal/middleware.py);
- 414 for a path and query longer than gunicorn reads (an HTML page, from gunicorn itself);
- 429 over the rate (sco_portal/throttling.py), with `Retry-After`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from rest_framework import serializers

from sco_portal.filters import LARGEST_ID, IdFilter

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, for a person to read."}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Field errors: each field that was refused, with its messages (`non_field_errors` for the "
        "body as a whole); or `detail` alone when the body could not be read."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string"},
            {"type": "object"},
            {"type": "array", "items": {"type": "object"}},
        ]
    },
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Text as DRF's CharField takes it: no NUL, and something left once the ends are trimmed (all
# spaces is blank). drf-spectacular offers a field that may be blank the empty string as a
# second, separate choice (oneOf), which must not match this one too.
NO_NUL = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _response(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


class AutoSchema(BaseAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        filterset = getattr(self.view, "filterset_class", None)
        if operation is None or filterset is None:
            return operation
        # An id filter takes 1 to the largest 64-bit id (sco_portal/filters.py), and says so; any
        # other number filter (a population bound) takes decimals too.
        for parameter in operation.get("parameters", []):
            query_filter = filterset.base_filters.get(parameter["name"])
            if isinstance(query_filter, IdFilter):
                parameter["schema"].update({"minimum": 1, "maximum": LARGEST_ID})
            elif isinstance(query_filter, django_filters.NumberFilter):
                # With the bounds the filter checks (a goal 1–17, a year 1950–2100).
                bounds = {
                    "minimum": query_filter.extra.get("min_value"),
                    "maximum": query_filter.extra.get("max_value"),
                }
                parameter["schema"] = {
                    "type": "number",
                    **{name: value for name, value in bounds.items() if value is not None},
                }
        return operation

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] | None = super()._map_serializer_field(field, direction, bypass_extensions)
        if not schema:
            return schema  # type: ignore[return-value]
        # Text takes no NUL character (DRF's CharField refuses it, as PostgreSQL would).
        plain_text = not ({"pattern", "format", "enum"} & set(schema))
        if isinstance(field, serializers.CharField) and schema.get("type") == "string" and plain_text:
            schema["pattern"] = NO_NUL
        # A list of related ids that may not be empty (a practice's topics) says so.
        if isinstance(field, serializers.ManyRelatedField) and not field.allow_empty and schema.get("type") == "array":
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema

    def get_auth(self) -> list[dict[str, Any]]:
        # Reading is public (accounts.authentication.APIKeyReadOnly): a read needs no key and
        # no session, which the schema says with an empty requirement beside the others.
        auth: list[dict[str, Any]] = super().get_auth()
        if self.method in ("GET", "HEAD") and {} not in auth:
            auth.append({})
        return auth

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/") or self.path.endswith(("/schema/", "/docs/")):
            return responses
        errors: dict[str, dict[str, Any]] = {}
        writes = self.method in WRITE_METHODS
        # A GET refuses bad parameters where a filter set or a serializer of its query validates them.
        filters = self.method == "GET" and bool(
            getattr(self.view, "filterset_class", None) or getattr(self.view, "query_serializer_class", None)
        )
        if writes or filters:
            errors["400"] = _response("The request's body or parameters were refused.", FIELD_ERRORS)
        errors["401"] = _response(
            "An unknown, revoked or expired API key" + ("; or no session (writes need a person)." if writes else "."),
            DETAIL,
        )
        if writes:
            errors["403"] = _response("An API key (read-only), or a person who may not do this.", DETAIL)
        paged = self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
        if "{" in self.path or paged:
            errors["404"] = _response(
                "No such object, or it is out of the requester's sight; for a list, no such page.", DETAIL
            )
        if writes and getattr(self.view, "action", None) in getattr(self.view, "conflict_actions", ()):
            errors["409"] = _response("The object's current status does not allow this.", DETAIL)
        if writes:
            errors["413"] = _response("The request body is over the size limit.", DETAIL)
        errors["429"] = _response(
            "Too many requests from this client; try again after Retry-After seconds.",
            DETAIL,
            headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
        )
        # gunicorn answers a request line (path and query) over its limit itself, before the portal.
        errors["414"] = {
            "description": "The path and query are longer than the server reads (gunicorn's limit_request_line).",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses
