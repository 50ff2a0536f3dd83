"""Signed-in exam work is limited per account and per attempt, never per address: a test
centre behind one address starts and sits its exams, while each account keeps its limit."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from tests.conftest import api_token, bearer
from tests.exam.fixtures import ExamWorld, schedule_and_admit

ROOM = 25  # more than the start limit of 20 a minute


def test_a_room_behind_one_address_all_start_their_exams(
    app: Flask, world: ExamWorld, make_user, clock
) -> None:
    candidates = [make_user("candidate", given_name=f"Room{n}") for n in range(ROOM)]
    schedule_and_admit(
        app,
        admin=world.people["admin"]["user"],
        proctor=world.people["proctor"]["user"],
        candidates=candidates,
        title="Test centre, morning",
        opens_at=clock.now(),
        closes_at=clock.now() + timedelta(hours=3),
        capacity=ROOM,
    )
    sitting_id = world.call("GET", "/sittings", "admin", expect=200).get_json()["sittings"][-1][
        "id"
    ]
    client = app.test_client()  # every request from the test client's one address
    statuses = []
    for candidate in candidates:
        headers = bearer(api_token(client, candidate.email))
        started = client.post("/api/v1/attempts", json={"sitting_id": sitting_id}, headers=headers)
        statuses.append(started.status_code)
    assert statuses == [201] * ROOM


def test_one_account_is_still_limited_when_starting(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    statuses = [
        world.call("POST", "/attempts", "ana", {"sitting_id": sitting}).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [201] * 20  # asking again gives the same attempt
    assert statuses[20] == 429
    world.admitted("ben", sitting)
    assert world.call("POST", "/attempts", "ben", {"sitting_id": sitting}).status_code == 201


def test_exam_events_are_limited_per_attempt(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    attempts = {}
    for who in ("ana", "ben"):
        world.admitted(who, sitting)
        attempts[who] = world.start(who, sitting)["id"]
    event = {"kind": "tab_hidden"}
    for who in ("ana", "ben"):
        for _ in range(70):  # together more than one attempt's 120 a minute
            world.call("POST", f"/attempts/{attempts[who]}/events", who, event, 204)
    for _ in range(50):
        world.call("POST", f"/attempts/{attempts['ana']}/events", "ana", event, 204)
    refused = world.call("POST", f"/attempts/{attempts['ana']}/events", "ana", event)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    world.call("POST", f"/attempts/{attempts['ben']}/events", "ben", event, 204)
