"""Demo data: one approved item that shows a chart, drawn here with Pillow."""

from __future__ import annotations

import io

import click
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank import frameworks, transfer
from item_bank.models import Item
from item_bank.services.media import store_media

REF = "CU.KN.TERM.01-chart"
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
LICENSED = (12, 12, 12, 12)
IN_USE = (3, 4, 4, 5)
ALT = (
    "Bar chart of one customer's modules per quarter: 12 licensed in every quarter; "
    "in use 3 in Q1, 4 in Q2, 4 in Q3 and 5 in Q4."
)


def chart_png() -> bytes:
    """Licensed against used modules by quarter, in the site's colours."""
    width, height, base, scale = 640, 360, 316, 20
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.font = ImageFont.load_default(size=20)
    draw.text((24, 14), "Modules licensed and in use", fill=(17, 24, 39))
    draw.line((60, base, width - 24, base), fill=(75, 85, 99), width=2)
    for value in range(0, 13, 4):
        y = base - value * scale
        draw.text((24, y - 12), str(value), fill=(75, 85, 99))
    for index, quarter in enumerate(QUARTERS):
        left = 90 + index * 135
        draw.rectangle((left, base - LICENSED[index] * scale, left + 45, base), fill=(30, 64, 175))
        draw.rectangle(
            (left + 50, base - IN_USE[index] * scale, left + 95, base), fill=(245, 158, 11)
        )
        draw.text((left + 32, base + 10), quarter, fill=(17, 24, 39))
    draw.rectangle((380, 18, 396, 34), fill=(30, 64, 175))
    draw.text((402, 14), "licensed", fill=(17, 24, 39))
    draw.rectangle((510, 18, 526, 34), fill=(245, 158, 11))
    draw.text((532, 14), "in use", fill=(17, 24, 39))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def record(sha256: str) -> dict[str, object]:
    return {
        "ref": REF,
        "type": "single_choice",
        "stem": "The chart shows the modules a customer licenses and the modules it uses "
        "in each quarter. What is the difference between the two bars called?",
        "options": ["Value gap", "Consumption gap", "Logo churn", "Down-sell"],
        "keys": ["B"],
        "rationale": "The consumption gap is what the product can do (12 modules licensed) "
        "minus what the customer uses (3 to 5). A value gap concerns outcomes, churn is "
        "a lost customer and down-sell a smaller renewal.",
        "references": ["CSA CSM Competency Standard: First Level (v1.2), Terminology"],
        "competencies": ["CU.KN.TERM.01"],
        "cognitive_level": "application",
        "media": [{"sha256": sha256, "alt": ALT}],
    }


def load_demo_media_item(session: Session) -> None:
    if session.scalar(select(Item.id).where(Item.ref == REF)) is not None:
        return
    framework = frameworks.get_framework(session)
    if framework is None:
        return
    stored = store_media(session, chart_png(), "modules-chart.png")
    transfer.import_items(
        session,
        framework,
        [record(stored.sha256)],
        status="approved",
        actor_id=None,
        actor_label="cli:demo-data",
    )
    click.echo(f"Sample item with a chart: {REF}.")
