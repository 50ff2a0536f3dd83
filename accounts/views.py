"""HTML pages: home, sign-up, sign-in/out, password reset, own account, staff user
administration and invitations."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from accounts import services
from accounts.forms import (
    EmptyForm,
    ForgotPasswordForm,
    InvitationForm,
    NewPasswordForm,
    PasswordChangeForm,
    RolesForm,
    SignInForm,
    SignUpForm,
    UserSearchForm,
)
from accounts.models import User
from core.audit import events_for
from core.auth import ROLES, current_actor, login_required, roles_required
from core.db import get_session
from core.errors import Problem
from core.extensions import limiter
from core.forms import attach_problem, safe_next
from core.web import link_base

bp = Blueprint("accounts", __name__)


def _start_session(user: User) -> None:
    """A fresh session for a fresh sign-in: nothing from before it carries over."""
    services.end_sign_in(get_session(), session.get("sign_in"))
    sign_in_id = services.open_sign_in(get_session(), user)
    session.clear()
    login_user(user, remember=False)
    session["sign_in"] = sign_in_id
    session.permanent = True


def _form_page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    return render_template(template, **context), status


def _address() -> str:
    return request.remote_addr or "unknown"


def _policy() -> services.ThrottlePolicy:
    return services.ThrottlePolicy.from_config(current_app.config)


@bp.get("/")
def home() -> str:
    if not current_user.is_authenticated:
        return render_template("accounts/landing.html")
    return render_template("accounts/home.html")


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def sign_up() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = SignUpForm()
    if not form.validate_on_submit():
        return _form_page("accounts/sign_up.html", 422 if form.is_submitted() else 200, form=form)
    try:
        user = services.sign_up_candidate(
            get_session(),
            email=form.email.data or "",
            given_name=form.given_name.data or "",
            family_name=form.family_name.data or "",
            password=form.password.data or "",
        )
    except Problem as problem:
        attach_problem(form, problem)
        return _form_page("accounts/sign_up.html", problem.status, form=form)
    _start_session(user)
    flash(f"Welcome, {user.given_name}. Your candidate account is ready.", "success")
    return redirect(url_for("accounts.home"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int]:
    form = SignInForm()
    next_url = safe_next(request.args.get("next"), url_for("accounts.home"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    if not form.validate_on_submit():
        return _form_page("accounts/sign_in.html", 422 if form.is_submitted() else 200, form=form)
    try:
        user = services.authenticate(
            get_session(),
            email=form.email.data or "",
            password=form.password.data or "",
            address=_address(),
            policy=_policy(),
        )
    except Problem as problem:
        form.form_errors.append(problem.detail)
        response = make_response(
            render_template("accounts/sign_in.html", form=form), problem.status
        )
        response.headers.update(problem.headers)
        return response
    _start_session(user)
    return redirect(next_url)


@bp.post("/sign-out")
def sign_out() -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    services.end_sign_in(get_session(), session.get("sign_in"))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


# ---- password reset and invitation links -------------------------------------------------

# Tokens are 43 characters; anything much longer is not one of ours.
TOKEN_MAX = 100


def _unusable_link(problem: Problem) -> tuple[str, int]:
    return _form_page("accounts/link_unusable.html", problem.status, problem=problem)


def _reset_minutes() -> int:
    return int(services.RESET_LIFETIME.total_seconds() // 60)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def forgot_password() -> tuple[str, int]:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _form_page(
            "accounts/forgot_password.html", status, form=form, reset_minutes=_reset_minutes()
        )
    email = form.email.data or ""
    services.request_password_reset(
        get_session(), email, link_base=link_base("accounts.reset_password")
    )
    # The same page whether or not the address has an account.
    return _form_page(
        "accounts/forgot_password.html", form=form, sent_to=email, reset_minutes=_reset_minutes()
    )


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def reset_password(token: str) -> Response | tuple[str, int]:
    form = NewPasswordForm()
    try:
        user = services.password_reset_user(get_session(), token[:TOKEN_MAX])
    except Problem as problem:
        return _unusable_link(problem)
    context = {"form": form, "person": user, "purpose": "reset"}
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _form_page("accounts/new_password.html", status, **context)
    try:
        services.reset_password(get_session(), token, form.password.data or "")
    except services.LinkUnusable as problem:
        return _unusable_link(problem)
    except Problem as problem:
        attach_problem(form, problem)
        return _form_page("accounts/new_password.html", problem.status, **context)
    logout_user()
    session.clear()
    flash("Your new password is set and every session is signed out. Sign in with it.", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def accept_invitation(token: str) -> Response | tuple[str, int]:
    form = NewPasswordForm()
    try:
        invitation = services.invitation_for_token(get_session(), token[:TOKEN_MAX])
    except Problem as problem:
        return _unusable_link(problem)
    context = {"form": form, "person": invitation, "purpose": "invitation"}
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _form_page("accounts/new_password.html", status, **context)
    try:
        user = services.accept_invitation(get_session(), token, form.password.data or "")
    except services.LinkUnusable as problem:
        return _unusable_link(problem)
    except Problem as problem:
        attach_problem(form, problem)
        return _form_page("accounts/new_password.html", problem.status, **context)
    _start_session(user)
    flash(f"Welcome, {user.given_name}. Your account is ready.", "success")
    return redirect(url_for("accounts.home"))


@bp.get("/account")
@login_required
def account() -> str:
    return render_template(
        "accounts/account.html", form=PasswordChangeForm(), sign_out_form=EmptyForm()
    )


@bp.post("/account/password")
@login_required
def change_password() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _form_page("accounts/account.html", 422, form=form, sign_out_form=EmptyForm())
    try:
        user = services.change_password(
            get_session(),
            current_user,
            current=form.current_password.data or "",
            new=form.new_password.data or "",
            address=_address(),
            policy=_policy(),
        )
    except Problem as problem:
        attach_problem(form, problem)
        page = render_template("accounts/account.html", form=form, sign_out_form=EmptyForm())
        return page, problem.status, problem.headers
    _start_session(user)
    flash("Your password is changed. Every other session has been signed out.", "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.sign_out_everywhere(get_session(), current_user)
    logout_user()
    session.clear()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("accounts.sign_in"))


# ---- staff user administration ---------------------------------------------------------


@bp.get("/admin/users")
@roles_required("admin")
def admin_users() -> str:
    form = UserSearchForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    role = form.role.data if form.role.data in ROLES else ""
    text = (form.q.data or "")[:254]
    result = services.search_users(get_session(), text=text, role=role, page=page)
    return render_template(
        "accounts/admin_users.html", form=form, result=result, role=role, text=text
    )


def _admin_user_page(
    user: User, status: int = 200, roles_form: RolesForm | None = None
) -> tuple[str, int]:
    roles_form = roles_form or RolesForm(roles=sorted(user.roles))
    trail = events_for(get_session(), "user", user.id)
    actors = services.names_by_id(get_session(), (event.actor_id for event in trail))
    return _form_page(
        "accounts/admin_user.html",
        status,
        user=user,
        roles_form=roles_form,
        active_form=EmptyForm(),
        trail=trail,
        actors=actors,
    )


@bp.get("/admin/users/<id:user_id>")
@roles_required("admin")
def admin_user(user_id: int) -> tuple[str, int]:
    return _admin_user_page(services.require_user(get_session(), user_id))


@bp.post("/admin/users/<id:user_id>/roles")
@roles_required("admin")
def admin_user_roles(user_id: int) -> Response | tuple[str, int]:
    user = services.require_user(get_session(), user_id)
    form = RolesForm()
    if not form.validate_on_submit():
        return _admin_user_page(user, 422, form)
    try:
        services.set_roles(get_session(), current_actor(), user, form.roles.data or [])
    except Problem as problem:
        attach_problem(form, problem)
        return _admin_user_page(user, problem.status, form)
    flash(f"Roles of {user.full_name} saved.", "success")
    return redirect(url_for("accounts.admin_user", user_id=user.id))


@bp.post("/admin/users/<id:user_id>/active")
@roles_required("admin")
def admin_user_active(user_id: int) -> Response | tuple[str, int]:
    user = services.require_user(get_session(), user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    make_active = request.form.get("active") == "1"
    try:
        services.set_active(get_session(), current_actor(), user, make_active)
    except Problem as problem:
        flash(problem.detail, "error")
        return _admin_user_page(user, problem.status)
    flash(f"{user.full_name} is {'active' if make_active else 'deactivated'}.", "success")
    return redirect(url_for("accounts.admin_user", user_id=user.id))


def _invitations_page(form: InvitationForm | None = None, status: int = 200) -> tuple[str, int]:
    invitations = services.open_invitations(get_session())
    inviters = services.names_by_id(get_session(), (i.invited_by_id for i in invitations))
    return _form_page(
        "accounts/admin_invitations.html",
        status,
        form=form or InvitationForm(),
        invitations=invitations,
        inviters=inviters,
        state_of=services.invitation_state,
        withdraw_form=EmptyForm(),
        invitation_days=services.INVITATION_LIFETIME.days,
    )


@bp.get("/admin/invitations")
@roles_required("admin")
def admin_invitations() -> tuple[str, int]:
    return _invitations_page()


@bp.post("/admin/invitations")
@roles_required("admin")
def admin_invite() -> Response | tuple[str, int]:
    form = InvitationForm()
    if not form.validate_on_submit():
        return _invitations_page(form, 422)
    try:
        invitation = services.invite(
            get_session(),
            current_actor(),
            email=form.email.data or "",
            given_name=form.given_name.data or "",
            family_name=form.family_name.data or "",
            roles=form.roles.data or [],
            link_base=link_base("accounts.accept_invitation"),
        )
    except Problem as problem:
        attach_problem(form, problem)
        return _invitations_page(form, problem.status)
    days = services.INVITATION_LIFETIME.days
    flash(f"{invitation.full_name} is invited; the link works for {days} days.", "success")
    return redirect(url_for("accounts.admin_invitations"))


@bp.post("/admin/invitations/<id:invitation_id>/withdraw")
@roles_required("admin")
def admin_withdraw_invitation(invitation_id: int) -> Response | tuple[str, int]:
    invitation = services.require_invitation(get_session(), invitation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_invitation(get_session(), current_actor(), invitation)
    except Problem as problem:
        flash(problem.detail, "error")
        return _invitations_page(status=problem.status)
    flash(
        f"The invitation to {invitation.full_name} is withdrawn; its link no longer works.", "info"
    )
    return redirect(url_for("accounts.admin_invitations"))
