"""A rescoring's preview (the page's and the API's dry run) names the certificates it
would issue, revoke or reinstate, and those it leaves alone, from the real rows."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from certificates.models import Certificate
from core.audit import AuditEvent
from core.db import get_db
from exam.models import ScoringDecision
from tests.conftest import post_form
from tests.exam.fixtures import ExamWorld, pass_exam_on
from tests.exam.test_rescoring import _one_short_of_the_cut, scoring_form


def _code(app: Flask, attempt_id: int) -> str:
    with get_db(app).read_sessions() as session:
        return session.scalars(
            select(Certificate.code).where(Certificate.attempt_id == attempt_id)
        ).one()


def test_the_api_dry_run_names_each_certificate_the_rescoring_touches(
    app: Flask, world: ExamWorld
) -> None:
    attempt, item_id, chosen = _one_short_of_the_cut(app, world)
    path = f"/items/{item_id}/invalidate"
    accept = {"action": "correct_key", "keys": [chosen], "reason": "Two keys."}
    drop = {"action": "do_not_score", "reason": "Ambiguous after all."}

    def effects(body: dict, dry_run: bool = True) -> list[tuple[str, str | None, str]]:
        answer = world.call("POST", path + ("?dry_run=1" if dry_run else ""), "admin", body)
        out = answer.get_json()
        assert out["dry_run"] is dry_run and out["attempts_rescored"] == 1
        assert out["outcomes_changed"] == len(out["changed"]) == 1
        assert {c["attempt_id"] for c in out["certificates"]} == {attempt["id"]}
        return [(c["effect"], c["certificate"], c["note"]) for c in out["certificates"]]

    # Fail to pass: a new certificate, its code not promised by the dry run.
    assert effects(accept) == [("issued", None, "")]
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Certificate)).first() is None
        assert session.scalars(select(ScoringDecision)).first() is None
        assert (
            session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(["item.correct_key"]))
            ).all()
            == []
        )
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["result"] == (
        "fail"
    )
    issued = effects(accept, dry_run=False)
    code = _code(app, attempt["id"])
    assert issued == [("issued", code, "")]
    # Pass to fail: that certificate revoked; then, its pass restored, reinstated.
    assert effects(drop) == [("revoked", code, "")]
    assert effects(drop, dry_run=False) == [("revoked", code, "")]
    assert effects(accept) == [("reinstated", code, "")]
    assert effects(accept, dry_run=False) == [("reinstated", code, "")]
    # Revoked by a person (misconduct): rescoring leaves it as it is, and says so.
    world.call(
        "POST",
        f"/certificates/{code}/revocation",
        "admin",
        {"reason": "misconduct", "note": "Shared the questions."},
    )
    assert effects(drop) == [("untouched", code, "already revoked: misconduct")]
    effects(drop, dry_run=False)
    assert effects(accept) == [("untouched", code, "stays revoked: misconduct")]
    with get_db(app).read_sessions() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "item.do_not_score")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.after["certificates"] == {"untouched": 1}
    bad = world.call("POST", path + "?dry_run=maybe", "admin", accept, expect=422).get_json()
    assert bad["errors"][0]["field"] == "dry_run"


def test_the_pages_name_the_certificates_and_count_attempts_and_outcomes(
    app: Flask, world: ExamWorld
) -> None:
    attempt, item_id, chosen = _one_short_of_the_cut(app, world)
    admin, fields = scoring_form(app, world, item_id, chosen, "Two keys.")
    post_form(admin, "/staff/scoring", "/staff/scoring", {**fields, "confirmed": "yes"})
    code = _code(app, attempt["id"])
    dropped = {**fields, "action": "do_not_score", "keys": ""}
    preview = post_form(admin, "/staff/scoring", "/staff/scoring", dropped)
    text = " ".join(preview.get_data(as_text=True).split())
    ana = world.people["ana"]["user"].full_name
    row = (
        f'"Candidate">{ana}</td><td role="cell" data-label="Now">pass</td>'
        '<td role="cell" data-label="After rescoring"><strong>fail</strong></td>'
        f'<td role="cell" data-label="Certificate">revoked <span class="code">{code}</span></td>'
    )
    assert row in text
    assert f'<strong>1</strong> certificate revoked: <span class="code">{code}</span>' in text
    done = post_form(admin, "/staff/scoring", "/staff/scoring", {**dropped, "confirmed": "yes"})
    text = " ".join(done.get_data(as_text=True).split())
    assert "1 attempt rescored; 1 outcome changed" in text
    assert f'certificate: revoked <span class="code">{code}</span>' in text
    assert f'<strong>1</strong> certificate revoked: <span class="code">{code}</span>' in text


def test_a_pass_restored_on_an_earlier_attempt_names_the_certificate_it_supersedes(
    app: Flask, world: ExamWorld
) -> None:
    first, item_id, chosen = _one_short_of_the_cut(app, world)
    world.clock.advance(days=15)  # past the 14-day wait after a fail
    world.refresh_tokens()
    later = pass_exam_on(world, app, "first-level")
    path = f"/items/{item_id}/invalidate?dry_run=1"
    body = {"action": "correct_key", "keys": [chosen], "reason": "Two keys."}
    preview = world.call("POST", path, "admin", body, 200).get_json()
    assert [c["after"] for c in preview["changed"]] == ["pass"]
    assert [(c["attempt_id"], c["effect"], c["certificate"]) for c in preview["certificates"]] == [
        (first["id"], "issued", None),
        (first["id"], "superseded", later["code"]),
    ]
    assert preview["certificates"][1]["note"] == "by the new certificate"
    with get_db(app).read_sessions() as session:  # a dry run: nothing superseded yet
        kept = session.scalars(select(Certificate).where(Certificate.code == later["code"])).one()
        assert kept.superseded_by_id is None
