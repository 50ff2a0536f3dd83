"""The accreditation pages: provider profile and colleagues, the editor, documents
served only to those allowed, bulk assignment, renewals, and overdue reminders."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from core.mail import OutboxMessage
from tests.accreditation.fixtures import PDF, AccreditationWorld, client_as, draft_with_document
from tests.conftest import csrf_from, post_form, sign_in


def test_a_provider_creates_the_profile_and_adds_a_colleague(
    app: Flask, make_user, first_level
) -> None:
    owner = make_user("provider", email="owner@example.org", given_name="Olga")
    colleague = make_user("provider", email="colleague@example.org", given_name="Carl")
    client = app.test_client()
    sign_in(client, owner.email)
    bad = post_form(client, "/provider", "/provider", {"legal_name": "X", "country": "GBR"})
    assert bad.status_code == 422 and "Two letters" in bad.get_data(as_text=True)
    done = post_form(
        client, "/provider", "/provider",
        {"legal_name": "Owl Academy", "country": "ie", "website": "https://owl.example",
         "contact_name": "Olga Owl", "contact_email": "hello@owl.example"},
    )  # fmt: skip
    assert done.status_code == 302
    page = client.get("/provider").get_data(as_text=True)
    assert "Owl Academy" in page and "Start an application" in page
    invited = post_form(client, "/provider", "/provider/members", {"email": colleague.email})
    assert invited.status_code == 302
    assert "colleague@example.org" not in client.get("/provider").get_data(as_text=True)
    carl = app.test_client()
    sign_in(carl, colleague.email)
    waiting = carl.get("/provider").get_data(as_text=True)
    assert (
        "You are invited to join Owl Academy" in waiting and "Start an application" not in waiting
    )
    post_form(carl, "/provider", "/provider/invitation", {"answer": "accept"})
    assert "Start an application" in carl.get("/provider").get_data(as_text=True)
    assert "colleague@example.org" in client.get("/provider").get_data(as_text=True)
    again = post_form(client, "/provider", "/provider/members", {"email": colleague.email})
    assert "belongs to, or is invited to" in client.get(again.location).get_data(as_text=True)
    stranger = post_form(client, "/provider", "/provider/members", {"email": "nobody@x.org"})
    assert "create an account first" in client.get(stranger.location).get_data(as_text=True)


def test_an_invitation_grants_nothing_until_accepted(
    app: Flask, accreditation: AccreditationWorld, make_user
) -> None:
    application_id = draft_with_document(accreditation)
    newcomer = make_user("provider", email="newcomer@example.org", given_name="Nia")
    pia = client_as(app, "pia")
    post_form(pia, "/provider", "/provider/members", {"email": newcomer.email})
    nia = app.test_client()
    sign_in(nia, newcomer.email)
    assert nia.get(f"/applications/{application_id}").status_code == 404
    post_form(nia, "/provider", "/provider/invitation", {"answer": "decline"})
    assert nia.get(f"/applications/{application_id}").status_code == 404
    # Declined: free to create an organisation of their own.
    mine = post_form(
        nia, "/provider", "/provider",
        {"legal_name": "Nia Training", "country": "FR", "website": "https://nia.example",
         "contact_name": "Nia N", "contact_email": "nia@nia.example"},
    )  # fmt: skip
    assert mine.status_code == 302


def test_the_editor_keeps_a_stale_save_from_overwriting(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    application_id = draft_with_document(accreditation)
    pia, paul = client_as(app, "pia"), client_as(app, "paul")
    page = f"/applications/{application_id}"
    step = f"{page}/steps/programme"
    version = str(accreditation.call("GET", page, "pia").get_json()["version"])
    token = csrf_from(paul.get(step).get_data(as_text=True))
    saved = post_form(pia, step, step, {"title": "Renamed by Pia", "version": version})
    assert saved.status_code == 302
    stale = paul.post(step, data={"csrf_token": token, "title": "By Paul", "version": version})
    assert stale.status_code == 409 and "Reload it" in stale.get_data(as_text=True)
    assert "Renamed by Pia" in pia.get(page).get_data(as_text=True)
    junk = post_form(pia, step, step, {"title": "x" * 300, "version": str(int(version) + 1)})
    assert junk.status_code == 422 and "title" in junk.get_data(as_text=True)
    assert "Renamed by Pia" in pia.get(page).get_data(as_text=True)


def test_documents_are_served_only_to_those_allowed(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    application_id = draft_with_document(accreditation)
    accreditation.step(application_id, "pia", "submit")
    accreditation.step(application_id, "lena", "screen")
    accreditation.step(application_id, "lena", "assign", assessor_id=accreditation.id("asa"))
    page = client_as(app, "pia").get(f"/applications/{application_id}").get_data(as_text=True)
    link = page.split('href="/applications/')[1].split('"')[0]
    url = f"/applications/{link}"
    assert "/documents/" in url
    got = client_as(app, "paul").get(url)
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    got.close()
    assert client_as(app, "rival").get(url).status_code == 404
    assert client_as(app, "asa").get(url).status_code == 404  # before declaring no conflict
    assert client_as(app, "abe").get(url).status_code == 404
    assert app.test_client().get(url).status_code == 302
    lead = client_as(app, "lena").get(url)
    assert lead.status_code == 200
    lead.close()


def test_a_refused_step_on_the_page_names_the_allowed_steps(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    application_id = draft_with_document(accreditation)
    pia = client_as(app, "pia")
    page = f"/applications/{application_id}"
    wrong = post_form(pia, page, f"{page}/step", {"action": "accredit", "version": "2"})
    assert wrong.status_code == 409
    assert "You can: submit, withdraw" in wrong.get_data(as_text=True)


def test_bulk_assignment_reports_each_application(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    ids = [draft_with_document(accreditation) for _ in range(3)]
    for application_id in ids:
        accreditation.step(application_id, "pia", "submit")
        accreditation.step(application_id, "lena", "screen")
    lena = client_as(app, "lena")
    queue = lena.get("/staff/accreditation?state=screening").get_data(as_text=True)
    assert all(f'name="select-{i}"' in queue for i in ids)
    versions = {
        i: accreditation.call("GET", f"/applications/{i}", "lena").get_json()["version"]
        for i in ids
    }
    versions[ids[2]] -= 1  # someone acted on the third meanwhile
    form = {f"select-{i}": str(v) for i, v in versions.items()}
    form["assessor_id"] = str(accreditation.id("abe"))
    done = post_form(lena, "/staff/accreditation", "/staff/accreditation/assign", form)
    page = lena.get(done.location).get_data(as_text=True)
    assert "Assigned 2 of 3" in page and "is at version" in page
    states = [
        accreditation.call("GET", f"/applications/{i}", "lena").get_json()["state"] for i in ids
    ]
    assert states == ["under_review", "under_review", "screening"]
    asa = client_as(app, "asa")
    form["csrf_token"] = csrf_from(asa.get("/staff/accreditation").get_data(as_text=True))
    assert asa.post("/staff/accreditation/assign", data=form).status_code == 403


def test_a_renewal_starts_prefilled_and_keeps_the_link(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    application_id = accreditation.recommended()
    accreditation.step(application_id, "lena", "accredit", comment="Accredited.")
    pia = client_as(app, "pia")
    page = f"/applications/{application_id}"
    started = post_form(pia, page, "/provider/applications", {"renews": str(application_id)})
    assert started.status_code == 302
    assert started.location.endswith("/steps/programme")  # the form opens at its first step
    renewal = pia.get(started.location.removesuffix("/steps/programme")).get_data(as_text=True)
    assert "This application renews" in renewal and "Customer Success Foundations" in renewal
    assert "Module 1" in renewal  # the mapping came across
    assert "Renewed by" in pia.get(page).get_data(as_text=True)
    rival = client_as(app, "rival")
    theirs = post_form(
        rival, "/provider", "/provider/applications", {"renews": str(application_id)}
    )
    assert theirs.status_code == 404


def test_overdue_items_are_reminded_then_weekly(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    world.clock.advance(days=20)
    runner = app.test_cli_runner()
    assert "1 reminder(s) queued" in runner.invoke(args=["accreditation", "daily"]).output
    assert "0 reminder(s) queued" in runner.invoke(args=["accreditation", "daily"]).output
    world.clock.advance(days=7)
    assert "1 reminder(s) queued" in runner.invoke(args=["accreditation", "daily"]).output
    with get_db(app).read_sessions() as session:
        recipients = set(session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.subject.like("%Overdue%"))
        ))  # fmt: skip
        assert recipients == {"lena@example.org", "leo@example.org", "lou@example.org"}
        assert session.scalars(
            select(AuditEvent).where(AuditEvent.action == "application.overdue_reminder")
        ).all()


def test_demo_data_walks_one_programme_onto_the_register(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0 and "is on the register" in result.output, result.output
    register = app.test_client().get("/register").get_data(as_text=True)
    assert "Customer Success Essentials" in register and "Brennan Customer Academy" in register
    again = app.test_cli_runner().invoke(args=["demo-data"])
    assert "no demo accreditation added" in again.output


def test_the_queue_counts_whole_working_days_and_stops_at_the_first_review(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    world.clock.current = datetime(2026, 11, 23, 9, tzinfo=UTC)  # a Monday
    world.refresh_tokens()
    application_id = draft_with_document(world)
    world.step(application_id, "pia", "submit")
    world.clock.advance(days=3, hours=4)  # Thursday 13:00: three working days and a half
    world.refresh_tokens()
    lena = client_as(app, "lena")

    def queue_row() -> str:
        page = lena.get("/staff/accreditation").get_data(as_text=True)
        assert '<th scope="col">Provider</th>' in page
        return page.split("Customer Success Foundations</a>")[1].split("</tr>")[0]

    row = queue_row()
    assert ">Northwind Learning Ltd</td>" in row and '"Working days waiting">3</td>' in row
    page = lena.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "3 working days waiting for a first review" in page

    world.step(application_id, "lena", "screen")
    world.step(application_id, "lena", "assign", assessor_id=world.id("asa"))
    world.step(application_id, "asa", "declare", has_conflict=False)  # the first review
    world.clock.advance(days=7)
    world.refresh_tokens()
    lena = client_as(app, "lena")  # a sign-in of a week ago has ended
    assert '"Working days waiting"><span class="hint">reviewed after</span> 3</td>' in queue_row()
    page = lena.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "after 3 working days" in page and "waiting for a first review" not in page
    assert "0.0" not in page


def test_a_decision_states_its_consequences_and_waits_for_confirmation(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.recommended()
    page = f"/applications/{application_id}"
    step = f"{page}/step"
    version = str(world.call("GET", page, "leo").get_json()["version"])
    leo = client_as(app, "leo")

    unsaid = post_form(leo, page, step, {"action": "refuse", "version": version})
    assert unsaid.status_code == 422  # checked before asking to confirm
    assert "What follows when you confirm" not in unsaid.get_data(as_text=True)

    letter = {"action": "accredit", "version": version, "comment": "Accredited for three years."}
    asked = post_form(leo, page, step, letter)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "What follows when you confirm" in text
    year = world.clock.now().year
    assert f"CSA-AP-{year}-0001" in text and "appears on the public register" in text
    assert "Accredited for three years." in text and 'name="confirmed" value="yes"' in text
    after = world.call("GET", page, "leo").get_json()
    assert after["state"] == "recommended" and str(after["version"]) == version
    assert app.test_client().get("/register").get_data(as_text=True).count("CSA-AP-") == 0

    done = post_form(leo, page, step, {**letter, "confirmed": "yes"})
    assert done.status_code == 302
    assert world.call("GET", page, "leo").get_json()["state"] == "accredited"
    assert f"CSA-AP-{year}-0001" in app.test_client().get("/register").get_data(as_text=True)


def test_a_step_saves_only_its_fields_for_members_while_the_draft_is_theirs(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = draft_with_document(world)
    page = f"/applications/{application_id}"
    step = f"{page}/steps/area-CU.SK.COMM"
    pia = client_as(app, "pia")
    token = csrf_from(pia.get(step).get_data(as_text=True))
    version = world.call("GET", page, "pia").get_json()["version"]
    autosave = {"X-Autosave": "1", "Accept": "application/json"}

    bad = pia.post(
        step,
        data={"csrf_token": token, "version": version, "map-CU.SK.COMM.01-minutes": "0"},
        headers=autosave,
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "minutes" in bad.get_json()["errors"][0]["field"]
    saved = pia.post(
        step,
        data={
            "csrf_token": token,
            "version": version,
            "map-CU.SK.COMM.01-reason": "Taught in our advanced course.",
        },
        headers=autosave,
    )
    assert saved.status_code == 200 and saved.get_json()["version"] == version + 1
    content = world.call("GET", page, "pia").get_json()["content"]
    assert content["mapping"]["CU.SK.COMM.01"] == {
        "not_covered_reason": "Taught in our advanced course."
    }
    assert "CU.SK.COMM.02" not in content["mapping"]  # the step's other rows were emptied
    assert content["mapping"]["CO.KN.TERM.01"]["module"]  # other areas' rows are kept
    assert content["description"].startswith("Five days")  # other steps' fields too

    rival = client_as(app, "rival")
    assert rival.get(step).status_code == 404
    assert client_as(app, "lena").get(step).status_code == 403
    assert pia.get(f"{page}/steps/nowhere").status_code == 404
    submitted = draft_with_document(world)
    world.step(submitted, "pia", "submit")
    closed = f"/applications/{submitted}/steps/programme"
    assert pia.get(closed).status_code == 302  # to the application's page: not editable
    late = pia.post(closed, data={"csrf_token": token, "version": "9"}, headers=autosave)
    assert late.status_code == 409 and "with the association" in late.get_json()["detail"]


def test_appeal_and_suspension_decisions_state_their_consequences_first(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.recommended()
    world.step(application_id, "lena", "accredit", comment="Accredited.")
    world.step(application_id, "lena", "suspend", comment="A complaint is being looked into.")
    page = f"/applications/{application_id}"
    step = f"{page}/step"
    lena = client_as(app, "lena")
    version = str(world.call("GET", page, "lena").get_json()["version"])
    lift = {"action": "lift_suspension", "version": version, "comment": "Cleared."}
    asked = post_form(lena, page, step, lift)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "What follows when you confirm" in text
    assert "as accredited again, at once" in text
    assert world.call("GET", page, "lena").get_json()["state"] == "suspended"
    assert post_form(lena, page, step, {**lift, "confirmed": "yes"}).status_code == 302
    assert world.call("GET", page, "lena").get_json()["state"] == "accredited"

    refused = world.recommended()
    world.step(refused, "lena", "refuse", comment="Not enough practice.")
    world.step(refused, "pia", "appeal", comment="Please look again.")
    page = f"/applications/{refused}"
    version = str(world.call("GET", page, "lou").get_json()["version"])
    lou = client_as(app, "lou")
    deny = {"action": "deny_appeal", "version": version, "comment": "The refusal stands."}
    asked = post_form(lou, page, f"{page}/step", deny)
    assert "is final" in asked.get_data(as_text=True)
    assert world.call("GET", page, "lou").get_json()["state"] == "appealed"


def test_the_clock_stops_when_a_file_leaves_the_queue_before_its_first_review(
    app: Flask, accreditation: AccreditationWorld
) -> None:
    world = accreditation
    application_id = world.screened_at(datetime(2026, 11, 23, 9, tzinfo=UTC))  # a Monday
    world.clock.advance(days=8)  # Tuesday next week: six working days have passed
    world.refresh_tokens("pia", "lena")
    world.step(application_id, "pia", "withdraw", comment="Not ready yet.")

    def seen() -> tuple[dict, str, str]:
        world.refresh_tokens("lena")
        api = world.call("GET", f"/applications/{application_id}", "lena").get_json()
        lena = client_as(app, "lena")
        queue = lena.get("/staff/accreditation?state=withdrawn").get_data(as_text=True)
        row = queue.split("Customer Success Foundations</a>")[1].split("</tr>")[0]
        page = lena.get(f"/applications/{application_id}").get_data(as_text=True)
        return api, row, page

    for _week in range(2):  # the day it left, and a week later: the same six days
        api, row, page = seen()
        assert (api["working_days_waiting"], api["clock"], api["overdue"]) == (6, "closed", False)
        assert '"Working days waiting">6 <span class="hint">(closed before a first review)' in row
        assert "reviewed after" not in row
        assert "closed before a first review, after 6 working days waiting" in page
        world.clock.advance(days=7)
    world.refresh_tokens("lena")
    listed = world.call("GET", "/accreditation/queue?state=withdrawn", "lena").get_json()
    assert [(a["working_days_waiting"], a["clock"]) for a in listed["applications"]] == [
        (6, "closed")
    ]
