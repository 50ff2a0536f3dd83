"""Forms of the certificates room: public lookup, and staff decisions on a certificate."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import FileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import (  # type: ignore[attr-defined]  # types-wtforms 3.2 predates it
    SelectChoice,
)
from wtforms.validators import DataRequired, Length

from certificates.models import REVOCATION_REASONS


class LookupForm(FlaskForm):
    code = StringField(
        "Certificate code",
        validators=[DataRequired(), Length(max=40)],
        description="As printed, e.g. CSM1-7K3Q-9ZP2-M4TX.",
    )
    family_name = StringField("Holder's family name", validators=[DataRequired(), Length(max=100)])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Code or holder's name", validators=[Length(max=100)])


class _PrefixedForm(FlaskForm):
    """Several decision forms share one page; a prefix keeps their field ids apart."""

    field_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.field_prefix)
        super().__init__(*args, **kwargs)


# The decision forms carry what staff type; certificates.services.decide judges it, for
# the API alike, so the fields hold no rule of their own.
REQUIRED = {"required": True}


class RevokeForm(_PrefixedForm):
    field_prefix = "revoke"
    reason = SelectField(
        "Reason",
        choices=[SelectChoice(value, label) for value, label in REVOCATION_REASONS.items()],
        validate_choice=False,
        render_kw=REQUIRED,
        description="Shown on the public verification page; the note is not.",
    )
    note = TextAreaField(
        "Note for the record",
        render_kw=REQUIRED,
        description="What happened and on whose decision. Staff only.",
    )


class NoteForm(_PrefixedForm):
    """Suspend or reinstate: the decision is the button, the note is the why."""

    field_prefix = "decision"

    note = TextAreaField("Note for the record", render_kw=REQUIRED)


class CreditForm(FlaskForm):
    """A continuing-education entry; ``certificates.credits.log_credit`` judges it. Each
    certificate's form on the holder's page has its own prefix, keeping field ids apart."""

    title = StringField("Activity", render_kw=REQUIRED, description="A course, a conference…")
    provider = StringField("Provider", render_kw=REQUIRED, description="Who ran it.")
    activity_on = StringField(
        "Date", render_kw={**REQUIRED, "type": "date"}, description="Its last day."
    )
    credits = StringField(
        "Credits",
        render_kw={**REQUIRED, "inputmode": "numeric"},
        description="One per hour of activity.",
    )
    area = SelectField("Area", validate_choice=False, render_kw=REQUIRED)
    file = FileField(
        "Evidence (PDF, at most 10 MB)",
        render_kw={**REQUIRED, "accept": "application/pdf"},
        description="A certificate of attendance, say.",
    )


class CreditReviewForm(_PrefixedForm):
    field_prefix = "review"
    reason = TextAreaField(
        "Reason", description="Required to reject; the holder reads it.", render_kw={"rows": 2}
    )
