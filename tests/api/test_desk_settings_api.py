"""The desk's settings as agents and admins read them, and the API's own documentation."""

from __future__ import annotations

API = "/api/v1"


def test_business_hours_and_sla_policies_come_from_the_config(client, people):
    auth = people["agent"].auth

    hours = client.get(f"{API}/settings/hours", headers=auth).json()
    sla = client.get(f"{API}/settings/sla", headers=auth).json()

    assert hours[0]["name"] == "default"
    assert (hours[0]["opens"], hours[0]["closes"]) == ("09:00", "18:00")
    assert hours[0]["workdays"] == [0, 1, 2, 3, 4]
    assert {p["priority"] for p in sla} == {"urgent", "high", "normal", "low"}


def test_templates_show_the_built_in_text_in_both_languages(client, people):
    rows = client.get(f"{API}/settings/templates", headers=people["agent"].auth).json()

    found = {(t["language"], t["name"]): t for t in rows}
    assert found[("zh", "acknowledgement")]["source"] == "default"
    assert "$request_id" in found[("en", "acknowledgement")]["text"]


def test_the_knowledge_base_answers_even_when_it_has_no_entries(client, people):
    body = client.get(f"{API}/settings/knowledge", headers=people["agent"].auth).json()

    assert set(body) == {"enabled", "directory", "thresholds", "entries", "error"}
    assert isinstance(body["entries"], list)


def test_the_openapi_document_describes_both_ways_to_sign_in(client):
    document = client.get(f"{API}/openapi.json").json()
    docs = client.get("/docs")

    assert docs.status_code == 200
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyCookie"]["name"] == "omnidesk_session"
    reply = document["paths"]["/api/v1/requests/{request_id}/reply"]["post"]
    assert {"HTTPBearer": []} in reply["security"]
    assert "409" in reply["responses"]
