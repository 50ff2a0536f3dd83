// The header's menus follow the disclosure pattern: each menu button shows and hides its
// list of links, and on a narrow screen one "Menu" button shows and hides the whole list.
// Escape closes what is open and puts focus back on its button; a click elsewhere, or
// focus leaving a menu, closes it too. Without this script the buttons stay hidden and
// every link is a plain link.
(function () {
  "use strict";
  var nav = document.querySelector(".site-nav");
  if (!nav) return;
  var toggle = nav.querySelector(".nav-toggle");
  var buttons = Array.prototype.slice.call(nav.querySelectorAll(".nav-menu-button"));

  function isOpen(button) { return button.getAttribute("aria-expanded") === "true"; }
  function setOpen(button, open) { button.setAttribute("aria-expanded", open ? "true" : "false"); }
  function closeMenus(except) {
    buttons.forEach(function (button) { if (button !== except) setOpen(button, false); });
  }

  buttons.forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = !isOpen(button);
      closeMenus(button);
      setOpen(button, open);
    });
    button.parentElement.addEventListener("focusout", function (event) {
      if (!event.relatedTarget || !button.parentElement.contains(event.relatedTarget)) {
        setOpen(button, false);
      }
    });
  });
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = !isOpen(toggle);
      setOpen(toggle, open);
      if (!open) closeMenus(null);
    });
  }
  nav.classList.add("nav-enhanced");

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = buttons.filter(isOpen)[0];
    if (open) {
      setOpen(open, false);
      open.focus();
    } else if (toggle && isOpen(toggle) && nav.contains(document.activeElement)) {
      setOpen(toggle, false);
      toggle.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (nav.contains(event.target)) return;
    closeMenus(null);
    if (toggle) setOpen(toggle, false);
  });
})();
