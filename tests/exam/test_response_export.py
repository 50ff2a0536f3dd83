"""Response export: long and wide layouts agree with the database, pseudonyms are stable
within an export and unlinkable between exports, identities only on request, audited."""

from __future__ import annotations

import csv
import io
import json

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from exam.models import AttemptResult
from exam.services.option_ids import option_id
from tests.exam.fixtures import ExamWorld, key_map


def _take(world: ExamWorld, app: Flask, who: str, sitting: int, right_every: int) -> int:
    """``who`` sits the exam, answering every ``right_every``-th question rightly, leaving
    the last question unanswered; the attempt's id."""
    world.admitted(who, sitting)
    attempt = world.start(who, sitting)
    slots = key_map(app, attempt["id"])
    for position, (_code, keys, order) in slots.items():
        if position == len(slots):
            continue
        right = position % right_every == 0
        letters = keys if right else [next(x for x in order if x not in keys)]
        ids = [option_id(app.config["SECRET_KEY"], attempt["id"], position, x) for x in letters]
        world.call(
            "PUT", f"/attempts/{attempt['id']}/responses/{position}", who, {"selected": ids}, 200
        )
    world.call("POST", f"/attempts/{attempt['id']}/submit", who, expect=200)
    return attempt["id"]


def _export(world: ExamWorld, query: str, expect: int = 200):
    return world.call("GET", f"/blueprints/first-level/responses?{query}", "admin", expect=expect)


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_long_and_wide_exports_match_the_graded_attempts(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    attempts = [
        _take(world, app, "ana", sitting, 1),
        _take(world, app, "ben", sitting, 2),
        _take(world, app, "cy", sitting, 3),
    ]
    with get_db(app).read_sessions() as session:
        graded = {a: session.get(AttemptResult, a).item_scores for a in attempts}

    long = _export(world, "layout=long")
    assert long.mimetype == "text/csv"
    export_id = long.headers["Export-Id"]
    rows = _rows(long)
    assert len(rows) == 3 * 60
    assert set(rows[0]) == {
        "attempt",
        "sitting",
        "item_ref",
        "item_version",
        "competency",
        "position",
        "response",
        "score",
        "answered_after_s",
        "pretest",
    }
    assert {row["pretest"] for row in rows} == {"False"}  # no item on trial here
    by_person: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_person.setdefault(row["attempt"], []).append(row)
    assert len(by_person) == 3
    # Each pseudonym's scores are one graded attempt's, position by position.
    scores_of = {
        name: {int(r["position"]): float(r["score"]) for r in person}
        for name, person in by_person.items()
    }
    assert sorted(map(sorted, (s.items() for s in scores_of.values()))) == sorted(
        sorted((int(p), s) for p, s in g.items()) for g in graded.values()
    )
    last = [r for r in rows if r["position"] == "60"]
    assert {r["response"] for r in last} == {""} and {r["score"] for r in last} == {"0"}
    assert all(r["response"] for r in rows if r["position"] != "60")
    assert all(r["answered_after_s"] == "" for r in last)
    assert all(r["answered_after_s"].isdigit() for r in rows if r["position"] != "60")

    # The same export id gives the same pseudonyms in the wide layout; NA off the form.
    wide = _rows(_export(world, f"layout=wide&export={export_id}"))
    assert {r["attempt"] for r in wide} == set(by_person)
    for person in wide:
        mine = {
            f"{r['item_ref']}_v{r['item_version']}": r["score"]
            for r in by_person[person["attempt"]]
        }
        for column, value in person.items():
            if column == "attempt":
                continue
            assert value == mine.get(column, "NA")
    columns = set(wide[0]) - {"attempt"}
    if len(columns) > 60:  # forms differ: someone has a missing code
        assert any("NA" in r.values() for r in wide)

    # A new export: new pseudonyms, none of the old ones.
    again = _rows(_export(world, "layout=long"))
    assert {r["attempt"] for r in again}.isdisjoint(by_person)

    # Never a name or an email unless asked.
    body = long.get_data(as_text=True) + json.dumps(wide)
    for who in ("ana", "ben", "cy"):
        user = world.people[who]["user"]
        assert user.email not in body and user.family_name not in body

    identified = _rows(_export(world, "layout=long&identified=true"))
    assert {r["candidate_email"] for r in identified} == {
        world.people[w]["user"].email for w in ("ana", "ben", "cy")
    }
    with get_db(app).read_sessions() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "responses.exported")
            .order_by(AuditEvent.id)
        ).all()
    assert [e.after["identified"] for e in events] == [False, False, False, True]
    assert [e.after["repeated"] for e in events] == [False, True, False, False]
    assert events[0].after["export"] == export_id and events[0].after["attempts"] == 3
    assert events[0].actor_id == world.id("admin")


def test_json_layouts_and_sitting_scope(app: Flask, world: ExamWorld) -> None:
    first, second = world.schedule(), world.schedule()
    _take(world, app, "ana", first, 2)
    _take(world, app, "ben", second, 2)
    whole = _export(world, "format=json").get_json()
    assert whole["layout"] == "long" and whole["identified"] is False
    assert len(whole["responses"]) == 120
    one = _export(world, f"format=json&sitting={second}").get_json()
    assert {r["sitting"] for r in one["responses"]} == {second}
    assert len(one["responses"]) == 60
    wide = _export(world, f"format=json&layout=wide&sitting={first}").get_json()
    assert wide["missing"] == "NA" and len(wide["persons"]) == 1
    person = wide["persons"][0]
    assert len(person["scores"]) == len(wide["items"]) == 60
    assert set(person["scores"]) <= {0, 1}


def test_bad_requests_name_the_field_and_candidates_are_refused(
    app: Flask, world: ExamWorld
) -> None:
    for query, field in (
        ("layout=tall", "layout"),
        ("format=xlsx", "format"),
        ("identified=maybe", "identified"),
        ("export=zz", "export"),
        ("sitting=-3", "sitting"),
        ("sitting=99999999999", "sitting"),
    ):
        problem = _export(world, query, expect=422).get_json()
        assert problem["errors"][0]["field"] == field
    assert world.call("GET", "/blueprints/nothing/responses", "admin").status_code == 404
    assert world.call("GET", "/blueprints/first-level/responses", "ana").status_code == 403
    with get_db(app).read_sessions() as session:
        assert not session.scalars(
            select(AuditEvent).where(AuditEvent.action == "responses.exported")
        ).all()


def test_the_command_line_export(app: Flask, world: ExamWorld, tmp_path) -> None:
    _take(world, app, "ana", world.schedule(), 2)
    out = tmp_path / "wide.csv"
    result = app.test_cli_runner().invoke(
        args=["responses", "export", "--layout", "wide", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1 attempts, 60 responses" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 1 and len(rows[0]) == 61
    bad = app.test_cli_runner().invoke(args=["responses", "export", "--blueprint", "none"])
    assert bad.exit_code != 0 and "No such blueprint" in bad.output
