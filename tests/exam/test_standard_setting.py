"""Modified-Angoff standard setting: ratings, the recommended cut, adoption as a blueprint version."""

from __future__ import annotations

import re

from flask import Flask

from core.db import get_db
from item_bank import blueprints
from tests.conftest import post_form, sign_in


def test_experts_rate_and_the_admin_adopts_the_cut(app: Flask, make_user, sample_bank) -> None:
    admin = make_user("exam_admin", given_name="Elena")
    reviewer = make_user("item_reviewer", given_name="Ravi")
    candidate = make_user("candidate")
    boss = app.test_client()
    sign_in(boss, admin.email)
    created = post_form(boss, "/staff/angoff", "/staff/angoff", {"title": "November panel"})
    assert created.status_code == 303
    url = created.headers["Location"]
    page = boss.get(url).get_data(as_text=True)
    ids = re.findall(r'name="rating-(\d+)"', page)
    assert len(ids) == 60
    post_form(boss, url, url, {f"rating-{i}": "60" for i in ids})
    expert = app.test_client()
    sign_in(expert, reviewer.email)
    post_form(expert, url, url, {f"rating-{i}": "70" for i in ids})
    page = boss.get(url).get_data(as_text=True)
    assert "Recommended pass mark: <strong>65.0 %</strong> from 2 raters (spread 5.0" in page
    bad = post_form(expert, url, url, {f"rating-{ids[0]}": "150"})
    assert "Rate each item" in expert.get(bad.headers["Location"]).get_data(as_text=True)
    outsider = app.test_client()
    sign_in(outsider, candidate.email)
    assert outsider.get(url).status_code == 403
    post_form(boss, url, url, {"adopt": "1", "note": "Panel of two, November"})
    with get_db(app).read_sessions() as session:
        current = blueprints.get_blueprint(session, "first-level").current
        assert (current.number, current.spec["pass_overall_percent"]) == (2, 65.0)
    assert "Adopted." in boss.get(url).get_data(as_text=True)
