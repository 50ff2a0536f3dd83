"""Forms of the accreditation room. The application editor and the step forms post
fields named after the JSON schema, checked by the same pydantic models as the API."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField, URLField
from wtforms.validators import DataRequired, Email, Length, Regexp

from accreditation.models import CRITERIA


class OrganisationForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(min=2, max=200)])
    country = StringField(
        "Country",
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message="Two letters, e.g. GB.")],
        description="ISO two-letter code, e.g. GB, DE, US.",
    )
    website = URLField(
        "Website",
        validators=[
            DataRequired(),
            Length(max=300),
            Regexp(r"^https?://\S+$", message="A full address, e.g. https://example.org."),
        ],
    )
    contact_name = StringField("Contact name", validators=[DataRequired(), Length(min=2, max=200)])
    contact_email = StringField(
        "Contact email", validators=[DataRequired(), Email(), Length(max=254)]
    )


class CsrfForm(FlaskForm):
    """Only the CSRF token; the fields are read by the schema below."""


def content_from_form(form: dict[str, str], codes: list[str], trainer_rows: int) -> dict[str, Any]:
    """The editor's fields as the JSON schema's shape (validated by the caller)."""
    trainers = []
    for index in range(trainer_rows):
        name = form.get(f"trainer-{index}-name", "").strip()
        if name:
            trainers.append(
                {
                    "name": name,
                    "qualifications": form.get(f"trainer-{index}-qualifications", ""),
                    "certificate_code": form.get(f"trainer-{index}-certificate", ""),
                }
            )
    mapping = {}
    for code in codes:
        minutes = form.get(f"map-{code}-minutes", "").strip()
        entry = {
            "module": form.get(f"map-{code}-module", ""),
            "minutes": minutes or None,
            "outcome": form.get(f"map-{code}-outcome", ""),
            "not_covered_reason": form.get(f"map-{code}-reason", ""),
        }
        if any(entry.values()):
            mapping[code] = entry
    return {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "delivery_mode": form.get("delivery_mode", ""),
        "contact_hours": form.get("contact_hours", "").strip() or None,
        "learner_assessment": form.get("learner_assessment", ""),
        "trainers": trainers,
        "mapping": mapping,
        "declaration_accepted": form.get("declaration_accepted") == "y",
    }


def step_from_form(form: dict[str, str], conditions_rows: int = 5) -> dict[str, Any]:
    judgements = {c: form[f"judgement-{c}"] for c in CRITERIA if form.get(f"judgement-{c}")}
    conditions = [
        {"text": form.get(f"condition-{i}-text", ""), "due_on": form.get(f"condition-{i}-due")}
        for i in range(conditions_rows)
        if form.get(f"condition-{i}-text", "").strip()
    ]
    conflict = form.get("has_conflict", "")
    return {
        "action": form.get("action", ""),
        "version": form.get("version", "0"),
        "comment": form.get("comment", ""),
        "assessor_id": form.get("assessor_id") or None,
        "due_on": form.get("due_on") or None,
        "has_conflict": {"yes": True, "no": False}.get(conflict),
        "judgements": judgements,
        "judgement_comments": {c: form.get(f"jcomment-{c}", "") for c in judgements},
        "recommendation": form.get("recommendation", ""),
        "conditions": conditions,
    }
