// The item editor shows "Choose how many" only for a multiple response item, following
// the type as it is changed. A hidden field is disabled, so it sends nothing. Without
// this script the server shows the field for the type the form was last sent with.
(function () {
  "use strict";
  var type = document.getElementById("type");
  var wrapper = document.getElementById("choose-field");
  if (!type || !wrapper) return;
  var input = wrapper.querySelector("input");
  function follow() {
    var shown = type.value === wrapper.getAttribute("data-shown-for");
    wrapper.hidden = !shown;
    if (input) input.disabled = !shown;
  }
  type.addEventListener("change", follow);
  follow();
})();
