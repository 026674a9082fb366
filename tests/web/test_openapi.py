"""The OpenAPI description matches the live JSON API, and generated requests never get a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from actiontool.web.openapi import SPEC

# These tests hold the API to the shipped data, not to the web tests' tiny dataset.
pytestmark = pytest.mark.bundled_data

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


OPERATIONS = ["GET /api/v1/lookup", "GET /api/v1/campaigns/{slug}/count", "GET /api/v1/openapi.json"]


@pytest.mark.parametrize("label", OPERATIONS)
def test_generated_requests_get_documented_answers_and_no_server_error(app: Flask, label: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}
    if label not in operations:  # schemathesis skips operations it has nothing to generate for
        response = app.test_client().get(label.split(" ", 1)[1])
        assert response.status_code == 200
        return
    strategy = operations[label].as_strategy()

    @given(data=st.data())
    @settings(max_examples=80, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        case.call_and_validate(checks=CHECKS)

    run()


def test_the_description_covers_lookup_count_and_itself(client: Any) -> None:
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == SPEC
    assert served["openapi"].startswith("3.")
    assert set(op.split(" ", 1)[1] for op in OPERATIONS) <= set(served["paths"])


@pytest.mark.parametrize("url,status,schema_name", [
    ("/api/v1/lookup?zip=53703", 200, "Lookup"),
    ("/api/v1/lookup?zip=99501", 200, "Lookup"),
    ("/api/v1/lookup?zip=not-a-zip", 400, "Error"),
    ("/api/v1/lookup?zip=00000", 404, "Error"),
    ("/api/v1/campaigns/detect-and-defeat/count", 200, "Count"),
    ("/api/v1/campaigns/detect-and-defeat/count?ref=ohio-parents", 200, "Count"),
    ("/api/v1/campaigns/detect-and-defeat/count?ref=not%20a%20ref", 400, "Error"),
    ("/api/v1/campaigns/no-such-campaign/count", 404, "Error"),
])
def test_known_answers_match_their_documented_schema(client: Any, url: str, status: int,
                                                     schema_name: str) -> None:
    from jsonschema_rs import Draft202012Validator

    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    root = {"$defs": SPEC["components"]["schemas"], **SPEC["components"]["schemas"][schema_name]}
    text = __import__("json").dumps(root).replace("#/components/schemas/", "#/$defs/")
    Draft202012Validator(__import__("json").loads(text)).validate(response.get_json())


def _documented_number(schema: dict[str, Any], text: str) -> bool:
    """Return True when the OpenAPI schema of a number parameter allows the query-string `text`."""
    import math

    assert schema["type"] == "number"
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and schema["minimum"] <= value <= schema["maximum"]


@pytest.mark.parametrize("text", ["", " ", "abc", "91", "-90.0001", "90", "-90", "43.07", "1e2", "nan",
                                  "inf", "181", "-180", "0"])
def test_the_documented_point_parameters_match_what_the_api_accepts(client: Any, text: str) -> None:
    """Issue 13: the description allowed an empty `lat=` that the API refused."""
    params = {p["name"]: p["schema"] for p in SPEC["paths"]["/api/v1/lookup"]["get"]["parameters"]}
    for name, other, value in (("lat", "lon", "-89.4"), ("lon", "lat", "43.07")):
        response = client.get("/api/v1/lookup", query_string={name: text, other: value})
        refused = response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_point"
        assert refused != _documented_number(params[name], text), (name, text, response.get_json())


def test_a_json_405_keeps_the_allow_header(client: Any) -> None:
    response = client.post("/api/v1/lookup?zip=53703")
    assert response.status_code == 405 and response.is_json
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
    page = client.post("/")  # the HTML error page keeps it too
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
