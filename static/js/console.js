// The proctor's console, live: every few seconds the roster's status, progress, time left
// and events are brought up to date in place, and when someone checks in (or anyone joins
// or leaves the roster) the waiting list, the roster and the log are replaced by the
// page's new ones. What the proctor is typing, which menus are open and where the focus
// is all survive the swap, and a polite live region names who checked in.
(function () {
  "use strict";
  const table = document.querySelector("[data-roster]");
  if (!table) return;
  const note = document.querySelector("[data-live-note]");
  const news = document.querySelector("[data-live-news]");
  const EVERY_MS = 5000;

  // Whole minutes rounded down, as the server renders them: never more time than there is.
  function minutes(seconds) {
    return Math.floor(seconds / 60) + " min";
  }

  function shownIds(selector, attribute) {
    return Array.from(document.querySelectorAll(selector), (el) => el.getAttribute(attribute)).sort().join(",");
  }

  function keepState(oldSection, newSection) {
    oldSection.querySelectorAll("input[id]").forEach((input) => {
      const twin = newSection.querySelector("#" + CSS.escape(input.id));
      if (twin && input.type !== "hidden") twin.value = input.value;
    });
    oldSection.querySelectorAll("details[id][open]").forEach((menu) => {
      const twin = newSection.querySelector("#" + CSS.escape(menu.id));
      if (twin) twin.open = true;
    });
  }

  async function replaceSections() {
    const focused = document.activeElement && document.activeElement.id;
    const response = await fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    document.querySelectorAll("[data-live-section]").forEach((section) => {
      const replacement = fresh.getElementById(section.id);
      if (!replacement) return;
      keepState(section, replacement);
      section.replaceWith(replacement);
    });
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
    return true;
  }

  function updateRows(body) {
    const roster = document.querySelector("[data-roster]");
    for (const row of body.rows) {
      const tr = roster.querySelector('[data-registration="' + row.registration_id + '"]');
      if (!tr) continue;
      const running = row.status === "in_progress" || row.status === "paused";
      tr.querySelector('[data-cell="status"]').textContent = row.status.replace(/_/g, " ");
      tr.querySelector('[data-cell="answered"]').textContent = row.total ? row.answered + " of " + row.total : "";
      tr.querySelector('[data-cell="time"]').textContent = running ? minutes(row.seconds_left) : "";
      tr.querySelector('[data-cell="events"]').textContent = row.events.join(", ");
      const form = tr.querySelector('[data-cell="form"]');
      if (form) form.textContent = row.form || "";
    }
  }

  async function refresh() {
    try {
      const response = await fetch(table.dataset.url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      const waitingNow = body.rows.filter((r) => r.status === "checked_in");
      const rosterChanged = body.rows.map((r) => String(r.registration_id)).sort().join(",") !==
        shownIds("[data-roster] [data-registration]", "data-registration");
      const waitingShown = shownIds("[data-waiting-registration]", "data-waiting-registration");
      const waitingChanged = waitingNow.map((r) => String(r.registration_id)).sort().join(",") !== waitingShown;
      if (rosterChanged || waitingChanged) {
        const before = new Set(waitingShown.split(","));
        const arrived = waitingNow.filter((r) => !before.has(String(r.registration_id)));
        if (await replaceSections() && arrived.length && news) {
          news.textContent = "Checked in: " + arrived.map((r) => r.candidate).join(", ") + ".";
        }
      } else {
        updateRows(body);
      }
      note.textContent = "As of " + body.as_of + ". New check-ins and the roster update by themselves every few seconds.";
    } catch (error) {
      note.textContent = "Live updates paused (no connection); use Refresh.";
    }
  }

  setInterval(refresh, EVERY_MS);
})();
