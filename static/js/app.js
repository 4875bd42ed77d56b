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
      var chosen = form.querySelector("input[name$=duration]:checked");  // prefixed forms too
      field.hidden = !(chosen && chosen.value === "custom") && !field.querySelector(".field-error");
    }
    form.addEventListener("change", sync);
    sync();
  });
})();

// Import progress: poll the JSON endpoint while the import runs (the page says to reload
// when JavaScript is off).
(function () {
  "use strict";
  var panel = document.querySelector("[data-import-progress]");
  if (!panel) return;
  var status = panel.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  var bar = panel.querySelector("progress");
  var text = panel.querySelector("[data-progress-text]");
  function poll() {
    fetch(panel.getAttribute("data-import-progress"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.value = data.percent;
        bar.textContent = data.percent + "%";
        text.textContent = data.processed.toLocaleString() + " of " + data.total.toLocaleString() + " rows (" + data.percent + "%)";
        if (data.status === "done" || data.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
