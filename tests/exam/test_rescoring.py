"""Invalidation and rescoring, and appeals."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificates.models import Certificate
from core import events
from core.audit import AuditEvent
from core.db import get_db
from exam.models import AttemptItem, ScoringDecision
from exam.services.option_ids import option_id
from item_bank.models import Item
from tests.conftest import csrf_from, post_form, sign_in
from tests.exam.fixtures import ExamWorld, answer_all, form_slots, key_map, sit


def _item_on_form(
    app: Flask, attempt_id: int, prefix: str
) -> tuple[int, int, list[str], list[str]]:
    """(item id, position, keys, options shown order) of the first question under prefix."""
    slot = next(s for s in form_slots(app, attempt_id) if s.code.startswith(prefix))
    return slot.item_id, slot.position, slot.keys, slot.order


def _failed_with_one_wrong(app: Flask, world: ExamWorld) -> tuple[dict, int, str]:
    """Ana's attempt, handed in: right everywhere but Customer skills (a fail), and wrong
    on one Company-knowledge item (its id, and the option she chose, to be declared the
    key)."""
    attempt = sit(world)
    item_id, position, item_keys, order = _item_on_form(app, attempt["id"], "CO.KN")
    wrong = next(letter for letter in order if letter not in item_keys)
    answer_all(
        world, app, attempt, lambda code: not code.startswith("CU.SK")
    )  # 36 of 60 right: fail
    world.call(
        "PUT",
        f"/attempts/{attempt['id']}/responses/{position}",
        "ana",
        {"selected": [option_id(app.config["SECRET_KEY"], attempt["id"], position, wrong)]},
        200,
    )
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    return attempt, item_id, wrong


def test_correcting_a_key_rescores_and_flips_outcomes_through_the_event(
    app: Flask, world: ExamWorld
) -> None:
    seen: list[dict] = []
    events.subscribe(app, "attempt.result_changed", lambda session, **payload: seen.append(payload))
    attempt, item_id, wrong = _failed_with_one_wrong(app, world)
    keys = key_map(app, attempt["id"])
    first = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert first["result"] == "fail" and first["score"] == 35.0
    response = world.call(
        "POST",
        f"/items/{item_id}/invalidate",
        "admin",
        {"action": "correct_key", "keys": [wrong], "reason": "The published key was wrong."},
        200,
    )
    assert response.get_json()["changed"] == []  # still a fail, one more right
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["score"] == 36.0
    assert (
        world.call(
            "POST",
            f"/items/{item_id}/invalidate",
            "proctor",
            {"action": "do_not_score", "reason": "x"},
        ).status_code
        == 403
    )
    # Dropping every Customer-skills item it got wrong from scoring turns the fail into a pass.
    for pos, (code, _keys, _order) in keys.items():
        if code.startswith("CU.SK"):
            with get_db(app).read_sessions() as session:
                iid = session.scalar(
                    select(AttemptItem.item_id).where(
                        AttemptItem.attempt_id == attempt["id"], AttemptItem.position == pos
                    )
                )
            last = world.call(
                "POST",
                f"/items/{iid}/invalidate",
                "admin",
                {"action": "do_not_score", "reason": "Ambiguous wording."},
                200,
            ).get_json()
    assert last["changed"] == [] or last["changed"][0]["after"] in ("pass", "fail")
    final = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert (
        final["max_score"] == 36 and final["result"] == "fail"
    )  # CU.SK has no scored item left: 0 % < 50 %
    assert seen[0] == {"attempt_id": attempt["id"], "before": None, "after": "fail"}
    with get_db(app).read_sessions() as session:
        assert session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.correct_key")
        ).first()


def test_appeal_filed_decided_and_shown(app: Flask, world: ExamWorld) -> None:
    attempt = sit(world)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    url = f"/exams/attempts/{attempt['id']}/result"
    page = ana.get(url).get_data(as_text=True)
    assert "File an appeal" in page
    empty = ana.post(url, data={"csrf_token": csrf_from(page), "statement": ""})
    assert empty.status_code == 400 or "Required" in empty.get_data(as_text=True)
    assert (
        post_form(ana, url, url, {"statement": "My screen froze for ten minutes."}).status_code
        == 303
    )
    assert "The exam team is considering it" in ana.get(url).get_data(as_text=True)
    twice = post_form(ana, url, url, {"statement": "Again"})
    assert twice.status_code in (200, 409)
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    queue = admin.get("/staff/appeals").get_data(as_text=True)
    assert "My screen froze" in queue
    appeal_id = int(__import__("re").search(r'name="appeal_id" value="(\d+)"', queue).group(1))
    decision = {
        "appeal_id": str(appeal_id),
        "decision": "uphold:void",
        "reason": "Proctor log confirms the outage.",
    }
    asked = post_form(admin, "/staff/appeals", "/staff/appeals", decision)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "What follows when you confirm" in text
    assert "The result stands at <strong>fail" in text and "The attempt is void" in text
    assert "The exam team is considering it" in ana.get(url).get_data(as_text=True)
    done = post_form(admin, "/staff/appeals", "/staff/appeals", {**decision, "confirmed": "yes"})
    assert done.status_code == 303
    shown = ana.get(url).get_data(as_text=True)
    assert "upheld" in shown and "the attempt is void" in shown and "Voided on appeal" in shown
    assert (
        world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["result"] == "void"
    )


def test_appeals_close_after_thirty_days(app: Flask, world: ExamWorld) -> None:
    attempt = sit(world)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    world.clock.advance(days=31)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    url = f"/exams/attempts/{attempt['id']}/result"
    assert "within 30 days" in ana.get(url).get_data(as_text=True)
    late = post_form(ana, url, url, {"statement": "Late"})
    assert late.status_code == 409


def test_the_scoring_page_previews_then_rescores_on_confirmation(
    app: Flask, world: ExamWorld
) -> None:
    attempt, item_id, wrong = _failed_with_one_wrong(app, world)
    admin, fields = scoring_form(app, world, item_id, wrong, "The key was wrong.")
    preview = post_form(admin, "/staff/scoring", "/staff/scoring", fields)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "What follows when you confirm" in text
    assert "<strong>1</strong> finished attempt that used it is rescored" in text
    assert "<strong>0</strong> outcomes change." in text
    assert "Rescore 1 attempt" in text
    # the preview changed nothing
    score = world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["score"]
    assert score == 35.0
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(ScoringDecision)).first() is None
        assert (
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "item.correct_key")
            ).first()
            is None
        )

    done = post_form(admin, "/staff/scoring", "/staff/scoring", {**fields, "confirmed": "yes"})
    assert done.status_code == 200
    assert "1 attempt rescored; 0 outcomes changed" in done.get_data(as_text=True)
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["score"] == 36.0
    with get_db(app).read_sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.correct_key")
        ).one()
        assert event.after["attempts_rescored"] == 1 and event.after["outcomes_changed"] == 0


def scoring_form(
    app: Flask, world: ExamWorld, item_id: int, keys: str, reason: str
) -> tuple[FlaskClient, dict[str, str]]:
    """A browser client signed in as the exam admin, and the scoring form's fields that
    correct the item's key to ``keys``."""
    with get_db(app).read_sessions() as session:
        item = session.get(Item, item_id)
        assert item is not None
        ref = item.ref
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    return admin, {"ref": ref, "action": "correct_key", "keys": keys, "reason": reason}


def _one_short_of_the_cut(app: Flask, world: ExamWorld) -> tuple[dict, int, str]:
    """Ana's attempt, handed in one mark short of the 70 % cut (41 of 60, every area at or
    above its 50 %): the last item she got wrong (its id, and the option she chose)."""
    attempt = sit(world)
    wrong_per_area = {"CU.SK": 10, "CU.KN": 3, "CO.SK": 3, "CO.KN": 3}  # 19 wrong
    last_wrong: tuple[int, str] = (0, "")
    for position, (code, keys, order) in key_map(app, attempt["id"]).items():
        area = code[:5]
        letters = keys
        if wrong_per_area[area]:
            wrong_per_area[area] -= 1
            letters = [next(letter for letter in order if letter not in keys)]
            last_wrong = (position, letters[0])
        ids = [option_id(app.config["SECRET_KEY"], attempt["id"], position, x) for x in letters]
        world.call(
            "PUT", f"/attempts/{attempt['id']}/responses/{position}", "ana", {"selected": ids}, 200
        )
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    position, chosen = last_wrong
    item_id = next(s.item_id for s in form_slots(app, attempt["id"]) if s.position == position)
    return attempt, item_id, chosen


def test_the_preview_names_the_outcome_that_flips_and_the_certificate_issued(
    app: Flask, world: ExamWorld
) -> None:
    attempt, item_id, chosen = _one_short_of_the_cut(app, world)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert (result["result"], result["score"]) == ("fail", 41.0)
    admin, fields = scoring_form(app, world, item_id, chosen, "Two keys.")
    preview = post_form(admin, "/staff/scoring", "/staff/scoring", fields)
    text = " ".join(preview.get_data(as_text=True).split())
    assert "<strong>1</strong> outcome changes: 1 from fail to pass" in text
    ana = world.people["ana"]["user"].full_name
    assert (
        f'"Candidate">{ana}</td><td role="cell" data-label="Now">fail</td>'
        '<td role="cell" data-label="After rescoring"><strong>pass</strong></td>'
        '<td role="cell" data-label="Certificate">issued a new one (its code is drawn when you'
        " confirm)</td>"
    ) in text
    assert "<strong>1</strong> certificate issued: a new one" in text
    # Nothing happened yet: still a fail, no certificate.
    again = world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()
    assert again["result"] == "fail"
    assert _certificates_of(app, attempt["id"]) == 0

    done = post_form(admin, "/staff/scoring", "/staff/scoring", {**fields, "confirmed": "yes"})
    assert "1 attempt rescored; 1 outcome changed" in done.get_data(as_text=True)
    after = world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()
    assert (after["result"], after["score"]) == ("pass", 42.0)
    assert _certificates_of(app, attempt["id"]) == 1


def _certificates_of(app: Flask, attempt_id: int) -> int:
    with get_db(app).read_sessions() as session:
        return len(
            session.scalars(select(Certificate).where(Certificate.attempt_id == attempt_id)).all()
        )
