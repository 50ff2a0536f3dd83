"""QTI's XHTML and the bank's Markdown: what the Markdown cannot hold (superscripts,
subscripts, tables, links) is written otherwise and said in the import report; lists keep
their numbers; and the bank's own text comes back from its QTI export unchanged, escapes
and all."""

from __future__ import annotations

import json
from xml.etree.ElementTree import Element

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from item_bank import transfer
from item_bank.rendering import render_inline, render_markdown
from item_bank.transfer.markup import (
    inline_markdown,
    markdown_blocks,
    markdown_inline,
    to_markdown,
)
from tests.item_bank.fixtures import record
from tests.item_bank.media_fixtures import package
from tests.item_bank.test_qti import DEFAULT, _exported, _import
from tests.item_bank.test_qti_export import _invalid, _qti_export
from tests.item_bank.test_qti_export import schemas as schemas
from tests.item_bank.test_stimuli_transfer import _package as stimulus_package

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"


def _item(body: str, options: tuple[str, str] = ("Yes", "No")) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI}" identifier="markup" title="Markup" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>a</value></correctResponse>
  </responseDeclaration>
  <itemBody>
    {body}
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <simpleChoice identifier="a">{options[0]}</simpleChoice>
      <simpleChoice identifier="b">{options[1]}</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>""".encode()


def _report_line(summary: transfer.ImportSummary) -> str:
    [line] = [line for line in summary.report() if "markup: new" in line]
    return line


def _import_one(
    app: Flask, body: str, options: tuple[str, str] = ("Yes", "No")
) -> tuple[transfer.ImportSummary, str]:
    """The item ``body`` imported from a package: the summary and the stem it stored."""
    data = package({"markup": _item(body, options)}, {})
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (1, [])
    return summary, _exported(app)["markup"]["stem"]


def test_what_the_markdown_cannot_hold_is_written_otherwise_and_reported(
    app: Flask, first_level: None
) -> None:
    body = """<p>The area is x<sup>2</sup>, water is H<sub>2</sub>O and growth is
      e<sup>rt</sup>; see <a href="https://example.org/plans">the plans</a>.</p>
    <table><caption>Plans</caption>
      <thead><tr><th>Plan</th><th>Seats</th></tr></thead>
      <tbody><tr><td>Team</td><td>10</td></tr><tr><td>- Enterprise</td><td>500</td></tr></tbody>
    </table>
    <ol start="3"><li>Third step</li><li>Fourth step</li></ol>"""
    summary, stem = _import_one(app, body, ("CO<sub>2</sub>", "N<sub>2</sub>"))
    assert stem == (
        "The area is x², water is H₂O and growth is e^(rt); see the plans.\n\n"
        "Plans\\\nPlan | Seats\\\nTeam | 10\\\n\\- Enterprise | 500\n\n"
        "3. Third step\n4. Fourth step"
    )
    assert _exported(app)["markup"]["options"] == ["CO₂", "N₂"]
    shown = render_markdown(stem)
    assert '<ol start="3">' in shown and "<li>" not in shown.split("<ol")[0]
    line = _report_line(summary)
    for note in (
        "<sup>2</sup> written as ²",
        "<sub>2</sub> written as ₂",
        "<sup>rt</sup> written as ^(rt)",
        "the link to https://example.org/plans left out, its text kept",
        "<table> written as lines of text, one per row, cells separated by |",
    ):
        assert note in line, (note, line)


def test_a_line_break_inside_a_list_item_stays_a_line_break(app: Flask, first_level: None) -> None:
    body = """<p>Before the call:</p>
    <ol><li>Read the account notes<br/>and the last ticket</li><li>Book the room</li></ol>
    <ul><li>Owner<br/>Sponsor</li></ul>"""
    _summary, stem = _import_one(app, body)
    assert stem == (
        "Before the call:\n\n"
        "1. Read the account notes\\\n   and the last ticket\n2. Book the room\n\n"
        "- Owner\\\n  Sponsor"
    )
    shown = render_markdown(stem)
    assert "\\" not in shown
    assert "<li>Read the account notes<br>\nand the last ticket</li>" in shown
    assert "<li>Owner<br>\nSponsor</li>" in shown
    assert _round_trip(stem) == stem


def test_a_table_in_a_scenario_is_reported_on_each_of_its_items(
    app: Flask, first_level: None
) -> None:
    passage = (
        b"<div><h2>Usage exhibit</h2><table><tr><th>Month</th><th>Logins</th></tr>"
        b"<tr><td>May</td><td>40</td></tr></table></div>"
    )
    summary = _import(
        app,
        stimulus_package({"passages/exhibit.xhtml": passage}),
        default_competency="CU.SK.COMM.03",
    )
    assert summary.errors == []
    noted = [
        line
        for line in summary.report()
        if "scenario passages/exhibit.xhtml: <table> written as lines of text" in line
    ]
    assert len(noted) == 2  # usage-1 and usage-2 show the exhibit


def _round_trip(markdown: str) -> str:
    wrapper = Element(f"{{{QTI}}}div")
    wrapper.extend(markdown_blocks(markdown, QTI))
    return to_markdown(wrapper)


FRAGMENTS = [
    "customer_id", "crm_account_id", "ARR * 12", "*", "_", "**bold**", "*it*", "a*b*c",
    "\\*literal\\*", "snake_case_name", "C:\\path", "`code_x`", "&", "R&D", "&amp;",
    "5 * 3 = 15", "2_000", "x", "the", "—", "1.", "-", "+", "\\", "\\_",
]  # fmt: skip
TRICKY = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(TRICKY, min_size=1, max_size=3), st.sampled_from(["", "- ", "3. ", "1. "]))
def test_markdown_out_to_qti_and_back_shows_the_same(paragraphs: list[str], lead: str) -> None:
    if lead:
        number = 3 if lead == "3. " else 1
        markdown = "\n".join(
            (f"{number + n}. " if lead[0].isdigit() else "- ") + text
            for n, text in enumerate(paragraphs)
        )
    else:
        markdown = "\n\n".join(paragraphs)
    back = _round_trip(markdown)
    assert render_markdown(back) == render_markdown(markdown), (markdown, back)
    assert _round_trip(back) == back  # and what comes back is stable


@settings(max_examples=200, deadline=None)
@given(TRICKY)
def test_an_option_out_to_qti_and_back_shows_the_same(option: str) -> None:
    back = inline_markdown(markdown_inline(option, QTI))
    assert render_inline(back) == render_inline(option), (option, back)


STEMS = [
    "Which field joins the tables: customer_id or crm_account?",
    "Annual value is ARR * 12 months? No: MRR * 12 is.",
    "Order the steps:\n\n3. Kick-off\n4. Training\n5. Review",
    "In snake_case_name and **bold** and *italic* text, which is right?",
    "Literal stars \\*here\\* and a path C:\\temp\\x_y.",
    "Use `account_id` (code) & R&D budget; 2_000 seats.",
]


def test_bank_to_qti_to_bank_is_unchanged_for_tricky_text(
    app: Flask, first_level: None, schemas
) -> None:
    records = [
        record(ref=f"tricky-{n}", stem=stem, options=["a_b", "x * y", "**c**", "d\\_e"])
        for n, stem in enumerate(STEMS)
    ]
    first = _import(app, transfer.parse_upload("b.json", json.dumps(records).encode()))
    assert (first.created, first.errors) == (len(STEMS), [])
    before = _exported(app)
    exported, _count = _qti_export(app)
    assert _invalid(exported, schemas) == []
    again = _import(app, transfer.parse_upload("bank.zip", exported))
    assert (again.created, again.new_versions, again.unchanged, again.errors) == (
        0,
        0,
        len(STEMS),
        [],
    )
    assert {item.outcome for item in again.items} == {"unchanged"}
    assert _exported(app) == before
    # Read on its own, the package gives back the very text of every natural stem.
    read = {r["ref"]: r for r in transfer.parse_upload("bank.zip", exported).records}
    for n in (0, 1, 2, 3, 5):
        assert read[f"tricky-{n}"]["stem"] == STEMS[n], n
    assert read["tricky-0"]["options"][:3] == ["a_b", "x * y", "**c**"]
