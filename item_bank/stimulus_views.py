"""HTML pages for shared stimuli (scenarios): the list, one stimulus with its set of items,
and the editor. Staff read them; item writers write them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response

from accounts.services import names_by_id
from core.api import field_errors
from core.audit import events_for
from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from core.errors import FieldError, Problem
from core.forms import attach_problem
from item_bank import frameworks
from item_bank.forms import StimulusForm
from item_bank.schemas import StimulusContent
from item_bank.services import STAFF_ROLES, ItemInvalid
from item_bank.services import media as media_service
from item_bank.services import stimuli as service
from item_bank.stimulus_models import Stimulus
from item_bank.views import bp, take_upload


def _framework_id() -> int:
    return frameworks.require_framework(get_session(), frameworks.DEFAULT_FRAMEWORK).id


@bp.get("/item-bank/stimuli")
@roles_required(*STAFF_ROLES)
@reads_bank
def stimulus_list() -> str:
    rows = service.list_stimuli(get_session(), _framework_id())
    return render_template("item_bank/stimuli.html", rows=rows)


@bp.get("/item-bank/stimuli/<id:stimulus_id>")
@roles_required(*STAFF_ROLES)
@reads_bank
def stimulus_detail(stimulus_id: int) -> str:
    session = get_session()
    stimulus = service.require_stimulus(session, stimulus_id)
    trail = events_for(session, "stimulus", stimulus.id)
    return render_template(
        "item_bank/stimulus.html",
        stimulus=stimulus,
        members=service.set_members(session, stimulus),
        trail=trail,
        people=names_by_id(session, [event.actor_id for event in trail]),
    )


def _render_editor(
    form: StimulusForm, stimulus: Stimulus | None, status: int = 200
) -> tuple[str, int]:
    hashes = [entry.form.sha256.data or "" for entry in form.media]
    html = render_template(
        "item_bank/stimulus_editor.html",
        form=form,
        stimulus=stimulus,
        media_files=media_service.known_media(get_session(), hashes),
    )
    return html, status


def _show_errors(form: StimulusForm, problem: Problem) -> None:
    errors = [FieldError(form.field_for(e.field), e.message) for e in problem.errors]
    attach_problem(form, Problem(problem.status, problem.title, problem.detail, errors=errors))


@bp.route("/item-bank/stimuli/new", methods=["GET", "POST"])
@roles_required(*service.EDITOR_ROLES)
@reads_bank
def stimulus_new() -> Response | tuple[str, int]:
    form = StimulusForm()
    if request.method == "GET":
        return _render_editor(form, None)
    return _save(form, None)


@bp.route("/item-bank/stimuli/<id:stimulus_id>/edit", methods=["GET", "POST"])
@roles_required(*service.EDITOR_ROLES)
@reads_bank
def stimulus_edit(stimulus_id: int) -> Response | tuple[str, int]:
    stimulus = service.require_stimulus(get_session(), stimulus_id)
    form = StimulusForm()
    if request.method == "GET":
        current = stimulus.current
        form.fill(current.title, current.body, current.media_entries(), stimulus.revision)
        return _render_editor(form, stimulus)
    return _save(form, stimulus)


def _save(form: StimulusForm, stimulus: Stimulus | None) -> Response | tuple[str, int]:
    if not form.validate_on_submit():
        return _render_editor(form, stimulus, 422)
    session = get_session()
    try:
        take_upload(form)
        try:
            content = StimulusContent.model_validate(form.content_data())
        except ValidationError as exc:
            raise ItemInvalid(field_errors(exc)) from exc
        if stimulus is None:
            framework = frameworks.require_framework(session, frameworks.DEFAULT_FRAMEWORK)
            stimulus = service.create_stimulus(session, current_actor(), framework, content)
            message = f"Scenario {stimulus.ref} saved. Attach items to it from the item editor."
        else:
            version = service.update_stimulus(session, current_actor(), stimulus, content)
            message = f"{stimulus.ref} is at version {version.number}."
    except Problem as problem:
        _show_errors(form, problem)
        return _render_editor(form, stimulus, problem.status)
    flash(message, "success")
    return redirect(url_for("item_bank.stimulus_detail", stimulus_id=stimulus.id), 303)
