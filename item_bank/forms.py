"""WTForms for the item editor, transitions, filters and the blueprint editor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from item_bank.media_forms import MediaFields
from item_bank.models import CognitiveLevel, ItemStatus, ItemType
from item_bank.schemas import LETTERS

# Choices as WTForms' shorthand dict (value -> label): the one shape that both the
# typeshed stubs and WTForms 3.3 (which deprecates tuples) accept.
TYPE_CHOICES: dict[str, str] = {
    ItemType.SINGLE_CHOICE: "Single choice (one key)",
    ItemType.MULTIPLE_RESPONSE: "Multiple response (choose N)",
    ItemType.TRUE_FALSE: "True / false",
}
LEVEL_CHOICES: dict[str, str] = {
    CognitiveLevel.RECALL: "Recall",
    CognitiveLevel.APPLICATION: "Application",
    CognitiveLevel.ANALYSIS: "Analysis",
}
STATUS_CHOICES: dict[str, str] = {
    status: status.replace("_", " ").capitalize() for status in ItemStatus
}


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _revision(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


class ItemEditorForm(MediaFields, FlaskForm):
    ref = StringField(
        "Reference",
        validators=[Optional(), Length(max=64)],
        description="Optional. Left empty, it is the primary competency and the next free "
        "number, such as CU.SK.COMM.04-7.",
    )
    type = SelectField("Item type", choices=TYPE_CHOICES, validators=[DataRequired()])
    stem = TextAreaField(
        "Stem",
        validators=[DataRequired(), Length(max=4000)],
        description="Markdown: **bold**, *italic*, `code`, lists. HTML is shown as text.",
    )
    option_a = StringField("Option A", validators=[Length(max=1000)])
    option_b = StringField("Option B", validators=[Length(max=1000)])
    option_c = StringField("Option C", validators=[Length(max=1000)])
    option_d = StringField("Option D", validators=[Length(max=1000)])
    option_e = StringField("Option E", validators=[Length(max=1000)])
    option_f = StringField("Option F", validators=[Length(max=1000)])
    keys = SelectMultipleField(
        "Correct options (keys)",
        choices={letter: letter for letter in LETTERS},
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    choose = IntegerField(
        "Choose how many",
        validators=[Optional(), NumberRange(min=0, max=5)],
        description="Multiple response only: equals the number of keys, or 0 for any number.",
    )
    fixed = SelectMultipleField(
        "Options fixed in place",
        choices={letter: f"Fix {letter}" for letter in LETTERS},
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        description="These keep their place while the others are shuffled "
        "(a \u201cNone of the above\u201d, the ends of a scale).",
    )
    keep_order = BooleanField(
        "Keep every option in the order written (no shuffling)",
        description="For ordered scales; true/false items always keep their order.",
    )
    label = StringField(
        "Label",
        validators=[Length(max=256)],
        description="Optional name for staff (the source's item title). Never shown to candidates.",
    )
    rationale = TextAreaField(
        "Rationale",
        validators=[DataRequired(), Length(max=4000)],
        description="Why the key is right and each distractor is not. Staff only.",
    )
    references = TextAreaField(
        "References", validators=[Length(max=5000)], description="One per line."
    )
    primary_competency = SelectField("Primary competency", validators=[DataRequired()])
    other_competencies = StringField(
        "Other competencies",
        validators=[Length(max=300)],
        description="Codes, separated by commas.",
    )
    cognitive_level = SelectField("Cognitive level", choices=LEVEL_CHOICES)
    enemies = StringField(
        "Enemy items",
        validators=[Length(max=2000)],
        description="Refs of items never to appear on the same form, separated by commas.",
    )
    stimulus = SelectField(
        "Scenario (shared stimulus)",
        description="A case study or exhibit that this item shares with others; optional.",
        validate_choice=False,  # the service names a stimulus that is not in the bank
    )
    stimulus_position = IntegerField(
        "Place in the scenario's set",
        validators=[Optional(), NumberRange(min=1, max=50)],
        description="1 for the scenario's first question. Empty: keep its place, or go last.",
    )
    revision = HiddenField()

    OPTION_FIELDS = ("option_a", "option_b", "option_c", "option_d", "option_e", "option_f")

    def content_data(self) -> dict[str, Any]:
        """The form as an item record for the service (validated there)."""
        options = [getattr(self, name).data or "" for name in self.OPTION_FIELDS]
        while options and not options[-1].strip():
            options.pop()
        return {
            "ref": (self.ref.data or "").strip() or None,
            "type": self.type.data,
            "stem": self.stem.data or "",
            "options": options,
            "keys": list(self.keys.data or []),
            "choose": self.choose.data,
            "shuffle": not self.keep_order.data,
            "fixed": list(self.fixed.data or []),
            "label": (self.label.data or "").strip(),
            "rationale": self.rationale.data or "",
            "references": [
                line.strip() for line in (self.references.data or "").splitlines() if line.strip()
            ],
            "competencies": [
                self.primary_competency.data or "",
                *_codes(self.other_competencies.data or ""),
            ],
            "cognitive_level": self.cognitive_level.data,
            "enemies": _codes(self.enemies.data or ""),
            "stimulus": {"ref": self.stimulus.data, "position": self.stimulus_position.data}
            if self.stimulus.data
            else None,
            "media": self.media_data(),
            "revision": _revision(self.revision.data),
        }

    def fill(self, content: dict[str, Any], enemies: list[str], revision: int | None) -> None:
        self.ref.data = content.get("ref")
        self.type.data = content["type"]
        self.stem.data = content["stem"]
        for name, option in zip(self.OPTION_FIELDS, content["options"], strict=False):
            getattr(self, name).data = option
        self.keys.data = list(content["keys"])
        self.choose.data = content["choose"]
        self.keep_order.data = not content.get("shuffle", True)
        self.fixed.data = list(content.get("fixed", []))
        self.label.data = content.get("label", "")
        self.rationale.data = content["rationale"]
        self.references.data = "\n".join(content["references"])
        self.primary_competency.data = content["competencies"][0]
        self.other_competencies.data = ", ".join(content["competencies"][1:])
        self.cognitive_level.data = content["cognitive_level"]
        self.enemies.data = ", ".join(enemies)
        link = content.get("stimulus") or {}
        self.stimulus.data = link.get("ref") or ""
        self.stimulus_position.data = link.get("position")
        self.fill_media(content.get("media", []))
        self.revision.data = str(revision) if revision else ""

    def field_for(self, name: str) -> str:
        """The form field that shows a service error about ``name`` (e.g. options.2)."""
        head, _, rest = name.partition(".")
        if head == "options" and rest.isdigit():
            return self.OPTION_FIELDS[int(rest)] if int(rest) < 6 else "option_a"
        if head == "options":
            return "option_a"
        if head == "competencies":
            return "primary_competency"
        if head == "stimulus":
            return "stimulus_position" if rest == "position" else "stimulus"
        if head == "file":  # the new file was refused
            return "media_upload"
        return head if hasattr(self, head) else "stem"


class StimulusForm(MediaFields, FlaskForm):
    ref = StringField(
        "Reference",
        validators=[Optional(), Length(max=64)],
        description="Optional; a stable reference such as S-RENEWAL-01. Generated when empty.",
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        "Passage",
        validators=[DataRequired(), Length(max=20000)],
        description="The case study or exhibit. Markdown: **bold**, *italic*, lists; "
        "a blank line starts a paragraph. HTML is shown as text.",
        render_kw={"rows": 16},
    )
    revision = HiddenField()

    def content_data(self) -> dict[str, Any]:
        return {
            "ref": (self.ref.data or "").strip() or None,
            "title": self.title.data or "",
            "body": self.body.data or "",
            "media": self.media_data(),
            "revision": _revision(self.revision.data),
        }

    def fill(self, title: str, body: str, media: list[dict[str, str]], revision: int) -> None:
        self.title.data, self.body.data = title, body
        self.fill_media(media)
        self.revision.data = str(revision)

    def field_for(self, name: str) -> str:
        """The form field that shows a service error about ``name`` (e.g. media.2)."""
        head = name.partition(".")[0]
        if head == "file":  # the new file was refused
            return "media_upload"
        return head if hasattr(self, head) else "body"


class StepForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    comment = TextAreaField("Comment", validators=[Length(max=4000)])
    # The content revision the page showed: an approval or a return binds to it.
    revision = HiddenField(validators=[Length(max=200)])
    # The review checklist's points the reviewer ticked; the service knows which exist.
    checked = SelectMultipleField(validate_choice=False)


def finite(_form: Any, field: Any) -> None:
    """DecimalField accepts NaN and Infinity; a rule needs a real number."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("Give a number.")


class AreaRuleForm(PlainForm):
    code = HiddenField()
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    items = IntegerField("Items", validators=[InputRequired(), NumberRange(min=1, max=500)])
    min_percent = DecimalField(
        "Minimum %", validators=[InputRequired(), finite, NumberRange(min=0, max=100)], places=1
    )


class BlueprintForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    item_count = IntegerField(
        "Scored items", validators=[InputRequired(), NumberRange(min=1, max=500)]
    )
    time_limit_minutes = IntegerField(
        "Time limit (minutes)", validators=[InputRequired(), NumberRange(min=1, max=240)]
    )
    pass_overall_percent = DecimalField(
        "Pass mark, overall %",
        validators=[InputRequired(), finite, NumberRange(min=0, max=100)],
        places=1,
    )
    retake_wait_days = IntegerField(
        "Days to wait before a retake", validators=[InputRequired(), NumberRange(min=0, max=365)]
    )
    max_attempts_per_12_months = IntegerField(
        "Attempts allowed in 12 months", validators=[InputRequired(), NumberRange(min=1, max=50)]
    )
    certificate_validity_months = IntegerField(
        "Certificate valid for (months)", validators=[InputRequired(), NumberRange(min=1, max=240)]
    )
    exposure_cap_percent = DecimalField(
        "Exposure cap, % of forms",
        validators=[InputRequired(), finite, NumberRange(min=1, max=100)],
        places=1,
    )
    pretest_items = IntegerField(
        "Pretest items per form (unscored, on top)",
        validators=[Optional(), NumberRange(min=0, max=20)],
        default=0,
    )
    partial_credit = BooleanField("Partial credit for multiple response items")
    hold_results_for_review = BooleanField("Hold results until staff release them")
    shuffle_within_sets = BooleanField(
        "Shuffle the items of a scenario among themselves (else in their written order)"
    )
    even_difficulty = BooleanField(
        "Give every form the same difficulty (from the bank's latest calibration)"
    )
    difficulty_tolerance = DecimalField(
        "Allowed difference at the pass mark, in items",
        validators=[Optional(), finite, NumberRange(min=0.1, max=10)],
        places=1,
        default=Decimal("1.0"),
    )
    max_uncalibrated_percent = DecimalField(
        "Items not yet calibrated, at most % of a form",
        validators=[Optional(), finite, NumberRange(min=0, max=100)],
        places=1,
        default=Decimal("10.0"),
    )
    report_scale = BooleanField("Report a scaled score; the overall pass goes by the Rasch measure")
    scale_low = IntegerField(
        "Scale from", validators=[Optional(), NumberRange(min=0, max=10_000)], default=100
    )
    scale_high = IntegerField(
        "Scale to", validators=[Optional(), NumberRange(min=1, max=10_000)], default=900
    )
    scale_cut = IntegerField(
        "Pass point on the scale",
        validators=[Optional(), NumberRange(min=0, max=10_000)],
        default=500,
    )
    scale_points_per_logit = DecimalField(
        "Scale points per logit",
        validators=[Optional(), finite, NumberRange(min=1, max=1000)],
        places=1,
        default=Decimal("50.0"),
    )
    # Kept from a standard setting's adoption; the form does not edit it.
    scale_cut_measure = HiddenField()
    areas = FieldList(FormField(AreaRuleForm), min_entries=1)
    note = TextAreaField("Why this change", validators=[DataRequired(), Length(max=2000)])

    DECIMAL_FIELDS = ("pass_overall_percent", "exposure_cap_percent")
    DIFFICULTY_FIELDS = ("even_difficulty", "difficulty_tolerance", "max_uncalibrated_percent")
    SCALE_FIELDS = (
        "report_scale",
        "scale_low",
        "scale_high",
        "scale_cut",
        "scale_points_per_logit",
        "scale_cut_measure",
    )

    @classmethod
    def of(cls, spec: dict[str, Any]) -> BlueprintForm:
        """The form filled with a blueprint version's rules."""
        goal = spec.get("form_difficulty")
        difficulty = (
            {
                "even_difficulty": True,
                "difficulty_tolerance": goal.get("tolerance_items", 1.0),
                "max_uncalibrated_percent": goal.get("max_uncalibrated_percent", 10.0),
            }
            if goal
            else {}
        )
        scale = spec.get("scaled_score")
        scaled = (
            {
                "report_scale": True,
                "scale_low": scale.get("low"),
                "scale_high": scale.get("high"),
                "scale_cut": scale.get("cut"),
                "scale_points_per_logit": scale.get("points_per_logit"),
                "scale_cut_measure": ""
                if scale.get("cut_measure") is None
                else str(scale["cut_measure"]),
            }
            if scale
            else {}
        )
        return cls(data={**spec, **difficulty, **scaled, "note": ""})

    def rules(self) -> dict[str, Any]:
        """The rules the form edits, as the JSON a blueprint version stores."""
        data = {key: value for key, value in self.data.items() if key not in ("csrf_token", "note")}
        data["areas"] = [
            {
                "code": area["code"],
                "title": area["title"],
                "items": area["items"],
                "min_percent": float(area["min_percent"]),
            }
            for area in data["areas"]
        ]
        for key in self.DECIMAL_FIELDS:
            data[key] = float(data[key])
        even, tolerance, uncalibrated = (data.pop(key) for key in self.DIFFICULTY_FIELDS)
        data["form_difficulty"] = (
            {
                "tolerance_items": float(tolerance if tolerance is not None else 1.0),
                "max_uncalibrated_percent": float(uncalibrated if uncalibrated is not None else 10),
            }
            if even
            else None
        )
        data["pretest_items"] = data.get("pretest_items") or 0
        data["scaled_score"] = self._scale(*(data.pop(key) for key in self.SCALE_FIELDS))
        return data

    @staticmethod
    def _scale(
        wanted: bool, low: Any, high: Any, cut: Any, per_logit: Any, cut_measure: Any
    ) -> dict[str, Any] | None:
        if not wanted:
            return None
        try:
            measure = float(cut_measure) if cut_measure else None
        except ValueError:
            measure = 99.0  # out of range: the blueprint's check names the field
        return {
            "low": 100 if low is None else low,
            "high": 900 if high is None else high,
            "cut": 500 if cut is None else cut,
            "points_per_logit": 50.0 if per_logit is None else float(per_logit),
            "cut_measure": measure,
        }


class ItemFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Text or ref", validators=[Length(max=200)])
    competency = SelectField("Competency or area", validate_choice=False)
    status = SelectField(
        "Status",
        choices={"": "Any status", **STATUS_CHOICES},
        validate_choice=False,
    )
    type = SelectField("Type", choices={"": "Any type", **TYPE_CHOICES}, validate_choice=False)
