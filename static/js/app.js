// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // The account menu is a <details>; close it on Escape and on a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  // A link with data-confirm-dialog="ID" opens that <dialog> instead of the confirmation page.
  document.querySelectorAll("[data-confirm-dialog]").forEach(function (trigger) {
    var dialog = document.getElementById(trigger.getAttribute("data-confirm-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return;
    trigger.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (button) {
      button.addEventListener("click", function () { dialog.close(); });
    });
  });

  // The custom date is only needed with "Custom date": show it when that choice is made.
  document.querySelectorAll("[data-custom-date]").forEach(function (form) {
    var field = form.querySelector("[data-custom-date-field]");
    function sync() {
      var chosen = form.querySelector("input[name=duration]:checked");
      field.hidden = !(chosen && chosen.value === "custom") && !field.querySelector(".field-error");
    }
    form.addEventListener("change", sync);
    sync();
  });
})();
