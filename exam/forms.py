"""WTForms for sittings, registration steps, accommodations and proctor actions."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import (  # type: ignore[attr-defined]  # types-wtforms 3.2 predates it
    SelectChoice,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from accounts.models import User
from exam.models import ScoringAction, SittingMode
from item_bank.models import Blueprint


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
            SelectChoice(SittingMode.ONLINE, "Online, remotely proctored"),
            SelectChoice(SittingMode.TEST_CENTRE, "Test centre"),
        ],
    )
    location = StringField("Location (test centre)", validators=[Optional(), Length(max=300)])
    start_spread_minutes = IntegerField(
        "Spread starts over (minutes)",
        default=0,
        validators=[Optional(), NumberRange(min=0, max=60)],
        description="For a large sitting: candidates get start times across these minutes "
        "from the opening, in the order they are admitted. 0 starts everyone at once.",
    )
    proctors = SelectMultipleField(
        "Proctors", option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False), coerce=int
    )
    revision = HiddenField()

    def offer(self, blueprints: Iterable[Blueprint], proctors: Iterable[User]) -> None:
        """The blueprints and proctors to choose from."""
        self.blueprint.choices = [
            SelectChoice(b.code, f"{b.code}: {b.current.spec['title']}") for b in blueprints
        ]
        self.proctors.choices = [SelectChoice(p.id, p.full_name) for p in proctors]


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
    # Checked with the API's rules (exam.schemas.ProctorRequest), so both faces give one 422.
    minutes = StringField("Minutes", validators=[Length(max=10)])


class AnswerForm(FlaskForm):
    """The no-JavaScript path: each question page posts its answer and where to go next."""

    answer = SelectMultipleField("Answer", validate_choice=False)
    flagged = HiddenField()
    go = HiddenField()


class EmptyForm(FlaskForm):
    pass


class OfflineAnswersForm(FlaskForm):
    """The proctor uploads the file a candidate's exam page saved while offline."""

    file = FileField("Offline answers file")


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
            SelectChoice(ScoringAction.DO_NOT_SCORE, "Do not score"),
            SelectChoice(ScoringAction.CORRECT_KEY, "Correct the key"),
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
