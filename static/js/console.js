// The proctor's roster: status, progress, time left and events refresh every few seconds.
(function () {
  "use strict";
  const table = document.querySelector("[data-roster]");
  if (!table) return;
  const note = document.querySelector("[data-live-note]");

  function minutes(seconds) {
    return Math.ceil(seconds / 60) + " min";
  }

  async function refresh() {
    try {
      const response = await fetch(table.dataset.url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      for (const row of body.rows) {
        const tr = table.querySelector('[data-registration="' + row.registration_id + '"]');
        if (!tr) continue;
        const running = row.status === "in_progress" || row.status === "paused";
        tr.querySelector('[data-cell="status"]').textContent = row.status.replace(/_/g, " ");
        tr.querySelector('[data-cell="answered"]').textContent = row.total ? row.answered + " of " + row.total : "";
        tr.querySelector('[data-cell="time"]').textContent = running ? minutes(row.seconds_left) : "";
        tr.querySelector('[data-cell="events"]').textContent = row.events.join(", ");
      }
      note.textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC.";
    } catch (error) {
      note.textContent = "Live updates paused (no connection); use Refresh.";
    }
  }

  setInterval(refresh, 5000);
})();
