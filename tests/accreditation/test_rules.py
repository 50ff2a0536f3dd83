"""The workflow's harder rules: what stays between staff, who may decide or hear an
appeal, how appeals end, conditions after an appeal, the paused clock, expiry from every
state, and odd input that must never be a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from core.db import get_db
from core.mail import OutboxMessage
from tests.accreditation.fixtures import (
    AccreditationWorld,
    client_as,
    complete_content,
    draft_with_document,
)
from tests.conftest import post_form

CRITERIA = ("coverage", "trainers", "learner_assessment", "materials", "quality_assurance")


def _mail_to(app: Flask, address: str) -> str:
    with get_db(app).read_sessions() as session:
        rows = session.execute(
            select(OutboxMessage.subject, OutboxMessage.body).where(
                OutboxMessage.recipient == address
            )
        ).all()
    return "\n".join(f"{subject}\n{body}" for subject, body in rows)


def test_staff_comments_to_each_other_stay_with_staff(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.screened()
    world.step(application_id, "lena", "assign", assessor_id=world.id("asa"))
    world.step(application_id, "asa", "declare", has_conflict=False, comment="Met them at a fair.")
    world.step(
        application_id, "asa", "recommend", comment="Trainer CVs are thin; borderline.",
        recommendation="accredit", judgements=dict.fromkeys(CRITERIA, "meets"),
    )  # fmt: skip
    page = client_as(app, "pia").get(f"/applications/{application_id}").get_data(as_text=True)
    provider_mail = _mail_to(app, "pia@example.org") + _mail_to(app, "office@northwind.example")
    for secret in ("Met them at a fair.", "Trainer CVs are thin"):
        assert secret not in page and secret not in provider_mail
    lead_page = client_as(app, "leo").get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Trainer CVs are thin" in lead_page


def test_before_declaring_an_assessor_sees_nothing_of_the_file(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = draft_with_document(world)
    world.call(
        "POST", f"/applications/{application_id}/messages", "pia", {"body": "Private note."}, 201
    )
    world.step(application_id, "pia", "submit")
    world.step(application_id, "lena", "screen")
    world.make_lead_and_assessor("abe")
    world.step(application_id, "lena", "assign", assessor_id=world.id("abe"))
    page = client_as(app, "abe").get(f"/applications/{application_id}").get_data(as_text=True)
    assert "The file is closed to you" in page
    for hidden in ("Private note.", "handbook.pdf", "History", "Module 1"):
        assert hidden not in page
    # what they need to tell whether they have a conflict, before declaring
    facts = page.split('id="declare-facts-title"')[1].split("</section>")[0]
    for shown in ("Northwind Learning Ltd", "GB", "https://northwind.example", "Pia", "Paul"):
        assert shown in facts
    assert "Customer Success Foundations" in facts
    assert "content" not in world.call("GET", f"/applications/{application_id}", "abe").get_json()


def test_a_lead_who_declared_a_conflict_cannot_decide(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.screened()
    world.make_lead_and_assessor("leo")
    world.step(application_id, "lena", "assign", assessor_id=world.id("leo"))
    world.step(application_id, "leo", "declare", has_conflict=True, comment="Former employer.")
    world.step(application_id, "lena", "assign", assessor_id=world.id("asa"))
    world.step(application_id, "asa", "declare", has_conflict=False)
    world.step(
        application_id, "asa", "recommend", comment="Fine.", recommendation="accredit",
        judgements=dict.fromkeys(CRITERIA, "meets"),
    )  # fmt: skip
    refused = world.step(application_id, "leo", "accredit", comment="x", expect=409).get_json()
    assert "accredit" not in refused["allowed_steps"]
    world.step(application_id, "lou", "accredit", comment="Accredited.")


def test_one_appeal_per_decision_and_an_overturned_withdrawal_restores(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.recommended()
    world.step(application_id, "lena", "refuse", comment="Not enough practice.")
    world.step(application_id, "pia", "appeal", comment="Please look again.")
    world.step(application_id, "lou", "deny_appeal", comment="The refusal stands.")
    again = world.step(application_id, "pia", "appeal", comment="Once more?", expect=409)
    assert again.get_json()["allowed_steps"] == []

    other = world.recommended()
    world.step(other, "lena", "accredit", comment="Accredited.")
    world.step(other, "lena", "withdraw_accreditation", comment="Complaints.")
    world.call("POST", f"/applications/{other}/messages", "pia", {"body": "We disagree."}, 201)
    world.step(other, "pia", "appeal", comment="The complaints were false.")  # still allowed
    restored = world.step(other, "lou", "uphold_appeal", comment="Withdrawal overturned.")
    assert restored.get_json()["state"] == "accredited"
    entry = world.client.get("/api/v1/register").get_json()["entries"]
    assert [e["status"] for e in entry] == ["Accredited"]

    own = draft_with_document(world)
    world.step(own, "pia", "withdraw", comment="Not ready.")
    assert world.step(own, "pia", "appeal", comment="x", expect=409)  # its own withdrawal


def test_an_upheld_appeal_leaves_no_old_condition_to_refuse_it_again(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.recommended()
    soon = str(world.clock.now().date() + timedelta(days=10))
    world.step(
        application_id, "lena", "accredit_with_conditions", comment="On conditions.",
        conditions=[{"text": "Publish the rubric.", "due_on": soon}],
    )  # fmt: skip
    world.clock.advance(days=11)
    runner = app.test_cli_runner()
    assert "1 refused" in runner.invoke(args=["accreditation", "daily"]).output
    world.refresh_tokens("pia", "lena", "lou", "asa", "leo")
    world.step(application_id, "pia", "appeal", comment="It was published.")
    world.step(application_id, "lou", "uphold_appeal", comment="Agreed.")
    world.step(
        application_id, "asa", "recommend", comment="Fine now.", recommendation="accredit",
        judgements=dict.fromkeys(CRITERIA, "meets"),
    )  # fmt: skip
    later = str(world.clock.now().date() + timedelta(days=60))
    world.step(
        application_id, "leo", "accredit_with_conditions", comment="New conditions.",
        conditions=[{"text": "Report in two months.", "due_on": later}],
    )  # fmt: skip
    assert "0 refused" in runner.invoke(args=["accreditation", "daily"]).output


def test_the_paused_clock_counts_working_days_not_calendar_days(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.screened_at(datetime(2026, 11, 27, 9, tzinfo=UTC))  # a Friday
    world.clock.advance(hours=6)  # Friday 15:00: 0.25 working day has run
    world.refresh_tokens("pia", "lena")
    world.step(application_id, "lena", "return_incomplete", comment="Add the CVs.")
    world.clock.advance(days=3)  # back Monday 15:00: one working day paused, the weekend not
    world.refresh_tokens("pia", "lena")
    world.step(application_id, "pia", "submit")
    world.clock.advance(days=1)  # Tuesday 15:00
    world.refresh_tokens("lena")
    waiting = world.call("GET", f"/applications/{application_id}", "lena").get_json()
    # Friday 0.625 + Monday 1 + Tuesday 0.625, less the 1.0 paused: 1.25, one whole day
    # (the API counts as the page does); counted in calendar time the weekend would have
    # made it 0.25, no whole day.
    assert (waiting["working_days_waiting"], waiting["clock"]) == (1, "running")
    assert type(waiting["working_days_waiting"]) is int
    queue = client_as(app, "lena").get("/staff/accreditation").get_data(as_text=True)
    row = queue.split("Customer Success Foundations</a>")[1].split("</tr>")[0]
    assert "Northwind Learning Ltd" in row
    assert '"Working days waiting">1</td>' in row  # whole days, not 1.25


def test_accreditations_end_from_every_state_and_paused_files_are_not_reminded(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.recommended()
    world.step(application_id, "lena", "accredit", comment="Accredited.")
    world.step(application_id, "lena", "suspend", comment="Investigation.")
    paused = draft_with_document(world)
    world.step(paused, "pia", "submit")
    world.step(paused, "lena", "screen")
    world.step(paused, "lena", "return_incomplete", comment="Add the CVs.")
    world.clock.advance(days=4 * 365)
    output = app.test_cli_runner().invoke(args=["accreditation", "daily"]).output
    assert "1 expired" in output and "0 reminder(s)" in output
    statuses = [e["status"] for e in world.client.get("/api/v1/register").get_json()["entries"]]
    assert statuses == ["Expired"]


def test_odd_input_is_a_clear_4xx_never_a_500(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.screened()
    lena = client_as(app, "lena")
    for version in ("0", "²", "99999999999"):
        answer = post_form(
            lena, "/staff/accreditation", "/staff/accreditation/assign",
            {f"select-{application_id}": version, "assessor_id": str(world.id("asa"))},
        )  # fmt: skip
        assert answer.status_code == 302, version
    for query in ("older_than_days=999999", "older_than_days=²", "page=-1", "state=bogus"):
        assert world.call("GET", f"/accreditation/queue?{query}", "lena", expect=400)
    version = world.call("GET", f"/applications/{application_id}", "lena").get_json()["version"]
    huge = {"action": "assign", "version": version, "assessor_id": 10**20}
    world.call("POST", f"/applications/{application_id}/transitions", "lena", huge, 422)
    world.call("POST", "/applications", "pia",
               {"content": {"title": "x"}, "renews": 10**20}, 422)  # fmt: skip
    evil = complete_content(world.leaves(), title="Evil\r\nBcc: everyone@example.org")
    world.call("POST", "/applications", "pia", {"content": evil}, 422)
    stale = world.step(application_id, "lena", "return_incomplete", comment="x", expect=None)
    assert stale.status_code == 200
    body = {"action": "return_incomplete", "version": version, "comment": "again"}
    answer = world.call("POST", f"/applications/{application_id}/transitions", "lena", body, 409)
    assert answer.get_json()["title"] in ("Changed meanwhile", "Step not allowed")
    pia = client_as(app, "pia")
    form = post_form(
        pia, "/provider", "/provider",
        {"legal_name": "Northwind", "country": "GB", "website": "northwind.example",
         "contact_name": "P", "contact_email": "a@b.example"},
    )  # fmt: skip
    assert form.status_code == 422 and "A full address" in form.get_data(as_text=True)
    draft = world.call("POST", "/applications", "pia", {"content": {"title": "Draft"}}, 201)
    renew = post_form(pia, "/provider", "/provider/applications",
                      {"renews": str(draft.get_json()["id"])})  # fmt: skip
    assert renew.status_code == 409


def test_a_stale_step_is_refused_by_its_version(accreditation: AccreditationWorld) -> None:
    """Two different steps from the same state and version: the second is a version 409."""
    world = accreditation
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    version = world.call("GET", f"/applications/{application_id}", "lena").get_json()["version"]
    world.call(
        "POST", f"/applications/{application_id}/transitions", "lena",
        {"action": "screen", "version": version}, 200,
    )  # fmt: skip
    late = world.call(
        "POST", f"/applications/{application_id}/transitions", "pia",
        {"action": "withdraw", "version": version, "comment": "Changed our mind."}, 409,
    ).get_json()  # fmt: skip
    assert late["title"] == "Changed meanwhile" and late["current_version"] == version + 1
