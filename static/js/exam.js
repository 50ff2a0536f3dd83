// The exam page: save every change at once (with retry, and a queue in localStorage
// while offline), count down to the server's deadline, and follow the proctor's
// pause, resume and extensions without the candidate having to navigate.
// Without this script every button still posts the answer to the server.
(function () {
  "use strict";

  const bar = document.querySelector("[data-exam]");
  if (!bar) return;

  const attemptId = bar.dataset.attemptId;
  const csrf = bar.dataset.csrf;
  const queueKey = "csm-exam-" + attemptId + "-unsaved";
  const timerKey = "csm-exam-timer-hidden";
  const saveState = bar.querySelector("[data-save-state]");
  const timerText = bar.querySelector("[data-timer-text]");
  const timerBox = bar.querySelector("[data-timer]");
  const timerToggle = bar.querySelector("[data-timer-toggle]");
  const warning = bar.querySelector("[data-timer-warning]");
  const pausedBanner = bar.querySelector("[data-paused]");
  const form = document.querySelector("[data-question-form]");
  // The question (or the review list) is hidden while the proctor has paused the exam;
  // a page loaded while paused has none and reloads itself when the exam resumes.
  const content = document.querySelector("[data-exam-content]");
  const withheld = document.querySelector("[data-exam-withheld]");

  let status = bar.dataset.status;
  let stateVersion = Number(bar.dataset.stateVersion);
  let deadlineMs = performance.now() + Number(bar.dataset.secondsLeft) * 1000;
  let pausedLeftMs = status === "paused" ? Number(bar.dataset.secondsLeft) * 1000 : null;
  const warnedKey = "csm-exam-" + attemptId + "-warned";
  const warned = new Set(
    (function () {
      try {
        return JSON.parse(sessionStorage.getItem(warnedKey) || "[]");
      } catch (error) {
        return [];
      }
    })()
  );
  let flushing = false;
  let flushAgain = false;
  let retryDelay = 1000;

  // ---- saving ------------------------------------------------------------------------------

  function readQueue() {
    try {
      return JSON.parse(localStorage.getItem(queueKey) || "{}");
    } catch (error) {
      return {};
    }
  }

  function writeQueue(queue) {
    try {
      if (Object.keys(queue).length) localStorage.setItem(queueKey, JSON.stringify(queue));
      else localStorage.removeItem(queueKey);
    } catch (error) {
      /* private mode: the in-memory retry still runs */
    }
  }

  function setSaveState(text, kind) {
    saveState.textContent = text;
    saveState.dataset.kind = kind;
  }

  function currentAnswer() {
    const selected = Array.from(form.querySelectorAll("input[name=answer]:checked")).map((i) => i.value);
    const flagged = form.querySelector("[data-flag-input]").value === "1";
    return { selected: selected, flagged: flagged };
  }

  function showProgress(position, answer) {
    const cell = document.querySelector('[data-grid="' + position + '"]');
    if (!cell) return;
    const wasAnswered = cell.classList.contains("grid-answered");
    const answered = answer.selected.length > 0;
    cell.classList.toggle("grid-answered", answered);
    cell.classList.toggle("grid-unanswered", !answered);
    cell.classList.toggle("grid-flagged", answer.flagged);
    const state = answered ? "answered" : "unanswered";
    cell.setAttribute("aria-label", "Question " + position + ", " + state + (answer.flagged ? ", flagged" : ""));
    const count = document.querySelector("[data-answered]");
    if (count && wasAnswered !== answered) count.textContent = String(Number(count.textContent) + (answered ? 1 : -1));
  }

  function remember(position, answer) {
    showProgress(position, answer);
    const queue = readQueue();
    queue[position] = answer;
    writeQueue(queue);
    setSaveState("Not saved yet…", "pending");
    flush();
  }

  function saveUrl(position) {
    return bar.dataset.saveUrl.replace(/\/0$/, "/" + position);
  }

  async function flush() {
    if (flushing) {
      flushAgain = true;
      return;
    }
    flushing = true;
    try {
      do {
        flushAgain = false;
        const queue = readQueue();
        for (const position of Object.keys(queue)) {
          const answer = queue[position];
          const response = await fetch(saveUrl(position), {
            method: "PUT",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
            body: JSON.stringify(answer),
          });
          if (response.ok) {
            forget(position, answer);
            continue;
          }
          const problem = await response.json().catch(() => ({}));
          if (response.status === 409) {
            // Paused or ended: keep the answer on this device; it is sent again on resume.
            if (String(problem.type || "").endsWith("/attempt-paused")) {
              status = "paused";
              showPaused(true);
              setSaveState("Paused: your answer is kept on this device and saved when the exam resumes.", "pending");
            } else {
              setSaveState(problem.detail || "Not saved.", "error");
            }
            await pollState();
            return;
          }
          if (response.status === 401) {
            // The sign-in has ended (signed out, or its absolute lifetime is over): answers
            // saved before stay saved; the rest wait in localStorage and are sent from this
            // page once the candidate has signed in again.
            setSaveState("Not saved: your session has ended. Sign in again to continue; answers saved before are kept, and this one is kept on this device until you do. ", "error");
            const link = document.createElement("a");
            link.href = "/sign-in?next=" + encodeURIComponent(window.location.pathname + window.location.search);
            link.textContent = "Sign in again";
            link.dataset.signInAgain = "";
            saveState.appendChild(link);
            return;
          }
          if (response.status === 400) {
            setSaveState("Not saved: your session has ended or the page is out of date. Reload the page (your answers are kept on this device).", "error");
            return;
          }
          if (response.status === 422) {
            forget(position, answer);
            setSaveState("That answer could not be saved: " + (problem.detail || "it was not valid") + " Choose it again.", "error");
            return;
          }
          throw new Error("status " + response.status);
        }
      } while (flushAgain || Object.keys(readQueue()).length);
      retryDelay = 1000;
      setSaveState("All answers saved.", "saved");
    } catch (error) {
      setSaveState(navigator.onLine ? "Not saved yet: retrying…" : "Offline: your answers are kept on this device and saved when the connection returns.", "pending");
      const delay = retryDelay;
      retryDelay = Math.min(retryDelay * 2, 15000);
      setTimeout(flush, delay);
    } finally {
      flushing = false;
    }
  }

  function forget(position, answer) {
    // Only if nothing newer was chosen for that question while this save was in flight.
    const queue = readQueue();
    if (JSON.stringify(queue[position]) === JSON.stringify(answer)) delete queue[position];
    writeQueue(queue);
  }

  if (form) {
    const position = form.dataset.position;
    form.addEventListener("change", function (event) {
      if (event.target.name === "answer") remember(position, currentAnswer());
    });
    const flagButton = form.querySelector("[data-flag-button]");
    flagButton.addEventListener("click", function (event) {
      event.preventDefault();
      const input = form.querySelector("[data-flag-input]");
      const flagged = input.value !== "1";
      input.value = flagged ? "1" : "0";
      flagButton.setAttribute("aria-pressed", String(flagged));
      flagButton.textContent = flagged ? "Remove flag" : "Flag for review";
      form.querySelector("[data-flag-state]").textContent = flagged ? "Flagged for review." : "";
      remember(position, currentAnswer());
    });
    // A button's form post also saves the answer; the queued copy stays until the
    // autosave confirms it, so a post that fails (offline, paused) loses nothing.
  }
  window.addEventListener("online", flush);
  if (Object.keys(readQueue()).length) flush();

  // ---- the clock ----------------------------------------------------------------------------------

  function leftMs() {
    return pausedLeftMs !== null ? pausedLeftMs : Math.max(0, deadlineMs - performance.now());
  }

  function render() {
    const total = Math.ceil(leftMs() / 1000);
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    const mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
    timerText.textContent = (hours ? hours + ":" : "") + mm + ":" + String(seconds).padStart(2, "0");
    const due = [10, 5, 1].filter((mark) => total <= mark * 60 && !warned.has(mark));
    if (due.length && status === "in_progress") {
      const mark = Math.min.apply(null, due);
      due.forEach((m) => warned.add(m));
      try {
        sessionStorage.setItem(warnedKey, JSON.stringify(Array.from(warned)));
      } catch (error) {
        /* ignore */
      }
      warning.textContent = "Less than " + mark + (mark === 1 ? " minute" : " minutes") + " left.";
    }
    if (total === 0 && status === "in_progress") pollState();
  }

  function setTimerHidden(hidden) {
    timerBox.hidden = hidden;
    timerToggle.textContent = hidden ? "Show timer" : "Hide timer";
    timerToggle.setAttribute("aria-pressed", String(hidden));
    try {
      localStorage.setItem(timerKey, hidden ? "1" : "0");
    } catch (error) {
      /* ignore */
    }
  }

  timerToggle.hidden = false;
  timerToggle.addEventListener("click", () => setTimerHidden(!timerBox.hidden));
  try {
    setTimerHidden(localStorage.getItem(timerKey) === "1");
  } catch (error) {
    setTimerHidden(false);
  }

  function setInputsDisabled(disabled) {
    document.querySelectorAll(".exam-question input, .exam-question button").forEach((el) => {
      el.disabled = disabled;
    });
  }

  function showPaused(paused) {
    const wasHidden = pausedBanner.hidden;
    pausedBanner.hidden = !paused;
    setInputsDisabled(paused);
    if (content) {
      const focusInside = content.contains(document.activeElement);
      content.hidden = paused;
      if (paused && focusInside) {
        pausedBanner.setAttribute("tabindex", "-1");
        pausedBanner.focus();
      }
    }
    if (!paused && !wasHidden && withheld) window.location.reload();
  }

  async function pollState() {
    try {
      const response = await fetch(bar.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const state = await response.json();
      const before = leftMs();
      if (state.status === "submitted" || state.status === "expired" || state.status === "terminated") {
        window.location.assign(bar.dataset.receiptUrl);
        return;
      }
      const wasPaused = status === "paused";
      status = state.status;
      if (status === "paused") {
        pausedLeftMs = state.seconds_left * 1000;
      } else {
        pausedLeftMs = null;
        deadlineMs = performance.now() + state.seconds_left * 1000;
      }
      showPaused(status === "paused");
      if (state.state_version !== stateVersion) {
        stateVersion = state.state_version;
        if (wasPaused && status === "in_progress") warning.textContent = "The exam has resumed.";
        const gained = Math.round((leftMs() - before) / 60000);
        if (!wasPaused && status === "in_progress" && gained >= 1) {
          warning.textContent = "Your time was extended by " + gained + (gained === 1 ? " minute." : " minutes.");
        }
        if (status === "in_progress") flush();
      }
    } catch (error) {
      /* offline: the local countdown carries on */
    }
  }

  if (status === "paused") showPaused(true);
  render();
  setInterval(render, 1000);
  setInterval(pollState, 4000);

  // ---- what the proctor is told -----------------------------------------------------------------

  function report(kind) {
    fetch(bar.dataset.eventsUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ kind: kind }),
    }).catch(() => {});
  }

  document.addEventListener("visibilitychange", () => report(document.hidden ? "tab_hidden" : "tab_visible"));
  window.addEventListener("blur", () => report("window_blur"));
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement) report("fullscreen_exit");
  });
  document.addEventListener("copy", () => report("copy"));
  document.addEventListener("paste", () => report("paste"));
})();
