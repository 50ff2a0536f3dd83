"""A question's media reach the candidate only for an item on their own form, only while
their attempt is in progress, never from a shared cache, and without the item's key."""

from __future__ import annotations

import hashlib
import re

from flask import Flask
from sqlalchemy import select, update

from core.db import get_db
from exam.models import AttemptItem
from item_bank import frameworks, transfer
from item_bank.models import Item
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.item_bank.media_fixtures import (
    CHART_ALT,
    FEEDBACK,
    TRANSCRIPT,
    audio_package,
    png_chart,
    wav_tone,
)


def put_media_item_first(app: Flask, attempt_id: int) -> None:
    """Import the chart item (an image and audio) approved and make it question 1."""
    upload = transfer.parse_upload("chart.zip", audio_package())
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
        item = session.scalars(select(Item).where(Item.ref == "chart-item")).one()
        session.execute(
            update(AttemptItem)
            .where(AttemptItem.attempt_id == attempt_id, AttemptItem.position == 1)
            .values(item_id=item.id, item_version_id=item.head.id, option_order=["A", "B", "C"])
        )
        session.commit()


def ana_on_a_media_item(app: Flask, world: ExamWorld) -> dict:
    """Ana's started attempt, its first question the chart item."""
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    put_media_item_first(app, attempt["id"])
    return attempt


def _media_urls(page: str) -> list[str]:
    return sorted(set(re.findall(r'src="(/exams/attempts/\d+/media/[0-9a-f]{64})"', page)))


def test_the_candidate_gets_the_media_of_their_open_attempt_only(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    attempt = world.start("ana", sitting)
    world.start("ben", sitting)
    put_media_item_first(app, attempt["id"])
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    page = ana.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True)
    assert f'alt="{CHART_ALT}"' in page and TRANSCRIPT in page
    assert "Enlarge image" in page and "<audio controls" in page
    urls = _media_urls(page)
    assert len(urls) == 2
    served = {hashlib.sha256(ana.get(url).get_data()).hexdigest(): ana.get(url) for url in urls}
    assert set(served) == {hashlib.sha256(d).hexdigest() for d in (png_chart(), wav_tone())}
    for response in served.values():
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
    assert {r.mimetype for r in served.values()} == {"image/png", "audio/wav"}

    # Someone else, a file the form does not show, an anonymous visitor: all turned away.
    ben = app.test_client()
    sign_in(ben, world.people["ben"]["user"].email)
    assert ben.get(urls[0]).status_code == 404
    assert ana.get(urls[0][:-64] + "0" * 64).status_code == 404
    assert app.test_client().get(urls[0]).status_code in (302, 401)

    # Once the attempt is handed in, the files are gone for the candidate too.
    review = ana.get(f"/exams/attempts/{attempt['id']}/review").get_data(as_text=True)
    ana.post(
        f"/exams/attempts/{attempt['id']}/submit",
        data={"csrf_token": csrf_from(review), "confirmed": "yes"},
    )
    assert ana.get(urls[0]).status_code == 404


def test_no_page_or_file_of_a_media_item_carries_its_key_or_rationale(
    app: Flask, world: ExamWorld
) -> None:
    attempt = ana_on_a_media_item(app, world)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    page = ana.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True)
    bodies = [
        page,
        *(ana.get(url).get_data(as_text=False).decode("latin-1") for url in _media_urls(page)),
    ]
    bodies.append(world.call("GET", f"/attempts/{attempt['id']}", "ana").get_data(as_text=True))
    everything = "\n".join(bodies)
    assert FEEDBACK not in everything and "chart-item" not in everything
    assert "images/chart.png" not in everything  # not even the file's name in the package


def test_the_attempt_in_json_names_each_question_s_media_by_a_url_the_candidate_can_fetch(
    app: Flask, world: ExamWorld
) -> None:
    attempt = ana_on_a_media_item(app, world)
    body = world.call("GET", f"/attempts/{attempt['id']}", "ana").get_json()
    first, second = body["questions"][0], body["questions"][1]
    assert second["media"] == []
    assert {m["kind"] for m in first["media"]} == {"image", "audio"}
    image = next(m for m in first["media"] if m["kind"] == "image")
    audio = next(m for m in first["media"] if m["kind"] == "audio")
    assert image["alt"] == CHART_ALT and image["content_type"] == "image/png"
    assert audio["transcript"] == TRANSCRIPT
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    fetched = ana.get(image["url"])
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.get_data()).hexdigest() == hashlib.sha256(png_chart()).hexdigest()


def test_audio_is_served_in_byte_ranges_as_safari_asks_for_it(app: Flask, world: ExamWorld) -> None:
    attempt = ana_on_a_media_item(app, world)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    body = world.call("GET", f"/attempts/{attempt['id']}", "ana").get_json()
    url = next(m["url"] for m in body["questions"][0]["media"] if m["kind"] == "audio")
    sound = wav_tone()
    whole = ana.get(url)
    assert whole.status_code == 200 and whole.get_data() == sound
    assert whole.headers["Accept-Ranges"] == "bytes"
    # Safari's first probe, then a middle slice and an open-ended tail.
    for asked, start, end in (
        ("0-1", 0, 1),
        ("100-499", 100, 499),
        (f"{len(sound) - 10}-", len(sound) - 10, len(sound) - 1),
    ):
        part = ana.get(url, headers={"Range": f"bytes={asked}"})
        assert part.status_code == 206, asked
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{len(sound)}"
        assert part.get_data() == sound[start : end + 1]
        assert part.mimetype == "audio/wav"
        assert part.headers["Cache-Control"] == "private, no-store"
        assert part.headers["X-Content-Type-Options"] == "nosniff"
    beyond = ana.get(url, headers={"Range": f"bytes={len(sound) + 5}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(sound)}"
    # A range changes nothing about who may fetch the file.
    world.admitted("ben", world.schedule())
    ben = app.test_client()
    sign_in(ben, world.people["ben"]["user"].email)
    assert ben.get(url, headers={"Range": "bytes=0-1"}).status_code == 404
