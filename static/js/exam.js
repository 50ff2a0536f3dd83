// The exam page. It holds the whole form, so once loaded it moves between questions, flags
// and reviews with no network at all. Every answer is kept on this device first (with the
// moment it was chosen, on the server's clock) and sent at once; while offline the answers
// wait, in the order given, and the bar says how many. The countdown runs to the server's
// deadline on the server's clock, as measured against the device's. A service worker keeps
// the page so a reload without a network shows the exam again. The proctor's pause, resume
// and extensions are followed without the candidate having to navigate.
// Without this script every button still posts the answer to the server.
(function () {
  "use strict";

  const bar = document.querySelector("[data-exam]");
  if (!bar) return;

  const attemptId = bar.dataset.attemptId;
  const csrf = bar.dataset.csrf;
  const answersKey = "csm-exam-" + attemptId + "-answers";
  const clockKey = "csm-exam-" + attemptId + "-clock";
  const warnedKey = "csm-exam-" + attemptId + "-warned";
  const timerKey = "csm-exam-timer-hidden";
  const saveState = bar.querySelector("[data-save-state]");
  const timerText = bar.querySelector("[data-timer-text]");
  const timerBox = bar.querySelector("[data-timer]");
  const timerToggle = bar.querySelector("[data-timer-toggle]");
  const timerSay = bar.querySelector("[data-timer-say]");
  const timerSaid = bar.querySelector("[data-timer-said]");
  const warning = bar.querySelector("[data-timer-warning]");
  const refusedBox = bar.querySelector("[data-refused]");
  const pausedBanner = bar.querySelector("[data-paused]");
  // The whole form (absent from the page shown while paused, which holds no question).
  const exam = document.querySelector("[data-exam-form]");
  const content = document.querySelector("[data-exam-content]");
  const withheld = document.querySelector("[data-exam-withheld]");
  const total = exam ? Number(exam.dataset.total) : 0;
  // The sealed file of answers for the proctor: offered prominently only while the network is
  // down, quietly in the help otherwise, and not at all once the exam is paused or over.
  const offlineFile = document.querySelector("[data-offline-file]");
  const offlineOffer = document.querySelector("[data-offline-offer]");
  const canSeal = Boolean(exam && offlineFile && offlineOffer && window.crypto && crypto.subtle);
  let networkDown = !navigator.onLine;
  let timeUp = false; // the countdown reached zero (the server decides when the exam ends)

  function load(key, fallback) {
    try {
      const value = JSON.parse(localStorage.getItem(key) || "null");
      return value === null ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* private mode: the in-memory copy still runs */
    }
  }

  // ---- the server's clock -------------------------------------------------------------------
  // A page fresh from the server carries the server's time of rendering: the offset is that
  // minus the device's time. A kept copy (the service worker's, on a reload offline) carries
  // an older time than one already seen, so the last measured offset and deadline stand.

  const pageStamp = Number(bar.dataset.serverNowMs);
  const kept = load(clockKey, null);
  const freshPage = !kept || pageStamp > kept.latest;
  let status = freshPage ? bar.dataset.status : kept.status;
  let offset = freshPage ? pageStamp - Date.now() : kept.offset;
  let deadlineMs = freshPage ? Number(bar.dataset.deadlineMs) : kept.deadline;
  let latest = freshPage ? pageStamp : kept.latest;
  let pausedLeftMs = status === "paused" ? (freshPage ? Number(bar.dataset.secondsLeft) * 1000 : kept.pausedLeft) : null;
  let stateVersion = freshPage ? Number(bar.dataset.stateVersion) : kept.stateVersion;

  function serverNow() {
    return Date.now() + offset;
  }

  function keepClock() {
    store(clockKey, {
      offset: offset,
      deadline: deadlineMs,
      latest: latest,
      status: status,
      pausedLeft: pausedLeftMs,
      stateVersion: stateVersion,
    });
  }
  keepClock();

  // ---- answers on this device ---------------------------------------------------------------
  // position -> {selected, flagged, at (server ms when chosen), sent}

  let answers = load(answersKey, {});
  let refused = [];
  // position -> the answer the server is known to hold: from the page, then each saved one.
  const held = {};

  function waitingPositions() {
    return Object.keys(answers)
      .filter((p) => !answers[p].sent)
      .sort((a, b) => answers[a].at - answers[b].at);
  }

  function formOf(position) {
    return exam && exam.querySelector('[data-question-form][data-position="' + position + '"]');
  }

  function readForm(form) {
    const selected = Array.from(form.querySelectorAll("input[name=answer]:checked")).map((i) => i.value);
    return { selected: selected, flagged: form.querySelector("[data-flag-input]").value === "1" };
  }

  function showFlag(form, flagged) {
    form.querySelector("[data-flag-input]").value = flagged ? "1" : "0";
    const button = form.querySelector("[data-flag-button]");
    button.setAttribute("aria-pressed", String(flagged));
    button.textContent = flagged ? "Remove flag" : "Flag for review";
    form.querySelector("[data-flag-state]").textContent = flagged ? "Flagged for review." : "";
  }

  function writeForm(form, answer) {
    form.querySelectorAll("input[name=answer]").forEach((input) => {
      input.checked = answer.selected.indexOf(input.value) !== -1;
    });
    showFlag(form, answer.flagged);
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function setSaveState(text, kind) {
    saveState.textContent = text;
    saveState.dataset.kind = kind;
  }

  function showOfflineFile() {
    if (!canSeal) return;
    const open = status === "in_progress" && !timeUp;
    offlineOffer.hidden = !(open && networkDown);
    offlineFile.hidden = !open || networkDown;
  }

  function setNetworkDown(down) {
    networkDown = down;
    showOfflineFile();
  }

  function showWaiting(reason) {
    const n = waitingPositions().length;
    if (!n) {
      setSaveState("All answers saved.", "saved");
      return;
    }
    const waiting = plural(n, "answer", "answers") + " waiting to be sent";
    setSaveState(reason ? waiting + ": " + reason : waiting + "…", "pending");
  }

  function record(position) {
    const form = formOf(position);
    const answer = readForm(form);
    answer.at = Math.max(serverNow(), answers[position] ? answers[position].at + 1 : 0);
    answer.sent = false;
    answers[position] = answer;
    store(answersKey, answers);
    refresh();
    showWaiting(navigator.onLine ? "" : "you are offline; they are kept on this device and sent when the connection returns.");
    flush();
  }

  // ---- sending ------------------------------------------------------------------------------

  let flushing = false;
  let flushAgain = false;
  let retryDelay = 1000;
  let retryTimer = null;

  function saveUrl(position) {
    return bar.dataset.saveUrl.replace(/\/0$/, "/" + position);
  }

  function markSent(position, answer) {
    // Only if nothing newer was chosen for that question while this save was in flight.
    held[position] = { selected: answer.selected, flagged: answer.flagged };
    const now = answers[position];
    if (now && now.at === answer.at) {
      now.sent = true;
      store(answersKey, answers);
    }
  }

  function showRefused(positions, detail) {
    refused = positions;
    refusedBox.hidden = false;
    refusedBox.textContent = "";
    const text = document.createElement("p");
    text.textContent =
      (detail ? detail + " " : "") +
      (positions.length === 1 ? "Your answer to question " : "Your answers to questions ") +
      positions.join(", ") +
      " reached the server after the time was up and " +
      (positions.length === 1 ? "was" : "were") +
      " not saved. Your other answers are saved. ";
    const link = document.createElement("a");
    link.href = bar.dataset.receiptUrl;
    link.textContent = "See your receipt";
    text.appendChild(link);
    refusedBox.appendChild(text);
  }

  async function flush() {
    if (flushing) {
      flushAgain = true;
      return;
    }
    if (status === "paused" || status === "ended") return;
    flushing = true;
    clearTimeout(retryTimer);
    try {
      do {
        flushAgain = false;
        for (const position of waitingPositions()) {
          const answer = answers[position];
          const response = await fetch(saveUrl(position), {
            method: "PUT",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
            body: JSON.stringify({ selected: answer.selected, flagged: answer.flagged, answered_at: Math.round(answer.at) }),
          });
          setNetworkDown(false);
          if (response.ok) {
            markSent(position, answer);
            continue;
          }
          const problem = await response.json().catch(() => ({}));
          const type = String(problem.type || "");
          if (response.status === 409 && type.endsWith("/attempt-paused")) {
            // Kept on this device; sent again on resume.
            status = "paused";
            showPaused(true);
            setSaveState("Paused: " + plural(waitingPositions().length, "answer is", "answers are") + " kept on this device and saved when the exam resumes.", "pending");
            await pollState();
            return;
          }
          if (response.status === 409) {
            // The exam is over: whatever is still waiting can no longer count.
            const late = waitingPositions().map(Number).sort((a, b) => a - b);
            late.forEach((p) => {
              answers[p].sent = true;
              answers[p].refused = true;
              // The page shows what counts: the answer the server holds, not the late one.
              const form = formOf(p);
              if (form) writeForm(form, held[p] || { selected: [], flagged: false });
            });
            store(answersKey, answers);
            refresh();
            status = "ended";
            showOfflineFile();
            setInputsDisabled(true);
            setSaveState("Not saved: the exam has ended.", "error");
            showRefused(late, problem.detail || "");
            return;
          }
          if (response.status === 401) {
            // The sign-in has ended (signed out, or its absolute lifetime is over): answers
            // saved before stay saved; the rest wait on this device and are sent from this
            // page once the candidate has signed in again.
            setSaveState("Not saved: your session has ended. Sign in again to continue; answers saved before are kept, and " + plural(waitingPositions().length, "answer waits", "answers wait") + " on this device until you do. ", "error");
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
            delete answers[position];
            store(answersKey, answers);
            setSaveState("That answer could not be saved: " + (problem.detail || "it was not valid") + " Choose it again.", "error");
            return;
          }
          throw new Error("status " + response.status);
        }
      } while (flushAgain || waitingPositions().length);
      retryDelay = 1000;
      showWaiting("");
    } catch (error) {
      if (error instanceof TypeError) setNetworkDown(true); // no answer at all: the network
      showWaiting(navigator.onLine ? "retrying…" : "you are offline; they are kept on this device and sent when the connection returns.");
      const delay = retryDelay;
      retryDelay = Math.min(retryDelay * 2, 15000);
      retryTimer = setTimeout(flush, delay);
    } finally {
      flushing = false;
      refreshConfirm();
    }
  }

  window.addEventListener("online", () => {
    retryDelay = 1000;
    flush();
    pollState();
  });
  window.addEventListener("offline", () => {
    setNetworkDown(true);
    showWaiting("you are offline; they are kept on this device and sent when the connection returns.");
  });

  // ---- what the page shows ------------------------------------------------------------------

  function stateOf(position) {
    const answer = readForm(formOf(position));
    return { answered: answer.selected.length > 0, flagged: answer.flagged };
  }

  function refresh() {
    if (!exam) return;
    let answered = 0;
    let flagged = 0;
    let firstUnanswered = null;
    for (let position = 1; position <= total; position++) {
      const state = stateOf(position);
      if (state.answered) answered++;
      else if (firstUnanswered === null) firstUnanswered = position;
      if (state.flagged) flagged++;
      const cell = exam.querySelector('[data-grid="' + position + '"]');
      const word = state.answered ? "answered" : "unanswered";
      cell.classList.toggle("grid-answered", state.answered);
      cell.classList.toggle("grid-unanswered", !state.answered);
      cell.classList.toggle("grid-flagged", state.flagged);
      cell.setAttribute("aria-label", "Question " + position + ", " + word + (state.flagged ? ", flagged" : ""));
      const row = exam.querySelector('[data-review-item="' + position + '"]');
      row.className = "review-item review-" + word + (state.flagged ? " review-flagged" : "");
      row.dataset.answered = String(state.answered);
      row.dataset.flagged = String(state.flagged);
      row.querySelector("[data-review-state]").textContent = state.answered ? "Answered" : "Not answered";
      row.querySelector("[data-review-flag]").hidden = !state.flagged;
    }
    counts = { answered: answered, unanswered: total - answered, flagged: flagged, all: total };
    document.querySelector("[data-answered]").textContent = String(answered);
    exam.querySelectorAll("[data-count]").forEach((el) => {
      const key = el.dataset.count;
      if (key === "unanswered-words") el.textContent = plural(counts.unanswered, "question", "questions");
      else el.textContent = String(counts[key]);
    });
    exam.querySelector("[data-unanswered-warning]").hidden = counts.unanswered === 0;
    const jump = exam.querySelector("[data-first-unanswered]");
    exam.querySelector("[data-first-unanswered-wrap]").hidden = firstUnanswered === null;
    if (firstUnanswered !== null) {
      jump.href = questionUrl(firstUnanswered);
      jump.dataset.position = String(firstUnanswered);
      jump.querySelector("[data-first-unanswered-number]").textContent = String(firstUnanswered);
    }
    applyFilter();
    refreshConfirm();
  }

  let counts = { answered: 0, unanswered: 0, flagged: 0, all: 0 };
  let filter = "all";

  function applyFilter() {
    let shown = 0;
    exam.querySelectorAll("[data-review-item]").forEach((row) => {
      const answered = row.dataset.answered === "true";
      const match =
        filter === "all" ||
        (filter === "answered" && answered) ||
        (filter === "unanswered" && !answered) ||
        (filter === "flagged" && row.dataset.flagged === "true");
      row.hidden = !match;
      if (match) shown++;
    });
    exam.querySelector("[data-review-empty]").hidden = shown > 0;
    exam.querySelectorAll("[data-filter]").forEach((link) => {
      if (link.dataset.filter === filter) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }

  function refreshConfirm() {
    if (!exam) return;
    const summary = exam.querySelector("[data-confirm-summary]");
    summary.textContent =
      "You have answered " + counts.answered + " of " + total + " questions: " +
      counts.unanswered + " not answered, " + counts.flagged + " flagged for review.";
    const waiting = waitingPositions().length;
    const note = exam.querySelector("[data-confirm-waiting]");
    const button = exam.querySelector("[data-submit-confirm] button[type=submit]");
    note.hidden = waiting === 0;
    note.textContent = waiting
      ? plural(waiting, "answer is", "answers are") + " still waiting to be sent. Your exam can be submitted once they are; stay on this page."
      : "";
    button.disabled = waiting > 0 || status !== "in_progress";
  }

  // ---- moving between questions -------------------------------------------------------------

  function questionUrl(position) {
    return exam.dataset.questionUrl.replace(/\/0$/, "/" + position);
  }

  function viewFromLocation() {
    const match = window.location.pathname.match(/\/q\/(\d+)$/);
    if (match) return Math.min(Math.max(1, Number(match[1])), total);
    return "review";
  }

  function show(view, options) {
    exam.querySelectorAll("[data-slide]").forEach((slide) => {
      slide.hidden = Number(slide.dataset.slide) !== view;
    });
    const review = exam.querySelector("[data-review]");
    review.hidden = view !== "review";
    exam.querySelectorAll("[data-grid]").forEach((cell) => {
      if (Number(cell.dataset.grid) === view) cell.setAttribute("aria-current", "page");
      else cell.removeAttribute("aria-current");
    });
    const reviewLink = exam.querySelector("[data-go=review]");
    if (view === "review") reviewLink.setAttribute("aria-current", "page");
    else reviewLink.removeAttribute("aria-current");
    const title = view === "review" ? "Review your answers" : "Question " + view + " of " + total;
    document.title = title + " · CSM Certify";
    if (view === "review") showConfirm(options.confirm === true);
    if (options.push) {
      const url = view === "review" ? exam.dataset.reviewUrl : questionUrl(view);
      history.pushState({ view: view }, "", url);
    }
    if (options.focus !== false) {
      const target = view === "review" ? review : exam.querySelector('[data-slide="' + view + '"]');
      window.scrollTo(0, 0);
      target.focus({ preventScroll: true });
    }
  }

  function showConfirm(on) {
    const step = exam.querySelector("[data-submit-confirm]");
    step.hidden = !on;
    exam.querySelector("[data-submit-form]").hidden = on;
    if (on) {
      refreshConfirm();
      step.focus();
    }
  }

  if (exam) {
    exam.addEventListener("change", (event) => {
      if (event.target.name !== "answer") return;
      record(event.target.closest("[data-question-form]").dataset.position);
    });

    exam.addEventListener("click", (event) => {
      const flag = event.target.closest("[data-flag-button]");
      if (flag) {
        event.preventDefault();
        const form = flag.closest("[data-question-form]");
        showFlag(form, form.querySelector("[data-flag-input]").value !== "1");
        record(form.dataset.position);
        return;
      }
      const link = event.target.closest("a");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (link.dataset.grid) {
        event.preventDefault();
        show(Number(link.dataset.grid), { push: true });
      } else if (link.dataset.reviewLink) {
        event.preventDefault();
        show(Number(link.dataset.reviewLink), { push: true });
      } else if (link.hasAttribute("data-first-unanswered")) {
        event.preventDefault();
        show(Number(link.dataset.position || 1), { push: true });
      } else if (link.dataset.go === "review") {
        event.preventDefault();
        show("review", { push: true });
      } else if (link.dataset.filter) {
        event.preventDefault();
        filter = link.dataset.filter;
        applyFilter();
      } else if (link.closest("[data-submit-confirm]")) {
        event.preventDefault(); // Cancel: back to the review, nothing changed
        showConfirm(false);
        exam.querySelector("[data-submit-form] button").focus();
      }
    });

    exam.addEventListener("submit", (event) => {
      const form = event.target;
      if (form.matches("[data-submit-form]")) {
        event.preventDefault();
        showConfirm(true);
        return;
      }
      if (!form.matches("[data-question-form]")) return; // the confirmed submit posts
      event.preventDefault();
      const position = Number(form.dataset.position);
      const go = event.submitter ? event.submitter.value : "next";
      if (go === "review") show("review", { push: true });
      else if (go === "prev") show(Math.max(1, position - 1), { push: true });
      else if (go === "next") show(Math.min(total, position + 1), { push: true });
    });

    window.addEventListener("popstate", () => show(viewFromLocation(), { push: false }));

    // What the server held when the page was made, shown again for an answer it refuses.
    for (let position = 1; position <= total; position++) {
      const form = formOf(position);
      if (form) held[position] = readForm(form);
    }
    // Answers chosen on this device after the page was made (a kept copy, or saves still
    // waiting) are shown as chosen; a fresh page drops what it already holds.
    Object.keys(answers).forEach((position) => {
      const answer = answers[position];
      const form = formOf(position);
      if (!form) return;
      if (!answer.sent || answer.at > pageStamp) writeForm(form, answer);
      else if (answer.sent) delete answers[position];
    });
    store(answersKey, answers);
    const params = new URLSearchParams(window.location.search);
    if (["all", "unanswered", "flagged", "answered"].indexOf(params.get("show")) !== -1) filter = params.get("show");
    refresh();
    show(viewFromLocation(), { push: false, confirm: params.get("confirm") === "1" });
  }
  showWaiting("");
  if (waitingPositions().length) flush();

  // ---- the countdown ------------------------------------------------------------------------

  const warned = new Set(
    (function () {
      try {
        return JSON.parse(sessionStorage.getItem(warnedKey) || "[]");
      } catch (error) {
        return [];
      }
    })()
  );

  function leftMs() {
    return pausedLeftMs !== null ? pausedLeftMs : Math.max(0, deadlineMs - serverNow());
  }

  function inWords(ms) {
    const minutes = Math.ceil(ms / 60000);
    if (ms <= 0) return "No time left.";
    if (minutes <= 1) return "Less than 1 minute left.";
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return (hours ? plural(hours, "hour", "hours") + (rest ? " " : "") : "") + (rest ? plural(rest, "minute", "minutes") : "") + " left.";
  }

  function render() {
    const totalSeconds = Math.ceil(leftMs() / 1000);
    const hours = Math.floor(totalSeconds / 3600);
    const minutes = Math.floor((totalSeconds % 3600) / 60);
    const seconds = totalSeconds % 60;
    const mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
    timerText.textContent = (hours ? hours + ":" : "") + mm + ":" + String(seconds).padStart(2, "0");
    const due = [10, 5, 1].filter((mark) => totalSeconds <= mark * 60 && !warned.has(mark));
    if (due.length && status === "in_progress") {
      const mark = Math.min.apply(null, due);
      due.forEach((m) => warned.add(m));
      try {
        sessionStorage.setItem(warnedKey, JSON.stringify(Array.from(warned)));
      } catch (error) {
        /* ignore */
      }
      warning.textContent = "Less than " + plural(mark, "minute", "minutes") + " left.";
    }
    if (totalSeconds > 0 && timeUp && status === "in_progress") {
      // The proctor gave more time after the countdown reached zero.
      timeUp = false;
      setInputsDisabled(false);
    }
    if (totalSeconds === 0 && status === "in_progress") {
      if (!timeUp) {
        timeUp = true;
        setInputsDisabled(true);
        warning.textContent = "Time is up. Answers can no longer change.";
      }
      pollState();
    }
    showOfflineFile();
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
  timerSay.hidden = false;
  timerSay.addEventListener("click", () => {
    timerSaid.textContent = "";
    setTimeout(() => {
      timerSaid.textContent = inWords(leftMs());
    }, 50);
  });

  function setInputsDisabled(disabled) {
    document.querySelectorAll(".exam-question input, .exam-question button").forEach((el) => {
      el.disabled = disabled;
    });
  }

  function showPaused(paused) {
    const wasHidden = pausedBanner.hidden;
    pausedBanner.hidden = !paused;
    setInputsDisabled(paused || timeUp || status === "ended");
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

  function forgetAttempt() {
    // The exam is over: no copy of its page or answers stays on this device.
    store(answersKey, null);
    store(clockKey, null);
    if ("caches" in window) caches.delete("csm-exam-v1").catch(() => {});
  }

  async function pollState() {
    try {
      const sent = Date.now();
      const response = await fetch(bar.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" });
      setNetworkDown(false);
      if (!response.ok) return;
      const state = await response.json();
      const before = leftMs();
      offset = state.server_now_ms - (sent + Date.now()) / 2;
      latest = Math.max(latest, state.server_now_ms);
      if (state.status === "submitted" || state.status === "expired" || state.status === "terminated") {
        if (waitingPositions().length) {
          // Tell the candidate which answers came too late before leaving the page.
          status = "in_progress";
          await flush();
          return;
        }
        if (refused.length) return;
        forgetAttempt();
        window.location.assign(bar.dataset.receiptUrl);
        return;
      }
      if (status === "ended") return;
      const wasPaused = status === "paused";
      status = state.status;
      if (status === "paused") {
        pausedLeftMs = state.seconds_left * 1000;
      } else {
        pausedLeftMs = null;
        deadlineMs = Date.parse(state.deadline);
      }
      showPaused(status === "paused");
      if (state.state_version !== stateVersion) {
        stateVersion = state.state_version;
        if (wasPaused && status === "in_progress") warning.textContent = "The exam has resumed.";
        const gained = Math.round((leftMs() - before) / 60000);
        if (!wasPaused && status === "in_progress" && gained >= 1) {
          warning.textContent = "Your time was extended by " + plural(gained, "minute.", "minutes.");
        }
        if (status === "in_progress") flush();
      }
      keepClock();
      refreshConfirm();
    } catch (error) {
      /* offline: the local countdown carries on */
      if (error instanceof TypeError) setNetworkDown(true);
    }
  }

  if (status === "paused") showPaused(true);
  render();
  setInterval(render, 1000);
  setInterval(pollState, 4000);
  pollState();

  // ---- a copy for a reload without a network ------------------------------------------------

  async function keepCopy() {
    if (!("caches" in window)) return;
    const cache = await caches.open("csm-exam-v1");
    const key = "/exams/attempts/" + attemptId + "/page";
    if (!(await cache.match(key))) {
      const response = await fetch(window.location.pathname, { credentials: "same-origin" });
      if (response.ok && !response.redirected) await cache.put(key, response);
    }
    const assets = Array.from(document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon], img[src], audio[src]"))
      .map((el) => el.getAttribute("src") || el.getAttribute("href"));
    for (const url of assets) {
      if (!(await cache.match(url))) await cache.add(url).catch(() => {});
    }
    // The copy was made now: a page older than this is a kept copy, not a fresh one.
    latest = Math.max(latest, serverNow());
    keepClock();
    document.documentElement.dataset.offlineReady = "";
  }

  if (exam && "serviceWorker" in navigator) {
    navigator.serviceWorker
      .register(bar.dataset.workerUrl, { scope: "/exams/attempts/" })
      .then(() => navigator.serviceWorker.ready)
      .then(keepCopy)
      .catch(() => {
        /* without the worker the page still works offline until it is reloaded */
      });
  }

  // ---- the sealed file for the proctor -------------------------------------------------------
  // Every answer on the page, each with when it was chosen, sealed (AES-GCM) under the
  // attempt's key; only the server can open it, and only for this attempt.

  function fromBase64Url(text) {
    const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(plain, (c) => c.charCodeAt(0));
  }

  function toBase64Url(bytes) {
    let plain = "";
    new Uint8Array(bytes).forEach((b) => {
      plain += String.fromCharCode(b);
    });
    return btoa(plain).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function sealedAnswers() {
    const rows = [];
    for (let position = 1; position <= total; position++) {
      const answer = readForm(formOf(position));
      if (!answer.selected.length && !answer.flagged) continue;
      const local = answers[position];
      rows.push({ position: position, selected: answer.selected, flagged: answer.flagged, at: Math.round(local ? local.at : pageStamp) });
    }
    const key = await crypto.subtle.importKey("raw", fromBase64Url(bar.dataset.offlineKey), "AES-GCM", false, ["encrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify({ answers: rows }));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: new TextEncoder().encode(attemptId) }, key, plain);
    return { count: rows.length, file: JSON.stringify({ format: "csm-offline-answers/1", attempt: Number(attemptId), iv: toBase64Url(iv), data: toBase64Url(data) }) };
  }

  if (canSeal) {
    [offlineOffer, offlineFile].forEach((place) => {
      place.querySelector("[data-offline-download]").addEventListener("click", async () => {
        const sealed = await sealedAnswers();
        const link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([sealed.file], { type: "application/json" }));
        link.download = "exam-" + attemptId + "-answers.json";
        document.body.appendChild(link);
        link.click();
        link.remove();
        place.querySelector("[data-offline-saved]").textContent =
          plural(sealed.count, "answer", "answers") + " saved in the file " + link.download + ". Give it to your proctor.";
      });
    });
    showOfflineFile();
  }

  // ---- the exam's menu ---------------------------------------------------------------------

  const menu = document.querySelector(".exam-menu");
  if (menu) {
    const help = document.getElementById("exam-help");
    menu.querySelector("[data-help-link]").addEventListener("click", (event) => {
      event.preventDefault();
      menu.open = false;
      help.scrollIntoView();
      help.focus({ preventScroll: true });
    });
    // Signing out leaves no copy of the exam page behind, unless answers still wait on
    // this device (they are sent after signing in again, from that copy if need be).
    const signOut = menu.querySelector("form");
    signOut.addEventListener("submit", async (event) => {
      if (waitingPositions().length || !("caches" in window) || signOut.dataset.cleared) return;
      event.preventDefault();
      await caches.delete("csm-exam-v1").catch(() => {});
      signOut.dataset.cleared = "1";
      signOut.submit();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  // ---- what the proctor is told -------------------------------------------------------------

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
