"""Media of items: checked by content, stored once by hash, versioned with the item, in and
out of QTI packages, uploaded through the API."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from core.db import get_db
from item_bank import transfer
from item_bank.media_models import ItemVersionMedia, MediaFile
from item_bank.models import Item
from item_bank.services.media import MAX_IMAGE_BYTES, MediaRefused, check_file
from tests.item_bank.fixtures import (
    act,
    create,
    csv_with_cells,
    csv_without_columns,
    export_file,
    record,
)
from tests.item_bank.media_fixtures import (
    AUDIO_OBJECT,
    CHART_ALT,
    TRANSCRIPT,
    audio_package,
    item_xml,
    package,
    png_chart,
    svg_image,
    wav_tone,
)
from tests.item_bank.test_qti import DEFAULT, _exported, _import
from tests.item_bank.test_qti_export import _invalid, _qti_export
from tests.item_bank.test_qti_export import schemas as schemas


def _media_dir(app: Flask) -> Path:
    return Path(app.instance_path) / "media"


def _stored_files(app: Flask) -> list[Path]:
    folder = _media_dir(app)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _counts(app: Flask) -> tuple[int, int, int]:
    with get_db(app).read_sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Item, MediaFile, ItemVersionMedia)
        )  # type: ignore[return-value]


def test_a_package_with_an_image_and_audio_imports_them_with_their_words(
    app: Flask, first_level
) -> None:
    summary = _import(
        app, transfer.parse_upload("p.zip", audio_package()), default_competency=DEFAULT
    )
    assert (summary.created, summary.errors) == (1, [])
    assert not any("not imported" in note for item in summary.items for note in item.notes)
    [item] = _exported(app).values()
    image, sound = item["media"]
    assert image == {
        "sha256": hashlib.sha256(png_chart()).hexdigest(),
        "alt": CHART_ALT,
        "transcript": "",
    }
    assert sound == {
        "sha256": hashlib.sha256(wav_tone()).hexdigest(),
        "alt": "",
        "transcript": TRANSCRIPT,
    }
    assert item["stem"] == "What does the chart show about renewals?"
    assert [p.read_bytes() for p in _stored_files(app)] == sorted(
        [png_chart(), wav_tone()], key=lambda data: hashlib.sha256(data).hexdigest()
    )
    assert not str(_media_dir(app)).startswith(str(Path(app.static_folder or "")))


def _chart_as(image_format: str) -> bytes:
    """The PNG chart saved again as a tiny JPEG or WebP (Pillow writes both)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(png_chart(64, 36))).save(out, image_format)
    return out.getvalue()


def test_jpeg_and_webp_images_are_taken_by_their_content(app: Flask, first_level, schemas) -> None:
    jpeg, webp = _chart_as("JPEG"), _chart_as("WEBP")
    assert jpeg[:3] == b"\xff\xd8\xff" and webp[8:12] == b"WEBP"
    data = package(
        {
            "jpeg-item": item_xml("jpeg-item", img='<img src="../images/chart.jpg" alt="{alt}"/>'),
            "webp-item": item_xml("webp-item", img='<img src="../images/chart.webp" alt="{alt}"/>'),
        },
        {"images/chart.jpg": jpeg, "images/chart.webp": webp},
    )
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (2, [])
    items = _exported(app)
    assert items["jpeg-item"]["media"][0]["sha256"] == hashlib.sha256(jpeg).hexdigest()
    assert items["webp-item"]["media"][0]["sha256"] == hashlib.sha256(webp).hexdigest()
    with get_db(app).read_sessions() as session:
        stored = {
            f.content_type: (f.kind, f.width, f.height) for f in session.scalars(select(MediaFile))
        }
    assert stored == {"image/jpeg": ("image", 64, 36), "image/webp": ("image", 64, 36)}
    exported, _ = _qti_export(app)
    names = zipfile.ZipFile(io.BytesIO(exported)).namelist()
    assert any(n.endswith(".jpg") for n in names) and any(n.endswith(".webp") for n in names)
    assert _invalid(exported, schemas) == []


def test_the_same_file_in_two_items_is_stored_once(app: Flask, first_level) -> None:
    data = package(
        {"one": item_xml("one"), "two": item_xml("two")}, {"images/chart.png": png_chart()}
    )
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    assert summary.created == 2
    assert _counts(app) == (2, 1, 2) and len(_stored_files(app)) == 1


def test_qti_to_bank_to_qti_to_bank_keeps_the_media(app: Flask, first_level, schemas) -> None:
    _import(app, transfer.parse_upload("p.zip", audio_package()), default_competency=DEFAULT)
    first = _exported(app)
    exported, count = _qti_export(app)
    assert count == 1 and _invalid(exported, schemas) == []
    archive = zipfile.ZipFile(io.BytesIO(exported))
    media = sorted(name for name in archive.namelist() if name.startswith("media/"))
    assert [archive.read(name) for name in media] == [
        data
        for _, data in sorted((hashlib.sha256(d).hexdigest(), d) for d in (png_chart(), wav_tone()))
    ]
    again = _import(app, transfer.parse_upload("bank.zip", exported))
    assert (again.created, again.new_versions, again.unchanged, again.errors) == (0, 0, 1, [])
    [record_again] = transfer.parse_upload("bank.zip", exported).records
    assert record_again["media"] == next(iter(first.values()))["media"]


@pytest.mark.parametrize(
    ("item", "files", "words"),
    [
        ({}, {}, "images/chart.png: the media file is missing from the package"),
        (
            {},
            {"images/chart.png": b"<html><script>alert(1)</script></html>"},
            "images/chart.png: not a readable PNG",
        ),
        (
            {},
            {"images/chart.png": b"\x89PNG\r\n\x1a\n" + b"0" * MAX_IMAGE_BYTES},
            "images/chart.png: larger than 5 MB",
        ),
        (
            {"img": '<img src="../images/chart.png" alt=""/>'},
            None,
            "images/chart.png: the <img> has no alt text",
        ),
        (
            {"img": '<img src="../../../etc/passwd.png" alt="x"/>'},
            None,
            "../../../etc/passwd.png: the path points outside the package",
        ),
        (
            {"img": '<img src="https://example.org/c.png" alt="x"/>'},
            None,
            "https://example.org/c.png: media must be a file in the package",
        ),
        (
            {"img": '<img src="../images/chart.jpg" alt="x"/>'},
            {"images/chart.jpg": png_chart()},
            "images/chart.jpg: named image/jpeg but its content is image/png",
        ),
        (
            {"choice_extra": ' <img src="../images/chart.png" alt="x"/>'},
            None,
            "media inside a choice are not supported",
        ),
        (
            {"img": "", "audio": AUDIO_OBJECT},
            {"sounds/call.wav": b"RIFF0000AVI LIST"},
            "sounds/call.wav: not MP3, Ogg, WAV or M4A audio",
        ),
    ],
)
def test_a_bad_medium_refuses_the_import_naming_the_file_and_the_item(
    app: Flask, first_level, item: dict, files: dict | None, words: str
) -> None:
    data = package(
        {"chart-item": item_xml(**item)},
        {"images/chart.png": png_chart()} if files is None else files,
    )
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    [error] = refused.value.summary.errors
    assert (error.source, error.ref, error.field) == ("items/chart-item.xml", "chart-item", "media")
    assert words in error.message and "\n" not in error.message
    assert "items/chart-item.xml (item chart-item)" in error.where()
    assert _counts(app) == (0, 0, 0) and _stored_files(app) == []


def test_svg_that_only_draws_is_taken_and_anything_active_is_refused() -> None:
    assert check_file(svg_image(), "bars.svg").content_type == "image/svg+xml"
    for extra, words in (
        ("<script>alert(1)</script>", "<script>"),
        ('<rect width="1" height="1" onclick="alert(1)"/>', "event handler"),
        ('<use href="https://evil.example/x.svg#a"/>', "links outside"),
        (
            '<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>',
            "foreignObject",
        ),
        ('<rect width="1" height="1" fill="url(https://evil.example/p)"/>', "refers outside"),
        ("<style>@import url(x.css);</style>", "<style>"),
        ('<set attributeName="href" to="javascript:alert(1)"/>', "<set>"),
        ('<image href="data:image/png;base64,AAAA"/>', "<image>"),
        ('<use href="javascript:alert(1)"/>', "links outside"),
    ):
        with pytest.raises(MediaRefused) as refused:
            check_file(svg_image(extra), "bars.svg")
        assert words in refused.value.detail, extra
    with pytest.raises(MediaRefused, match="DTD"):
        check_file(
            b'<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>', "a.svg"
        )


def _upload(client, headers, data: bytes, name: str):
    return client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_the_api_uploads_media_and_items_name_them_with_alt_text(app: Flask, staff) -> None:
    client = app.test_client()
    headers = staff["writer"]["headers"]
    uploaded = _upload(client, headers, png_chart(), "chart.png")
    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    assert body["sha256"] == hashlib.sha256(png_chart()).hexdigest()
    assert (body["kind"], body["content_type"], body["width"], body["height"]) == (
        "image",
        "image/png",
        320,
        180,
    )
    again = _upload(client, headers, png_chart(), "other-name.png")
    assert again.status_code == 201 and len(_stored_files(app)) == 1
    refused = _upload(client, headers, b"<html></html>", "chart.png")
    assert refused.status_code == 415 and refused.get_json()["errors"][0]["field"] == "file"
    assert _upload(client, staff["candidate"]["headers"], png_chart(), "c.png").status_code == 403

    no_alt = client.post(
        "/api/v1/items", json=record(media=[{"sha256": body["sha256"]}]), headers=headers
    )
    assert no_alt.status_code == 422
    assert no_alt.get_json()["errors"][0]["field"] == "media.1"
    unknown = client.post(
        "/api/v1/items", json=record(media=[{"sha256": "0" * 64, "alt": "x"}]), headers=headers
    )
    assert unknown.status_code == 422 and "upload it" in unknown.get_json()["detail"]
    item = create(client, headers, media=[{"sha256": body["sha256"], "alt": CHART_ALT}])
    assert item["media"] == [{"sha256": body["sha256"], "alt": CHART_ALT, "transcript": ""}]


def test_a_changed_alt_text_is_a_new_version_and_the_used_one_never_changes(
    app: Flask, staff
) -> None:
    client = app.test_client()
    writer, reviewer = staff["writer"]["headers"], staff["reviewer"]["headers"]
    sha = _upload(client, writer, png_chart(), "chart.png").get_json()["sha256"]
    item = create(client, writer, media=[{"sha256": sha, "alt": CHART_ALT}])
    assert act(client, writer, item["id"], "submit").status_code == 200
    assert act(client, reviewer, item["id"], "approve").status_code == 200
    current = client.get(f"/api/v1/items/{item['id']}", headers=writer).get_json()
    changed = client.put(
        f"/api/v1/items/{item['id']}",
        json=record(
            ref=item["ref"],
            revision=current["revision"],
            media=[{"sha256": sha, "alt": "Renewals up"}],
        ),
        headers=writer,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["version"] == 2
    with get_db(app).read_sessions() as session:
        rows = session.execute(
            select(ItemVersionMedia.version_id, ItemVersionMedia.alt).order_by(
                ItemVersionMedia.version_id
            )
        ).all()
    assert [alt for _, alt in rows] == [CHART_ALT, "Renewals up"]


def test_staff_see_media_in_the_preview_and_others_do_not(app: Flask, staff) -> None:
    from tests.conftest import sign_in

    client = app.test_client()
    sha = _upload(client, staff["writer"]["headers"], svg_image(), "bars.svg").get_json()["sha256"]
    item = create(client, staff["writer"]["headers"], media=[{"sha256": sha, "alt": "Two bars"}])
    sign_in(client, staff["reviewer"]["user"].email)
    page = client.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    assert f'src="/item-bank/media/{sha}"' in page and 'alt="Two bars"' in page
    served = client.get(f"/item-bank/media/{sha}")
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"
    assert served.get_data() == svg_image()
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/item-bank/media/{'0' * 64}").status_code == 404
    other = app.test_client()
    sign_in(other, staff["candidate"]["user"].email)
    assert other.get(f"/item-bank/media/{sha}").status_code == 403


def test_the_staff_preview_answers_byte_ranges(app: Flask, staff) -> None:
    from tests.conftest import sign_in

    client = app.test_client()
    sha = _upload(client, staff["writer"]["headers"], wav_tone(), "call.wav").get_json()["sha256"]
    sign_in(client, staff["reviewer"]["user"].email)
    part = client.get(f"/item-bank/media/{sha}", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.get_data() == wav_tone()[:4]
    assert part.headers["Content-Range"] == f"bytes 0-3/{len(wav_tone())}"
    beyond = client.get(f"/item-bank/media/{sha}", headers={"Range": "bytes=999999-"})
    assert beyond.status_code == 416


def test_demo_data_holds_one_approved_item_with_a_chart(app: Flask) -> None:
    from item_bank.media_demo import ALT, REF

    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    with get_db(app).read_sessions() as session:
        item = session.scalars(select(Item).where(Item.ref == REF)).one()
        [medium] = item.head.media
        assert (item.head.status, medium.alt, medium.file.content_type) == (
            "approved",
            ALT,
            "image/png",
        )
    assert len(_stored_files(app)) == 1
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    assert _counts(app)[1:] == (1, 1)


def test_csv_carries_the_media_both_ways(app: Flask, first_level) -> None:
    _import(app, transfer.parse_upload("p.zip", audio_package()), default_competency=DEFAULT)
    [before] = _exported(app).values()
    body, _count = export_file(app, "csv")
    assert CHART_ALT in body.decode()
    again = _import(app, transfer.parse_upload("bank.csv", body))
    assert (again.unchanged, again.errors) == (1, [])
    [record_again] = transfer.parse_upload("bank.csv", body).records
    assert record_again["media"] == before["media"]


def test_a_csv_without_a_media_column_keeps_the_item_s_media_and_says_so(
    app: Flask, first_level
) -> None:
    _import(app, transfer.parse_upload("p.zip", audio_package()), default_competency=DEFAULT)
    [before] = _exported(app).values()
    body, _count = export_file(app, "csv")
    plain = csv_without_columns(body, {"media"})
    assert b"media" not in plain.splitlines()[0]

    same = _import(app, transfer.parse_upload("bank.csv", plain))
    assert (same.unchanged, same.new_versions, same.errors) == (1, 0, [])
    assert "media kept from version 1" in same.report()[0]

    edited = plain.replace(b"What does the chart show about renewals?", b"What does it show?")
    changed = _import(app, transfer.parse_upload("bank.csv", edited))
    assert changed.new_versions == 1
    [after] = _exported(app).values()
    assert after["stem"] == "What does it show?" and after["version"] == 2
    assert after["media"] == before["media"]

    # With the column there, an empty cell says what it says: no media.
    removed = _import(app, transfer.parse_upload("bank.csv", csv_with_cells(body, media="")))
    assert removed.new_versions == 1
    [last] = _exported(app).values()
    assert last["version"] == 3 and "media" not in last
