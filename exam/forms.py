"""WTForms for sittings, registration steps, accommodations and proctor actions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class SittingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    blueprint = SelectField("Blueprint", validators=[DataRequired()])
    opens_at = DateTimeLocalField(
        "Window opens (UTC)", validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    closes_at = DateTimeLocalField(
        "Window closes (UTC)", validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    capacity = IntegerField(
        "Capacity", validators=[InputRequired(), NumberRange(min=1, max=10_000)]
    )
    mode = SelectField(
        "Mode",
        choices=[
            SelectChoice("online", "Online, remotely proctored"),
            SelectChoice("test_centre", "Test centre"),
        ],
    )
    location = StringField("Location (test centre)", validators=[Optional(), Length(max=300)])
    proctors = SelectMultipleField(
        "Proctors", option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False), coerce=int
    )
    revision = HiddenField()


class CancelForm(FlaskForm):
    reason = TextAreaField("Why is it cancelled?", validators=[DataRequired(), Length(max=2000)])


class AccommodationForm(FlaskForm):
    time_factor = SelectField(
        "Extra time",
        choices=[
            SelectChoice("1.25", "25 % more time"),
            SelectChoice("1.5", "50 % more time"),
            SelectChoice("2.0", "Double time"),
        ],
    )
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(), Length(max=4000)],
        description="What the extra time is for; staff decide before the sitting.",
    )


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    note = TextAreaField("Note to the candidate", validators=[Length(max=4000)])


class AdmitForm(FlaskForm):
    identity_check = StringField(
        "Identity checked with",
        validators=[Length(max=2000)],
        description="Document type and last digits, e.g. passport ending 4821.",
    )
    decision = HiddenField(validators=[DataRequired()])


class ProctorActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = StringField("Reason", validators=[Length(max=2000)])
    minutes = IntegerField("Minutes", validators=[Optional(), NumberRange(min=1, max=120)])


class AnswerForm(FlaskForm):
    """The no-JavaScript path: each question page posts its answer and where to go next."""

    answer = SelectMultipleField("Answer", validate_choice=False)
    flagged = HiddenField()
    go = HiddenField()


class EmptyForm(FlaskForm):
    pass


class AppealForm(FlaskForm):
    statement = TextAreaField(
        "Your appeal",
        validators=[DataRequired(), Length(max=4000)],
        description="What went wrong, and what you ask for. Within 30 days of the result.",
    )


class AppealDecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("Reason (the candidate sees it)", validators=[Length(max=4000)])


class ScoringForm(FlaskForm):
    ref = StringField("Item ref", validators=[DataRequired(), Length(max=64)])
    version = IntegerField(
        "Version",
        validators=[Optional(), NumberRange(min=1)],
        description="Leave empty for the live version.",
    )
    action = SelectField(
        "Decision",
        choices=[
            SelectChoice("do_not_score", "Do not score"),
            SelectChoice("correct_key", "Correct the key"),
        ],
    )
    keys = StringField(
        "Corrected key",
        validators=[Optional(), Length(max=20)],
        description="Letters as authored, e.g. B or A, C.",
    )
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(), Length(max=4000)],
        description="Candidates see it on their score report.",
    )
