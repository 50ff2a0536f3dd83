"""The item editor attaches an image with its alt text (required) and audio with its
transcript; a refused file or missing words are shown beside the fields, nothing saved."""

from __future__ import annotations

import hashlib
import io

from flask import Flask
from sqlalchemy import select

from core.db import get_db
from item_bank.media_models import ItemVersionMedia
from tests.conftest import csrf_from, sign_in
from tests.item_bank.fixtures import act
from tests.item_bank.media_fixtures import CHART_ALT, png_chart, wav_tone
from tests.item_bank.test_pages import EDITOR_FORM

NEW = "/item-bank/items/new"


def _post(client, page: str, action: str, data: dict) -> object:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(
        action, data={"csrf_token": token, **data}, content_type="multipart/form-data"
    )


def _rows(app: Flask) -> list[tuple[int, str, str]]:
    with get_db(app).read_sessions() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    ItemVersionMedia.version_id, ItemVersionMedia.alt, ItemVersionMedia.transcript
                ).order_by(ItemVersionMedia.version_id, ItemVersionMedia.position)
            )
        ]


def test_a_writer_attaches_an_image_with_alt_text_and_reviewers_see_it(app: Flask, staff) -> None:
    client = app.test_client()
    sign_in(client, staff["writer"]["user"].email)
    form = client.get(NEW).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and "Add an image or audio file" in form
    preview = _post(
        client,
        NEW,
        NEW,
        {
            **EDITOR_FORM,
            "preview": "1",
            "media_upload": (io.BytesIO(png_chart()), "chart.png"),
            "media_upload_alt": CHART_ALT,
        },
    )
    html = preview.get_data(as_text=True)
    sha = hashlib.sha256(png_chart()).hexdigest()
    assert preview.status_code == 200
    assert f'src="/item-bank/media/{sha}" alt="{CHART_ALT}"' in html  # in the preview
    assert f'name="media-0-sha256" type="hidden" value="{sha}"' in html  # kept for the save
    saved = client.post(
        NEW,
        data={
            "csrf_token": csrf_from(html),
            **EDITOR_FORM,
            "media-0-sha256": sha,
            "media-0-alt": CHART_ALT,
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _rows(app)[0][1:] == (CHART_ALT, "")
    item_page = saved.headers["Location"]
    reviewer = app.test_client()
    sign_in(reviewer, staff["reviewer"]["user"].email)
    assert f'alt="{CHART_ALT}"' in reviewer.get(item_page).get_data(as_text=True)

    # Approved, then the alt text edited: version 2 has the new words, version 1 the old.
    item_id = int(item_page.rsplit("/", 1)[1])
    assert act(client, staff["writer"]["headers"], item_id, "submit").status_code == 200
    assert act(client, staff["reviewer"]["headers"], item_id, "approve").status_code == 200
    edit = f"/item-bank/items/{item_id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert CHART_ALT in page
    revision = page.split('name="revision" type="hidden" value="')[1].split('"')[0]
    again = client.post(
        edit,
        data={
            "csrf_token": csrf_from(page),
            **EDITOR_FORM,
            "revision": revision,
            "media-0-sha256": sha,
            "media-0-alt": "Renewals went up every quarter.",
        },
    )
    assert again.status_code == 302
    assert [alt for _, alt, _ in _rows(app)] == [CHART_ALT, "Renewals went up every quarter."]


def test_missing_words_and_false_files_are_shown_and_nothing_is_saved(app: Flask, staff) -> None:
    client = app.test_client()
    sign_in(client, staff["writer"]["user"].email)
    no_alt = _post(
        client, NEW, NEW, {**EDITOR_FORM, "media_upload": (io.BytesIO(png_chart()), "c.png")}
    )
    assert no_alt.status_code == 422
    assert "An image needs alt text" in no_alt.get_data(as_text=True)
    no_transcript = _post(
        client, NEW, NEW, {**EDITOR_FORM, "media_upload": (io.BytesIO(wav_tone()), "call.wav")}
    )
    assert no_transcript.status_code == 422
    assert "Audio needs a transcript" in no_transcript.get_data(as_text=True)
    fake = _post(
        client,
        NEW,
        NEW,
        {
            **EDITOR_FORM,
            "media_upload": (io.BytesIO(b"<html><script></script></html>"), "chart.png"),
            "media_upload_alt": "x",
        },
    )
    html = fake.get_data(as_text=True)
    assert fake.status_code == 415 and "not a readable PNG, JPEG or WebP image" in html
    assert 'id="media_upload-error"' in html
    assert _rows(app) == []
