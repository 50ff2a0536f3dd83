"""axe-core over every page of every role, at 1280 px, at 390 px and at 200 % zoom.

The pages are found from the app's routes, not listed by hand: every HTML page a GET
reaches must be in ``PAGES`` (how to reach it, and as whom) or in ``NOT_PAGES`` (a file or
JSON), so a new page cannot be left out. Each is opened in Debian's Chromium as a person
of that role would, axe-core (pinned in tests/browser/axe/package-lock.json) runs on it,
and any serious or critical violation fails the test. The totals per page are written to
``.tmp/axe-report-VIEW.txt`` (beside the screenshots' folder).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select

from accounts.models import User
from core.db import get_db
from core.mail import OutboxMessage
from exam.models import Registration
from exam.services import standard_setting
from item_bank.models import Item, Stimulus
from tests.accreditation.fixtures import AccreditationWorld, draft_with_document
from tests.accreditation.fixtures import accreditation as accreditation  # the fixture
from tests.browser.conftest import AXE, BLOCKING, SCREENSHOT_DIR, axe_violations, sign_in_page
from tests.certificates.fixtures import passed_attempt
from tests.conftest import post_form, sign_in
from tests.exam.fixtures import ExamWorld, form_slots
from tests.exam.fixtures import world as world  # the fixture
from tests.exam.test_media_delivery import put_media_item_first
from tests.exam.test_stimulus_sets import _scenario_first

# 200 % zoom of a 1280 x 900 screen lays the page out 640 CSS px wide.
VIEWS: dict[str, dict[str, Any]] = {
    "1280": {"viewport": {"width": 1280, "height": 900}},
    "390": {"viewport": {"width": 390, "height": 844}},
    "zoom-200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}
REPORT_DIR = SCREENSHOT_DIR.parent

# GET routes that answer with a file or JSON, not a page.
NOT_PAGES = {
    "static",
    "healthz",
    "credentials.jwks",
    "credentials.achievement_badge",
    "credentials.baked_badge",
    "credentials.credential_json",
    "credentials.credential_jwt",
    "credentials.issuer",
    "credentials.key",
    "credentials.status_list",
    "certificate_links.link_json",
    "certificates.pdf",
    "accreditation.document",
    "renewal.evidence",
    "exam.attempt_media_file",
    "exam.attempt_state",
    "exam.exam_worker",
    "exam.registration_state",
    "exam.roster_json",
    "exam.seb_config",
    "exam.statistics_csv",
    "item_bank.export",
    "item_bank.media_file",
}


@dataclass
class Site:
    """The objects the pages show, and the people who see them."""

    ids: dict[str, Any]
    emails: dict[str, str]


def _email(world: ExamWorld | AccreditationWorld, who: str) -> str:
    email: str = world.people[who]["user"].email
    return email


def _built_site(
    app: Flask, world: ExamWorld, accreditation: AccreditationWorld, make_user: Any
) -> Site:
    scenario = _scenario_first(app)
    passed = passed_attempt(app, world)  # Ana's, with her certificate
    running = world.schedule()
    world.admitted("ben", running)
    ben_attempt = world.start("ben", running)
    put_media_item_first(app, ben_attempt["id"])
    world.call("POST", f"/sittings/{running}/registrations", "cy", expect=201)
    world.call("POST", f"/sittings/{running}/checkin", "cy", expect=200)  # waits to be admitted
    on_scenario = next(
        slot.position for slot in form_slots(app, ben_attempt["id"]) if slot.item_id in scenario
    )
    certificate = world.call("GET", f"/attempts/{passed['id']}/result", "ana").get_json()
    code = certificate["certificate"]["code"]
    application_id = accreditation.recommended()
    done = accreditation.step(application_id, "lena", "accredit", comment="Accredited.")
    draft = draft_with_document(accreditation, uncovered=8)
    with get_db(app).write_sessions() as session:
        boss = session.get(User, world.id("admin"))
        assert boss is not None
        study = standard_setting.create_study(session, boss, "first-level", "November panel").id
        session.commit()
        item_id = session.scalars(select(Item.id).order_by(Item.id)).first()
        stimulus_id = session.scalars(select(Stimulus.id).order_by(Stimulus.id)).first()
        registration_id = session.scalars(
            select(Registration.id).where(Registration.sitting_id == running)
        ).first()
    holder = app.test_client()
    sign_in(holder, _email(world, "ana"))
    own_page = holder.get(f"/certificates/{code}").get_data(as_text=True)
    link = re.search(r'href="https?://[^/"]+(/verify/[^"]+)"', own_page)
    assert link, "the holder's page shows no share link"
    writer = make_user("item_writer", given_name="Wanda")
    reviewer = make_user("item_reviewer", given_name="Ravi")
    user_admin = make_user("admin", given_name="Ada")
    reset_path, invitation_path = _link_pages(app, _email(world, "ana"), user_admin.email)
    ids = {
        "attempt": ben_attempt["id"],
        "passed_attempt": passed["id"],
        "running_sitting": running,
        "scenario_question": on_scenario,
        "item": item_id,
        "stimulus": stimulus_id,
        "registration": registration_id,
        "code": code,
        "application": application_id,
        "draft": draft,
        "number": done.get_json()["accreditation_number"],
        "user": world.id("ben"),
        "study": study,
        "link": link.group(1),
        "reset": reset_path,
        "invitation": invitation_path,
    }
    emails = {
        "ana": _email(world, "ana"),
        "ben": _email(world, "ben"),
        "cy": _email(world, "cy"),
        "admin": _email(world, "admin"),
        "proctor": _email(world, "proctor"),
        "lena": _email(accreditation, "lena"),
        "asa": _email(accreditation, "asa"),
        "pia": _email(accreditation, "pia"),
        "writer": writer.email,
        "reviewer": reviewer.email,
        "user_admin": user_admin.email,
    }
    return Site(ids=ids, emails=emails)


def _link_pages(app: Flask, candidate_email: str, admin_email: str) -> tuple[str, str]:
    """A password-reset link for the candidate and an invitation by the admin, read from
    the emails in the outbox as their recipients would."""
    post_form(app.test_client(), "/forgot-password", "/forgot-password", {"email": candidate_email})
    admin = app.test_client()
    sign_in(admin, admin_email)
    invitation = {"given_name": "Ines", "family_name": "Okafor", "roles": ["proctor"]}
    invitation["email"] = "ines.okafor@example.org"
    post_form(admin, "/admin/invitations", "/admin/invitations", invitation)
    with get_db(app).read_sessions() as session:
        bodies = " ".join(session.scalars(select(OutboxMessage.body)))
    reset = re.search(r"https?://[^/\s]+(/reset-password/\S+)", bodies)
    invited = re.search(r"https?://[^/\s]+(/invitation/\S+)", bodies)
    assert reset and invited, "the outbox holds no reset or invitation link"
    return reset.group(1), invited.group(1)


def _pages(site: Site) -> dict[str, list[tuple[str | None, str]]]:
    """Each page's endpoint: who opens it (None: a visitor) and where."""
    item_id, stimulus_id = site.ids["item"], site.ids["stimulus"]
    registration_id = site.ids["registration"]
    attempt, passed = site.ids["attempt"], site.ids["passed_attempt"]
    sitting = site.ids["running_sitting"]
    return {
        "accounts.home": [(None, "/"), ("ana", "/"), ("admin", "/")],
        "accounts.sign_in": [(None, "/sign-in")],
        "accounts.sign_up": [(None, "/sign-up")],
        "accounts.account": [("ana", "/account")],
        "accounts.admin_users": [("user_admin", "/admin/users")],
        "accounts.admin_user": [("user_admin", f"/admin/users/{site.ids['user']}")],
        "accounts.admin_invitations": [("user_admin", "/admin/invitations")],
        "accounts.forgot_password": [(None, "/forgot-password")],
        "accounts.reset_password": [(None, site.ids["reset"])],
        "accounts.accept_invitation": [(None, site.ids["invitation"])],
        "item_bank.framework_page": [(None, "/framework")],
        "item_bank.blueprint_page": [("admin", "/item-bank/blueprints/first-level")],
        "item_bank.coverage_page": [("admin", "/item-bank/coverage")],
        "item_bank.item_list": [("writer", "/item-bank/items")],
        "item_bank.item_detail": [("writer", f"/item-bank/items/{item_id}")],
        "item_bank.item_edit": [("writer", f"/item-bank/items/{item_id}/edit")],
        "item_bank.item_new": [("writer", "/item-bank/items/new")],
        "item_bank.review_queue": [("reviewer", "/item-bank/review")],
        "item_bank.stimulus_list": [("writer", "/item-bank/stimuli")],
        "item_bank.stimulus_detail": [("writer", f"/item-bank/stimuli/{stimulus_id}")],
        "item_bank.stimulus_edit": [("writer", f"/item-bank/stimuli/{stimulus_id}/edit")],
        "item_bank.stimulus_new": [("writer", "/item-bank/stimuli/new")],
        "exam.open_sittings": [("ana", "/sittings")],
        "exam.my_exams": [("ana", "/exams"), ("ben", "/exams"), ("cy", "/exams")],
        "exam.about_you": [("ana", "/exams/about-you")],
        "exam.accommodation": [("ben", f"/exams/{registration_id}/accommodation")],
        "exam.question": [
            ("ben", f"/exams/attempts/{attempt}/q/1"),  # with an image and a recording
            ("ben", f"/exams/attempts/{attempt}/q/{site.ids['scenario_question']}"),
        ],
        "exam.review": [
            ("ben", f"/exams/attempts/{attempt}/review"),
            ("ben", f"/exams/attempts/{attempt}/review?show=unanswered"),
            ("ben", f"/exams/attempts/{attempt}/review?confirm=1"),  # the submit's question
        ],
        "exam.result": [("ana", f"/exams/attempts/{passed}/result")],
        "exam.receipt": [("ana", f"/exams/attempts/{passed}/receipt")],
        "exam.proctor_home": [("proctor", "/proctor")],
        "exam.console": [("proctor", f"/proctor/sittings/{sitting}")],
        "exam.accommodations": [("admin", "/staff/accommodations")],
        "exam.angoff_list": [("admin", "/staff/angoff")],
        "exam.angoff_study": [("admin", f"/staff/angoff/{site.ids['study']}")],
        "exam.appeals": [("admin", "/staff/appeals")],
        "exam.scoring": [("admin", "/staff/scoring")],
        "exam.staff_sittings": [("admin", "/staff/sittings")],
        "exam.edit_sitting": [("admin", f"/staff/sittings/{sitting}/edit")],
        "exam.new_sitting": [("admin", "/staff/sittings/new")],
        "exam.statistics_page": [("admin", "/staff/statistics")],
        "exam.drift_page": [("admin", "/staff/statistics/drift")],
        "exam.pretest_page": [("admin", "/staff/pretest")],
        "certificates.mine": [("ana", "/certificates")],
        "certificates.detail": [("ana", f"/certificates/{site.ids['code']}")],
        "certificates.lookup": [(None, "/verify")],
        "certificates.verify_link": [(None, site.ids["link"])],
        "certificates.staff_list": [("admin", "/staff/certificates")],
        "renewal.queue": [("admin", "/staff/certificates/credits")],
        "accreditation.provider_home": [("pia", "/provider")],
        "accreditation.application_page": [
            ("pia", f"/applications/{site.ids['application']}"),
            ("lena", f"/applications/{site.ids['application']}"),
            ("pia", f"/applications/{site.ids['draft']}"),
        ],
        "accreditation.application_step": [
            ("pia", f"/applications/{site.ids['draft']}/steps/{slug}")
            for slug in (
                "programme",
                "trainers",
                "area-CU.SK.COMM",
                "evidence",
                "declaration",
                "summary",
            )
        ],
        "accreditation.staff_queue": [("lena", "/staff/accreditation")],
        "accreditation.register": [(None, "/register")],
        "accreditation.register_entry": [(None, f"/register/{site.ids['number']}")],
    }


def _html_endpoints(app: Flask) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and not rule.rule.startswith("/api/")
        and rule.endpoint not in NOT_PAGES
    }


@dataclass(frozen=True)
class Finding:
    view: str
    who: str
    path: str
    counts: dict[str, int]
    blocking: list[str]


def _audit(page: Page, view: str, who: str | None, path: str) -> Finding:
    response = page.goto(path)
    assert response is not None and response.status == 200, (who, path, response)
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    counts: dict[str, int] = {}
    for violation in violations:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
    blocking = [
        f"{v['id']} ({v['impact']}) at {', '.join(v['nodes'])}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    return Finding(view, who or "visitor", path, counts, blocking)


def _write_report(view: str, findings: list[Finding]) -> None:
    report = REPORT_DIR / f"axe-report-{view}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{f.view:9} {f.who:11} {f.path:48} {json.dumps(f.counts, sort_keys=True)}"
        for f in findings
    ]
    with report.open("w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


@pytest.fixture
def signed_in(
    browser: Browser, live_server: str
) -> Callable[[str | None, str, dict[str, str]], BrowserContext]:
    """A context per person and view, signed in once per person (its cookies reused)."""
    made: list[BrowserContext] = []
    states: dict[str, Any] = {}

    def open_as(who: str | None, view: str, emails: dict[str, str]) -> BrowserContext:
        options = {"base_url": live_server, **VIEWS[view]}
        if who is not None and who in states:
            options["storage_state"] = states[who]
        context = browser.new_context(**options)
        made.append(context)
        if who is not None and who not in states:
            page = context.new_page()
            sign_in_page(page, emails[who])
            states[who] = context.storage_state()
            page.close()
        return context

    yield open_as  # type: ignore[misc]
    for context in made:
        context.close()


@pytest.mark.skipif(
    bool(os.environ.get("TEST_POSTGRES")),
    reason="pages are the same on either database: audited in the SQLite run",
)
@pytest.mark.parametrize("view", list(VIEWS))
def test_no_page_of_any_role_has_a_serious_or_critical_axe_violation(
    app: Flask,
    world: ExamWorld,
    accreditation: AccreditationWorld,
    make_user: Any,
    signed_in: Callable[[str | None, str, dict[str, str]], BrowserContext],
    view: str,
) -> None:
    assert AXE.exists(), "axe-core is missing: `make node-deps` installs it"
    site = _built_site(app, world, accreditation, make_user)
    pages = _pages(site)
    unlisted = _html_endpoints(app) - set(pages)
    assert not unlisted, f"pages with no accessibility check: {sorted(unlisted)}"

    by_person: dict[str | None, list[str]] = {}
    for visits in pages.values():
        for who, path in visits:
            by_person.setdefault(who, []).append(path)
    findings: list[Finding] = []
    for who, paths in by_person.items():
        page = signed_in(who, view, site.emails).new_page()
        findings += [_audit(page, view, who, path) for path in paths]
        page.close()
    _write_report(view, findings)
    blocking = [f"{f.who} {f.path}: {b}" for f in findings for b in f.blocking]
    assert blocking == [], "\n".join(blocking)
