"""The First Level blueprint as versioned data, and the coverage report."""

from __future__ import annotations

import copy

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from item_bank import blueprints, frameworks, transfer
from item_bank.blueprints import even_shares
from item_bank.models import ItemStatus
from tests.conftest import post_form, sign_in
from tests.item_bank.fixtures import record, sample_records


def _current(app: Flask) -> tuple[int, dict]:
    with get_db(app).read_sessions() as session:
        bp = blueprints.get_blueprint(session, "first-level")
        return bp.current.number, bp.current.spec


def test_first_level_rules(app: Flask, first_level: None) -> None:
    number, spec = _current(app)
    assert number == 1
    assert (spec["item_count"], spec["time_limit_minutes"], spec["pass_overall_percent"]) == (
        60,
        90,
        70,
    )
    assert [(a["code"], a["items"], a["min_percent"]) for a in spec["areas"]] == [
        ("CU.SK", 24, 50),
        ("CU.KN", 12, 50),
        ("CO.SK", 12, 50),
        ("CO.KN", 12, 50),
    ]
    assert (
        spec["retake_wait_days"],
        spec["max_attempts_per_12_months"],
        spec["certificate_validity_months"],
    ) == (14, 3, 24)


def test_reloading_the_same_rules_makes_no_new_version(app: Flask, first_level: None) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        version = blueprints.load_blueprint_file(
            session, blueprints.BLUEPRINTS_DIR / "first-level.json"
        )
        assert version.number == 1


def _edit_data(spec: dict, **changes) -> dict:
    data = {
        key: spec[key]
        for key in (
            "title",
            "item_count",
            "time_limit_minutes",
            "pass_overall_percent",
            "retake_wait_days",
            "max_attempts_per_12_months",
            "certificate_validity_months",
            "exposure_cap_percent",
        )
    }
    data["note"] = "Committee decision 2026-11"
    for index, area in enumerate(spec["areas"]):
        for key in ("code", "title", "items", "min_percent"):
            data[f"areas-{index}-{key}"] = area[key]
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_exam_admin_edits_make_a_new_audited_version(
    app: Flask, make_user, first_level: None
) -> None:
    admin = make_user("exam_admin")
    client = app.test_client()
    sign_in(client, admin.email)
    _, spec = _current(app)
    response = post_form(
        client,
        "/item-bank/blueprints/first-level",
        "/item-bank/blueprints/first-level",
        _edit_data(spec, time_limit_minutes=100),
    )
    assert response.status_code == 302
    number, new_spec = _current(app)
    assert (
        number == 2 and new_spec["time_limit_minutes"] == 100 and new_spec["areas"] == spec["areas"]
    )
    with get_db(app).read_sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "blueprint.version_created", AuditEvent.actor_id == admin.id
            )
        ).one()
    assert event.before == {"time_limit_minutes": 90} and event.after["time_limit_minutes"] == 100


def test_forms_of_equal_difficulty_are_set_on_the_page_and_checked(
    app: Flask, make_user, first_level: None
) -> None:
    client = app.test_client()
    sign_in(client, make_user("exam_admin").email)
    spec = _current(app)[1]
    page = client.get("/item-bank/blueprints/first-level").get_data(as_text=True)
    assert "drawn to the areas' counts only" in page and "Forms of equal difficulty" in page
    url = "/item-bank/blueprints/first-level"
    wide = _edit_data(spec, even_difficulty="y", difficulty_tolerance="25")
    refused = post_form(client, url, url, wide)
    assert refused.status_code == 422 and "Number must be between 0.1 and 10" in refused.get_data(
        as_text=True
    )
    assert _current(app)[0] == 1
    done = post_form(
        client, url, url, _edit_data(spec, even_difficulty="y", difficulty_tolerance="0.5")
    )
    assert done.status_code == 302
    number, new_spec = _current(app)
    assert number == 2
    assert new_spec["form_difficulty"] == {"tolerance_items": 0.5, "max_uncalibrated_percent": 10.0}
    page = client.get(url).get_data(as_text=True)
    assert "every form within 0.5 items of the pass mark" in page
    # Unticked, the goal goes.
    post_form(client, url, url, _edit_data(new_spec))
    assert _current(app)[1]["form_difficulty"] is None


def test_inconsistent_rules_are_refused_and_change_nothing(
    app: Flask, make_user, first_level: None
) -> None:
    admin = make_user("exam_admin")
    client = app.test_client()
    sign_in(client, admin.email)
    _, spec = _current(app)
    response = post_form(
        client,
        "/item-bank/blueprints/first-level",
        "/item-bank/blueprints/first-level",
        _edit_data(spec, **{"areas-0-items": 30}),
    )
    assert response.status_code == 422
    assert "add up to 66 items, not 60" in response.get_data(as_text=True)
    assert _current(app)[0] == 1


def test_only_exam_admin_edits_the_blueprint(app: Flask, make_user, first_level: None) -> None:
    writer = make_user("item_writer")
    client = app.test_client()
    sign_in(client, writer.email)
    page = client.get("/item-bank/blueprints/first-level").get_data(as_text=True)
    assert "Change the rules" not in page
    _, spec = _current(app)
    response = post_form(
        client,
        "/item-bank/blueprints/first-level",
        "/item-bank/blueprints/first-level",
        _edit_data(spec, time_limit_minutes=10),
    )
    assert response.status_code == 403 and _current(app)[0] == 1


def test_even_shares() -> None:
    assert even_shares(24, 6) == [4, 4, 4, 4, 4, 4]
    assert even_shares(12, 5) == [3, 3, 2, 2, 2]
    assert even_shares(2, 3) == [1, 1, 0]


def test_coverage_of_the_sample_bank(app: Flask, sample_bank, make_user) -> None:
    admin = make_user("exam_admin")
    client = app.test_client()
    from tests.conftest import api_token, bearer

    report = client.get(
        "/api/v1/blueprints/first-level/coverage", headers=bearer(api_token(client, admin.email))
    ).get_json()
    assert report["distinct_forms"] == 3
    customer_skills = report["areas"][0]
    assert (
        customer_skills["code"],
        customer_skills["needed_per_form"],
        customer_skills["approved_available"],
    ) == ("CU.SK", 24, 90)
    assert [s["needed_per_form"] for s in customer_skills["subareas"]] == [4, 4, 4, 4, 4, 4]
    assert report["competencies_without_approved_items"] == []
    sign_in(client, admin.email)
    page = client.get("/item-bank/coverage").get_data(as_text=True)
    assert "3 distinct forms without reusing an item" in page


def test_coverage_says_what_is_short_in_words(app: Flask, first_level: None, make_user) -> None:
    records = [r for r in sample_records() if not r["competencies"][0].startswith("CU.SK.PTM")]
    records = [
        dict(r, enemies=[e for e in r["enemies"] if not e.startswith("CU.SK.PTM")]) for r in records
    ]
    with app.app_context(), get_db(app).write_sessions() as session:
        transfer.import_items(
            session,
            frameworks.get_framework(session),
            copy.deepcopy(records),
            status=ItemStatus.APPROVED,
            actor_id=None,
            actor_label="test",
        )
        transfer.import_items(
            session,
            frameworks.get_framework(session),
            [record(competencies=["CU.SK.PTM.01"])],
            status=ItemStatus.APPROVED,
            actor_id=None,
            actor_label="test",
        )
        report = blueprints.coverage(
            session, blueprints.get_blueprint(session, "first-level").current
        )
    area = report.areas[0]
    ptm = next(s for s in area.subareas if s.code == "CU.SK.PTM")
    assert (ptm.available, ptm.per_form, ptm.short_by) == (1, 4, 3)
    assert report.forms == 1
    assert any(
        "Project & Time Management (CU.SK.PTM): 1 approved, a form wants 4; write and approve 3 more"
        in a
        for a in area.advice
    )
    assert [n.code for n in report.uncovered_competencies] == ["CU.SK.PTM.02"]


def test_a_reporting_scale_is_set_on_the_page_and_its_pass_point_checked(
    app: Flask, make_user, first_level: None
) -> None:
    client = app.test_client()
    sign_in(client, make_user("exam_admin").email)
    spec = _current(app)[1]
    url = "/item-bank/blueprints/first-level"
    outside = _edit_data(spec, report_scale="y", scale_low="200", scale_high="800", scale_cut="900")
    refused = post_form(client, url, url, outside)
    assert refused.status_code == 422
    assert "The pass point 900 must lie inside the scale 200-800." in refused.get_data(as_text=True)
    assert _current(app)[0] == 1
    done = post_form(client, url, url, _edit_data(spec, report_scale="y", scale_cut="450"))
    assert done.status_code == 302
    scale = _current(app)[1]["scaled_score"]
    assert scale == {"low": 100, "high": 900, "cut": 450, "points_per_logit": 50.0,
                     "cut_measure": None}  # fmt: skip
    page = client.get(url).get_data(as_text=True)
    assert "a scaled score from 100 to 900, pass point 450" in page


def test_a_version_stored_before_a_field_was_added_is_not_revised_by_its_default(
    app: Flask, first_level: None
) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        blueprint = blueprints.require_blueprint(session, "first-level")
        stored = dict(blueprint.current.spec)
        del stored["framework_level"]  # as versions saved before levels existed
        blueprint.current.spec = stored
        session.commit()
        version = blueprints.load_blueprint_file(
            session, blueprints.BLUEPRINTS_DIR / "first-level.json"
        )
        assert version.number == 1
