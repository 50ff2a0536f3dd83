"""A scenario's exhibits reach the candidate beside each question on it, from the same
attempt media route and under the same rule as a question's own media: their own attempt,
in progress, time not up; anything else is the same 404."""

from __future__ import annotations

import hashlib
import re

from flask import Flask
from sqlalchemy import select, update

from accounts.models import User
from core.db import get_db
from exam.models import AttemptItem
from exam.services.stimulus_media import media_of_stimuli
from item_bank import frameworks, transfer
from item_bank.models import Item, ItemStatus, Stimulus
from item_bank.schemas import MediaRef, StimulusContent
from item_bank.services import media as media_service
from item_bank.services import stimuli
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.item_bank.fixtures import record
from tests.item_bank.media_fixtures import CHART_ALT, png_chart

EXHIBIT = "S-CHART"
PASSAGE = "Northgate's renewals over the year are in the chart below."
OTHER_ALT = "A table of seat counts per quarter."


def scenario_item_first(app: Flask, attempt_id: int, writer_id: int) -> list[str]:
    """A scenario with two images (a chart, then a table) and an approved item on it, put
    at question 1 of the attempt; the images' hashes in order."""
    with app.app_context(), get_db(app).write_sessions() as session:
        writer = session.get(User, writer_id)
        assert writer is not None
        files = [
            media_service.store_media(session, png_chart(), "chart.png"),
            media_service.store_media(session, png_chart(200, 120, shade=90), "table.png"),
        ]
        framework = frameworks.require_framework(session, frameworks.DEFAULT_FRAMEWORK)
        media = [
            MediaRef(sha256=files[0].sha256, alt=CHART_ALT),
            MediaRef(sha256=files[1].sha256, alt=OTHER_ALT),
        ]
        content = StimulusContent(ref=EXHIBIT, title="Renewals", body=PASSAGE, media=media)
        stimuli.create_stimulus(session, writer, framework, content)
        transfer.import_items(
            session,
            framework,
            [record(ref="chart-scenario-item", stimulus={"ref": EXHIBIT})],
            status=ItemStatus.APPROVED,
            actor_id=None,
            actor_label="test",
        )
        item = session.scalars(select(Item).where(Item.ref == "chart-scenario-item")).one()
        session.execute(
            update(AttemptItem)
            .where(AttemptItem.attempt_id == attempt_id, AttemptItem.position == 1)
            .values(
                item_id=item.id, item_version_id=item.head.id, option_order=["A", "B", "C", "D"]
            )
        )
        session.commit()
        return [file.sha256 for file in files]


def ana_on_the_scenario(app: Flask, world: ExamWorld) -> tuple[dict, list[str]]:
    """Ana's started attempt, question 1 on the scenario; the scenario's image hashes."""
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    return attempt, scenario_item_first(app, attempt["id"], world.id("admin"))


def _urls(page: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'src="(/exams/attempts/\d+/media/[0-9a-f]{64})"', page)))


def test_the_passage_shows_its_images_in_order_with_their_alt_text(
    app: Flask, world: ExamWorld
) -> None:
    attempt, hashes = ana_on_the_scenario(app, world)
    body = world.call("GET", f"/attempts/{attempt['id']}", "ana", expect=200).get_json()
    shown = body["questions"][0]["stimulus"]
    assert shown["body"] == PASSAGE and body["questions"][0]["media"] == []
    assert [(m["alt"], m["kind"], m["content_type"]) for m in shown["media"]] == [
        (CHART_ALT, "image", "image/png"),
        (OTHER_ALT, "image", "image/png"),
    ]
    assert [m["url"].rsplit("/", 1)[1] for m in shown["media"]] == hashes
    assert all(
        m["url"].startswith(f"/exams/attempts/{attempt['id']}/media/") for m in shown["media"]
    )
    assert (shown["media"][0]["width"], shown["media"][0]["height"]) == (320, 180)

    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    page = ana.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True)
    panel = page.split('id="stimulus-1"', 1)[1].split("</section>", 1)[0]
    assert f'alt="{CHART_ALT}"' in panel and f'alt="{OTHER_ALT}"' in panel
    assert "Enlarge image 1" in panel and "media.js" in page
    assert [url.rsplit("/", 1)[1] for url in _urls(panel)] == hashes
    for url, sha in zip(_urls(panel), hashes, strict=True):
        served = ana.get(url)
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert hashlib.sha256(served.get_data()).hexdigest() == sha
        assert served.headers["Cache-Control"] == "private, no-store"
    assert "chart.png" not in page and EXHIBIT not in page  # no file name, no scenario ref


def test_an_exhibit_is_a_404_for_another_candidate_a_file_off_the_form_and_a_finished_attempt(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    attempt = world.start("ana", sitting)
    bens = world.start("ben", sitting)
    hashes = scenario_item_first(app, attempt["id"], world.id("admin"))
    with app.app_context(), get_db(app).write_sessions() as session:
        elsewhere = media_service.store_media(session, png_chart(shade=200), "other.png").sha256
        session.commit()
    ana, ben = app.test_client(), app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    sign_in(ben, world.people["ben"]["user"].email)
    mine = f"/exams/attempts/{attempt['id']}/media/{hashes[0]}"
    assert ana.get(mine).status_code == 200
    # Ben, on his own attempt or on Ana's: the scenario is not on his form.
    assert ben.get(mine).status_code == 404
    assert ben.get(f"/exams/attempts/{bens['id']}/media/{hashes[0]}").status_code == 404
    # A stored file that no question or scenario of the form shows.
    assert ana.get(f"/exams/attempts/{attempt['id']}/media/{elsewhere}").status_code == 404
    # Handed in: gone for Ana too.
    review = ana.get(f"/exams/attempts/{attempt['id']}/review").get_data(as_text=True)
    ana.post(
        f"/exams/attempts/{attempt['id']}/submit",
        data={"csrf_token": csrf_from(review), "confirmed": "yes"},
    )
    assert ana.get(mine).status_code == 404


def test_an_exhibit_is_a_404_once_the_time_is_up(app: Flask, world: ExamWorld) -> None:
    attempt, hashes = ana_on_the_scenario(app, world)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    url = f"/exams/attempts/{attempt['id']}/media/{hashes[1]}"
    assert ana.get(url).status_code == 200
    world.clock.advance(hours=5)
    assert ana.get(url).status_code == 404


def test_the_form_keeps_the_exhibits_it_was_drawn_with(app: Flask, world: ExamWorld) -> None:
    attempt, hashes = ana_on_the_scenario(app, world)
    with app.app_context(), get_db(app).write_sessions() as session:
        writer = session.get(User, world.id("admin"))
        stimulus = session.scalars(select(Stimulus).where(Stimulus.ref == EXHIBIT)).one()
        first = stimulus.current.id
        content = StimulusContent(title="Renewals", body=PASSAGE, revision=1)  # images removed
        stimuli.update_stimulus(session, writer, stimulus, content)
        second = stimulus.current.id
        assert stimulus.current.number == 2
        found = media_of_stimuli(session, [first, second])
        assert media_of_stimuli(session, []) == {}
    assert [m.sha256 for m in found[first]] == hashes and second not in found
    body = world.call("GET", f"/attempts/{attempt['id']}", "ana", expect=200).get_json()
    assert [m["alt"] for m in body["questions"][0]["stimulus"]["media"]] == [CHART_ALT, OTHER_ALT]
