"""The candidate's optional "about you" form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import (  # type: ignore[attr-defined]  # types-wtforms 3.2 predates it
    SelectChoice,
)
from wtforms.validators import DataRequired

from exam.psychometrics.models import FirstLanguage, Region

FIRST_LANGUAGES = [
    ("", "Prefer not to say"),
    (FirstLanguage.ENGLISH.value, "English"),
    (FirstLanguage.OTHER.value, "Another language"),
]
REGIONS = [
    ("", "Prefer not to say"),
    (Region.AFRICA.value, "Africa"),
    (Region.ASIA_PACIFIC.value, "Asia and the Pacific"),
    (Region.EUROPE.value, "Europe"),
    (Region.LATIN_AMERICA.value, "Latin America and the Caribbean"),
    (Region.MIDDLE_EAST.value, "Middle East"),
    (Region.NORTH_AMERICA.value, "North America"),
]


class AboutYouForm(FlaskForm):
    first_language = SelectField(
        "Your first language", choices=[SelectChoice(v, label) for v, label in FIRST_LANGUAGES]
    )
    region = SelectField("Where you live", choices=[SelectChoice(v, label) for v, label in REGIONS])
    consent = BooleanField(
        "I agree that the association keeps these answers to check its questions are fair "
        "to every group. They never change my score and I can delete them here at any time.",
        validators=[DataRequired("Tick the box to agree, or leave the page without saving.")],
    )
