"""The OpenAPI schema documents every answer an operation can give, and validates."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command

MOVES = [
    "accept",
    "approve",
    "decline",
    "propose",
    "reject",
    "renew",
    "resume",
    "sign",
    "suspend",
    "terminate",
    "withdraw",
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    output = StringIO()
    # --fail-on-warn: a warning from drf-spectacular (an unresolvable field, say) fails here.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    return yaml.safe_load(output.getvalue())


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_documents_unknown_keys_and_throttling_with_bodies(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        for code in ("401", "429"):
            assert code in operation["responses"], (method, path, code)
            assert operation["responses"][code]["content"]["application/json"]["schema"], (method, path, code)
        assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)


def test_writes_document_refusals_and_ids_document_not_found(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        codes = set(operation["responses"])
        if method in ("POST", "PATCH"):
            assert {"400", "401", "403", "413"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)


def test_each_move_documents_conflict_and_its_own_request(schema: dict[str, Any]) -> None:
    bodies = {}
    for move in MOVES:
        operation = schema["paths"][f"/api/v1/agreements/{{id}}/{move}/"]["post"]
        assert "409" in operation["responses"], move
        bodies[move] = operation["requestBody"]["content"]
    sign = bodies["sign"]
    assert list(sign) == ["multipart/form-data"]
    sign_schema = schema["components"]["schemas"][sign["multipart/form-data"]["schema"]["$ref"].split("/")[-1]]
    assert sign_schema["properties"]["memorandum"]["format"] == "binary"
    assert set(sign_schema["required"]) == {"signed_on", "memorandum"}
    renew = bodies["renew"]["application/json"]["schema"]["$ref"]
    approve = bodies["approve"]["application/json"]["schema"]["$ref"]
    plain = bodies["accept"]["application/json"]["schema"]["$ref"]
    assert len({renew, approve, plain}) == 3


def test_nullable_fields_are_nullable(schema: dict[str, Any]) -> None:
    agreement = schema["components"]["schemas"]["AgreementDetail"]["properties"]
    for field in ("memorandum", "start_date", "end_date", "signed_on", "last_activity_on", "renewal_end_date"):
        assert agreement[field].get("nullable") is True, field
    transition = schema["components"]["schemas"]["Transition"]["properties"]
    assert transition["actor"]["nullable"] is True


def test_fixed_choice_filters_are_enums_and_unpaged_actions_are_not_paged(schema: dict[str, Any]) -> None:
    listing = schema["paths"]["/api/v1/agreements/"]["get"]
    status = next(parameter for parameter in listing["parameters"] if parameter["name"] == "status")
    assert "enum" in status["schema"] or "$ref" in status["schema"]
    activities = schema["paths"]["/api/v1/agreements/{id}/activities/"]["get"]
    assert {parameter["name"] for parameter in activities["parameters"]} == {"id"}
    assert activities["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
