// A table wider than the screen scrolls inside its frame (.table-wrap). Such a frame is
// made reachable by keyboard (Tab, then the arrow keys scroll it) and named after its
// table, but only while it does scroll, so a table that fits adds no extra tab stop.
(function () {
  "use strict";
  function nameOf(frame) {
    var caption = frame.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var section = frame.closest("section, article, main");
    var heading = section && section.querySelector("h1, h2, h3");
    return (heading ? heading.textContent.trim() + ": " : "") + "table, scrolls sideways";
  }
  function mark(frame) {
    var scrolls = frame.scrollWidth > frame.clientWidth + 1;
    if (scrolls && !frame.hasAttribute("tabindex")) {
      frame.setAttribute("tabindex", "0");
      frame.setAttribute("role", "region");
      frame.setAttribute("aria-label", nameOf(frame));
    } else if (!scrolls && frame.getAttribute("role") === "region") {
      frame.removeAttribute("tabindex");
      frame.removeAttribute("role");
      frame.removeAttribute("aria-label");
    }
  }
  function markAll() {
    document.querySelectorAll(".table-wrap").forEach(mark);
  }
  markAll();
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(markAll);
  });
})();
