"""A QTI passage's images are the scenario's exhibits: an ``<img>`` or an image
``<object>`` in a shared passage is imported as scenario media (checked as an item's media
are, each refusal one line naming the file and the item), exported into the passage's file
with the files in the package and its manifest, and a round trip keeps them."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.db import get_db
from item_bank import transfer
from item_bank.media_models import MediaFile, StimulusVersionMedia
from item_bank.services.media import MAX_IMAGE_BYTES
from tests.item_bank.media_fixtures import CHART_ALT, png_chart, wav_tone
from tests.item_bank.test_qti import _exported, _import
from tests.item_bank.test_qti_export import _invalid, _qti_export, schemas  # noqa: F401
from tests.item_bank.test_stimuli_transfer import DEFAULT, STIMULUS_DIR, _counts

TABLE_ALT = "Seats paid for and used, by month."
EXHIBIT = f"""<?xml version="1.0" encoding="UTF-8"?>
<div xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" id="usage-exhibit">
  <h2>Usage exhibit: Brightwater Clinics</h2>
  <p>Monthly active users fell from 80 to 52 over the quarter.</p>
  <p><img src="images/chart.png" alt="{CHART_ALT}"/></p>
  <p><object data="images/table.png" type="image/png">{TABLE_ALT}</object></p>
</div>
""".encode()
CHART = png_chart()
TABLE = png_chart(200, 120, shade=90)


def _with_exhibits(files: dict[str, bytes | None], passage: bytes = EXHIBIT) -> transfer.Upload:
    """The stimulus fixture package, its shared passage showing two images (``files``
    replaces or, None, leaves out the image files)."""
    contents: dict[str, bytes | None] = {
        "images/chart.png": CHART,
        "images/table.png": TABLE,
        **{f"images/{name}": data for name, data in files.items()},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(STIMULUS_DIR.rglob("*")):
            if path.is_file():
                name = path.relative_to(STIMULUS_DIR).as_posix()
                archive.writestr(
                    name, passage if name.endswith("exhibit.xhtml") else path.read_bytes()
                )
        for name, data in contents.items():
            if data is not None:
                archive.writestr(f"passages/{name}", data)
    return transfer.parse_upload("exhibits.zip", out.getvalue())


def _exhibits(app: Flask) -> dict[str, list[tuple[str, str]]]:
    """Each exported item on a scenario: its scenario's (file, alt text) in order."""
    return {
        ref: [(m["sha256"], m["alt"]) for m in record["stimulus"].get("media", [])]
        for ref, record in _exported(app).items()
        if record["stimulus"]
    }


def _stored(app: Flask) -> tuple[int, int]:
    with get_db(app).read_sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(MediaFile)) or 0,
            session.scalar(select(func.count()).select_from(StimulusVersionMedia)) or 0,
        )


def test_a_passage_with_an_img_and_an_object_imports_them_as_the_scenario_s_images(
    app: Flask, first_level: None
) -> None:
    upload = _with_exhibits({})
    summary = _import(app, upload, default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (5, [])
    assert not any("left out" in line for line in summary.report())
    assert (
        "scenario usage-exhibit: new  (“Usage exhibit: Brightwater Clinics”, 2 items, "
        "2 exhibits)" in summary.report()
    )
    expected = [
        (hashlib.sha256(CHART).hexdigest(), CHART_ALT),
        (hashlib.sha256(TABLE).hexdigest(), TABLE_ALT),
    ]
    shown = _exhibits(app)
    assert shown["usage-1"] == shown["usage-2"] == expected
    assert shown["kick-1"] == []  # the other scenario has none
    # The passage's text is what is left around the images.
    passage = _exported(app)["usage-1"]["stimulus"]["body"]
    assert passage == "Monthly active users fell from 80 to 52 over the quarter."
    assert _stored(app) == (2, 2) and _counts(app) == (5, 2, 2)


@pytest.mark.parametrize(
    ("files", "passage", "message"),
    [
        ({"chart.png": None}, EXHIBIT, "passages/images/chart.png: the media file is missing"),
        ({"table.png": wav_tone()}, EXHIBIT, "passages/images/table.png: not a readable PNG"),
        (
            {"chart.png": CHART + b"\0" * MAX_IMAGE_BYTES},
            EXHIBIT,
            "passages/images/chart.png: larger than 5 MB",
        ),
        (
            {},
            EXHIBIT.replace(f' alt="{CHART_ALT}"'.encode(), b""),
            "passages/images/chart.png: the <img> has no alt text",
        ),
        ({}, EXHIBIT.replace(b"images/chart.png", b"../../x.png"), "points outside the package"),
    ],
)
def test_a_bad_exhibit_refuses_the_import_in_one_line_naming_the_file_and_the_item(
    app: Flask, first_level: None, files: dict, passage: bytes, message: str
) -> None:
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, _with_exhibits(files, passage), default_competency=DEFAULT)
    lines = [f"{e.where()}: {e.message}" for e in refused.value.summary.errors]
    assert {line.split(":", 1)[0] for line in lines} == {
        "items/usage-1.xml (item usage-1)",
        "items/usage-2.xml (item usage-2)",
    }
    for line in lines:
        assert "\n" not in line and "The stimulus file passages/exhibit.xhtml" in line
        assert message in line, line
    assert _counts(app) == (0, 0, 0) and _stored(app) == (0, 0)


def test_bank_to_qti_to_bank_keeps_the_scenario_s_images(
    app: Flask,
    first_level: None,
    schemas,  # noqa: F811  (the imported fixture)
) -> None:
    _import(app, _with_exhibits({}), default_competency=DEFAULT)
    before = _exhibits(app)
    package, count = _qti_export(app)
    assert count == 5 and _invalid(package, schemas) == []
    archive = zipfile.ZipFile(io.BytesIO(package))
    chart, table = (sha for sha, _ in before["usage-1"])
    assert archive.read(f"media/{chart}.png") == CHART
    assert archive.read(f"media/{table}.png") == TABLE
    passage = archive.read("stimuli/usage-exhibit.xml").decode()
    assert f'<img src="../media/{chart}.png" alt="{CHART_ALT}"' in passage
    manifest = archive.read("imsmanifest.xml").decode()
    resource = manifest.split('identifier="STIMULUS-usage-exhibit"', 1)[1].split("</", 1)[0]
    assert f'href="media/{chart}.png"' in manifest and f'href="media/{table}.png"' in resource
    again = _import(app, transfer.parse_upload("bank.zip", package))
    assert (again.created, again.new_versions, again.unchanged, again.errors) == (0, 0, 5, [])
    assert _exhibits(app) == before and _counts(app) == (5, 2, 2) and _stored(app) == (2, 2)
    # Read on its own, the package carries the same scenario, images and all.
    fresh = {r["ref"]: r.get("stimulus") for r in transfer.parse_upload("b.zip", package).records}
    exported = _exported(app)
    assert fresh["usage-2"] == exported["usage-2"]["stimulus"]
