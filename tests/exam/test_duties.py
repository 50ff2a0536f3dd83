"""Separation of duties in the exam room: nobody admits, proctors, accommodates, hears the
appeal of or rescores their own exam; nobody who can read the bank sits an exam drawn
from it; and the bank is closed to a candidate while their own exam is open."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import get_db
from exam.models import (
    Accommodation,
    Appeal,
    Attempt,
    AttemptEvent,
    Registration,
    ScoringDecision,
)
from tests.conftest import api_token, bearer, post_form, sign_in
from tests.exam.fixtures import ExamWorld, form_slots, grant_roles, sit

OWN_MATTER = "https://csm-certify.example/problems/separation-of-duties"


def _browser(app: Flask, world: ExamWorld, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.people[who]["user"].email)
    return client


def _audited(app: Flask, prefix: str) -> list[str]:
    with get_db(app).read_sessions() as session:
        return list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action.like(f"{prefix}%")))
        )


def _count(app: Flask, model: Any) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def pat(world: ExamWorld, make_user) -> ExamWorld:
    """Pat is a candidate and a proctor, named on the sitting Pat is booked and checked in for."""
    user = make_user("candidate", "proctor", given_name="Pat")
    world.people["pat"] = {"user": user, "headers": bearer(api_token(world.client, user.email))}
    opens = world.clock.now()
    body = {
        "blueprint": "first-level",
        "title": "First Level, proctors mixed",
        "opens_at": opens.isoformat(),
        "closes_at": (opens + timedelta(hours=3)).isoformat(),
        "capacity": 30,
        "mode": "online",
        "proctor_ids": [world.id("proctor"), user.id],
    }
    world.sitting = world.call("POST", "/sittings", "admin", body, 201).get_json()["id"]
    world.call("POST", f"/sittings/{world.sitting}/registrations", "pat", expect=201)
    world.call("POST", f"/sittings/{world.sitting}/checkin", "pat", expect=200)
    return world


def test_a_proctor_cannot_admit_themself(app: Flask, pat: ExamWorld) -> None:
    refused = pat.call(
        "POST",
        f"/sittings/{pat.sitting}/admissions",
        "pat",
        {"candidate_id": pat.id("pat"), "identity_check": "My own passport"},
        403,
    ).get_json()
    assert refused["type"] == OWN_MATTER and "you are the candidate" in refused["detail"]
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(Registration.status)) == "checked_in"
    assert _audited(app, "registration.admitted") == []


def test_a_proctor_cannot_turn_themself_away_on_the_console(app: Flask, pat: ExamWorld) -> None:
    console = _browser(app, pat, "pat")
    page = f"/proctor/sittings/{pat.sitting}"
    registration = re.search(r"/proctor/registrations/(\d+)/decision", console.get(page).text)
    assert registration
    refused = post_form(
        console,
        page,
        f"/proctor/registrations/{registration.group(1)}/decision",
        {"decision": "turn_away:no_show"},
    )
    assert refused.status_code == 403 and "you are the candidate" in refused.text
    assert sorted(_audited(app, "registration.")) == [
        "registration.checked_in",
        "registration.created",
    ]


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("pause", {"reason": "Reading the questions at leisure"}),
        ("extend", {"minutes": 120, "reason": "More time"}),
        ("terminate", {"reason": "Start again"}),
    ],
)
def test_a_proctor_cannot_act_on_their_own_attempt(
    app: Flask, pat: ExamWorld, action: str, body: dict[str, Any]
) -> None:
    pat.call(
        "POST",
        f"/sittings/{pat.sitting}/admissions",
        "proctor",
        {"candidate_id": pat.id("pat"), "identity_check": "Passport, last digits 4821"},
        200,
    )
    attempt = pat.start("pat", pat.sitting)
    refused = pat.call("POST", f"/attempts/{attempt['id']}/{action}", "pat", body, 403)
    assert refused.get_json()["type"] == OWN_MATTER
    with get_db(app).read_sessions() as session:
        stored = session.get(Attempt, attempt["id"])
        assert (stored.status, stored.extension_seconds, stored.state_version) == (
            "in_progress",
            0,
            1,
        )
    assert _count(app, AttemptEvent) == 0 and _audited(app, f"attempt.{action}") == []
    console = _browser(app, pat, "pat")
    page = post_form(
        console,
        f"/proctor/sittings/{pat.sitting}",
        f"/proctor/attempts/{attempt['id']}/action",
        {"action": action, "minutes": "120", "reason": "Mine"},
    )
    assert page.status_code == 403 and "it is your own attempt" in page.text
    assert _count(app, AttemptEvent) == 0


def test_an_exam_administrator_cannot_decide_their_own_extra_time(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule(opens_in_minutes=60 * 24)
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    ana = _browser(app, world, "ana")
    url = re.search(r"/exams/\d+/accommodation", ana.get("/exams").text)
    assert url
    post_form(ana, url.group(0), url.group(0), {"time_factor": "1.5", "reason": "I would like it"})
    grant_roles(app, world.people["ana"]["user"], "exam_admin")
    page = ana.get("/staff/accommodations").text
    accommodation = re.search(r'name="accommodation_id" value="(\d+)"', page)
    assert accommodation
    refused = post_form(
        ana,
        "/staff/accommodations",
        "/staff/accommodations",
        {"accommodation_id": accommodation.group(1), "decision": "approve"},
    )
    assert refused.status_code == 403 and "decide your own request" in refused.text
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(Accommodation.status)) == "requested"
    assert _audited(app, "accommodation.") == ["accommodation.requested"]


def test_an_exam_administrator_cannot_decide_their_own_appeal(app: Flask, world: ExamWorld) -> None:
    attempt = sit(world)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    ana = _browser(app, world, "ana")
    result = f"/exams/attempts/{attempt['id']}/result"
    post_form(ana, result, result, {"statement": "Please void my fail."})
    grant_roles(app, world.people["ana"]["user"], "exam_admin")
    appeal = re.search(r'name="appeal_id" value="(\d+)"', ana.get("/staff/appeals").text)
    assert appeal
    refused = post_form(
        ana,
        "/staff/appeals",
        "/staff/appeals",
        {"appeal_id": appeal.group(1), "decision": "uphold:void", "reason": "I say so."},
    )
    assert refused.status_code == 403 and "decide this appeal" in refused.text
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(Appeal.status)) == "submitted"
        assert session.scalar(select(Attempt.result)) == "fail"
    assert _audited(app, "appeal.") == ["appeal.filed"]


def test_an_exam_administrator_cannot_rescore_an_item_of_their_own_exam(
    app: Flask, world: ExamWorld
) -> None:
    attempt = sit(world)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    grant_roles(app, world.people["ana"]["user"], "exam_admin")
    item_id = form_slots(app, attempt["id"])[0].item_id
    body = {"action": "do_not_score", "reason": "It was on my exam."}
    refused = world.call("POST", f"/items/{item_id}/invalidate", "ana", body, 403).get_json()
    assert refused["type"] == OWN_MATTER and "your own exam" in refused["detail"]
    assert _count(app, ScoringDecision) == 0 and _audited(app, "item.do_not_score") == []
    world.call("POST", f"/items/{item_id}/invalidate", "admin", body, 200)  # anyone else may


@pytest.mark.parametrize("role", ["item_writer", "item_reviewer", "exam_admin"])
def test_whoever_reads_the_bank_cannot_register_to_sit_it(
    app: Flask, world: ExamWorld, make_user, role: str
) -> None:
    sitting = world.schedule()
    reader = make_user("candidate", role, given_name="Reed")
    headers = bearer(api_token(world.client, reader.email))
    refused = world.client.post(f"/api/v1/sittings/{sitting}/registrations", headers=headers)
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["type"] == OWN_MATTER and refused.get_json()["roles"] == [role]
    page = app.test_client()
    sign_in(page, reader.email)
    booked = post_form(page, "/sittings", f"/sittings/{sitting}/register", {})
    assert booked.status_code == 403 and "cannot register to sit it" in booked.text
    assert _count(app, Registration) == 0


def test_whoever_is_given_a_bank_role_after_booking_cannot_check_in_or_start(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    grant_roles(app, world.people["ana"]["user"], "item_writer")
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=403)
    world.admitted("ben", sitting)
    grant_roles(app, world.people["ben"]["user"], "item_reviewer")
    refused = world.call("POST", "/attempts", "ben", {"sitting_id": sitting}, 403).get_json()
    assert refused["type"] == OWN_MATTER
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 0
        statuses = session.scalars(select(Registration.status).order_by(Registration.id))
        assert list(statuses) == ["registered", "admitted"]


BANK_READS = (
    "/api/v1/items",
    "/api/v1/items/export",
    "/api/v1/blueprints/first-level/coverage",
    "/api/v1/blueprints/first-level/statistics",
    "/api/v1/stimuli",
)


def _bank_answers(app: Flask, world: ExamWorld, who: str, item_id: int) -> list[int]:
    headers = world.headers(who)
    api = [world.client.get(path, headers=headers) for path in BANK_READS]
    api.append(world.client.get(f"/api/v1/items/{item_id}", headers=headers))
    pages = _browser(app, world, who)
    html = [
        pages.get(path)
        for path in (
            f"/item-bank/items/{item_id}",
            "/item-bank/export.json",
            "/item-bank/stimuli",
            "/staff/statistics",
        )
    ]
    return [response.status_code for response in api + html]


def test_the_bank_is_closed_to_a_candidate_while_their_exam_is_open(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    world.admitted("ben", sitting)
    for who in ("ana", "ben"):  # roles given after booking, as staff might by mistake
        grant_roles(app, world.people[who]["user"], "item_reviewer", "exam_admin")
    item_id = form_slots(app, attempt["id"])[0].item_id
    assert set(_bank_answers(app, world, "ben", item_id)) == {403}  # admitted, not started
    assert set(_bank_answers(app, world, "ana", item_id)) == {403}
    refused = world.client.get(f"/api/v1/items/{item_id}", headers=world.headers("ana"))
    assert refused.mimetype == "application/problem+json" and "keys" not in refused.get_json()
    assert "is in progress" in refused.get_json()["detail"]
    world.call("POST", f"/attempts/{attempt['id']}/pause", "proctor", {"reason": "Fire"}, 200)
    assert set(_bank_answers(app, world, "ana", item_id)) == {403}
    page = _browser(app, world, "ana").get(f"/item-bank/items/{item_id}").text
    assert "The item bank is closed to you for now" in page and "is paused" in page
    world.call("POST", f"/attempts/{attempt['id']}/resume", "proctor", {}, 200)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    assert set(_bank_answers(app, world, "ana", item_id)) == {200}
