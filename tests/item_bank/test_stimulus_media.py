"""A scenario's exhibits: an image with its alt text (required) shown after the passage,
checked and stored like an item's media, part of the scenario version (a change is a new
version), attached and removed on the scenario's pages and through the API, audited."""

from __future__ import annotations

import hashlib
import io

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from item_bank.media_models import StimulusVersionMedia
from item_bank.models import Stimulus
from item_bank.stimulus_models import StimulusVersion
from tests.conftest import csrf_from, sign_in
from tests.item_bank.fixtures import create
from tests.item_bank.media_fixtures import CHART_ALT, png_chart

PASSAGE = {
    "ref": "S-EXHIBIT",
    "title": "Northgate's renewals",
    "body": "The chart shows a year of renewals.",
}
SHA = hashlib.sha256(png_chart()).hexdigest()


def _upload(client, headers, data: bytes, name: str) -> str:
    response = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["sha256"])


def _rows(app: Flask) -> list[tuple[int, str, str]]:
    """(scenario version number, file, alt text) of every exhibit."""
    with get_db(app).read_sessions() as session:
        rows = session.execute(
            select(StimulusVersion.number, StimulusVersionMedia.sha256, StimulusVersionMedia.alt)
            .join(StimulusVersionMedia, StimulusVersionMedia.version_id == StimulusVersion.id)
            .order_by(StimulusVersionMedia.version_id, StimulusVersionMedia.position)
        )
        return [(number, sha, alt) for number, sha, alt in rows]


def _actions(app: Flask) -> list[str]:
    with get_db(app).read_sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type.in_(("stimulus", "media")))
                .order_by(AuditEvent.id)
            )
        )


def test_the_api_gives_a_scenario_an_image_and_a_change_is_a_new_version(app: Flask, staff) -> None:
    client, writer = app.test_client(), staff["writer"]["headers"]
    sha = _upload(client, writer, png_chart(), "chart.png")
    medium = {"sha256": sha, "alt": CHART_ALT}
    made = client.post("/api/v1/stimuli", json={**PASSAGE, "media": [medium]}, headers=writer)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["media"] == [{**medium, "transcript": ""}]
    item = create(client, writer, stimulus={"ref": "S-EXHIBIT"})
    assert item["stimulus"]["media"] == [{**medium, "transcript": ""}]

    # An image without alt text, or a file never uploaded: refused, nothing changes.
    url = f"/api/v1/stimuli/{body['id']}"
    for bad in ({"sha256": sha, "alt": ""}, {"sha256": "0" * 64, "alt": "A chart"}):
        refused = client.put(url, json={**PASSAGE, "media": [bad], "revision": 1}, headers=writer)
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["errors"][0]["field"] == "media.1"
    assert _rows(app) == [(1, sha, CHART_ALT)]

    # Saving the same exhibits makes nothing; new alt text is version 2, version 1 stays.
    same = client.put(url, json={**PASSAGE, "media": [medium], "revision": 1}, headers=writer)
    assert same.get_json()["version"] == 1
    better = {"sha256": sha, "alt": "Renewals rose from 40 to 75 over the year."}
    changed = client.put(url, json={**PASSAGE, "media": [better], "revision": 1}, headers=writer)
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert [v["media"][0]["alt"] for v in changed.get_json()["versions"]] == [
        CHART_ALT,
        better["alt"],
    ]
    # The draft on the scenario follows it; removing the image is version 3.
    moved = client.get(f"/api/v1/items/{item['id']}", headers=writer).get_json()
    assert moved["stimulus"]["media"][0]["alt"] == better["alt"]
    removed = client.put(url, json={**PASSAGE, "revision": 2}, headers=writer)
    assert removed.get_json()["version"] == 3 and removed.get_json()["media"] == []
    assert _rows(app) == [(1, sha, CHART_ALT), (2, sha, better["alt"])]
    assert _actions(app) == [
        "media.uploaded",
        "stimulus.created",
        "stimulus.version_created",
        "stimulus.version_created",
    ]


def test_only_item_writers_attach_exhibits(app: Flask, staff) -> None:
    client = app.test_client()
    sha = _upload(client, staff["writer"]["headers"], png_chart(), "chart.png")
    medium = {"sha256": sha, "alt": CHART_ALT}
    response = client.post(
        "/api/v1/stimuli",
        json={**PASSAGE, "media": [medium]},
        headers=staff["reviewer"]["headers"],
    )
    assert response.status_code == 403
    assert _rows(app) == []


def _post(client, page: str, data: dict) -> object:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(page, data={"csrf_token": token, **data}, content_type="multipart/form-data")


def test_the_scenario_editor_attaches_an_image_with_alt_text_and_removes_it(
    app: Flask, staff
) -> None:
    client = app.test_client()
    sign_in(client, staff["writer"]["user"].email)
    page = "/item-bank/stimuli/new"
    form = client.get(page).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and "Add an image or audio file" in form

    def upload() -> dict:
        return {"media_upload": (io.BytesIO(png_chart()), "chart.png")}

    # Without alt text the page says so beside the exhibits, and no scenario is made.
    missing = _post(client, page, {**PASSAGE, **upload()})
    assert missing.status_code == 422
    assert "An image needs alt text" in missing.get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Stimulus)).all() == []

    saved = _post(client, page, {**PASSAGE, **upload(), "media_upload_alt": CHART_ALT})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f'src="/item-bank/media/{SHA}" alt="{CHART_ALT}"' in detail
    assert _rows(app) == [(1, SHA, CHART_ALT)]

    # The editor lists the exhibit; ticking "remove" saves version 2 without it.
    edit = saved.headers["Location"] + "/edit"
    editor = client.get(edit).get_data(as_text=True)
    assert f'value="{SHA}"' in editor and CHART_ALT in editor
    kept = {
        "title": PASSAGE["title"],
        "body": PASSAGE["body"],
        "revision": "1",
        "media-0-sha256": SHA,
        "media-0-alt": CHART_ALT,
        "media-0-transcript": "",
    }
    token = csrf_from(editor)
    gone = client.post(edit, data={"csrf_token": token, **kept, "media-0-remove": "y"})
    assert gone.status_code == 303
    assert "version 2" in client.get(gone.headers["Location"]).get_data(as_text=True).lower()
    with get_db(app).read_sessions() as session:
        stimulus = session.scalars(select(Stimulus)).one()
        assert [len(v.media) for v in stimulus.versions] == [1, 0]


def test_a_refused_file_is_named_beside_the_exhibits_and_nothing_is_saved(
    app: Flask, staff
) -> None:
    client = app.test_client()
    sign_in(client, staff["writer"]["user"].email)
    fake = {"media_upload": (io.BytesIO(b"not a picture"), "chart.png")}
    refused = _post(client, "/item-bank/stimuli/new", {**PASSAGE, **fake, "media_upload_alt": "x"})
    assert refused.status_code == 415
    assert "not a readable PNG, JPEG or WebP image" in refused.get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Stimulus)).all() == []
