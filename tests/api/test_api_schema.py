"""schemathesis drives every documented operation through the ASGI app with an admin token:
no 5xx, and every answer (status, content type, headers, body) is the one the spec declares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from api_records import alert
from api_support import Api, database, make_api
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_api(tmp_path_factory: pytest.TempPathFactory, scenario: object) -> Iterator[Api]:
    # One fresh store per test: the fuzzing may revoke any token, the viewer's included.
    tmp: Path = tmp_path_factory.mktemp("schema")
    for db in database("sqlite", tmp):
        api = make_api(db, scenario, stream_poll_s=0.05)  # type: ignore[arg-type]
        api.services.writer.write(alerts=[alert("T1"), alert("T2")])  # type: ignore[union-attr]
        yield api


def test_every_operation_answers_as_documented(admin_api: Api) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/api/openapi.json", admin_api.app, headers=admin_api.headers("admin")
    )
    headers = admin_api.headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)  # fmt: skip
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()


def test_the_spec_declares_the_error_answers(admin_api: Api) -> None:
    spec = admin_api.client.get("/api/openapi.json", headers=admin_api.headers("viewer")).json()
    transitions = spec["paths"]["/api/incidents/{incident_id}/transitions"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(transitions)
    ingest = spec["paths"]["/api/ingest/detections"]["post"]["responses"]
    assert "Retry-After" in ingest["429"]["headers"]
    assert "/api/health" in spec["paths"] and "/api/openapi.json" not in spec["paths"]
    assert admin_api.client.get("/api/openapi.json").status_code == 401
