"""Item bank pages: the editor with preview, the item page, the review queue, safe Markdown."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from item_bank.rendering import render_markdown
from tests.conftest import post_form, sign_in
from tests.item_bank.fixtures import act, approval_form, create

EDITOR_FORM = {
    "type": "single_choice",
    "stem": "Which **metric** counts customers lost?",
    "option_a": "Logo churn",
    "option_b": "Revenue churn",
    "option_c": "Net revenue retention",
    "keys": ["A"],
    "rationale": "Logo churn counts customers; the others measure money.",
    "references": "CSA standard, Terminology\nSecond reference",
    "primary_competency": "CO.KN.TERM.03",
    "other_competencies": "",
    "cognitive_level": "recall",
    "enemies": "",
}


def _signed_in(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user.email)
    return client


def test_writer_previews_then_saves_a_draft_from_the_editor(app: Flask, staff) -> None:
    client = _signed_in(app, staff["writer"]["user"])
    preview = post_form(
        client, "/item-bank/items/new", "/item-bank/items/new", {**EDITOR_FORM, "preview": "1"}
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "As the candidate sees it" in html
    assert "<strong>metric</strong>" in html and 'type="radio"' in html
    assert (
        client.get("/item-bank/items").get_data(as_text=True).count("Logo churn") == 0
    )  # nothing saved yet
    saved = post_form(client, "/item-bank/items/new", "/item-bank/items/new", EDITOR_FORM)
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Submit for review" in page and "CO.KN.TERM.03" in page and "Second reference" in page


def test_the_editor_shows_and_saves_fixed_options_and_the_order_rule(app: Flask, staff) -> None:
    client = _signed_in(app, staff["writer"]["user"])
    page = client.get("/item-bank/items/new").get_data(as_text=True)
    assert "Options fixed in place" in page and "Keep every option in the order written" in page
    form = {**EDITOR_FORM, "option_d": "None of the above", "fixed": ["D"], "label": "Churn 1"}
    saved = post_form(client, "/item-bank/items/new", "/item-bank/items/new", form)
    assert saved.status_code == 302
    item = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "D fixed in place" in item and "Churn 1" in item
    item_id = int(saved.headers["Location"].rstrip("/").split("/")[-1])
    edit = client.get(f"/item-bank/items/{item_id}/edit").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*name="fixed"[^>]*value="D"|name="fixed"[^>]*value="D"[^>]*checked',
        edit,
    )
    in_order = {**form, "fixed": [], "keep_order": "y"}
    revision = re.search(r'name="revision" type="hidden" value="(\d+)"', edit) or re.search(
        r'name="revision" value="(\d+)"', edit
    )
    assert revision
    post_form(
        client,
        f"/item-bank/items/{item_id}/edit",
        f"/item-bank/items/{item_id}/edit",
        {**in_order, "revision": revision.group(1)},
    )
    assert "kept as written" in client.get(f"/item-bank/items/{item_id}").get_data(as_text=True)


def test_editor_errors_are_shown_beside_their_fields(app: Flask, staff) -> None:
    client = _signed_in(app, staff["writer"]["user"])
    response = post_form(
        client,
        "/item-bank/items/new",
        "/item-bank/items/new",
        {**EDITOR_FORM, "keys": ["D"], "option_b": "logo  CHURN"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "not among the options" in html and "Two options are the same" in html
    assert 'id="option_a" ' in html and 'aria-invalid="true"' in html


def test_editing_an_approved_item_in_the_editor_starts_version_two(app: Flask, staff) -> None:
    api = app.test_client()
    item = create(api, staff["writer"]["headers"])
    act(api, staff["writer"]["headers"], item["id"], "submit")
    act(api, staff["reviewer"]["headers"], item["id"], "approve")
    client = _signed_in(app, staff["writer"]["user"])
    edit_page = client.get(f"/item-bank/items/{item['id']}/edit").get_data(as_text=True)
    assert "saving starts version 2" in edit_page
    revision = re.search(r'name="revision" type="hidden" value="(\d+)"', edit_page).group(1)
    data = {**EDITOR_FORM, "stem": "Edited stem?", "revision": revision}
    response = post_form(
        client, f"/item-bank/items/{item['id']}/edit", f"/item-bank/items/{item['id']}/edit", data
    )
    assert response.status_code == 302
    detail = client.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    assert "version 1 is live" in detail and "Edited stem?" in detail


def test_review_queue_leaves_out_the_reviewers_own_items(app: Flask, staff) -> None:
    api = app.test_client()
    mine = create(api, staff["writer_reviewer"]["headers"], ref="MINE-1")
    theirs = create(api, staff["writer"]["headers"], ref="THEIRS-1")
    act(api, staff["writer_reviewer"]["headers"], mine["id"], "submit")
    act(api, staff["writer"]["headers"], theirs["id"], "submit")
    client = _signed_in(app, staff["writer_reviewer"]["user"])
    queue = client.get("/item-bank/review").get_data(as_text=True)
    assert "THEIRS-1" in queue and "MINE-1" not in queue and "1 item waiting" in queue
    page = client.get(f"/item-bank/items/{theirs['id']}").get_data(as_text=True)
    response = client.post(f"/item-bank/items/{theirs['id']}/transitions", data=approval_form(page))
    assert response.status_code == 302
    assert "0 items waiting" in client.get("/item-bank/review").get_data(as_text=True)


def test_item_pages_are_for_staff_only(app: Flask, staff) -> None:
    api = app.test_client()
    item = create(api, staff["writer"]["headers"])
    candidate = _signed_in(app, staff["candidate"]["user"])
    for path in (
        "/item-bank/items",
        f"/item-bank/items/{item['id']}",
        "/item-bank/coverage",
        "/item-bank/export.json",
        "/item-bank/items/new",
        "/item-bank/review",
    ):
        assert candidate.get(path).status_code == 403, path
    anonymous = app.test_client().get(f"/item-bank/items/{item['id']}")
    assert anonymous.status_code == 302


def test_list_filters_and_paging(app: Flask, staff) -> None:
    api = app.test_client()
    for n in range(30):
        create(api, staff["writer"]["headers"], ref=f"PG-{n:02}")
    create(
        api,
        staff["writer"]["headers"],
        ref="OTHER",
        competencies=["CO.SK.REL.01"],
        stem="Internal credibility?",
    )
    client = _signed_in(app, staff["reviewer"]["user"])
    first = client.get("/item-bank/items").get_data(as_text=True)
    assert "31 items found" in first and "Page 1 of 2" in first
    filtered = client.get("/item-bank/items?competency=CO.SK&q=credibility").get_data(as_text=True)
    assert "1 item found" in filtered and "OTHER" in filtered


def test_markdown_never_lets_html_through() -> None:
    html = str(
        render_markdown(
            "<script>alert(1)</script> <img src=x onerror=alert(2)> &lt;b&gt; **bold** 🙂 שלום [a](javascript:alert(3))"
        )
    )
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html and "🙂" in html and "שלום" in html
    assert "<a " not in html and "href" not in html


def test_hostile_stems_render_as_text_on_the_item_page(app: Flask, staff) -> None:
    api = app.test_client()
    stem = '<script>document.title="pwned"</script> &amp; 5 &lt; 6 🙂 مرحبا'
    item = create(
        api, staff["writer"]["headers"], stem=stem, options=["<b>A</b>", "B &amp; C", "🙂", "مرحبا"]
    )
    client = _signed_in(app, staff["writer"]["user"])
    html = client.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    assert "<script>document" not in html and "&lt;script&gt;document" in html
    assert "<b>A</b>" not in html and "&lt;b&gt;A&lt;/b&gt;" in html


def test_filter_values_never_break_the_page(app: Flask, staff) -> None:
    client = _signed_in(app, staff["reviewer"]["user"])
    for query in (
        "fmt=x",
        "endpoint=x",
        "page=abc",
        "page=-5",
        "q=%25_%25",
        "status=nonsense",
        "competency=" + "x" * 500,
    ):
        assert client.get(f"/item-bank/items?{query}").status_code == 200, query


def test_blueprint_numbers_must_be_finite(app: Flask, make_user, first_level) -> None:
    from tests.item_bank.test_blueprint import _current, _edit_data

    admin = make_user("exam_admin")
    client = _signed_in(app, admin)
    _, spec = _current(app)
    for bad in ("sNaN", "NaN", "Infinity"):
        response = post_form(
            client,
            "/item-bank/blueprints/first-level",
            "/item-bank/blueprints/first-level",
            _edit_data(spec, pass_overall_percent=bad),
        )
        assert response.status_code == 422, bad


def test_blueprint_page_lists_each_areas_item_count(app: Flask, make_user, first_level) -> None:
    from tests.item_bank.test_blueprint import _current

    _, spec = _current(app)
    client = _signed_in(app, make_user("exam_admin"))
    html = client.get("/item-bank/blueprints/first-level").get_data(as_text=True)
    assert "built-in method" not in html
    for area in spec["areas"]:
        row = re.search(rf"{re.escape(area['code'])}</span>[^<]*</td><td>(\d+)</td>", html)
        assert row, area["code"]
        assert int(row.group(1)) == area["items"]
