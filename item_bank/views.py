"""HTML pages: the public framework, the item bank, the review queue, coverage, blueprints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response

from accounts.services import names_by_id
from core import duties
from core.api import field_errors
from core.audit import events_for
from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from core.errors import FieldError, Problem
from core.forms import attach_problem
from item_bank import blueprints, frameworks, services, transfer
from item_bank.forms import BlueprintForm, ItemEditorForm, ItemFilterForm, StepForm
from item_bank.media_forms import MediaFields
from item_bank.media_models import MediaFile
from item_bank.media_views import media_response
from item_bank.models import (
    CognitiveLevel,
    Framework,
    FrameworkNode,
    Item,
    NodeKind,
    ReviewAction,
)
from item_bank.review_checklist import review_checklist
from item_bank.schemas import LETTERS, ItemContent
from item_bank.services import media as media_service
from item_bank.services import stimuli

bp = Blueprint("item_bank", __name__)
STAFF = services.STAFF_ROLES
FILTER_KEYS = ("q", "competency", "status", "type")


def _default_framework() -> Framework:
    return frameworks.require_framework(get_session(), frameworks.DEFAULT_FRAMEWORK)


@bp.get("/framework")
def framework_page() -> str:
    code = request.args.get("code", frameworks.DEFAULT_FRAMEWORK)[:60]
    framework = frameworks.require_framework(get_session(), code)
    tree = frameworks.framework_tree(get_session(), framework)
    return render_template(
        "item_bank/framework.html", tree=tree, others=frameworks.list_frameworks(get_session())
    )


# ---- items ---------------------------------------------------------------------------------


INDENT = {
    NodeKind.PART: "",
    NodeKind.SECTION: "\u2003",
    NodeKind.AREA: "\u2003\u2003",
    NodeKind.COMPETENCY: "\u2003\u2003\u2003",
}


def _framework_nodes(framework: Framework) -> list[FrameworkNode]:
    nodes = frameworks.nodes_by_code(get_session(), framework.id).values()
    return sorted(nodes, key=lambda n: n.position)


def _competencies_by_area(framework: Framework) -> dict[str, dict[str, str]]:
    """Leaf competencies as WTForms' shorthand choices: area title -> {code: label}."""
    nodes = _framework_nodes(framework)
    areas = {n.code: n.title for n in nodes if n.kind == NodeKind.AREA}
    choices: dict[str, dict[str, str]] = {}
    for node in nodes:
        if node.kind == NodeKind.COMPETENCY:
            parent = node.code.rsplit(".", 1)[0]
            choices.setdefault(areas.get(parent, parent), {})[node.code] = (
                f"{node.code} {node.text[:90]}"
            )
    return choices


def _nodes_indented(framework: Framework) -> dict[str, str]:
    """Every node as WTForms' shorthand choices (code -> indented label), after "Any"."""
    choices = {"": "Any"}
    for node in _framework_nodes(framework):
        choices[node.code] = f"{INDENT[NodeKind(node.kind)]}{node.code} {node.label[:70]}"
    return choices


@bp.get("/item-bank/items")
@roles_required(*STAFF)
@reads_bank
def item_list() -> str:
    framework = _default_framework()
    form = ItemFilterForm(request.args)
    form.competency.choices = _nodes_indented(framework)
    filters = services.ItemFilters(
        text=(form.q.data or "")[:200],
        competency=(form.competency.data or "")[:60],
        status=(form.status.data or "")[:20],
        type=(form.type.data or "")[:30],
        framework_id=framework.id,
    )
    page = services.search_items(get_session(), filters, request.args.get("page", 1, type=int) or 1)
    query = {key: request.args[key][:200] for key in FILTER_KEYS if request.args.get(key)}
    return render_template("item_bank/items.html", form=form, page=page, query=query)


def _editor(framework: Framework, form: ItemEditorForm | None = None) -> ItemEditorForm:
    form = form or ItemEditorForm()
    form.primary_competency.choices = _competencies_by_area(framework)
    form.stimulus.choices = {
        "": "None",
        **{
            row.stimulus.ref: f"{row.stimulus.ref} {row.stimulus.current.title[:80]}"
            for row in stimuli.list_stimuli(get_session(), framework.id)
        },
    }
    return form


def _content_from(form: ItemEditorForm) -> ItemContent:
    try:
        return ItemContent.model_validate(form.content_data())
    except ValidationError as exc:
        raise services.ItemInvalid(field_errors(exc)) from exc


def _show_errors(form: ItemEditorForm, problem: Problem) -> None:
    mapped = Problem(
        problem.status,
        problem.title,
        problem.detail,
        errors=[FieldError(form.field_for(e.field), e.message) for e in problem.errors],
    )
    attach_problem(form, mapped)


def _editor_media(form: ItemEditorForm) -> dict[str, MediaFile]:
    """The stored file of each of the editor's media entries."""
    hashes = [entry.form.sha256.data or "" for entry in form.media]
    return media_service.known_media(get_session(), hashes)


def _shown_media(form: ItemEditorForm, files: dict[str, MediaFile]) -> list[dict[str, Any]]:
    return [
        {
            **medium,
            "kind": files[medium["sha256"]].kind,
            "width": files[medium["sha256"]].width,
            "height": files[medium["sha256"]].height,
        }
        for medium in form.media_data()
        if medium["sha256"] in files
    ]


def take_upload(form: MediaFields) -> None:
    """A file sent with an editor (an item's or a scenario's) is stored (once, by its hash)
    and becomes one of its media entries."""
    upload = form.take_upload()
    if upload is not None:
        name, data = upload
        stored = media_service.upload_media(get_session(), current_actor(), data, name)
        form.add_uploaded(stored.sha256)


def _preview(form: ItemEditorForm) -> dict[str, Any] | None:
    data = form.content_data()
    if not data["stem"].strip():
        return None
    return {
        "media": _shown_media(form, _editor_media(form)),
        "type": data["type"],
        "stem": data["stem"],
        "options": data["options"],
        "choose": data["choose"],
        "shuffle": data["shuffle"],
        "fixed": data["fixed"],
        "stimulus": _previewed_stimulus(data["stimulus"]),
    }


def _previewed_stimulus(link: dict[str, Any] | None) -> Any:
    found = stimuli.get_stimulus(get_session(), link["ref"]) if link else None
    return found.current if found else None


def _render_editor(
    form: ItemEditorForm, item: Item | None, status: int = 200, preview: bool = False
) -> tuple[str, int]:
    html = render_template(
        "item_bank/editor.html",
        form=form,
        item=item,
        letters=LETTERS,
        preview=_preview(form) if preview else None,
        media_files=_editor_media(form),
    )
    return html, status


@bp.route("/item-bank/items/new", methods=["GET", "POST"])
@roles_required("item_writer")
@reads_bank
def item_new() -> Response | tuple[str, int]:
    form = _editor(_default_framework())
    if request.method == "GET":
        form.cognitive_level.data = CognitiveLevel.APPLICATION
        return _render_editor(form, None)
    return _save_editor(form, None)


@bp.route("/item-bank/items/<id:item_id>/edit", methods=["GET", "POST"])
@roles_required("item_writer")
@reads_bank
def item_edit(item_id: int) -> Response | tuple[str, int]:
    item = services.require_item(get_session(), item_id)
    form = _editor(_default_framework())
    if request.method == "GET":
        head = item.head
        form.fill(
            {"ref": item.ref, **head.content()},
            services.enemy_refs(get_session(), item.id),
            item.revision,
        )
        return _render_editor(form, item, preview=True)
    return _save_editor(form, item)


def _save_editor(form: ItemEditorForm, item: Item | None) -> Response | tuple[str, int]:
    """Preview or save the posted editor: a new item, or the given item's draft."""
    if not form.validate_on_submit():
        return _render_editor(form, item, 422)
    try:
        take_upload(form)
    except Problem as problem:
        _show_errors(form, problem)
        return _render_editor(form, item, problem.status)
    if "preview" in request.form:
        return _render_editor(form, item, preview=True)
    session = get_session()
    try:
        content = _content_from(form)
        if item is None:
            item = services.create_item(session, current_actor(), _default_framework(), content)
            message = f"Draft {item.ref} saved. Submit it for review when it is ready."
        else:
            version = services.update_item(session, current_actor(), item, content)
            message = f"Version {version.number} of {item.ref} saved as a draft."
    except Problem as problem:
        _show_errors(form, problem)
        return _render_editor(form, item, problem.status, preview=True)
    flash(message, "success")
    return redirect(url_for("item_bank.item_detail", item_id=item.id))


@bp.get("/item-bank/items/<id:item_id>")
@roles_required(*STAFF)
@reads_bank
def item_detail(item_id: int) -> tuple[str, int]:
    return _detail_page(services.require_item(get_session(), item_id))


def _detail_page(item: Item, status: int = 200, stale: Problem | None = None) -> tuple[str, int]:
    """The item with its workflow; ``stale`` says what changed under a reviewer's decision."""
    session = get_session()
    trail = events_for(session, "item", item.id)
    comments = services.comments_for(session, item.id)
    people = names_by_id(
        session,
        [e.actor_id for e in trail]
        + [c.author_id for c in comments]
        + [v.author_id for v in item.versions],
    )
    steps = services.allowed_steps(current_actor(), item)
    return render_template(
        "item_bank/item.html",
        item=item,
        head=item.head,
        letters=LETTERS,
        enemies=services.enemy_refs(session, item.id),
        comments=comments,
        trail=trail,
        people=people,
        steps=steps,
        checklist=review_checklist(session, item.head)
        if any(step.action == ReviewAction.APPROVE for step in steps)
        else [],
        step_form=StepForm(formdata=None, revision=services.content_revision(item.head)),
        stale=stale,
    ), status


@bp.post("/item-bank/items/<id:item_id>/transitions")
@roles_required(*STAFF)
@reads_bank
def item_transition(item_id: int) -> Response | tuple[str, int]:
    item = services.require_item(get_session(), item_id)
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        version = services.take_step(
            get_session(),
            current_actor(),
            item,
            form.action.data or "",
            form.comment.data or "",
            form.revision.data or None,
            form.checked.data or [],
        )
    except Problem as problem:
        if problem.status >= 500 or problem.slug == duties.SLUG:
            raise
        if problem.slug == "stale-review":
            return _detail_page(item, 409, stale=problem)
        flash(problem.detail, "error")
        return redirect(url_for("item_bank.item_detail", item_id=item_id), 303)
    flash(
        f"{item.ref} version {version.number} is now {version.status.replace('_', ' ')}.", "success"
    )
    target = (
        "item_bank.review_queue"
        if form.action.data in (ReviewAction.APPROVE, ReviewAction.RETURN)
        else "item_bank.item_detail"
    )
    return redirect(
        url_for(target, item_id=item_id) if target.endswith("detail") else url_for(target)
    )


@bp.get("/item-bank/review")
@roles_required("item_reviewer")
@reads_bank
def review_queue() -> str:
    return render_template(
        "item_bank/review.html", queue=services.review_queue(get_session(), current_actor())
    )


@bp.get("/item-bank/export.<fmt>")
@roles_required(*STAFF)
@reads_bank
def export(fmt: str) -> Response:
    """The bank as items.json, items.csv or items.zip (a QTI 2.1 content package)."""
    if fmt not in ("json", "csv", "zip"):
        abort(404)
    kind = transfer.format_for(f"items.{fmt}")
    body, _count = transfer.export_bytes(
        get_session(), _default_framework(), kind, request.args.get("status", "")[:20]
    )
    response = Response(body, mimetype=transfer.FORMATS[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="items.{fmt}"'
    return response


# ---- coverage and blueprints ------------------------------------------------


@bp.get("/item-bank/coverage")
@roles_required(*STAFF)
@reads_bank
def coverage_page() -> str:
    blueprint = blueprints.require_blueprint(
        get_session(), request.args.get("blueprint", blueprints.DEFAULT_BLUEPRINT)[:60]
    )
    report = blueprints.coverage(get_session(), blueprint.current)
    return render_template("item_bank/coverage.html", blueprint=blueprint, report=report)


@bp.route("/item-bank/blueprints/<code>", methods=["GET", "POST"])
@roles_required(*STAFF)
@reads_bank
def blueprint_page(code: str) -> Response | tuple[str, int]:
    blueprint = blueprints.require_blueprint(get_session(), code[:60])
    can_edit = blueprints.may_revise(current_actor())
    if request.method == "GET":
        return render_template(
            "item_bank/blueprint.html",
            blueprint=blueprint,
            form=BlueprintForm.of(blueprint.current.spec),
            can_edit=can_edit,
        ), 200
    if not can_edit:
        abort(403)
    form = BlueprintForm()
    if not form.validate_on_submit():
        return render_template(
            "item_bank/blueprint.html", blueprint=blueprint, form=form, can_edit=True
        ), 422
    try:
        version = blueprints.revise_blueprint(
            get_session(), current_actor(), blueprint, form.rules(), note=form.note.data or ""
        )
    except Problem as problem:
        attach_problem(form, problem)
        return render_template(
            "item_bank/blueprint.html", blueprint=blueprint, form=form, can_edit=True
        ), problem.status
    flash(f"Blueprint {blueprint.code} is now at version {version.number}.", "success")
    return redirect(url_for("item_bank.blueprint_page", code=blueprint.code))


@bp.get("/item-bank/media/<sha256>")
@roles_required(*STAFF)
@reads_bank
def media_file(sha256: str) -> Response:
    """A stored file, for staff previewing and reviewing items."""
    stored = get_session().get(MediaFile, sha256[:64])
    if stored is None:
        abort(404)
    return media_response(stored)
