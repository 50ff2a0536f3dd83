"""Exam fixtures: a sitting on the First Level blueprint with staff and candidates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import User
from accounts.services import set_roles
from core.db import get_db
from exam.models import AttemptItem
from exam.services import admission, delivery, registration, sittings, starting
from exam.services.option_ids import option_id
from item_bank.models import ItemVersion
from tests.conftest import api_token, bearer


class ExamWorld:
    """People with tokens and a helper to drive the API."""

    def __init__(self, app: Flask, make_user, clock) -> None:
        self.app, self.clock = app, clock
        self.client: FlaskClient = app.test_client()
        self.people: dict[str, Any] = {}
        for name, roles in {
            "admin": ("exam_admin",),
            "proctor": ("proctor",),
            "other_proctor": ("proctor",),
            "ana": ("candidate",),
            "ben": ("candidate",),
            "cy": ("candidate",),
        }.items():
            user = make_user(*roles, given_name=name.capitalize())
            self.people[name] = {
                "user": user,
                "headers": bearer(api_token(self.client, user.email)),
            }

    def refresh_tokens(self) -> None:
        """New API tokens (they last an hour; the clock may have moved past that)."""
        for person in self.people.values():
            person["headers"] = bearer(api_token(self.client, person["user"].email))

    def headers(self, who: str) -> dict[str, str]:
        return self.people[who]["headers"]

    def id(self, who: str) -> int:
        return self.people[who]["user"].id

    def call(
        self, method: str, path: str, who: str, json: Any = None, expect: int | None = None
    ) -> Any:
        response = self.client.open(
            f"/api/v1{path}", method=method, json=json, headers=self.headers(who)
        )
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        return response

    def schedule(
        self,
        capacity: int = 30,
        opens_in_minutes: int = 0,
        hours: int = 3,
        blueprint: str = "first-level",
        title: str = "First Level, November",
    ) -> int:
        opens = self.clock.now() + timedelta(minutes=opens_in_minutes)
        body = {
            "blueprint": blueprint,
            "title": title,
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(hours=hours)).isoformat(),
            "capacity": capacity,
            "mode": "online",
            "proctor_ids": [self.id("proctor")],
        }
        return self.call("POST", "/sittings", "admin", body, 201).get_json()["id"]

    def admitted(self, who: str, sitting_id: int) -> None:
        self.call("POST", f"/sittings/{sitting_id}/registrations", who, expect=201)
        self.call("POST", f"/sittings/{sitting_id}/checkin", who, expect=200)
        self.call(
            "POST",
            f"/sittings/{sitting_id}/admissions",
            "proctor",
            {"candidate_id": self.id(who), "identity_check": "Passport, last digits 4821"},
            200,
        )

    def start(self, who: str, sitting_id: int) -> dict[str, Any]:
        return self.call("POST", "/attempts", who, {"sitting_id": sitting_id}, 201).get_json()


@pytest.fixture
def world(app: Flask, make_user, clock, sample_bank) -> ExamWorld:
    return ExamWorld(app, make_user, clock)


class FormSlot(NamedTuple):
    item_id: int
    position: int
    code: str
    keys: list[str]
    order: list[str]


def form_slots(app: Flask, attempt_id: int) -> list[FormSlot]:
    """The attempt's questions from the database, in order: item, code, keys, shown order."""
    with get_db(app).read_sessions() as session:
        rows = session.execute(
            select(
                AttemptItem.item_id,
                AttemptItem.position,
                ItemVersion.primary_code,
                ItemVersion.keys,
                AttemptItem.option_order,
            )
            .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
            .where(AttemptItem.attempt_id == attempt_id)
            .order_by(AttemptItem.position)
        ).all()
    return [FormSlot(*row) for row in rows]


def key_map(app: Flask, attempt_id: int) -> dict[int, tuple[str, list[str], list[str]]]:
    """position -> (primary code, key letters, shown letters)."""
    return {
        slot.position: (slot.code, slot.keys, slot.order) for slot in form_slots(app, attempt_id)
    }


def answer_all(
    world: ExamWorld, app: Flask, attempt: dict, right: Callable[[str], bool], who: str = "ana"
) -> None:
    """Answer every question (as ``who``), rightly where ``right(code)`` says so."""
    for position, (code, keys, order) in key_map(app, attempt["id"]).items():
        letters = keys if right(code) else [next(letter for letter in order if letter not in keys)]
        ids = [
            option_id(app.config["SECRET_KEY"], attempt["id"], position, letter)
            for letter in letters
        ]
        world.call(
            "PUT", f"/attempts/{attempt['id']}/responses/{position}", who, {"selected": ids}, 200
        )


def pass_exam_on(world: ExamWorld, app: Flask, blueprint: str, who: str = "ana") -> dict:
    """``who`` sits an exam on ``blueprint``, answers all rightly and is certified: the
    result's certificate (code, page, status)."""
    sitting = world.schedule(blueprint=blueprint, title=f"{blueprint} sitting")
    world.admitted(who, sitting)
    attempt = world.start(who, sitting)
    answer_all(world, app, attempt, lambda code: True, who)
    world.call("POST", f"/attempts/{attempt['id']}/submit", who, expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", who, expect=200).get_json()
    assert result["result"] == "pass" and result["certificate"]["status"] == "valid"
    return dict(result["certificate"])


def sit(world: ExamWorld) -> dict:
    """Ana, admitted to a fresh sitting, has started: her attempt as the API shows it."""
    sitting = world.schedule()
    world.admitted("ana", sitting)
    return world.start("ana", sitting)


def schedule_and_admit(
    app: Flask,
    *,
    admin: Any,
    proctor: Any,
    candidates: list[Any],
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    capacity: int = 5,
) -> list[int]:
    """A sitting scheduled by ``admin`` with every candidate registered, checked in and
    admitted by ``proctor``, through the services; the registrations' ids, in order."""
    with app.app_context(), get_db(app).write_sessions() as session:
        window = sittings.SittingInput(
            "first-level", title, opens_at, closes_at, capacity, "online", "", (proctor.id,)
        )
        sitting = sittings.schedule_sitting(session, session.get(User, admin.id), window)
        ids = []
        for candidate in candidates:
            person = session.get(User, candidate.id)
            booked = registration.register(session, person, sitting)
            registration.check_in(session, person, booked)
            admission.admit(session, session.get(User, proctor.id), booked, "Passport")
            ids.append(booked.id)
        return ids


def open_now(
    app: Flask,
    clock: Any,
    *,
    admin: Any,
    proctor: Any,
    candidates: list[Any],
    title: str,
    hours: int = 4,
) -> list[int]:
    """A sitting open since five minutes, for ``hours`` more, every candidate admitted;
    the registrations' ids, in order."""
    return schedule_and_admit(
        app,
        admin=admin,
        proctor=proctor,
        candidates=candidates,
        title=title,
        opens_at=clock.now() - timedelta(minutes=5),
        closes_at=clock.now() + timedelta(hours=hours),
    )


def start_and_submit(app: Flask, candidate_id: int, registration_id: int) -> int:
    """Start the attempt and hand it in unanswered; its id."""
    with app.app_context():
        with get_db(app).read_sessions() as session:
            candidate = session.get(User, candidate_id)
        attempt_id = starting.start_attempt(get_db(app), candidate, registration_id)
        with get_db(app).write_sessions() as session:
            delivery.submit(session, session.get(User, candidate_id), attempt_id)
        return attempt_id


def handed_in(
    app: Flask, clock: Any, *, admin: Any, proctor: Any, candidates: list[Any], title: str
) -> list[int]:
    """A sitting open now (since five minutes, for two hours) where every candidate has
    started and handed in an unanswered attempt; the attempts' ids, in order."""
    registration_ids = open_now(
        app, clock, admin=admin, proctor=proctor, candidates=candidates, title=title, hours=2
    )
    return [
        start_and_submit(app, candidate.id, registration_id)
        for candidate, registration_id in zip(candidates, registration_ids, strict=True)
    ]


def grant_roles(app: Flask, user: Any, *roles: str) -> None:
    """An administrator gives ``user`` these roles besides the ones they hold."""
    with app.app_context(), get_db(app).write_sessions() as session:
        person = session.get(User, user.id)
        assert person is not None
        set_roles(session, person, person, {*person.roles, *roles})
