"""Training is accredited for a certification programme: the provider chooses which one
it prepares for, maps it to that programme's framework, and the public register says so
and filters by it."""

from __future__ import annotations

from flask import Flask

from tests.accreditation.fixtures import AccreditationWorld, client_as, complete_content
from tests.conftest import post_form

LADDER_CODES = ["REL.SK.CORE.01", "REL.SK.CORE.02", "ADO.SK.CORE.01"]


def test_a_provider_maps_training_to_the_programme_it_prepares_for(
    app: Flask, accreditation: AccreditationWorld, ladder: None
) -> None:
    world = accreditation
    content = {
        "title": "Contributor bootcamp",
        "mapping": {c: {"module": "M1"} for c in LADDER_CODES},
    }
    created = world.call(
        "POST", "/applications", "pia", {"content": content, "programme": "cscm-contributor"}, 201
    ).get_json()
    assert created["programme"] == "cscm-contributor"
    areas = [area["area"] for area in created["coverage"]]
    assert "REL.SK.CORE" in areas and not any(a.startswith("CU.") for a in areas)

    # First Level codes belong to another framework than the one chosen.
    wrong = complete_content(world.leaves())
    refused = world.call(
        "POST", "/applications", "pia", {"content": wrong, "programme": "cscm-contributor"}, 422
    ).get_json()
    assert refused["errors"][0]["field"].startswith("mapping.")
    unknown = world.call(
        "POST", "/applications", "pia", {"content": content, "programme": "level-9"}, 422
    ).get_json()
    assert unknown["errors"] == [{"field": "programme", "message": "Unknown programme."}]
    assert "cscm-contributor" in unknown["detail"]

    # In the browser the provider picks it when starting the application.
    pia = client_as(app, "pia")
    home = pia.get("/provider").get_data(as_text=True)
    assert '<option value="cscm-contributor">CSCM Contributor (sample)</option>' in home
    started = post_form(
        pia, "/provider", "/provider/applications", {"title": "Second", "programme": "cscm-senior"}
    )
    assert started.status_code == 302
    new_id = started.headers["Location"].split("/applications/")[1].split("/")[0]
    assert world.call("GET", f"/applications/{new_id}", "pia").get_json()["programme"] == (
        "cscm-senior"
    )


def test_the_register_names_and_filters_by_the_programme_prepared_for(
    app: Flask, accreditation: AccreditationWorld, ladder: None
) -> None:
    world = accreditation
    application_id = world.recommended()
    world.step(application_id, "lena", "accredit", comment="Accredited.")
    entries = world.client.get("/api/v1/register").get_json()["entries"]
    assert [e["prepares_for"] for e in entries] == ["first-level"]
    assert (
        world.client.get("/api/v1/register?programme=cscm-contributor").get_json()["entries"] == []
    )
    page = app.test_client().get("/register?programme=first-level").get_data(as_text=True)
    assert "<td>CSM Competency Standard: First Level</td>" in page
    assert '<option value="first-level" selected>' in page
    assert "1 programme found" in page
    other = app.test_client().get("/register?programme=cscm-senior").get_data(as_text=True)
    assert "0 programmes found" in other
