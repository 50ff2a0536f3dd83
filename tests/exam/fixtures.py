"""Exam fixtures: a sitting on the First Level blueprint with staff and candidates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

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

    def schedule(self, capacity: int = 30, opens_in_minutes: int = 0, hours: int = 3) -> int:
        opens = self.clock.now() + timedelta(minutes=opens_in_minutes)
        body = {
            "blueprint": "first-level",
            "title": "First Level, November",
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
