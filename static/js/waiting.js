// The waiting page: while the candidate waits to be admitted, ask every 10 seconds how
// the registration stands. When it changes, the card is replaced by the page's new one
// and a polite live region says what happened; the page is never reloaded, so a screen
// reader is not made to hear it all again. Without JavaScript the page is read as it is.
(function () {
  "use strict";
  var EVERY_MS = 10000;
  var news = document.querySelector("[data-waiting-news]");
  var NEWS = {
    admitted: "The proctor has admitted you. You can start the exam now.",
    turned_away: "The proctor could not admit you. The page says why.",
    cancelled: "This registration was cancelled.",
  };

  function replaceCard(card) {
    return fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(card.id);
        if (fresh) card.replaceWith(fresh);
      });
  }

  function follow(card) {
    var url = card.getAttribute("data-waiting");
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state || state.status === "checked_in") return;
          window.clearInterval(timer);
          replaceCard(card).then(function () {
            if (news) news.textContent = NEWS[state.status] || "Your registration has changed.";
          });
        })
        .catch(function () { /* offline for a moment: ask again next time */ });
    }, EVERY_MS);
  }

  document.querySelectorAll("[data-waiting]").forEach(follow);
})();
