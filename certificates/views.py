"""Public verification pages and the holder's certificates."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from certificates import services
from certificates.models import REVOCATION_REASONS
from core.auth import roles_required
from core.db import get_session
from core.extensions import limiter

bp = Blueprint("certificates", __name__)


class LookupForm(FlaskForm):
    code = StringField(
        "Certificate code",
        validators=[DataRequired(), Length(max=40)],
        description="As printed, e.g. CSM1-7K3Q-9ZP2-M4TX.",
    )
    family_name = StringField("Holder's family name", validators=[DataRequired(), Length(max=100)])


def _page(certificate: object, status: int = 200) -> tuple[str, int]:
    return render_template(
        "certificates/verified.html",
        certificate=certificate,
        status=services.status(certificate),
        reasons=REVOCATION_REASONS,
    ), status  # type: ignore[arg-type]


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def lookup() -> tuple[str, int]:
    form = LookupForm()
    if request.method == "POST" and form.validate_on_submit():
        certificate = services.lookup(
            get_session(), form.code.data or "", form.family_name.data or ""
        )
        if certificate is not None:
            return _page(certificate)
        return render_template("certificates/lookup.html", form=form, not_found=True), 404
    return render_template("certificates/lookup.html", form=form, not_found=False), (
        422 if request.method == "POST" else 200
    )


@bp.get("/verify/<token>")
def verify_link(token: str) -> tuple[str, int]:
    certificate = services.from_token(get_session(), token[:200])
    if certificate is None:
        return render_template("certificates/not_genuine.html"), 400
    return _page(certificate)


@bp.get("/certificates")
@roles_required("candidate")
def mine() -> str:
    certificates = services.holder_certificates(get_session(), current_user.id)
    return render_template(
        "certificates/mine.html",
        certificates=certificates,
        links={c.id: services.link_token(c) for c in certificates},
        status=services.status,
    )
