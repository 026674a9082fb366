"""GET /api/v1/lookup: 200 with the Lookup JSON, 400 invalid, 404 not found, one error shape."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

# These tests hold the API to the shipped data, not to the web tests' tiny dataset.
pytestmark = pytest.mark.bundled_data

MEMBER_KEYS = {"bioguide", "name", "first_name", "last_name", "title", "party", "state", "district", "phone",
               "url", "contact_form", "office_address"}


def test_a_zip_returns_the_lookup(client: FlaskClient) -> None:
    response = client.get("/api/v1/lookup?zip=10001")
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == {"zip": "10001"}
    assert body["status"] == "ambiguous"
    assert (body["city"], body["state"]) == ("New York", "NY")
    assert [d["label"] for d in body["districts"]] == ["NY-10", "NY-12"]
    assert all(set(d) == {"state", "district", "label", "member"} for d in body["districts"])
    assert all(set(d["member"]) == MEMBER_KEYS for d in body["districts"])
    assert all(set(s) == MEMBER_KEYS and s["district"] is None for s in body["senators"])
    assert body["data"] == {"as_of": "2026-06-15", "congress": 119}


def test_zip_plus_four_is_accepted(client: FlaskClient) -> None:
    assert client.get("/api/v1/lookup?zip=99501-1234").get_json()["districts"][0]["label"] == "AK-AL"


def test_a_point_returns_the_lookup(client: FlaskClient) -> None:
    response = client.get("/api/v1/lookup?lat=43.0747&lon=-89.3841")
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == {"lat": 43.0747, "lon": -89.3841}
    assert body["districts"][0]["label"] == "WI-2"


@pytest.mark.parametrize(
    ("query", "code"),
    [("zip=1234", "invalid_zip"), ("zip=", "invalid_zip"), ("", "invalid_zip"),
     ("zip=10001&lat=1&lon=2", "invalid_zip"), ("lat=abc&lon=1", "invalid_point"),
     ("lat=100&lon=1", "invalid_point"), ("lat=40", "invalid_point")],
)
def test_invalid_input_is_400_with_the_error_shape(client: FlaskClient, query: str, code: str) -> None:
    response = client.get(f"/api/v1/lookup?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize("query", ["zip=00000", "lat=0&lon=0"])
def test_not_found_is_404_with_the_error_shape(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/lookup?{query}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_app_uses_its_configured_data_dir(app_config: dict, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from actiontool import create_app

    app_config["DATA_DIR"] = str(tmp_path)  # an empty folder: loading it must fail loudly, not fall back
    app = create_app(app_config)
    from actiontool import registry
    from actiontool.districts import DataError

    with pytest.raises(DataError):
        registry.dataset(app)


def test_the_api_answers_from_the_configured_data_dir(app_config: dict, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from districts.tiny import build_tiny, write_inputs

    from actiontool import create_app

    build_tiny(write_inputs(tmp_path / "in"), tmp_path / "data")
    app_config["DATA_DIR"] = str(tmp_path / "data")
    body = create_app(app_config).test_client().get("/api/v1/lookup?zip=53003").get_json()
    assert body["districts"] == [{"state": "WI", "district": 3, "label": "WI-3", "member": None}]
