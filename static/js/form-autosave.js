// A form marked data-autosave saves itself a moment after each change, by posting the
// same fields its Save button posts, and says so in its [data-save-status] line. The
// server answers with the draft's new version, which the next save sends back.
// Without this script the Save buttons post the form and nothing is lost.
(function () {
  "use strict";

  const DELAY_MS = 800;

  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    const status = form.querySelector("[data-save-status]");
    const version = form.querySelector("[data-version]");
    let timer = null;
    let dirty = false;
    // Saves run one after another, each sending the version the previous one returned.
    let queue = Promise.resolve();

    function say(text, kind) {
      if (!status) return;
      status.textContent = text;
      status.dataset.kind = kind;
    }

    function post(keepalive) {
      dirty = false;
      say("Saving…", "saving");
      return fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Autosave": "1", Accept: "application/json" },
        credentials: "same-origin",
        keepalive: Boolean(keepalive),
      })
        .then(function (response) {
          const read = response.json().catch(function () {
            return { detail: "reload the page (" + response.status + ")." };
          });
          return read.then(function (body) {
            if (response.ok) {
              version.value = body.version;
              if (!dirty) say("Saved at " + body.saved_at, "saved");
              return;
            }
            dirty = true;
            const fields = (body.errors || []).map(function (e) {
              return e.field.replace(/_/g, " ") + ": " + e.message;
            });
            say("Not saved: " + (fields.join("; ") || body.detail), "error");
          });
        })
        .catch(function () {
          dirty = true;
          say("Not saved: no connection. Use the Save button when you are back online.", "error");
        });
    }

    function save(keepalive) {
      clearTimeout(timer);
      queue = queue.then(function () {
        return dirty ? post(keepalive) : undefined;
      });
      return queue;
    }

    function changed() {
      dirty = true;
      clearTimeout(timer);
      say("Unsaved changes", "pending");
      timer = setTimeout(function () {
        save(false);
      }, DELAY_MS);
    }

    // The Save buttons post the whole step: they wait for a save in flight, whose answer
    // carries the version the post must send.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      const submitter = event.submitter;
      queue.then(function () {
        dirty = false;
        if (submitter && submitter.name) {
          const chosen = document.createElement("input");
          chosen.type = "hidden";
          chosen.name = submitter.name;
          chosen.value = submitter.value;
          form.appendChild(chosen);
        }
        form.submit();
      });
    });
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    // Leaving by a link of the page saves what is pending first; if that fails, the
    // page says why and the next click leaves anyway.
    let leaveAnyway = false;
    document.addEventListener("click", function (event) {
      const link = event.target.closest("a[href]");
      if (!link || !dirty || link.target || leaveAnyway) return;
      event.preventDefault();
      save(false).then(function () {
        if (!dirty) {
          window.location.href = link.href;
          return;
        }
        leaveAnyway = true;
        say(status.textContent + " Follow the link again to leave without saving.", "error");
      });
    });
    window.addEventListener("pagehide", function () {
      if (dirty) save(true);
    });
  });
})();
