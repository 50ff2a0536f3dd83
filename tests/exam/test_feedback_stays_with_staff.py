"""QTI feedback is staff-only rationale: nothing a candidate's browser receives during an
attempt on such items carries it, nor the label."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select, update

from core.db import get_db
from exam.models import AttemptItem
from item_bank import frameworks, transfer
from item_bank.models import Item
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.item_bank.test_qti import PACKAGE_DIR, zip_folder

FEEDBACK = (
    "Rapport comes first",
    "goals are agreed with people who trust you",
    "Think again about trust before goals",
    "Logo churn counts customers",
    "Count customers, not revenue",  # inline feedback in the stem
    "Five per cent is the logo figure",  # inline feedback in the prompt
    "ARR and MRR recur",
    "Fees and day rates are one-off",
)


def _put_qti_items_on_the_form(app: Flask, attempt_id: int) -> int:
    """Import the fixture package approved and make its items the form's first questions
    (as if drawn): how many there are."""
    upload = transfer.parse_upload("tao.zip", zip_folder(PACKAGE_DIR))
    with app.app_context(), get_db(app).write_sessions() as session:
        transfer.import_items(
            session,
            frameworks.get_framework(session),
            upload.records,
            status="approved",
            actor_id=None,
            actor_label="test",
            default_competency="CO.KN.TERM.01",
        )
        items = session.scalars(select(Item).where(Item.ref.like("i-%")).order_by(Item.ref)).all()
        for position, item in enumerate(items, start=1):
            version = item.head
            session.execute(
                update(AttemptItem)
                .where(AttemptItem.attempt_id == attempt_id, AttemptItem.position == position)
                .values(
                    item_id=item.id,
                    item_version_id=version.id,
                    option_order=list("ABCDEF"[: len(version.options)]),
                )
            )
        session.commit()
        return len(items)


def test_no_page_or_json_of_an_attempt_carries_feedback(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    count = _put_qti_items_on_the_form(app, attempt["id"])
    assert count == 5
    browser = app.test_client()
    sign_in(browser, world.people["ana"]["user"].email)
    base = f"/exams/attempts/{attempt['id']}"
    total = len(attempt["questions"])
    bodies = [browser.get("/exams").get_data(as_text=True)]
    for position in range(1, total + 1):
        page = browser.get(f"{base}/q/{position}")
        assert page.status_code == 200
        bodies.append(page.get_data(as_text=True))
    assert "Product usage against the plan" in "".join(bodies)  # the QTI items are shown
    first = bodies[1]
    option = re.search(r'name="answer"[^>]*value="([^"]+)"', first)
    assert option
    saved = browser.post(
        f"{base}/q/1",
        data={"csrf_token": csrf_from(first), "answer": option.group(1), "go": "next"},
        follow_redirects=True,
    )
    bodies.append(saved.get_data(as_text=True))
    bodies += [
        browser.get(f"{base}/review").get_data(as_text=True),
        browser.get(f"{base}/state").get_data(as_text=True),
        world.call("GET", f"/attempts/{attempt['id']}", "ana").get_data(as_text=True),
        world.call("GET", f"/attempts/{attempt['id']}/state", "ana").get_data(as_text=True),
        world.call(
            "PUT", f"/attempts/{attempt['id']}/responses/2", "ana", {"selected": []}
        ).get_data(as_text=True),
    ]
    review = bodies[-5]
    submitted = browser.post(
        f"{base}/submit",
        data={"csrf_token": csrf_from(review), "confirmed": "yes"},
        follow_redirects=True,
    )
    bodies.append(submitted.get_data(as_text=True))
    everything = "\n".join(bodies)
    for text in FEEDBACK:
        assert text not in everything, text
    assert "Item 1" not in everything  # the staff label
