"""WTForms for sign-up, sign-in, password change and reset, invitations and user
administration."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from accounts.passwords import MAX_LENGTH, MIN_LENGTH
from accounts.services import EMAIL_MAX, NAME_MAX
from core.auth import ROLES

PASSWORD_LENGTH = Length(
    min=MIN_LENGTH,
    max=MAX_LENGTH,
    message=f"Use at least {MIN_LENGTH} and at most {MAX_LENGTH} characters.",
)

STRONG_HINT = f"At least {MIN_LENGTH} characters. A few unrelated words make a strong one."


def new_password_field(label: str, description: str = STRONG_HINT) -> PasswordField:
    """A password being chosen: checked for length here, for strength by the service."""
    return PasswordField(
        label,
        validators=[DataRequired(), PASSWORD_LENGTH],
        render_kw={"autocomplete": "new-password"},
        description=description,
    )


def repeat_field(label: str, of: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), EqualTo(of, message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class SignUpForm(FlaskForm):
    given_name = StringField(
        "Given name",
        validators=[DataRequired(), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "given-name"},
    )
    family_name = StringField(
        "Family name",
        validators=[DataRequired(), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "family-name"},
        description="As on the identity document you will show at the exam.",
    )
    email = EmailField(
        "Email",
        validators=[DataRequired(), Email(), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "email"},
    )
    password = new_password_field("Password")
    confirm = repeat_field("Repeat password", of="password")


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field(
        "New password",
        f"At least {MIN_LENGTH} characters. Your other sessions will be signed out.",
    )
    confirm = repeat_field("Repeat new password", of="new_password")


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name or email", validators=[Length(max=EMAIL_MAX)])
    role = StringField("Role", validators=[Length(max=40)])


class RolesForm(FlaskForm):
    roles = SelectMultipleField(
        "Roles",
        choices=dict(ROLES),  # WTForms' shorthand: value -> label
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=True,
    )


class ActiveForm(FlaskForm):
    active = BooleanField("Active")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "email"},
        description="The address you signed up with. We send a link to choose a new password.",
    )


class NewPasswordForm(FlaskForm):
    """Choosing one's own password from a reset or invitation link."""

    password = new_password_field("New password")
    confirm = repeat_field("Repeat new password", of="password")


class InvitationForm(FlaskForm):
    given_name = StringField("Given name", validators=[DataRequired(), Length(max=NAME_MAX)])
    family_name = StringField("Family name", validators=[DataRequired(), Length(max=NAME_MAX)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    roles = SelectMultipleField(
        "Roles",
        choices=dict(ROLES),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=True,
    )
