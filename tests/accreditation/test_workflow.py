"""The accreditation workflow through the API: drafts, completeness, the steps and who
may take them, version checks, the clock, decisions, conditions and appeals."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from accreditation.models import Application
from core.db import get_db
from core.mail import OutboxMessage
from tests.accreditation.fixtures import (
    PDF,
    AccreditationWorld,
    complete_content,
    draft_with_document,
    upload_pdf,
)
from tests.certificates.fixtures import all_certificates, passed_attempt
from tests.conftest import sign_in


def test_a_draft_saves_incomplete_and_submitting_names_what_is_missing(
    accreditation: AccreditationWorld,
) -> None:
    world = accreditation
    draft = world.call(
        "POST", "/applications", "pia", {"content": {"title": "Half a programme"}}, 201
    ).get_json()
    assert draft["state"] == "draft" and draft["version"] == 1
    refused = world.step(draft["id"], "pia", "submit", expect=422).get_json()
    fields = {error["field"] for error in refused["errors"]}
    assert {"description", "delivery_mode", "trainers", "mapping", "documents",
            "declaration_accepted"} <= fields  # fmt: skip
    assert "competencies have neither a module nor a reason" in refused["detail"]
    after = world.call("GET", f"/applications/{draft['id']}", "pia").get_json()
    assert after["state"] == "draft" and after["version"] == 1  # nothing changed


def test_coverage_per_area_and_unknown_competencies(accreditation: AccreditationWorld) -> None:
    world = accreditation
    leaves = world.leaves()
    content = complete_content(leaves, uncovered=0)
    content["mapping"]["XX.NOPE.01"] = {"module": "M", "minutes": 5, "outcome": "o"}
    bad = world.call("POST", "/applications", "pia", {"content": content}, 422).get_json()
    assert bad["errors"][0]["field"] == "mapping.XX.NOPE.01"
    application_id = draft_with_document(world, uncovered=len(leaves) // 2)
    coverage = world.call("GET", f"/applications/{application_id}", "pia").get_json()["coverage"]
    assert sum(area["competencies"] for area in coverage) == len(leaves)
    assert sum(area["covered"] for area in coverage) == len(leaves) - len(leaves) // 2
    percent = {area["area"]: area["percent"] for area in coverage}
    assert percent["CO.KN.CON"] == 0 and percent["CU.SK.PTM"] == 100
    assert [area["area"] for area in coverage][:2] == ["CU.SK.COMM", "CU.SK.CINT"]  # as written


def test_providers_see_only_their_own_applications(accreditation: AccreditationWorld) -> None:
    world = accreditation
    application_id = draft_with_document(world)
    assert world.call("GET", f"/applications/{application_id}", "paul").status_code == 200
    for who in ("rival", "asa"):  # another provider; an assessor not assigned to it
        assert world.call("GET", f"/applications/{application_id}", who, expect=404)
    world.call("GET", "/applications/999999", "pia", expect=404)


def test_the_whole_path_to_the_register(accreditation: AccreditationWorld, app: Flask) -> None:
    world = accreditation
    application_id = world.to_review()
    asked = world.step(
        application_id, "asa", "request_clarification",
        comment="How are trainers observed?", due_on=str(world.clock.now().date() + timedelta(days=10)),
    ).get_json()  # fmt: skip
    assert asked["state"] == "clarification_requested"
    world.step(application_id, "pia", "answer", comment="Twice a year, by a senior trainer.")
    world.step(
        application_id, "asa", "recommend", comment="Meets the standard.", recommendation="accredit",
        judgements={c: "meets" for c in
                    ("coverage", "trainers", "learner_assessment", "materials", "quality_assurance")},
    )  # fmt: skip
    done = world.step(application_id, "lena", "accredit", comment="Accredited for three years.")
    body = done.get_json()
    assert body["state"] == "accredited"
    assert body["accreditation_number"] == f"CSA-AP-{world.clock.now().year}-0001"
    assert body["accredited_until"] == str(
        world.clock.now().date().replace(year=world.clock.now().year + 3)
    )
    register = world.client.get("/api/v1/register").get_json()
    [entry] = register["entries"]
    assert entry["accreditation_number"] == body["accreditation_number"]
    assert entry["provider"] == "Northwind Learning Ltd" and entry["status"] == "Accredited"
    assert world.client.get("/api/v1/register?country=DE").get_json()["total"] == 0
    with get_db(app).read_sessions() as session:
        subjects = list(session.scalars(select(OutboxMessage.subject)))
    assert any("Accredit" in subject for subject in subjects)
    assert any("Ask the provider" in subject for subject in subjects)


def test_only_the_allowed_role_takes_each_step(accreditation: AccreditationWorld) -> None:
    world = accreditation
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    refused = world.step(application_id, "asa", "screen", expect=404)  # cannot even see it
    refused = world.step(application_id, "pia", "screen", expect=409).get_json()
    assert refused["allowed_steps"] == ["withdraw"] and refused["state"] == "submitted"
    world.step(application_id, "lena", "screen")
    world.step(application_id, "lena", "assign", assessor_id=world.id("asa"))
    # The assessor must declare before the file opens to them.
    closed = world.call("GET", f"/applications/{application_id}", "asa").get_json()
    assert "content" not in closed and closed["allowed_steps"] == ["declare"]
    world.step(application_id, "asa", "recommend", expect=409)
    world.step(application_id, "asa", "declare", has_conflict=False)
    assert "content" in world.call("GET", f"/applications/{application_id}", "asa").get_json()


def test_a_declared_conflict_blocks_the_assessor(accreditation: AccreditationWorld) -> None:
    world = accreditation
    application_id = world.screened()
    world.step(application_id, "lena", "assign", assessor_id=world.id("asa"))
    back = world.step(application_id, "asa", "declare", has_conflict=True, comment="Ex-employer.")
    assert back.get_json()["state"] == "screening" and back.get_json()["assessor_id"] is None
    world.call("GET", f"/applications/{application_id}", "asa", expect=404)


def test_the_assessor_cannot_decide_and_the_decider_is_another_lead(
    accreditation: AccreditationWorld,
) -> None:
    world = accreditation
    application_id = world.recommended()
    # An assessor who is also a lead still may not decide what they assessed.
    world.make_lead_and_assessor("asa")
    refused = world.step(application_id, "asa", "accredit", comment="Me.", expect=409).get_json()
    assert "accredit" not in refused["allowed_steps"]
    world.step(application_id, "leo", "refuse", comment="Materials are not adequate.")


def test_two_staff_at_once_one_wins_the_other_gets_409(accreditation: AccreditationWorld) -> None:
    world = accreditation
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    version = world.call("GET", f"/applications/{application_id}", "lena").get_json()["version"]
    first = world.call(
        "POST", f"/applications/{application_id}/transitions", "lena",
        {"action": "screen", "version": version}, 200,
    )  # fmt: skip
    second = world.call(
        "POST", f"/applications/{application_id}/transitions", "leo",
        {"action": "screen", "version": version}, 409,
    ).get_json()  # fmt: skip
    assert first.get_json()["state"] == "screening" and second["title"] in (
        "Step not allowed",
        "Changed meanwhile",
    )
    stale_edit = world.call(
        "PUT", f"/applications/{application_id}", "pia",
        {"content": {"title": "Renamed"}, "version": 1}, 409,
    ).get_json()  # fmt: skip
    assert stale_edit["title"] == "Not editable"


def test_a_stale_draft_save_is_a_409_and_changes_nothing(accreditation: AccreditationWorld) -> None:
    world = accreditation
    draft = world.call(
        "POST", "/applications", "pia", {"content": {"title": "One"}}, 201
    ).get_json()
    world.call("PUT", f"/applications/{draft['id']}", "pia",
               {"content": {"title": "Two"}, "version": 1}, 200)  # fmt: skip
    stale = world.call("PUT", f"/applications/{draft['id']}", "paul",
                       {"content": {"title": "Three"}, "version": 1}, 409).get_json()  # fmt: skip
    assert stale["current_version"] == 2
    assert world.call("GET", f"/applications/{draft['id']}", "pia").get_json()["title"] == "Two"


def test_the_clock_pauses_while_the_file_is_with_the_provider(
    accreditation: AccreditationWorld, app: Flask
) -> None:
    world = accreditation
    world.clock.current = world.clock.current.replace(year=2026, month=11, day=23, hour=9)  # Monday
    world.refresh_tokens("pia", "lena")
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    world.refresh_tokens("pia", "lena")
    world.step(application_id, "lena", "screen")
    world.step(application_id, "lena", "return_incomplete", comment="Add the trainer CVs.")
    world.clock.advance(days=14)  # two weeks with the provider do not count
    world.refresh_tokens("pia", "lena")
    world.step(application_id, "pia", "submit")
    world.clock.advance(days=2)  # Monday + 2 days
    world.refresh_tokens("pia", "lena")
    waiting = world.call("GET", f"/applications/{application_id}", "lena").get_json()
    assert waiting["working_days_waiting"] == 2 and waiting["overdue"] is False
    assert waiting["clock"] == "running"
    world.clock.advance(days=14)
    world.refresh_tokens("pia", "lena")
    late = world.call("GET", f"/applications/{application_id}", "lena").get_json()
    assert late["overdue"] is True
    queue = world.call("GET", "/accreditation/queue", "lena").get_json()
    assert queue["applications"][0]["overdue"] is True and queue["counts"]["screening"] == 0
    assert queue["applications"][0]["working_days_waiting"] == late["working_days_waiting"]


def test_conditions_missed_refuse_and_appeals_go_to_a_lead_who_took_no_part(
    accreditation: AccreditationWorld, app: Flask
) -> None:
    world = accreditation
    application_id = world.recommended()
    due = str(world.clock.now().date() + timedelta(days=30))
    world.step(
        application_id, "lena", "accredit_with_conditions", comment="Accredited on conditions.",
        conditions=[{"text": "Publish the assessment rubric.", "due_on": due}],
    )  # fmt: skip
    world.clock.advance(days=31)
    result = app.test_cli_runner().invoke(args=["accreditation", "daily"])
    assert "1 refused for missed conditions" in result.output, result.output
    world.refresh_tokens("pia", "lena", "lou")
    assert (
        world.call("GET", f"/applications/{application_id}", "pia").get_json()["state"] == "refused"
    )
    world.step(application_id, "pia", "appeal", comment="The rubric was published on day 29.")
    refused = world.step(
        application_id, "lena", "uphold_appeal", comment="x", expect=409
    ).get_json()
    assert refused["allowed_steps"] == []  # lena decided the case
    world.step(application_id, "lou", "uphold_appeal", comment="Evidence shows it was met.")
    with get_db(app).read_sessions() as session:
        assert session.get(Application, application_id).state == "under_review"


def test_renewal_due_expiry_and_reminders(accreditation: AccreditationWorld, app: Flask) -> None:
    world = accreditation
    application_id = world.recommended()
    world.step(application_id, "lena", "accredit", comment="Accredited.")
    runner = app.test_cli_runner()
    world.clock.advance(days=3 * 365 - 89)
    daily = runner.invoke(args=["accreditation", "daily"]).output
    assert "1 renewal(s) due" in daily and "1 reminder(s) queued" in daily
    assert "0 reminder(s)" in runner.invoke(args=["accreditation", "remind"]).output
    world.clock.advance(days=60)
    assert "1 reminder(s)" in runner.invoke(args=["accreditation", "remind"]).output
    world.clock.advance(days=40)
    assert "1 expired" in runner.invoke(args=["accreditation", "daily"]).output
    world.refresh_tokens()
    entry = world.client.get("/api/v1/register").get_json()["entries"][0]
    assert entry["status"] == "Expired"  # shown as such, not hidden


def test_uploads_are_checked_by_content_and_size(
    accreditation: AccreditationWorld, app: Flask
) -> None:
    world = accreditation
    draft = world.call(
        "POST", "/applications", "pia", {"content": {"title": "Docs"}}, 201
    ).get_json()

    def upload(data: bytes, name: str) -> int:
        return int(upload_pdf(world, draft["id"], data, name).status_code)

    assert upload(b"MZ\x90\x00 not a pdf at all", "evil.pdf") == 415
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF"
    assert upload(big, "big.pdf") == 413
    assert world.call("GET", f"/applications/{draft['id']}", "pia").get_json()["documents"] == []
    assert upload(PDF, "../../etc/passwd") == 201
    [stored] = world.call("GET", f"/applications/{draft['id']}", "pia").get_json()["documents"]
    assert stored["filename"] == "passwd.pdf"
    files = list((Path(app.instance_path) / "documents").iterdir())
    assert len(files) == 1 and "static" not in str(files[0])


def test_two_leads_racing_on_one_version_one_wins(accreditation: AccreditationWorld) -> None:
    """Both read version N, both send at the same moment: one screens it, the other gets
    a 409, on SQLite (write lock) and PostgreSQL (row lock) alike."""
    world = accreditation
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    version = world.call("GET", f"/applications/{application_id}", "lena").get_json()["version"]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def act(who: str) -> None:
        client = world.app.test_client()
        start.wait()
        response = client.post(
            f"/api/v1/applications/{application_id}/transitions",
            json={"action": "screen", "version": version},
            headers=world.people[who]["headers"],
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=act, args=(who,)) for who in ("lena", "leo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    final = world.call("GET", f"/applications/{application_id}", "lena").get_json()
    assert final["version"] == version + 1


def test_a_trainer_holding_our_certificate_is_verified(
    accreditation: AccreditationWorld, world
) -> None:
    passed_attempt(accreditation.app, world)
    [certificate] = all_certificates(accreditation.app)
    holder = f"{certificate.holder_given_name} {certificate.holder_family_name}"
    content = complete_content(
        accreditation.leaves(),
        trainers=[
            {"name": holder, "certificate_code": certificate.code.lower()},
            {"name": "Ivan Impostor", "certificate_code": certificate.code},
        ],
    )
    created = accreditation.call("POST", "/applications", "pia", {"content": content}, 201)
    page = accreditation.app.test_client()
    sign_in(page, "pia@example.org")
    html = page.get(f"/applications/{created.get_json()['id']}/steps/trainers").get_data(
        as_text=True
    )
    assert html.count(">verified<") == 1 and html.count(">not verified<") == 1
    assert f"no certificate {certificate.code} for family name Impostor" in html
    # The API gives the same warning, which does not stop the submission.
    body = accreditation.call("GET", f"/applications/{created.get_json()['id']}", "pia").get_json()
    assert "trainers" not in [part["field"] for part in body["missing"]]
    assert [w for w in body["warnings"] if w["field"] == "trainers"] == [
        {
            "field": "trainers",
            "message": f"Ivan Impostor is not verified: no certificate {certificate.code} "
            "for family name Impostor.",
        }
    ]
