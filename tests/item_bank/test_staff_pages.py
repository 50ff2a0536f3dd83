"""Staff item pages: Markdown in lists, keys beside options, references as the hint says,
and the reviewer's checklist."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from item_bank.rendering import render_summary
from tests.conftest import post_form, sign_in
from tests.item_bank.fixtures import act, create
from tests.item_bank.test_pages import EDITOR_FORM

HOSTILE = "Which is **first** and `code`? <script>alert(1)</script>"


def _signed_in(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user.email)
    return client


def test_item_list_and_review_queue_render_the_stems_markdown_safely(app: Flask, staff) -> None:
    api = app.test_client()
    item = create(api, staff["writer"]["headers"], stem=HOSTILE)
    act(api, staff["writer"]["headers"], item["id"], "submit")
    client = _signed_in(app, staff["reviewer"]["user"])
    for path in ("/item-bank/items", "/item-bank/review"):
        html = client.get(path).get_data(as_text=True)
        assert "<strong>first</strong>" in html and "<code>code</code>" in html, path
        assert "**first**" not in html, path
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html, path


def test_a_scenario_page_renders_its_items_stems_markdown_safely(app: Flask, staff) -> None:
    api, writer = app.test_client(), staff["writer"]["headers"]
    passage = {"ref": "S-MD", "title": "Northgate", "body": "Usage fell."}
    stimulus = api.post("/api/v1/stimuli", json=passage, headers=writer).get_json()
    create(api, writer, stem=HOSTILE, stimulus={"ref": "S-MD"})
    client = _signed_in(app, staff["reviewer"]["user"])
    html = client.get(f"/item-bank/stimuli/{stimulus['id']}").get_data(as_text=True)
    assert "<strong>first</strong>" in html and "<code>code</code>" in html
    assert "**first**" not in html and "`code`" not in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html


def test_a_long_stem_is_cut_at_a_word_and_never_leaves_half_a_tag() -> None:
    summary = str(render_summary("A " * 60 + "**bold ending**", length=40))
    assert summary.endswith("…") and len(summary) <= 41
    assert str(render_summary("Line one\n\n- two\n- three")) == "Line one - two - three"
    unclosed = str(render_summary("**" + "x " * 80 + "**", length=20))
    assert unclosed.startswith("**x x") and "<strong>" not in unclosed


def test_each_key_tick_stands_beside_its_option(app: Flask, staff) -> None:
    client = _signed_in(app, staff["writer"]["user"])
    html = client.get("/item-bank/items/new").get_data(as_text=True)
    rows = re.findall(r'<div class="option-row">(.*?)</div>\s*</div>', html, re.S)
    assert len(rows) == 6
    for letter, row in zip("ABCDEF", rows, strict=True):
        assert f'id="option_{letter.lower()}"' in row
        assert re.search(rf'name="keys"[^>]*value="{letter}"', row), letter
        assert f'Correct<span class="visually-hidden"> answer {letter}</span>' in row
    saved = post_form(client, "/item-bank/items/new", "/item-bank/items/new", EDITOR_FORM)
    assert saved.status_code == 302


def test_choose_how_many_shows_only_for_multiple_response(app: Flask, staff) -> None:
    client = _signed_in(app, staff["writer"]["user"])
    new = client.get("/item-bank/items/new").get_data(as_text=True)
    assert re.search(r'id="choose-field"[^>]*hidden', new)
    api = app.test_client()
    multiple = create(
        api, staff["writer"]["headers"], type="multiple_response", keys=["A", "B"], choose=2
    )
    edit = client.get(f"/item-bank/items/{multiple['id']}/edit").get_data(as_text=True)
    assert re.search(r'id="choose-field" data-shown-for="multiple_response">', edit)
    # Switched to multiple response on a page without JavaScript: the answer names the
    # field, now shown.
    switched = post_form(
        client,
        "/item-bank/items/new",
        "/item-bank/items/new",
        {**EDITOR_FORM, "type": "multiple_response", "keys": ["A", "B"]},
    )
    assert switched.status_code == 422
    assert "Say how many options" in switched.get_data(as_text=True)
    assert re.search(
        r'id="choose-field" data-shown-for="multiple_response">', switched.get_data(as_text=True)
    )


def test_a_generated_reference_is_the_competency_and_the_next_number(app: Flask, staff) -> None:
    client = _signed_in(app, staff["writer"]["user"])
    page = client.get("/item-bank/items/new").get_data(as_text=True)
    assert "primary competency and the next free number, such as CU.SK.COMM.04-7" in page
    refs = []
    for stem in ("First stem?", "Second stem?"):
        form = {**EDITOR_FORM, "stem": stem, "ref": ""}
        saved = post_form(client, "/item-bank/items/new", "/item-bank/items/new", form)
        assert saved.status_code == 302
        detail = client.get(saved.headers["Location"]).get_data(as_text=True)
        refs.append(re.search(r"<h1>Item ([^<]+)</h1>", detail).group(1))
    assert refs == ["CO.KN.TERM.03-1", "CO.KN.TERM.03-2"]


def test_the_reviewer_gets_a_checklist_drawn_from_the_blueprint(app: Flask, staff) -> None:
    api = app.test_client()
    item = create(api, staff["writer"]["headers"], competencies=["CU.KN.TERM.01"])
    act(api, staff["writer"]["headers"], item["id"], "submit")
    reviewer = _signed_in(app, staff["reviewer"]["user"])
    html = reviewer.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    assert "Before you approve" in html
    for point in (
        "Competency.",
        "Cognitive level.",
        "One best answer.",
        "Plausible distractors.",
        "No cueing.",
    ):
        assert point in html, point
    assert "blueprint first-level draws 12 of its 60 items from CU.KN," in html
    assert "It asks for application" in html and "Option B is the one best answer" in html
    writer = _signed_in(app, staff["writer"]["user"])
    assert "Before you approve" not in writer.get(f"/item-bank/items/{item['id']}").get_data(
        as_text=True
    )
