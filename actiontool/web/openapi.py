"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json.

Written by hand next to the contract (DESIGN.md, the lookup and count issues), and checked against
the live API by tests/test_openapi.py (every documented response matches its schema; generated
requests never get a 5xx).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_STRING = {"type": "string"}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": _STRING, "message": _STRING},
        }
    },
}
_MEMBER = {
    "type": "object",
    "required": ["bioguide", "name", "first_name", "last_name", "title", "party", "state", "district",
                 "phone", "url", "contact_form", "office_address"],
    "properties": {
        "bioguide": {"type": "string", "pattern": "^[A-Z][0-9]{6}$"},
        "name": _STRING,
        "first_name": _STRING,
        "last_name": _STRING,
        "title": {"enum": ["Representative", "Senator", "Delegate", "Resident Commissioner"]},
        "party": _nullable(_STRING),
        "state": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "district": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}],
                     "description": "null for senators; 0 for at-large and non-voting seats"},
        "phone": _nullable(_STRING),
        "url": _nullable(_STRING),
        "contact_form": _nullable(_STRING),
        "office_address": _nullable(_STRING),
    },
}
_DISTRICT = {
    "type": "object",
    "required": ["state", "district", "label", "member"],
    "properties": {
        "state": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "district": {"type": "integer", "minimum": 0},
        "label": {"type": "string", "pattern": "^[A-Z]{2}-([0-9]+|AL)$", "examples": ["WI-3", "AK-AL"]},
        "member": {"anyOf": [{"$ref": "#/components/schemas/Member"}, {"type": "null"}],
                   "description": "null when the seat is vacant"},
    },
}
_LOOKUP = {
    "type": "object",
    "required": ["query", "status", "city", "state", "districts", "senators", "data"],
    "properties": {
        "query": {"type": "object", "description": "the normalised query: {zip} or {lat, lon}"},
        "status": {"enum": ["exact", "ambiguous", "approximate"],
                   "description": "ambiguous: several candidate districts, none picked"},
        "city": _nullable(_STRING),
        "state": _nullable(_STRING),
        "districts": {"type": "array", "items": {"$ref": "#/components/schemas/District"}},
        "senators": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
        "near_boundary": {"type": "boolean"},
        "basis": _STRING,
        "data": {
            "type": "object",
            "required": ["as_of", "congress"],
            "properties": {"as_of": {"type": "string", "format": "date"}, "congress": {"type": "integer"}},
        },
    },
}
_COUNT_MEANINGS = {
    "written": "Letters written: every message except failed ones, whatever became of it since.",
    "sent": "Letters sent to offices: delivered by a channel or the organization, or handed off (the "
            "constituent says they sent it themselves).",
    "delivered": "Letters delivered: a channel (e-mail, CWC) or an office packet delivered it.",
}
_COUNT = {
    "type": "object",
    "required": ["messages", "written", "sent", "delivered", "actions", "goal", "counter", "updated_at"],
    "properties": {
        "messages": {"type": "integer", "minimum": 0,
                     "description": "The written count, under the name existing embeds read"},
        **{name: {"type": "integer", "minimum": 0, "description": text}
           for name, text in _COUNT_MEANINGS.items()},
        "actions": {"type": "integer", "minimum": 0,
                    "description": "Submissions: one constituent's letters to their members are one action"},
        "goal": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        "counter": {
            "type": "object",
            "description": "What the campaign's own counter shows, as its campaign file chooses",
            "required": ["show", "value", "visible"],
            "properties": {
                "show": {"enum": ["written", "sent"]},
                "value": {"type": "integer", "minimum": 0, "description": "The chosen count"},
                "visible": {"type": "boolean",
                            "description": "false while the count is below the campaign's minimum: "
                                           "the campaign page and the embed then show no counter"},
            },
        },
        "ref": {"type": "string", "description": "The source asked for with ?ref=; the counts are its own"},
        "updated_at": _nullable({"type": "string", "format": "date-time"}),
    },
}
def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


_LIMITED = _error("Too many requests from this address; see the Retry-After header")

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "actiontool API",
        "version": "1",
        "description": "ZIP or point -> members of Congress from the bundled dataset, and public "
                       "campaign counters. Errors are {\"error\": {\"code\", \"message\"}}.",
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/v1/lookup": {
            "get": {
                "operationId": "lookup",
                "summary": "Members of Congress for a ZIP code, or for a point",
                "description": "Give either `zip`, or both `lat` and `lon`.",
                "parameters": [
                    {"name": "zip", "in": "query", "required": False,
                     "schema": {"type": "string", "examples": ["53703", "53811-1234"]}},
                    # Numbers in range, as the API parses them: an empty `lat=` is no number (issue 13).
                    {"name": "lat", "in": "query", "required": False,
                     "schema": {"type": "number", "minimum": -90, "maximum": 90, "examples": [43.07]}},
                    {"name": "lon", "in": "query", "required": False,
                     "schema": {"type": "number", "minimum": -180, "maximum": 180, "examples": [-89.4]}},
                ],
                "responses": {
                    "200": _json("Lookup", "The members for the ZIP or point"),
                    "400": _error("Invalid input (code invalid_zip or invalid_point)"),
                    "404": _error("A well-formed ZIP or a point that no district covers (code not_found)"),
                    "429": _LIMITED,
                },
            }
        },
        "/api/v1/campaigns/{slug}/count": {
            "get": {
                "operationId": "campaignCount",
                "summary": "A campaign's public counter, or one source's",
                "description": "Counts have one meaning each: written (all but failed), sent (delivered or "
                               "handed off), delivered. A letter is delivered by a channel (smtp: e-mail; "
                               "cwc: the House's Communicating with Congress system) or by the organization "
                               "itself (packet: an office packet an organizer marked delivered; packets and "
                               "office reports are organizer pages, not part of this API); handed off when "
                               "the constituent said they sent it (handoff). With `ref`, the counts are "
                               "those of that source.",
                "parameters": [{"name": "slug", "in": "path", "required": True,
                                "schema": {"type": "string", "examples": ["detect-and-defeat"]}},
                               {"name": "ref", "in": "query", "required": False,
                                "schema": {"type": "string", "examples": ["ohio-parents"]}}],
                "responses": {
                    "200": _json("Count", "Letters written, sent and delivered, actions, and the goal"),
                    "400": _error("A ref that is not 1 to 64 letters, digits, dashes or underscores "
                                  "(code invalid_ref)"),
                    "404": _error("No public campaign has this slug"),
                    "429": _LIMITED,
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description",
                "responses": {"200": {"description": "The OpenAPI document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }
        },
    },
    "components": {
        "schemas": {"Error": _ERROR, "Member": _MEMBER, "District": _DISTRICT, "Lookup": _LOOKUP,
                    "Count": _COUNT},
    },
}


@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI description of the JSON API."""
    return jsonify(SPEC)
