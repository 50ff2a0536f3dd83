"""The exam page in a browser: time to the first question and to the next one, online and
offline, and what holding the whole form costs at 60 and 150 questions.

Run from the repository root: ``.venv/bin/python bench/exam_page.py [--repeats 15]``.

The real app under gunicorn (sync workers, SQLite file) with the First Level bank and a
started attempt; Debian's Chromium through Playwright signs the candidate in through the
form. Measured, each ``--repeats`` times, median and 95th percentile:

* first question: ``page.goto`` of the attempt's question 1 until the script has put the
  focus on the question (the page is usable); the reference is ``page.goto`` of the bare
  Flask route (``bench/reference_app.py``) under the same gunicorn settings;
* first question on a reload with the network cut (the service worker's copy);
* next question: "Save and next" pressed until the next question has the focus and a frame
  is painted, online and offline (the page moves by itself; no request); the reference is
  the same button with JavaScript off (the form posts, the server redirects, a new page);
* the whole form at 60 and 150 questions: the page's HTML size, the server's time to
  render it (in-process, the attempt's own 60 questions and the same 60 repeated to 150
  with their positions renumbered), and the browser's time to the first question with that
  HTML (put in place by ``page.set_content`` on the app's origin).

Prints a Markdown table and writes it to ``bench/results/exam_page.md``. Autosave
throughput against the bare route is ``bench/exam_autosave.py``'s table.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from exam_common import prepare_instance, start_attempts
from harness import BENCH_DIR, DEFAULT_WORKERS, HOST, git_revision, reference_and_app

RESULTS = BENCH_DIR / "results" / "exam_page.md"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FOCUSED = "(n) => document.activeElement && document.activeElement.dataset.slide === String(n)"
SHOWN = "() => document.activeElement && document.activeElement.matches('[data-review]')"
# Press "Save and next" on the shown question; resolve once the next has the focus and a
# frame is painted: the time a candidate waits for the next question.
NEXT_IN_PAGE = """async () => {
  const slide = document.querySelector('[data-slide]:not([hidden])');
  const next = Number(slide.dataset.slide) + 1;
  const started = performance.now();
  slide.querySelector('button[value=next]:not(.visually-hidden)').click();
  while (!(document.activeElement && document.activeElement.dataset.slide === String(next))) {
    await new Promise((r) => setTimeout(r, 0));
  }
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now() - started;
}"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="measurements per row")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the table")
    args = parser.parse_args()
    if args.repeats < 3 or args.repeats > 50:
        parser.error("--repeats is between 3 and 50")
    return args


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def rendered_pages(
    instance: Any, attempt_id: int, candidate_id: int
) -> dict[int, tuple[str, float]]:
    """The attempt page's HTML at 60 and 150 questions, and the median ms to render it."""
    from flask import render_template
    from flask_login import login_user

    from accounts.models import User
    from core.db import get_session
    from exam.models import Attempt
    from exam.views import candidate

    app = instance.app()
    pages = {}
    with app.test_request_context(f"/exams/attempts/{attempt_id}/q/1"):
        session = get_session()
        user = session.get(User, candidate_id)
        login_user(user)
        attempt = session.get(Attempt, attempt_id)
        base = candidate._exam_page_context(attempt)
        for count in (60, 150):
            questions = [replace(base["questions"][i % 60], position=i + 1) for i in range(count)]
            context = {**base, "questions": questions, "answered": 0, "flagged": 0}
            context["first_unanswered"] = 1
            times = []
            for _ in range(7):
                started = time.perf_counter()
                html = render_template("exam/attempt.html", view=1, **context)
                times.append((time.perf_counter() - started) * 1000)
            pages[count] = (html, statistics.median(times))
    return pages


def main() -> int:
    args = parse_args()
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, list[float], str]] = []
    with tempfile.TemporaryDirectory(prefix="csm-bench-page-") as tmp_name:
        tmp = Path(tmp_name)
        instance = prepare_instance(tmp, secrets.token_urlsafe(48), 1)
        env = instance.env(ratelimit=True)
        with reference_and_app(env, tmp, args.workers) as (reference, app_server):
            (attempt,) = start_attempts(app_server.port, instance)
            base_url = app_server.url
            question_1 = f"{base_url}/exams/attempts/{attempt.attempt_id}/q/1"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{base_url}/sign-in")
                page.get_by_label("Email").fill("bench-candidate-00000@example.org")
                page.get_by_label("Password").fill(instance.password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base_url}/")

                def first_question() -> None:
                    page.goto(question_1)
                    page.wait_for_function(FOCUSED, arg=1)

                first_question()  # the service worker installs and keeps its copy
                page.wait_for_selector("html[data-offline-ready]", state="attached")
                bare = [
                    timed(lambda: page.goto(f"{reference.url}/ping")) for _ in range(args.repeats)
                ]
                online = [timed(first_question) for _ in range(args.repeats)]
                next_online = []
                for _ in range(args.repeats):
                    first_question()
                    next_online.append(page.evaluate(NEXT_IN_PAGE))
                context.set_offline(True)

                def reload_offline() -> None:
                    page.reload()
                    page.wait_for_function(FOCUSED, arg=1)

                page.locator('[data-grid="1"]').click()  # from question 2, by the grid
                reload_offline()
                offline = [timed(reload_offline) for _ in range(args.repeats)]
                next_offline = []
                for _ in range(args.repeats):
                    page.locator('[data-grid="1"]').click()
                    next_offline.append(page.evaluate(NEXT_IN_PAGE))
                context.set_offline(False)

                # The form posting without JavaScript: the path the page used to take.
                plain = browser.new_context(
                    viewport={"width": 1280, "height": 900},
                    java_script_enabled=False,
                    storage_state=context.storage_state(),
                )
                plain_page = plain.new_page()
                next_plain = []
                for _ in range(args.repeats):
                    plain_page.goto(question_1)
                    button = plain_page.locator(
                        '[data-slide="1"] button[value=next]:not(.visually-hidden)'
                    )
                    next_plain.append(
                        timed(
                            lambda b=button: (
                                b.click(),
                                plain_page.wait_for_url("**/q/2"),
                                plain_page.wait_for_load_state("load"),
                            )
                        )
                    )

                pages = rendered_pages(instance, attempt.attempt_id, attempt.candidate.user_id)
                sized = {}
                for count, (html, render_ms) in pages.items():
                    routed = browser.new_context(
                        viewport={"width": 1280, "height": 900},
                        storage_state=context.storage_state(),
                        service_workers="block",
                    )
                    routed_page = routed.new_page()
                    # The same origin as the app, so the page's files and script load as
                    # they would; then the form's HTML is put in place.
                    routed_page.goto(f"{base_url}/healthz")

                    def load_form(p: Any = routed_page, body: str = html) -> None:
                        p.set_content(body)
                        # At /healthz the script shows the review: the page is ready then.
                        p.wait_for_function(SHOWN)

                    load_form()
                    sized[count] = (
                        len(html.encode()),
                        render_ms,
                        [timed(load_form) for _ in range(args.repeats)],
                    )
                    routed.close()
                browser.close()

        reference_ms = statistics.median(bare)
        rows = [
            ("bare Flask route in the browser (reference)", bare, ""),
            ("first question, online (GET, render, script, focus)", online, ""),
            ("first question, reload offline (service worker's copy)", offline, ""),
            ("next question, online (in the page)", next_online, ""),
            ("next question, offline (in the page)", next_offline, ""),
            ("next question without JavaScript (post, redirect, new page)", next_plain, ""),
        ]
        for count, (size, render_ms, loads) in sized.items():
            rows.append(
                (
                    f"first question, whole form of {count} questions",
                    loads,
                    f"HTML {size / 1024:,.0f} KiB; server render {render_ms:.1f} ms",
                )
            )
    lines = [
        "| target | median ms | p95 ms | ratio to reference (median) | notes |",
        "|---|---:|---:|---:|---|",
    ]
    for name, values, note in rows:
        median, p95 = summary(values)
        lines.append(
            f"| {name} | {median:.1f} | {p95:.1f} | {median / reference_ms:.2f} | {note} |"
        )
    context_text = (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {os.cpu_count()} cores · "
        f"gunicorn {args.workers} sync workers on {HOST} · Chromium headless (Playwright) on the "
        f"same machine · {args.repeats} measurements a row · commit {git_revision()} · the "
        "150-question form is the attempt's 60 questions repeated with positions renumbered, "
        "put in place with page.set_content on the app's origin; its render time is in-process"
    )
    text = "\n".join(lines) + f"\n\n{context_text}\n"
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
