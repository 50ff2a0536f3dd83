// An item's images open large in a dialog: by the "Enlarge image" button (Enter or Space)
// or a click on the image; Escape or "Close" shuts it and focus goes back to the button.
// Without this script the image is still shown, scaled to the screen.
(function () {
  "use strict";

  function open(dialogId, opener) {
    const dialog = document.getElementById(dialogId);
    if (!dialog || dialog.open || typeof dialog.showModal !== "function") return;
    dialog.showModal();
    dialog.addEventListener(
      "close",
      function () {
        opener.focus();
      },
      { once: true }
    );
  }

  document.querySelectorAll("[data-media-zoom]").forEach(function (button) {
    button.hidden = false;
    const id = button.dataset.mediaZoom;
    button.addEventListener("click", function () {
      open(id, button);
    });
    const image = document.querySelector('[data-media-open="' + id + '"]');
    if (image) {
      image.classList.add("media-img-zoomable");
      image.addEventListener("click", function () {
        open(id, button);
      });
    }
  });

  document.querySelectorAll("[data-media-close]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.closest("dialog").close();
    });
  });
})();
