"""The statistics page leads to each item: its page, and its rescoring with the version."""

from __future__ import annotations

import html as html_lib
import re

from flask import Flask
from sqlalchemy import select

from core.db import get_db
from exam.psychometrics import calibration
from exam.psychometrics.models import ItemCalibration
from item_bank.models import Item
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld
from tests.exam.test_dif import _with_groups

ROW = re.compile(r"<tr[^>]*>\s*(<td.*?)</tr>", re.S)
LINK = re.compile(r'<a href="([^"]+)">(.*?)</a>', re.S)


def _section(page: str, title_id: str, end: str) -> str:
    start = page.index(f'id="{title_id}"')
    return page[start : page.index(end, start)]


def test_every_statistics_row_links_its_item_and_its_rescoring_with_the_version(
    app: Flask, world: ExamWorld
) -> None:
    label = _with_groups(app)
    with get_db(app).write_sessions() as session:
        ids = dict(session.execute(select(Item.ref, Item.id)).all())
        run = calibration.latest_run(session, "first-level")
        assert run is not None
        misfit = session.scalars(
            select(ItemCalibration).where(ItemCalibration.run_id == run.id).limit(1)
        ).one()
        misfit.flags = ["infit 1.41 (t 3.2)"]  # one misfitting item for the list
        session.commit()
        misfit_label = next(i.label for i in calibration.view(session, run).items if i.row.flags)
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics?blueprint=first-level&dif=first_language").get_data(
        as_text=True
    )

    rows = ROW.findall(_section(page, "items-title", "</table>"))
    assert len(rows) > 60
    for row in rows:
        (detail, ref), (rescore, _text) = LINK.findall(row)[:2]
        version = re.search(r"</a> v(\d+)<br>", row)
        assert version and detail == f"/item-bank/items/{ids[ref]}", row
        assert html_lib.unescape(rescore) == f"/staff/scoring?ref={ref}&version={version[1]}"

    def hrefs_beside(section: str, wanted: str) -> list[str]:
        """The links of the one list item or row that names ``wanted``."""
        (part,) = [p for p in re.split(r"<li>|<tr>", section) if f">{wanted}</a>" in p]
        return [html_lib.unescape(href) for href, _text in LINK.findall(part)]

    misfits = _section(page, "misfit-title", "</ul>")
    ref, number = misfit_label.split(" v")
    assert hrefs_beside(misfits, misfit_label) == [
        f"/item-bank/items/{ids[ref]}",
        f"/staff/scoring?ref={ref}&version={number}",
    ]
    calibrated = ROW.findall(_section(page, "calibrated-title", "</table>"))
    assert len(calibrated) == 80
    for row in calibrated:
        (href, text), *_ = LINK.findall(row)
        assert href == f"/item-bank/items/{ids[text.split(' v')[0]]}", row
    dif = _section(page, "dif-title", "</table>")
    ref, number = label.split(" v")
    assert hrefs_beside(dif, label) == [
        f"/item-bank/items/{ids[ref]}",
        f"/staff/scoring?ref={ref}&version={number}",
    ]


def test_the_rescoring_link_fills_in_the_item_and_its_version(app: Flask, world: ExamWorld) -> None:
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/scoring?ref=CU-KN-0001&version=2").get_data(as_text=True)
    assert re.search(r'name="ref"[^>]*value="CU-KN-0001"', page)
    assert re.search(r'name="version"[^>]*value="2"', page)
    # A version the database cannot hold is left empty (the live version), not a 500.
    odd = admin.get("/staff/scoring?ref=CU-KN-0001&version=99999999999")
    assert odd.status_code == 200
    assert re.search(r'name="version"[^>]*value=""', odd.get_data(as_text=True))
