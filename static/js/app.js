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

  // A button with data-confirm-dialog="ID" opens that <dialog> instead of the confirmation
  // page. The dialog's Cancel has autofocus, Escape closes it (the browser's own), and focus
  // goes back to the button that opened it.
  document.querySelectorAll("[data-confirm-dialog]").forEach(function (trigger) {
    var dialog = document.getElementById(trigger.getAttribute("data-confirm-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return;
    trigger.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
      var cancel = dialog.querySelector("[data-close]");
      if (cancel) cancel.focus();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (button) {
      button.addEventListener("click", function () { dialog.close(); });
    });
    dialog.addEventListener("close", function () { trigger.focus(); });
  });

  // An action's outcome, shown in the panel that was acted on: made a live region only now,
  // after load, so screen readers announce it, then focused so that it is in view and the
  // next Tab continues from there.
  var outcomes = document.querySelectorAll("[data-outcome]");
  outcomes.forEach(function (box) {
    var content = box.innerHTML;
    box.innerHTML = "";
    box.setAttribute("role", box.getAttribute("data-outcome") === "error" ? "alert" : "status");
    window.setTimeout(function () {
      box.innerHTML = content;
      if (box === outcomes[0]) box.focus();
    }, 100);
  });

  // A scrolling tab strip starts with the current tab in view.
  document.querySelectorAll(".tabs ul").forEach(function (strip) {
    var current = strip.querySelector("[aria-current=page]");
    if (!current || strip.scrollWidth <= strip.clientWidth) return;
    var item = current.parentElement;
    strip.scrollLeft = item.offsetLeft - strip.offsetLeft - (strip.clientWidth - item.offsetWidth) / 2;
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

  // "New end: Mon 30 Nov 2026, 00:36 EST — 6 days shorter than now", under the choices,
  // written as the server writes it (remote_access/timefmt.py): the account's zone, with
  // the abbreviations the server sent for each UTC offset.
  document.querySelectorAll("[data-end-preview]").forEach(function (form) {
    var out = form.querySelector("[data-preview]");
    var zone = form.getAttribute("data-zone");
    var table = document.getElementById("zone-abbreviations");
    var names = table ? JSON.parse(table.textContent) : {};
    // The words come translated from the server (remote_access.timefmt.preview_words).
    var wordsNode = document.getElementById("preview-words");
    var words = wordsNode ? JSON.parse(wordsNode.textContent) : null;
    if (!words) return;
    function fill(template) {
      var values = Array.prototype.slice.call(arguments, 1);
      return template.replace(/\{\}/g, function () { return values.shift(); });
    }
    var current = form.getAttribute("data-current-end");
    var currentEnd = current ? new Date(current) : null;
    var format;
    try {
      format = new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "longOffset"
      });
    } catch (error) { return; }
    function parts(date) {
      var found = {};
      format.formatToParts(date).forEach(function (part) { found[part.type] = part.value; });
      found.month = found.month.slice(0, 3);
      var offset = /GMT([+-])(\d{2}):?(\d{2})?/.exec(found.timeZoneName);
      found.offset = offset ? (offset[1] === "-" ? -1 : 1) * (parseInt(offset[2], 10) * 60 + parseInt(offset[3] || "0", 10)) : 0;
      found.abbreviation = names[String(found.offset)] || found.timeZoneName;
      return found;
    }
    function day(p) { return p.weekday + " " + p.day + " " + p.month + " " + p.year; }
    function amount(ms) {
      var hours = Math.round(Math.abs(ms) / 3600000);
      if (hours >= 24) { var days = Math.round(hours / 24); return fill(days === 1 ? words.day : words.days, days); }
      return fill(hours === 1 ? words.hour : words.hours, hours);
    }
    function comparison(end) {
      if (!currentEnd) return "";
      var delta = end - currentEnd;
      if (Math.abs(delta) < 1800000) return " — " + words.same;
      return " — " + fill(delta < 0 ? words.shorter : words.longer, amount(delta));
    }
    function lastMinuteOf(value) {
      var bits = value.split("-").map(function (n) { return parseInt(n, 10); });
      if (bits.length !== 3 || bits.some(isNaN)) return null;
      var guess = Date.UTC(bits[0], bits[1] - 1, bits[2], 23, 59);
      var instant = new Date(guess - parts(new Date(guess)).offset * 60000);
      return new Date(guess - parts(instant).offset * 60000);
    }
    function render() {
      var chosen = form.querySelector("input[name=duration]:checked");
      var text = "";
      if (chosen && chosen.value === "custom") {
        var field = form.querySelector("input[name=last_day]");
        var last = field && field.value ? lastMinuteOf(field.value) : null;
        if (last) {
          var p = parts(last);
          text = fill(words.new_end, fill(words.end_of_day, day(p), p.abbreviation)) + comparison(new Date(last.getTime() + 60000));
        }
      } else if (chosen && parseInt(chosen.value, 10)) {
        var end = new Date(Date.now() + parseInt(chosen.value, 10) * 86400000);
        var q = parts(end);
        text = fill(words.new_end, day(q) + ", " + q.hour + ":" + q.minute + " " + q.abbreviation) + comparison(end);
      }
      out.textContent = text;
    }
    form.addEventListener("change", render);
    form.addEventListener("input", render);
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
